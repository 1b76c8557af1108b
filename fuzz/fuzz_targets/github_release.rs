//! GitHub release JSON: no panic on any document, and a release that parses lists assets
//! whose names and URLs can be read.
#![no_main]
use codex_bootstrap::github::Release;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = serde_json::from_slice::<Release>(data) {
        let _ = format!("{r:?}");
    }
});
