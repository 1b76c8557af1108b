//! The SHA256SUMS parser never panics and never yields a name with a path separator.
#![no_main]
use codex_bootstrap::verify::parse_sha256sums;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(entries) = parse_sha256sums(&text) {
        for (name, _) in entries {
            assert!(!name.is_empty() && !name.contains('/') && !name.contains('\\'));
        }
    }
});
