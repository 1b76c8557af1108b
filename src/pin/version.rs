//! Codex runtime versions and their three spellings.
//!
//! Codex releases are semver (`0.163.0`, `0.154.0-alpha.6`, and alpha hotfixes such as
//! `0.154.0-alpha.6.2`), tagged `rust-v<version>`: a [`CodexVersion`] is a [`semver::Version`],
//! parsed and ordered by the `semver` crate (a pre-release sorts before its release,
//! `alpha.6` < `alpha.6.2` < `beta.1` < `rc.1`), restricted to the shapes Codex publishes. The
//! Python distribution `openai-codex-cli-bin` spells the same versions in PEP 440 (`0.154.0a6`,
//! `0.154.0a6.post2`); the SDK's own `_runtime_requirements.py` maps `-alpha.N.M` to `aN.postM`,
//! and so do we: a PEP 440 spelling is rewritten into its semver one before `semver` parses it.

use std::fmt;
use std::str::FromStr;

use crate::error::Hint;

/// Release tag prefix used by openai/codex for the Rust CLI.
pub(crate) const TAG_PREFIX: &str = "rust-v";

/// A pre-release channel that both spellings share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Channel {
    Alpha,
    Beta,
    Rc,
}

impl Channel {
    fn semver(self) -> &'static str {
        match self {
            Channel::Alpha => "alpha",
            Channel::Beta => "beta",
            Channel::Rc => "rc",
        }
    }

    fn pep440(self) -> &'static str {
        match self {
            Channel::Alpha => "a",
            Channel::Beta => "b",
            Channel::Rc => "rc",
        }
    }
}

/// A Codex runtime version, comparable, printable in every spelling it has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodexVersion {
    /// The version itself: precedence, equality and the Codex spelling come from here.
    semver: semver::Version,
    /// Its pre-release decoded, for the PEP 440 spelling: `alpha.6.2` is `(Alpha, 6, Some(2))`.
    /// Always agrees with `semver.pre` (both are set by [`CodexVersion::parse`] only).
    pre: Option<(Channel, u64, Option<u64>)>,
}

/// Why a version string was refused.
#[derive(Debug, thiserror::Error)]
#[error("`{input}` is not a Codex version: {reason}")]
pub struct VersionError {
    input: String,
    reason: String,
}

impl Hint for VersionError {
    fn hint(&self) -> Option<String> {
        Some("write the version as Codex spells it (`0.163.0`, `0.154.0-alpha.6`) or as PEP 440 does (`0.154.0a6`), or `latest`".into())
    }
    /// A version the user typed (or wrote in a pin file) that is not one.
    fn is_usage(&self) -> bool {
        true
    }
}

impl CodexVersion {
    /// Parse any accepted spelling: `0.163.0`, `v0.163.0`, `rust-v0.163.0`,
    /// `0.154.0-alpha.6`, `0.154.0-alpha.6.2`, `0.154.0a6`, `0.154.0a6.post2`, `0.154.0rc1`.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let s = input.trim();
        let s = s
            .strip_prefix(TAG_PREFIX)
            .or_else(|| s.strip_prefix('v'))
            .unwrap_or(s);
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if !s.is_ascii() {
            return Err(err("it contains non-ASCII characters"));
        }
        let (release, rest) = split_release(s);
        if release.split('.').filter(|n| !n.is_empty()).count() != 3 {
            return Err(err("expected three numbers, like `0.163.0`"));
        }
        let semver_text = match pep440_to_semver(release, rest) {
            Rewrite::AsIs => s.to_string(),
            Rewrite::Semver(text) => text,
            Rewrite::BadPre => {
                return Err(err(
                    "the pre-release must be `aN`, `bN` or `rcN` (optionally `.postM`)",
                ))
            }
        };
        let semver = semver::Version::parse(&semver_text).map_err(|e| err(&e.to_string()))?;
        if !semver.build.is_empty() {
            return Err(err("build metadata (`+…`) is not part of a Codex version"));
        }
        let pre = if semver.pre.is_empty() {
            None
        } else {
            Some(parse_semver_pre(semver.pre.as_str()).ok_or_else(|| {
                err("the pre-release must be `alpha.N`, `beta.N` or `rc.N` (optionally `.M`)")
            })?)
        };
        Ok(CodexVersion { semver, pre })
    }

    /// The version as `semver` sees it.
    pub fn semver(&self) -> &semver::Version {
        &self.semver
    }

    /// The release tag on GitHub: `rust-v0.163.0`.
    pub fn tag(&self) -> String {
        format!("{TAG_PREFIX}{self}")
    }

    /// The PEP 440 spelling used by `openai-codex-cli-bin`: `0.154.0a6.post2`.
    pub fn pep440(&self) -> String {
        let v = &self.semver;
        let mut s = format!("{}.{}.{}", v.major, v.minor, v.patch);
        if let Some((channel, n, hotfix)) = self.pre {
            s.push_str(&format!("{}{n}", channel.pep440()));
            if let Some(h) = hotfix {
                s.push_str(&format!(".post{h}"));
            }
        }
        s
    }

    /// Whether this is a pre-release (alpha, beta, rc).
    pub(crate) fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

