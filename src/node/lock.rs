//! What a Node project's lock files say about `@openai/codex`: its version, and each platform
//! package's version and integrity (the sha512 of the registry's tarball). npm records the
//! platform packages even when it omitted them (`--omit=optional`, another platform), so a
//! lock pins the bytes that `install --node` places, as `uv.lock` pins a wheel's.
//!
//! Formats, in the order they are read (all that are present are read; the plan requires that
//! they agree):
//! - `npm-shrinkwrap.json`, `package-lock.json` (v2/v3): `packages["node_modules/@openai/
//!   codex-<platform>"]` with `version` `<V>-<platform>` and `integrity`;
//! - `pnpm-lock.yaml`: `packages` keys `'@openai/codex@<V>-<platform>':` with `resolution:
//!   {integrity: sha512-…}`;
//! - `yarn.lock` v1: entries `"@openai/codex-<platform>@npm:@openai/codex@…":` with `version
//!   "<V>-<platform>"` and `integrity sha512-…`. Yarn berry (`__metadata:`) records a `checksum`
//!   of the zip in its own cache, not of the registry's tarball: it pins the version only;
//! - `bun.lock` (text): `"@openai/codex-<platform>": ["@openai/codex@<V>-<platform>", "", {…},
//!   "sha512-…"]`.
//!
//! The YAML and JSONC formats are read line by line (their generators write one entry per
//! block and one array per line); an entry this reader does not understand is left out, never
//! guessed at.

use std::path::{Path, PathBuf};

use super::{CODEX_PACKAGE, PLATFORMS};
use crate::pin::CodexVersion;
use crate::verify::Sha512;

/// The lock files `install --node` reads, in order.
pub const LOCK_FILES: &[&str] = &[
    "npm-shrinkwrap.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lock",
];

/// One lock file's view of `@openai/codex`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeLock {
    pub file: PathBuf,
    /// The version of `@openai/codex` itself, when the lock holds it.
    pub codex_version: Option<CodexVersion>,
    pub platforms: Vec<LockedPlatform>,
    /// Why the lock pins versions but no bytes (yarn berry), when it does not.
    pub no_integrity: Option<&'static str>,
}

/// One platform package as a lock records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPlatform {
    /// As npm spells it: `linux-x64`.
    pub platform: String,
    pub version: CodexVersion,
    pub integrity: Option<Sha512>,
}

/// Every lock file in `root` that mentions `@openai/codex`, in [`LOCK_FILES`] order.
pub fn read_locks(root: &Path) -> Vec<NodeLock> {
    LOCK_FILES
        .iter()
        .map(|name| root.join(name))
        .filter_map(|file| {
            let text = std::fs::read_to_string(&file).ok()?;
            let name = file.file_name()?.to_str()?.to_string();
            let mut lock = match name.as_str() {
                "npm-shrinkwrap.json" | "package-lock.json" => package_lock(&text)?,
                "pnpm-lock.yaml" => pnpm(&text),
                "yarn.lock" => yarn(&text),
                _ => bun(&text),
            };
            lock.file = file;
            (lock.codex_version.is_some() || !lock.platforms.is_empty()).then_some(lock)
        })
        .collect()
}

/// `<V>-<platform>` -> (platform, V), with V spelled exactly as npm publishes it (semver, as
/// Codex spells it): not `0.163.0\t`, `v0.163.0` or `0.154.0a6`, which a lenient parse would
/// read as a version the file does not hold (found by the `node_locks` fuzz target).
fn platform_version(v: &str) -> Option<(&'static str, CodexVersion)> {
    PLATFORMS.iter().find_map(|p| {
        let base = v.strip_suffix(p)?.strip_suffix('-')?;
        let version = CodexVersion::parse(base).ok()?;
        (version.to_string() == base).then_some((*p, version))
    })
}

fn locked(version: &str, integrity: Option<&str>) -> Option<LockedPlatform> {
    let (platform, version) = platform_version(version)?;
    Some(LockedPlatform {
        platform: platform.to_string(),
        version,
        integrity: integrity.and_then(|i| Sha512::parse_integrity(i).ok()),
    })
}

