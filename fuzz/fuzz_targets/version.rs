//! Version parsing never panics; every accepted version round-trips through all three
//! spellings (codex, PEP 440, tag); and two accepted versions order as semver orders their
//! codex spellings (parsed independently by the `semver` crate), in every spelling.
#![no_main]
use codex_bootstrap::pin::CodexVersion;
use libfuzzer_sys::fuzz_target;

fn accepted(text: &str) -> Option<CodexVersion> {
    let v = CodexVersion::parse(text).ok()?;
    assert_eq!(CodexVersion::parse(&v.to_string()).unwrap(), v, "codex spelling of {text:?}");
    assert_eq!(CodexVersion::parse(&v.pep440()).unwrap(), v, "PEP 440 spelling of {text:?}");
    assert_eq!(CodexVersion::parse(&v.tag()).unwrap(), v, "tag of {text:?}");
    Some(v)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Two versions, split at the first newline; the first alone when there is none.
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));
    let (Some(a), Some(b)) = (accepted(a), accepted(b)) else { return };
    let (sa, sb) = (semver::Version::parse(&a.to_string()).unwrap(), semver::Version::parse(&b.to_string()).unwrap());
    assert_eq!(a.cmp(&b), sa.cmp(&sb), "{a} vs {b}");
    let pep = (CodexVersion::parse(&a.pep440()).unwrap(), CodexVersion::parse(&b.pep440()).unwrap());
    assert_eq!(pep.0.cmp(&pep.1), sa.cmp(&sb), "PEP 440 {} vs {}", a.pep440(), b.pep440());
});
