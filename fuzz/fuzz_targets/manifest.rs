//! The manifest parser never panics, and what it accepts renders back to the same manifest.
#![no_main]
use codex_bootstrap::pin::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = Manifest::parse(text, "fuzz.toml") {
        let again = Manifest::parse(&m.to_toml(), "fuzz.toml").expect("a rendered manifest parses");
        assert_eq!(again.version, m.version);
        assert_eq!(again.targets, m.targets);
    }
});
