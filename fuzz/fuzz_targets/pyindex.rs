//! PEP 691 JSON and PEP 503 HTML index pages: no panic, typed errors, and every file either
//! parser vets (every JSON file, every HTML wheel) has an absolute URL without its fragment
//! and a version that reads back from its own spelling; the newest-stable choice never panics.
#![no_main]
use codex_bootstrap::sources::pyindex::{newest_stable, parse_html, parse_json, IndexFile};
use libfuzzer_sys::fuzz_target;

const TAGS: &[&str] = &["musllinux_1_1_x86_64", "manylinux_2_17_x86_64"];

/// `all`: every file is judged (JSON); else only wheels (an HTML page's other links are
/// navigation, never downloaded).
fn check(files: &[IndexFile], all: bool) {
    for f in files.iter().filter(|f| all || f.filename.to_ascii_lowercase().ends_with(".whl")) {
        let url = url::Url::parse(&f.url).unwrap_or_else(|e| panic!("{:?} is not absolute: {e}", f.url));
        assert!(url.fragment().is_none(), "{} keeps its fragment", f.url);
        // The version a name spells reads back from its own spellings (a name may spell it
        // in any PEP 440 form: `0.163.6b4post0` is `0.163.6b4.post0`).
        if let Some(v) = f.version() {
            assert_eq!(codex_bootstrap::pin::CodexVersion::parse(&v.pep440()).ok(), Some(v.clone()), "{}", f.filename);
        }
        let _ = f.has_platform(TAGS);
    }
    let _ = newest_stable(files, TAGS);
}

fuzz_target!(|data: &[u8]| {
    let page = url::Url::parse("http://127.0.0.1/simple/openai-codex-cli-bin/").unwrap();
    if let Ok(files) = parse_json(data, &page) {
        check(&files, true);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(files) = parse_html(text, &page) {
            check(&files, false);
        }
    }
});
