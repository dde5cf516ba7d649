//! Any input: `parse` returns Ok or a ScimError, never panics; a parsed
//! filter prints to text that parses back to the same AST, and evaluating
//! it against a user never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::filter::{self, FilterLimits};
use scim_core::schema::Registry;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = filter::parse(text, &FilterLimits::default()) else {
        return;
    };
    // The canonical text can be longer than the input (spacing, escapes), so
    // it is re-parsed without the length limit.
    let printed = parsed.to_string();
    let unlimited = FilterLimits {
        max_length: usize::MAX,
        ..FilterLimits::default()
    };
    assert_eq!(
        filter::parse(&printed, &unlimited).ok(),
        Some(parsed.clone()),
        "{printed}"
    );
    let registry = Registry::builtin();
    let user = serde_json::json!({"userName": "bjensen", "emails": [{"value": "b@x", "type": "work"}], "active": true});
    let _ = filter::matches(&parsed, registry.user(), &user);
});
