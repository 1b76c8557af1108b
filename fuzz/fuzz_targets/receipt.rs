//! A receipt read from disk (the store trusts its presence, the files it lists, their
//! digests): the parser never panics, and what it accepts renders back to the same receipt.
#![no_main]
use codex_bootstrap::store::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = serde_json::from_slice::<Receipt>(data) {
        let again: Receipt = serde_json::from_slice(&r.to_json()).expect("a rendered receipt parses");
        assert_eq!(again, r);
    }
});