fn package_lock(text: &str) -> Option<NodeLock> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let packages = doc.get("packages")?.as_object()?;
    let mut lock = NodeLock::default();
    let main = format!("node_modules/{CODEX_PACKAGE}");
    for (key, entry) in packages {
        let version = entry.get("version").and_then(|v| v.as_str());
        if key.ends_with(&main) && (key == &main || key.ends_with(&format!("/{main}"))) {
            // The hoisted one (the key itself) wins over nested ones.
            if key == &main || lock.codex_version.is_none() {
                lock.codex_version = version.and_then(|v| CodexVersion::parse(v).ok());
            }
            continue;
        }
        let is_platform = PLATFORMS
            .iter()
            .any(|p| key.ends_with(&format!("node_modules/{CODEX_PACKAGE}-{p}")));
        if !is_platform {
            continue;
        }
        let integrity = entry.get("integrity").and_then(|v| v.as_str());
        if let Some(p) = version.and_then(|v| locked(v, integrity)) {
            if !lock.platforms.contains(&p) {
                lock.platforms.push(p);
            }
        }
    }
    Some(lock)
}

/// A block of an indented file: a header line ending in `:` and the lines indented under it.
struct Block<'a> {
    header: &'a str,
    body: Vec<&'a str>,
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if !t.ends_with(':') || t.starts_with('#') {
            continue;
        }
        let level = indent(line);
        let body = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || indent(l) > level)
            .copied()
            .collect();
        out.push(Block { header: t, body });
    }
    out
}

/// The value of `key` in a block's body: `key value`, `key: value`, quotes removed.
fn field<'a>(body: &[&'a str], key: &str) -> Option<&'a str> {
    body.iter().find_map(|l| {
        let rest = l.trim().strip_prefix(key)?;
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        rest.starts_with(' ')
            .then(|| rest.trim().trim_matches('"').trim_matches('\''))
    })
}

fn pnpm(text: &str) -> NodeLock {
    let mut lock = NodeLock::default();
    for b in blocks(text) {
        // `'@openai/codex@0.163.0-linux-x64':` (v9), `/@openai/codex@0.163.0-linux-x64:` (v6).
        let key = b.header.trim_end_matches(':').trim_matches('\'');
        let key = key.strip_prefix('/').unwrap_or(key);
        let Some(version) = key.strip_prefix(&format!("{CODEX_PACKAGE}@")) else {
            continue;
        };
        // A peer-dependency suffix (`(…)`) never applies to these packages, but is not a version.
        let version = version.split('(').next().unwrap_or(version);
        let integrity = b.body.iter().find_map(|l| {
            let at = l.find("integrity:")?;
            let rest = l[at + "integrity:".len()..].trim();
            Some(rest.trim_end_matches('}').trim().trim_matches('\''))
        });
        if let Some(p) = locked(version, integrity) {
            if let Some(old) = lock.platforms.iter_mut().find(|o| o.platform == p.platform) {
                // `snapshots:` repeats the key without the resolution.
                if old.integrity.is_none() {
                    *old = p;
                }
            } else {
                lock.platforms.push(p);
            }
        } else if lock.codex_version.is_none() {
            lock.codex_version = CodexVersion::parse(version).ok();
        }
    }
    lock
}

fn yarn(text: &str) -> NodeLock {
    let berry = text
        .lines()
        .any(|l| l.trim_start().starts_with("__metadata:"));
    let mut lock = NodeLock {
        no_integrity: berry.then_some(
            "yarn berry's `checksum` is of the zip in its own cache, not of the registry's tarball",
        ),
        ..NodeLock::default()
    };
    for b in blocks(text) {
        if b.header.starts_with(' ') || !b.header.contains(CODEX_PACKAGE) {
            continue;
        }
        let Some(version) = field(&b.body, "version") else {
            continue;
        };
        let integrity = if berry {
            None
        } else {
            field(&b.body, "integrity")
        };
        if let Some(p) = locked(version, integrity) {
            if !lock.platforms.iter().any(|o| o.platform == p.platform) {
                lock.platforms.push(p);
            }
        } else if b.header.contains(&format!("{CODEX_PACKAGE}@")) && lock.codex_version.is_none() {
            lock.codex_version = CodexVersion::parse(version).ok();
        }
    }
    lock
}