/// What [`pep440_to_semver`] made of a version string.
enum Rewrite {
    /// No PEP 440 pre-release: hand the text to `semver` as it is.
    AsIs,
    /// The semver spelling of a PEP 440 pre-release: `0.154.0a6.post2` -> `0.154.0-alpha.6.2`.
    Semver(String),
    /// A PEP 440 pre-release suffix that Codex versions never have.
    BadPre,
}

/// Split the numeric release (three numbers, two dots) from whatever follows it.
fn split_release(s: &str) -> (&str, &str) {
    let mut dots = 0;
    let end = s
        .char_indices()
        .find(|&(_, c)| {
            if c == '.' {
                dots += 1;
            }
            !(c.is_ascii_digit() || (c == '.' && dots <= 2))
        })
        .map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

/// Rewrite a PEP 440 pre-release into semver. The release numbers are left to `semver` to
/// judge; only what follows them is looked at, and only when it does not already start with
/// semver's `-` (or `+`).
fn pep440_to_semver(release: &str, rest: &str) -> Rewrite {
    if rest.is_empty() || rest.starts_with('-') || rest.starts_with('+') {
        return Rewrite::AsIs;
    }
    match parse_pep440_pre(rest) {
        Some((channel, n, hotfix)) => {
            let mut text = format!("{release}-{}.{n}", channel.semver());
            if let Some(h) = hotfix {
                text.push_str(&format!(".{h}"));
            }
            Rewrite::Semver(text)
        }
        None => Rewrite::BadPre,
    }
}

/// `alpha.6`, `alpha.6.2`, `beta.1`, `rc.2`: the pre-release shapes Codex publishes.
fn parse_semver_pre(s: &str) -> Option<(Channel, u64, Option<u64>)> {
    let mut parts = s.split('.');
    let channel = match parts.next()? {
        "alpha" => Channel::Alpha,
        "beta" => Channel::Beta,
        "rc" => Channel::Rc,
        _ => return None,
    };
    let n = strict_number(parts.next()?)?;
    let hotfix = match parts.next() {
        None => None,
        Some(h) => Some(strict_number(h)?),
    };
    if parts.next().is_some() {
        return None;
    }
    Some((channel, n, hotfix))
}

fn parse_pep440_pre(s: &str) -> Option<(Channel, u64, Option<u64>)> {
    // PEP 440 allows one optional separator on each side of the letters, and long names,
    // before normalisation. Not more: `a.-01` is `a0.post1` to PEP 440, not `a1`.
    const SEP: [char; 3] = ['.', '-', '_'];
    let lower = s.to_ascii_lowercase();
    let s = lower.strip_prefix(SEP).unwrap_or(&lower);
    let (channel, rest) = [
        ("alpha", Channel::Alpha),
        ("beta", Channel::Beta),
        ("rc", Channel::Rc),
        ("a", Channel::Alpha),
        ("b", Channel::Beta),
        ("c", Channel::Rc),
    ]
    .iter()
    .find_map(|(p, c)| s.strip_prefix(p).map(|rest| (*c, rest)))?;
    let rest = rest.strip_prefix(SEP).unwrap_or(rest);
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    // PEP 440 normalises `a06` to `a6`: leading zeros are fine here.
    let n = rest[..digits].parse().ok()?;
    let rest = &rest[digits..];
    if rest.is_empty() {
        return Some((channel, n, None));
    }
    let post = rest
        .strip_prefix(".post")
        .or_else(|| rest.strip_prefix("-post"))
        .or_else(|| rest.strip_prefix("post"))?;
    let h = strict_number(post.strip_prefix(SEP).unwrap_or(post))?;
    Some((channel, n, Some(h)))
}

/// Digits only, no leading zero (semver's rule for numeric identifiers), within `u64`.
fn strict_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for CodexVersion {
    /// The Codex (semver) spelling: `0.154.0-alpha.6.2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.semver, f)
    }
}

