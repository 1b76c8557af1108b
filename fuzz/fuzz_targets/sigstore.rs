//! Sigstore bundles (the standard format and cosign's legacy one, converted): no panic on any
//! input, deep or huge JSON included, and every refusal a typed error with a hint.
#![no_main]
use codex_bootstrap::error::Hint;
use codex_bootstrap::fuzzing::sigstore_bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = sigstore_bundle(data) {
        assert!(!e.to_string().is_empty());
        assert!(e.hint().is_some(), "no hint for {e}");
    }
});
