//! Codex runtime versions and their three spellings.
//!
//! Codex releases are semver (`0.163.0`, `0.154.0-alpha.6`, and alpha hotfixes such as
//! `0.154.0-alpha.6.2`), tagged `rust-v<version>`. The Python distribution
//! `openai-codex-cli-bin` spells the same versions in PEP 440 (`0.154.0a6`, `0.154.0a6.post2`);
//! the SDK's own `_runtime_requirements.py` maps `-alpha.N.M` to `aN.postM`, and so do we.

use std::fmt;
use std::str::FromStr;

/// Release tag prefix used by openai/codex for the Rust CLI.
pub const TAG_PREFIX: &str = "rust-v";

/// A pre-release channel that both spellings share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
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
    major: u64,
    minor: u64,
    patch: u64,
    /// `(channel, number, hotfix)`: `alpha.6.2` is `(Alpha, 6, Some(2))`.
    pre: Option<(Channel, u64, Option<u64>)>,
}

/// Why a version string was refused.
#[derive(Debug, thiserror::Error)]
#[error("`{input}` is not a Codex version: {reason}")]
pub struct VersionError {
    input: String,
    reason: &'static str,
}

impl CodexVersion {
    /// Parse any accepted spelling: `0.163.0`, `v0.163.0`, `rust-v0.163.0`,
    /// `0.154.0-alpha.6`, `0.154.0-alpha.6.2`, `0.154.0a6`, `0.154.0a6.post2`, `0.154.0rc1`.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = |reason| VersionError {
            input: input.to_string(),
            reason,
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
        // Split the numeric release from whatever follows it.
        let release_end = s
            .char_indices()
            .scan(0, |dots, (i, c)| {
                if c == '.' {
                    *dots += 1;
                }
                Some((i, c, *dots))
            })
            .find(|&(_, c, dots)| !(c.is_ascii_digit() || (c == '.' && dots <= 2)))
            .map_or(s.len(), |(i, _, _)| i);
        let (release, rest) = s.split_at(release_end);
        let nums: Vec<&str> = release.split('.').collect();
        if nums.len() != 3 {
            return Err(err("expected three numbers, like `0.163.0`"));
        }
        let num = |p: &str| -> Result<u64, VersionError> {
            if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
                return Err(err("a release number is empty or has a leading zero"));
            }
            p.parse().map_err(|_| err("a release number is too large"))
        };
        let (major, minor, patch) = (num(nums[0])?, num(nums[1])?, num(nums[2])?);
        let pre = if rest.is_empty() {
            None
        } else if let Some(semver_pre) = rest.strip_prefix('-') {
            Some(parse_semver_pre(semver_pre).ok_or_else(|| {
                err("the pre-release must be `alpha.N`, `beta.N` or `rc.N` (optionally `.M`)")
            })?)
        } else {
            Some(parse_pep440_pre(rest).ok_or_else(|| {
                err("the pre-release must be `aN`, `bN` or `rcN` (optionally `.postM`)")
            })?)
        };
        Ok(CodexVersion {
            major,
            minor,
            patch,
            pre,
        })
    }

    /// The release tag on GitHub: `rust-v0.163.0`.
    pub fn tag(&self) -> String {
        format!("{TAG_PREFIX}{self}")
    }

    /// The PEP 440 spelling used by `openai-codex-cli-bin`: `0.154.0a6.post2`.
    pub fn pep440(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if let Some((channel, n, hotfix)) = self.pre {
            s.push_str(&format!("{}{n}", channel.pep440()));
            if let Some(h) = hotfix {
                s.push_str(&format!(".post{h}"));
            }
        }
        s
    }

    /// Whether this is a pre-release (alpha, beta, rc).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

fn parse_semver_pre(s: &str) -> Option<(Channel, u64, Option<u64>)> {
    let mut parts = s.split('.');
    let channel = match parts.next()? {
        "alpha" => Channel::Alpha,
        "beta" => Channel::Beta,
        "rc" => Channel::Rc,
        _ => return None,
    };
    let n = strict_number(parts.next()?)?;
    let hotfix = parts.next().map(strict_number);
    let hotfix = match hotfix {
        None => None,
        Some(None) => return None,
        Some(Some(h)) => Some(h),
    };
    if parts.next().is_some() {
        return None;
    }
    Some((channel, n, hotfix))
}

fn parse_pep440_pre(s: &str) -> Option<(Channel, u64, Option<u64>)> {
    // PEP 440 allows an optional separator and long names before normalisation.
    let lower = s.to_ascii_lowercase();
    let s = lower.trim_start_matches(['.', '-', '_']);
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
    let rest = rest.trim_start_matches(['.', '-', '_']);
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let n = rest[..digits].parse().ok()?;
    let rest = &rest[digits..];
    if rest.is_empty() {
        return Some((channel, n, None));
    }
    let post = rest
        .strip_prefix(".post")
        .or_else(|| rest.strip_prefix("-post"))
        .or_else(|| rest.strip_prefix("post"))?;
    let h = strict_number(post.trim_start_matches(['.', '-', '_']))?;
    Some((channel, n, Some(h)))
}

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
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some((channel, n, hotfix)) = self.pre {
            write!(f, "-{}.{n}", channel.semver())?;
            if let Some(h) = hotfix {
                write!(f, ".{h}")?;
            }
        }
        Ok(())
    }
}

impl Ord for CodexVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // A release sorts after all of its pre-releases (semver and PEP 440 agree).
        let key = |v: &CodexVersion| (v.major, v.minor, v.patch, v.pre.is_none(), v.pre);
        key(self).cmp(&key(other))
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
            "0.163.0-alpha.1.2.3",
            "0.1é3.0",
            "99999999999999999999.0.0",
            "0.163.0 extra",
            "../0.1.0",
        ] {
            assert!(
                CodexVersion::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
