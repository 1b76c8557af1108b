//! GitHub release JSON, as the install path settles an asset from it. Whatever the document:
//! no panic, and a deep or huge one ends in a typed error (serde_json's recursion limit). For a
//! release that parses, for every asset name any target looks for (and `SHA256SUMS`): the
//! asset settled is the first of that exact name, or none when no asset has it; and a digest
//! taken is exactly the 64 hex digits written (after an optional `sha256:`), never a
//! different value read from a loose spelling.
#![no_main]
use codex_bootstrap::fuzzing::{github_release_asset, release_asset_names};
use codex_bootstrap::github::Release;
use codex_bootstrap::pin::CodexVersion;
use codex_bootstrap::platform::{Target, SUPPORTED_TARGETS};
use codex_bootstrap::verify::SHA256SUMS_ASSET;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(release) = serde_json::from_slice::<Release>(data) else { return };
    let _ = CodexVersion::parse(&release.tag_name);
    let mut names: Vec<String> = SUPPORTED_TARGETS
        .iter()
        .filter_map(|t| t.parse::<Target>().ok())
        .flat_map(|t| release_asset_names(&t))
        .collect();
    names.push(SHA256SUMS_ASSET.to_string());
    // And every name the release itself gives, so fuzzed names are looked up too.
    names.extend(release.assets.iter().map(|a| a.name.clone()));
    for name in &names {
        let first = release.assets.iter().find(|a| &a.name == name);
        let settled = github_release_asset(&release, name);
        assert_eq!(settled.is_some(), first.is_some(), "{name}");
        let (Some((size, digest)), Some(first)) = (settled, first) else { continue };
        assert_eq!(size, first.size, "{name}: not the first asset of its name");
        assert_eq!(digest.is_some(), first.digest.is_some(), "{name}");
        if let (Some(Ok(sha)), Some(written)) = (digest, &first.digest) {
            let t = written.trim();
            let hex = t.strip_prefix("sha256:").unwrap_or(t);
            assert_eq!(sha.to_hex(), hex.to_ascii_lowercase(), "{name}: digest {written:?}");
        }
    }
});
