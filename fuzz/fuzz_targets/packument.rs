//! npm packuments: no panic on any document (deep or huge JSON included), and what parses
//! answers `latest` and every platform tarball question without panicking; a tarball it
//! offers is the one its version key names.
#![no_main]
use codex_bootstrap::pin::CodexVersion;
use codex_bootstrap::platform::Target;
use codex_bootstrap::sources::npm::Packument;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = serde_json::from_slice::<Packument>(data) else { return };
    let mut versions: Vec<CodexVersion> = p.versions.keys().filter_map(|k| {
        let base = k.split_once('-').map_or(k.as_str(), |(b, _)| b);
        CodexVersion::parse(base).ok()
    }).collect();
    versions.extend(p.latest());
    for v in &versions {
        for t in codex_bootstrap::platform::SUPPORTED_TARGETS {
            let Ok(target) = t.parse::<Target>() else { continue };
            let _ = p.tarball(v, &target);
            let _ = p.vetted_tarball("http://127.0.0.1/@openai%2fcodex", v, &target);
        }
    }
});
