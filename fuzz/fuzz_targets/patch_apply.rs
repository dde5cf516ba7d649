//! Any JSON body: parsing it as a PatchOp and applying it to a user and to a
//! group returns Ok or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::patch;
use scim_core::schema::{GROUP_URN, Registry, USER_URN};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(ops) = patch::parse_request(&body) else { return };
    let registry = Registry::builtin();
    let user = serde_json::json!({
        "schemas": [USER_URN], "id": "u1", "userName": "bjensen",
        "emails": [{"value": "b@x", "type": "work", "primary": true}], "active": true
    });
    let _ = patch::apply(registry.user(), &user, None, &ops);
    let group = serde_json::json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "Eng"});
    let members = [scim_core::members::Member::new("u1")];
    let _ = patch::apply(registry.group(), &group, None, &ops);
    let _ = patch::apply(registry.group(), &group, Some(&members), &ops);
});
