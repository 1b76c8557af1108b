//! Version parsing never panics, and every accepted version round-trips through all three
//! spellings (codex, PEP 440, tag).
#![no_main]
use codex_bootstrap::pin::CodexVersion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(v) = CodexVersion::parse(text) {
        assert_eq!(CodexVersion::parse(&v.to_string()).unwrap(), v);
        assert_eq!(CodexVersion::parse(&v.pep440()).unwrap(), v);
        assert_eq!(CodexVersion::parse(&v.tag()).unwrap(), v);
    }
});
