//! Any input: the PATCH path parser returns Ok or an invalidPath ScimError,
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::patch::parse_path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = parse_path(text) {
        assert_eq!(e.status, 400);
    }
});