fn bun(text: &str) -> NodeLock {
    let mut lock = NodeLock::default();
    let start = format!("[\"{CODEX_PACKAGE}@");
    for line in text.lines() {
        let Some(at) = line.find(&start) else {
            continue;
        };
        let rest = &line[at + start.len()..];
        let Some(version) = rest.split('"').next() else {
            continue;
        };
        let integrity = line
            .find("\"sha512-")
            .and_then(|i| line[i + 1..].split('"').next());
        if let Some(p) = locked(version, integrity) {
            if !lock.platforms.iter().any(|o| o.platform == p.platform) {
                lock.platforms.push(p);
            }
        } else if lock.codex_version.is_none() {
            lock.codex_version = CodexVersion::parse(version).ok();
        }
    }
    lock
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrity(s: &str) -> String {
        Sha512::of(s.as_bytes()).to_integrity()
    }

    fn linux(lock: &NodeLock) -> &LockedPlatform {
        lock.platforms
            .iter()
            .find(|p| p.platform == "linux-x64")
            .expect("linux-x64 locked")
    }

    #[test]
    fn a_platform_version_is_read_only_in_npm_spelling() {
        assert_eq!(
            platform_version("0.154.0-alpha.6-linux-x64").map(|(p, v)| (p, v.to_string())),
            Some(("linux-x64", "0.154.0-alpha.6".to_string()))
        );
        for loose in [
            "0.163.0\t-linux-arm64",
            " 0.163.0-linux-arm64",
            "v0.163.0-linux-arm64",
            "rust-v0.163.0-linux-arm64",
            "0.154.0a6-linux-arm64",
        ] {
            assert!(platform_version(loose).is_none(), "{loose:?}");
        }
    }

    #[test]
    fn package_lock_records_omitted_platform_packages() {
        let text = format!(
            r#"{{"lockfileVersion":3,"packages":{{"":{{}},
            "node_modules/@openai/codex":{{"version":"0.163.0"}},
            "node_modules/@openai/codex-sdk":{{"version":"0.163.0"}},
            "node_modules/@openai/codex-linux-x64":{{"name":"@openai/codex","version":"0.163.0-linux-x64","integrity":"{}","optional":true}},
            "node_modules/@openai/codex-darwin-arm64":{{"name":"@openai/codex","version":"0.163.0-darwin-arm64","integrity":"{}","optional":true}}}}}}"#,
            integrity("l"),
            integrity("d")
        );
        let lock = package_lock(&text).unwrap();
        assert_eq!(lock.codex_version.as_ref().unwrap().to_string(), "0.163.0");
        assert_eq!(lock.platforms.len(), 2);
        assert_eq!(linux(&lock).integrity, Some(Sha512::of(b"l")));
        assert_eq!(linux(&lock).version.to_string(), "0.163.0");
    }

    #[test]
    fn pnpm_lock_packages_carry_the_integrity() {
        let text = format!(
            "lockfileVersion: '9.0'\n\npackages:\n\n  '@openai/codex-sdk@0.163.0':\n    resolution: {{integrity: {}}}\n\n  '@openai/codex@0.163.0':\n    resolution: {{integrity: {}}}\n    hasBin: true\n\n  '@openai/codex@0.163.0-linux-x64':\n    resolution: {{integrity: {}}}\n    cpu: [x64]\n    os: [linux]\n\nsnapshots:\n\n  '@openai/codex@0.163.0-linux-x64': {{}}\n",
            integrity("s"),
            integrity("c"),
            integrity("l")
        );
        let lock = pnpm(&text);
        assert_eq!(lock.codex_version.as_ref().unwrap().to_string(), "0.163.0");
        assert_eq!(linux(&lock).integrity, Some(Sha512::of(b"l")));
    }

    #[test]
    fn yarn_v1_pins_bytes_and_berry_only_versions() {
        let v1 = format!(
            "# yarn lockfile v1\n\n\"@openai/codex-linux-x64@npm:@openai/codex@0.163.0-linux-x64\":\n  version \"0.163.0-linux-x64\"\n  resolved \"https://r.example/x.tgz#abc\"\n  integrity {}\n\n\"@openai/codex@0.163.0\":\n  version \"0.163.0\"\n",
            integrity("l")
        );
        let lock = yarn(&v1);
        assert_eq!(linux(&lock).integrity, Some(Sha512::of(b"l")));
        assert_eq!(lock.codex_version.as_ref().unwrap().to_string(), "0.163.0");
        assert!(lock.no_integrity.is_none());
        let berry = "__metadata:\n  version: 8\n\n\"@openai/codex-linux-x64@npm:@openai/codex@0.163.0-linux-x64\":\n  version: 0.163.0-linux-x64\n  resolution: \"@openai/codex@npm:0.163.0-linux-x64\"\n  checksum: 10c0/abcdef\n";
        let lock = yarn(berry);
        assert_eq!(linux(&lock).integrity, None);
        assert!(lock.no_integrity.is_some());
    }

    #[test]
    fn bun_lock_arrays_end_with_the_integrity() {
        let text = format!(
            "{{\n  \"lockfileVersion\": 1,\n  \"packages\": {{\n    \"@openai/codex\": [\"@openai/codex@0.163.0\", \"\", {{ \"bin\": {{}} }}, \"{}\"],\n    \"@openai/codex-linux-x64\": [\"@openai/codex@0.163.0-linux-x64\", \"\", {{ \"os\": \"linux\", \"cpu\": \"x64\" }}, \"{}\"],\n  }}\n}}\n",
            integrity("c"),
            integrity("l")
        );
        let lock = bun(&text);
        assert_eq!(lock.codex_version.as_ref().unwrap().to_string(), "0.163.0");
        assert_eq!(linux(&lock).integrity, Some(Sha512::of(b"l")));
    }

    /// Lock files the package managers really wrote for a project depending on
    /// `@openai/codex-sdk@0.163.0` (npm 11, pnpm 12, yarn 1.22 and 4.18, bun 1.4), registry
    /// addresses replaced by loopback ones.
    const REAL: &[(&str, &str)] = &[
        (
            "package-lock.json",
            include_str!("../../tests/data/node-locks/package-lock.json"),
        ),
        (
            "pnpm-lock.yaml",
            include_str!("../../tests/data/node-locks/pnpm-lock.yaml"),
        ),
        (
            "yarn-v1.lock",
            include_str!("../../tests/data/node-locks/yarn-v1.lock"),
        ),
        (
            "yarn-berry.lock",
            include_str!("../../tests/data/node-locks/yarn-berry.lock"),
        ),
        (
            "bun.lock",
            include_str!("../../tests/data/node-locks/bun.lock"),
        ),
    ];

    /// The registry's integrity of `@openai/codex@0.163.0-linux-x64`.
    const LINUX_X64: &str = "sha512-uwRaOsrYogLQhcxAM/GoeWrw0QIWEMRo7c9gM8sKAviVkZQHlu9kRLJ5PkufbV+ABGjyZgIwiFdJ0LCJ0N6e8w==";

    #[test]
    fn real_lock_files_give_the_version_and_every_platform() {
        let want = Sha512::parse_integrity(LINUX_X64).unwrap();
        for (name, text) in REAL {
            let lock = match *name {
                "package-lock.json" => package_lock(text).unwrap(),
                "pnpm-lock.yaml" => pnpm(text),
                "bun.lock" => bun(text),
                _ => yarn(text),
            };
            assert_eq!(
                lock.codex_version
                    .as_ref()
                    .map(ToString::to_string)
                    .as_deref(),
                Some("0.163.0"),
                "{name}"
            );
            let mut platforms: Vec<_> =
                lock.platforms.iter().map(|p| p.platform.as_str()).collect();
            platforms.sort_unstable();
            let mut all = PLATFORMS.to_vec();
            all.sort_unstable();
            assert_eq!(platforms, all, "{name}");
            assert!(
                lock.platforms
                    .iter()
                    .all(|p| p.version.to_string() == "0.163.0"),
                "{name}"
            );
            if *name == "yarn-berry.lock" {
                assert!(
                    lock.platforms.iter().all(|p| p.integrity.is_none()),
                    "{name}"
                );
                assert!(lock.no_integrity.is_some(), "{name}");
            } else {
                assert_eq!(linux(&lock).integrity, Some(want), "{name}");
                assert!(
                    lock.platforms.iter().all(|p| p.integrity.is_some()),
                    "{name}"
                );
                assert!(lock.no_integrity.is_none(), "{name}");
            }
        }
    }

    #[test]
    fn a_version_is_split_from_its_platform_suffix() {
        let (p, v) = platform_version("0.154.0-alpha.6-darwin-arm64").unwrap();
        assert_eq!(
            (p, v.to_string().as_str()),
            ("darwin-arm64", "0.154.0-alpha.6")
        );
        assert!(platform_version("0.163.0").is_none());
    }
}
