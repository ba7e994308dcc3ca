//! Any bytes as a profile: loading, validating and (when that succeeds) planning must
//! return, never panic, hang or overflow the stack. The same function runs in every
//! `cargo test` (tests/fuzz_profile.rs, proptest) and on every file of
//! fuzz/regressions/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(loaded) = unionctl::profile::load_bytes(data, std::path::Path::new("fuzz.yaml")) {
        let _ = unionctl::clouds::plan(&loaded.profile, &loaded.digest);
    }
});