impl Ord for CodexVersion {
    /// Semver precedence: a release sorts after all of its pre-releases, and pre-release
    /// identifiers compare numerically or by ASCII (`alpha` < `beta` < `rc`). PEP 440 agrees on
    /// every version Codex publishes.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.semver.cmp(&other.semver)
    }
}

impl PartialOrd for CodexVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for CodexVersion {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CodexVersion::parse(s)
    }
}

impl serde::Serialize for CodexVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CodexVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CodexVersion::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, codex spelling, PEP 440 spelling)
    const TABLE: &[(&str, &str, &str)] = &[
        ("0.163.0", "0.163.0", "0.163.0"),
        ("rust-v0.163.0", "0.163.0", "0.163.0"),
        ("v0.163.0", "0.163.0", "0.163.0"),
        ("0.154.0-alpha.6", "0.154.0-alpha.6", "0.154.0a6"),
        ("0.154.0a6", "0.154.0-alpha.6", "0.154.0a6"),
        ("0.154.0-alpha.6.2", "0.154.0-alpha.6.2", "0.154.0a6.post2"),
        ("0.154.0a6.post2", "0.154.0-alpha.6.2", "0.154.0a6.post2"),
        ("0.154.0alpha6", "0.154.0-alpha.6", "0.154.0a6"),
        ("0.154.0-beta.1", "0.154.0-beta.1", "0.154.0b1"),
        ("0.154.0b1", "0.154.0-beta.1", "0.154.0b1"),
        ("0.154.0rc2", "0.154.0-rc.2", "0.154.0rc2"),
        ("0.154.0-rc.2", "0.154.0-rc.2", "0.154.0rc2"),
        ("rust-v0.154.0-alpha.6", "0.154.0-alpha.6", "0.154.0a6"),
        (" 1.2.3 ", "1.2.3", "1.2.3"),
    ];

    #[test]
    fn spellings_map_both_ways() {
        for (input, codex, pep) in TABLE {
            let v = CodexVersion::parse(input).unwrap();
            assert_eq!(v.to_string(), *codex, "codex spelling of {input}");
            assert_eq!(v.pep440(), *pep, "PEP 440 spelling of {input}");
            assert_eq!(CodexVersion::parse(pep).unwrap(), v, "round trip of {pep}");
            assert_eq!(CodexVersion::parse(&v.tag()).unwrap(), v);
        }
    }

    #[test]
    fn tags() {
        let v = CodexVersion::parse("0.154.0a6").unwrap();
        assert_eq!(v.tag(), "rust-v0.154.0-alpha.6");
    }

    #[test]
    fn ordering_puts_prereleases_first() {
        let a = CodexVersion::parse("0.154.0-alpha.6").unwrap();
        let b = CodexVersion::parse("0.154.0-alpha.6.2").unwrap();
        let c = CodexVersion::parse("0.154.0").unwrap();
        assert!(a < b);
        assert!(b < c, "a release sorts after its pre-releases");
        assert!(a.is_prerelease() && !c.is_prerelease());
        let d = CodexVersion::parse("0.163.0").unwrap();
        assert!(c < d);
    }

    #[test]
    fn ordering_is_semver_precedence_whatever_the_spelling() {
        // Each spelling mixed in on purpose: the order is the semver one.
        let sorted = [
            "0.9.0",
            "0.154.0a6",
            "0.154.0-alpha.6.2",
            "0.154.0a10",
            "0.154.0-beta.1",
            "0.154.0b2",
            "0.154.0rc1",
            "rust-v0.154.0",
            "0.154.1-alpha.1",
            "0.163.0",
            "1.0.0",
        ];
        let mut shuffled: Vec<CodexVersion> = sorted
            .iter()
            .rev()
            .map(|s| CodexVersion::parse(s).unwrap())
            .collect();
        shuffled.sort();
        let got: Vec<String> = shuffled.iter().map(|v| v.to_string()).collect();
        let want: Vec<String> = sorted
            .iter()
            .map(|s| CodexVersion::parse(s).unwrap().to_string())
            .collect();
        assert_eq!(got, want);
        for pair in shuffled.windows(2) {
            assert!(pair[0].semver() < pair[1].semver(), "{pair:?}");
        }
    }

    #[test]
    fn the_semver_value_is_the_codex_spelling() {
        let v = CodexVersion::parse("0.154.0a6.post2").unwrap();
        assert_eq!(
            v.semver(),
            &semver::Version::parse("0.154.0-alpha.6.2").unwrap()
        );
        assert_eq!(
            CodexVersion::parse("0.154.0a06").unwrap().to_string(),
            "0.154.0-alpha.6"
        );
    }

    #[test]
    fn refuses_build_metadata_and_names_the_problem() {
        let e = CodexVersion::parse("0.163.0+linux")
            .unwrap_err()
            .to_string();
        assert!(e.contains("build metadata"), "{e}");
        let e = CodexVersion::parse("latest").unwrap_err().to_string();
        assert!(e.contains("three numbers"), "{e}");
        let e = CodexVersion::parse("0.163.0-gamma.1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("alpha.N"), "{e}");
    }

    /// The fuzz target's property (fuzz/fuzz_targets/version.rs) over many strings shaped like
    /// versions, right and wrong: parsing never panics, and whatever parses round-trips through
    /// all three spellings.
    #[test]
    fn accepted_versions_round_trip_through_every_spelling() {
        const PREFIXES: &[&str] = &["", "", "v", "rust-v", " ", "x"];
        const NUMBERS: &[&str] = &["0", "1", "9", "10", "163", "01", "", "99999999999999999999"];
        const SUFFIX: &[&str] = &[
            "-", ".", "_", "+", "a", "b", "c", "rc", "alpha", "beta", "post", ".post", "dev", "0",
            "1", "2", "10", "01", " ", "é",
        ];
        let mut rng = fastrand::Rng::with_seed(14);
        let pick = |rng: &mut fastrand::Rng, from: &[&'static str]| from[rng.usize(..from.len())];
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..50_000 {
            let mut text = String::from(pick(&mut rng, PREFIXES));
            for i in 0..3 {
                if i > 0 {
                    text.push('.');
                }
                text.push_str(pick(&mut rng, NUMBERS));
            }
            for _ in 0..rng.usize(0..6) {
                text.push_str(pick(&mut rng, SUFFIX));
            }
            match CodexVersion::parse(&text) {
                Ok(v) => {
                    accepted += 1;
                    for spelling in [v.to_string(), v.pep440(), v.tag()] {
                        let again = CodexVersion::parse(&spelling);
                        assert_eq!(again.ok().as_ref(), Some(&v), "{text:?} via {spelling:?}");
                    }
                }
                Err(_) => refused += 1,
            }
        }
        assert!(
            accepted > 1000 && refused > 1000,
            "{accepted} accepted, {refused} refused"
        );
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "latest",
            "0.163",
            "0.163.0.1",
            "01.2.3",
            "0.163.0-gamma.1",
            "0.163.0-alpha",
            "0.163.0-alpha.x",
            "0.163.0a",
            "0.163.0a1.dev3",
            // Two separators where PEP 440 allows one (found against `packaging`: it reads
            // `a.-01` as `a0.post1`).
            "0.163.0a.-01",
            "0.163.0._a1",
            "0.163.0a6.post.-2",
            "0.163.0-alpha.1.2.3",
            "0.1é3.0",
            "99999999999999999999.0.0",
            "0.163.0 extra",
            "../0.1.0",
            "0.163.0+build",
            "0.163.0-alpha.01",
            "0.163.0-alpha.1+x",
            "0.163.0-",
        ] {
            assert!(
                CodexVersion::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
