//! OCI: image indexes and manifests as `--mirror oci://` reads them, `oci://` references, and
//! the registry's `WWW-Authenticate` challenges. Whatever the input: no panic, and a deep or
//! huge document ends in a typed error (serde_json's recursion limit), never a stack overflow;
//! an accepted index or manifest renders back to a document that parses and renders the same;
//! every digest taken from one is `sha256:` and 64 lowercase hex digits, and every URL made
//! from one stays under the repository's `/v2/REPO/blobs/`; an accepted reference renders back
//! to the same value and its URLs stay under `/v2/REPO/`; a parsed challenge, rendered back with
//! its values quoted, parses to the same scheme and parameters.
#![no_main]
use codex_bootstrap::fuzzing::{oci_layers, oci_platform_manifest};
use codex_bootstrap::oci::client::parse_challenge;
use codex_bootstrap::oci::image::{Index, Manifest};
use codex_bootstrap::oci::Reference;
use codex_bootstrap::platform::{Target, SUPPORTED_TARGETS};
use libfuzzer_sys::fuzz_target;

/// `sha256:` and 64 lowercase hex digits: the only digest spelling an image may use.
fn spec_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A reference's URLs are under `/v2/REPO/` of its registry, with nothing normalised away.
fn check_urls(r: &Reference) {
    let base = url::Url::parse(&r.api_base()).unwrap_or_else(|e| panic!("{r}: `{}` is no URL: {e}", r.api_base()));
    assert_eq!(base.path(), format!("/v2/{}/", r.repository), "{r}");
    assert!(base.query().is_none() && base.fragment().is_none(), "{r}");
}

fn documents(data: &[u8]) {
    let reference = Reference::parse("oci://127.0.0.1:5000/codex/runtime:0.163.0").unwrap();
    let targets: Vec<Target> = SUPPORTED_TARGETS.iter().filter_map(|t| t.parse().ok()).collect();
    if let Ok(index) = serde_json::from_slice::<Index>(data) {
        let once = serde_json::to_vec(&index).unwrap();
        let again: Index = serde_json::from_slice(&once).unwrap_or_else(|e| panic!("an index rendered back does not parse: {e}"));
        assert_eq!(serde_json::to_vec(&again).unwrap(), once, "an index does not render back the same");
        for t in &targets {
            if let Ok(Some(d)) = oci_platform_manifest(&index, t) {
                assert!(spec_digest(&d), "index entry digest {d:?} taken");
                let url = reference.manifest_url(&d);
                assert!(url.ends_with(&format!("/v2/codex/runtime/manifests/{d}")), "{url}");
            }
        }
    }
    if let Ok(manifest) = serde_json::from_slice::<Manifest>(data) {
        let once = serde_json::to_vec(&manifest).unwrap();
        let again: Manifest = serde_json::from_slice(&once).unwrap_or_else(|e| panic!("a manifest rendered back does not parse: {e}"));
        assert_eq!(serde_json::to_vec(&again).unwrap(), once, "a manifest does not render back the same");
        for t in &targets {
            for (name, sha, size, url) in oci_layers(&manifest, &reference, t) {
                let digest = format!("sha256:{}", sha.to_hex());
                assert_eq!(url, format!("{}blobs/{digest}", reference.api_base()), "layer {name} of {size} bytes");
                assert!(manifest.layers.iter().any(|l| l.digest == digest && l.size == size), "{digest}");
            }
        }
    }
}

fn references(text: &str) {
    if let Ok(r) = Reference::parse(text) {
        let shown = r.to_string();
        assert_eq!(Reference::parse(&shown).ok().as_ref(), Some(&r), "`{text}` -> `{shown}`");
        check_urls(&r);
        // The text's last line as a tag for the accepted repository.
        let tag = text.lines().last().unwrap_or_default();
        if let Ok(tagged) = r.with_tag(tag) {
            assert_eq!(Reference::parse(&tagged.to_string()).ok().as_ref(), Some(&tagged), "{tagged}");
        }
    }
}

fn challenges(text: &str) {
    let Some((scheme, params)) = parse_challenge(text) else { return };
    assert!(params.len() <= text.len(), "more parameters than bytes");
    let mut rendered = scheme.clone();
    for (i, (name, value)) in params.iter().enumerate() {
        assert!(!name.is_empty() && !name.contains('='), "{name:?}");
        rendered.push_str(if i == 0 { " " } else { ", " });
        let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
        rendered.push_str(&format!("{name}=\"{quoted}\""));
    }
    // Without parameters a scheme's trailing whitespace is trimmed with the header's.
    let want = if params.is_empty() { scheme.trim_end().to_string() } else { scheme };
    assert_eq!(parse_challenge(&rendered), Some((want, params)), "`{text}` rendered as `{rendered}`");
}

fuzz_target!(|data: &[u8]| {
    documents(data);
    if let Ok(text) = std::str::from_utf8(data) {
        references(text);
        challenges(text);
    }
});
