//! Host -> target triple -> release asset names (and Python wheel tags).
//!
//! Codex ships static musl builds for Linux, so Linux is always `*-unknown-linux-musl` whatever
//! the host libc is. On macOS an x86_64 process under Rosetta 2 still gets the arm64 build: it
//! runs natively and faster.

use std::fmt;
use std::str::FromStr;

use crate::error::Hint;

mod wheel;

pub use wheel::WheelFilename;

/// Every target Codex publishes a runtime for.
pub const SUPPORTED_TARGETS: &[&str] = &[
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
];

/// A supported target triple.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target(&'static str);

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("`{0}` is not a target Codex publishes a runtime for")]
    UnknownTarget(String),
    #[error("Codex publishes no runtime for this host ({os}/{arch})")]
    UnsupportedHost { os: String, arch: String },
}

impl Hint for PlatformError {
    fn hint(&self) -> Option<String> {
        Some(format!(
            "supported targets: {}; pass one with `--target`",
            SUPPORTED_TARGETS.join(", ")
        ))
    }
    /// `--target` named a triple that is not one; an unsupported host is not the user's typo.
    fn is_usage(&self) -> bool {
        matches!(self, PlatformError::UnknownTarget(_))
    }
}

impl Target {
    /// The target of the machine we run on.
    pub(crate) fn host() -> Result<Target, PlatformError> {
        let os = std::env::consts::OS;
        let mut arch = std::env::consts::ARCH;
        if os == "macos" && arch == "x86_64" && running_under_rosetta() {
            arch = "aarch64";
        }
        let triple = match (os, arch) {
            ("linux", "x86_64") => "x86_64-unknown-linux-musl",
            ("linux", "aarch64") => "aarch64-unknown-linux-musl",
            ("macos", "x86_64") => "x86_64-apple-darwin",
            ("macos", "aarch64") => "aarch64-apple-darwin",
            ("windows", "x86_64") => "x86_64-pc-windows-msvc",
            ("windows", "aarch64") => "aarch64-pc-windows-msvc",
            _ => {
                return Err(PlatformError::UnsupportedHost {
                    os: os.to_string(),
                    arch: arch.to_string(),
                })
            }
        };
        triple.parse()
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    pub(crate) fn is_windows(&self) -> bool {
        self.0.ends_with("-windows-msvc")
    }

    /// Whether binaries for this target can run on this host.
    pub(crate) fn is_host(&self) -> bool {
        Target::host().is_ok_and(|h| &h == self)
    }

    /// `codex` or `codex.exe`.
    pub(crate) fn exe_name(&self, stem: &str) -> String {
        if self.is_windows() {
            format!("{stem}.exe")
        } else {
            stem.to_string()
        }
    }

    /// The release assets that can provide this target, best first (see [`AssetKind`]).
    pub(crate) fn asset_candidates(&self) -> Vec<(String, AssetKind)> {
        let t = self.0;
        let mut v = vec![
            (
                format!("codex-package-{t}.tar.zst"),
                AssetKind::PackageTarZst,
            ),
            (format!("codex-package-{t}.tar.gz"), AssetKind::PackageTarGz),
        ];
        if self.is_windows() {
            v.push((format!("codex-{t}.exe.zip"), AssetKind::LegacyZip));
        } else {
            v.push((format!("codex-{t}.tar.gz"), AssetKind::LegacyTarGz));
        }
        v
    }

    /// The platform tag of an `openai-codex-cli-bin` wheel for this target.
    pub(crate) fn wheel_platform_tag(&self) -> &'static str {
        match self.0 {
            "x86_64-unknown-linux-musl" => {
                "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64"
            }
            "aarch64-unknown-linux-musl" => {
                "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64"
            }
            "x86_64-apple-darwin" => "macosx_10_9_x86_64",
            "aarch64-apple-darwin" => "macosx_11_0_arm64",
            "x86_64-pc-windows-msvc" => "win_amd64",
            _ => "win_arm64",
        }
    }

    /// The platform tags of the published `openai-codex-cli-bin` wheels that carry this target,
    /// best first. On Linux the musllinux wheel comes first: it is built from the same release
    /// package as GitHub's and npm's (voice resources included); the manylinux wheel carries the
    /// same static binary without them.
    pub(crate) fn wheel_platform_tags(&self) -> Vec<&'static str> {
        match self.0 {
            "x86_64-unknown-linux-musl" => vec!["musllinux_1_1_x86_64", "manylinux_2_17_x86_64"],
            "aarch64-unknown-linux-musl" => {
                vec!["musllinux_1_1_aarch64", "manylinux_2_17_aarch64"]
            }
            "x86_64-apple-darwin" => vec!["macosx_10_9_x86_64"],
            "aarch64-apple-darwin" => vec!["macosx_11_0_arm64"],
            "x86_64-pc-windows-msvc" => vec!["win_amd64"],
            _ => vec!["win_arm64"],
        }
    }

    /// The platform suffix of this target's npm package (`@openai/codex@<v>-<platform>`).
    pub(crate) fn npm_platform(&self) -> &'static str {
        match self.0 {
            "x86_64-unknown-linux-musl" => "linux-x64",
            "aarch64-unknown-linux-musl" => "linux-arm64",
            "x86_64-apple-darwin" => "darwin-x64",
            "aarch64-apple-darwin" => "darwin-arm64",
            "x86_64-pc-windows-msvc" => "win32-x64",
            _ => "win32-arm64",
        }
    }
}

/// The distribution name of the runtime's wheels as their file names spell it.
const RUNTIME_WHEEL_NAME: &str = "openai_codex_cli_bin";

/// Whether a wheel file name carries this platform tag. Wheel names may compress several tags
/// with dots (`manylinux_2_17_x86_64.manylinux2014_x86_64`).
pub(crate) fn wheel_has_platform(file: &str, tag: &str) -> bool {
    WheelFilename::parse(file).is_some_and(|w| w.has_platform(tag))
}

/// The version field of an `openai_codex_cli_bin-<version>-py3-none-<platform>.whl` name.
pub(crate) fn wheel_version(file: &str) -> Option<&str> {
    WheelFilename::parse(file)
        .filter(|w| w.name() == RUNTIME_WHEEL_NAME)
        .map(|w| w.version())
}

/// What an interpreter says about its platform: what pip's `packaging.tags` decides from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct InterpreterPlatform {
    /// `sys.platform`: `linux`, `darwin`, `win32`.
    pub sys_platform: String,
    /// `platform.machine()`, lowercased (`x86_64`, `aarch64`, `arm64`, `amd64`).
    pub machine: String,
    /// Whether the interpreter is a 32-bit build (`sys.maxsize <= 2**32`).
    #[serde(default)]
    pub is_32bit: bool,
    /// The glibc the interpreter runs on (`os.confstr("CS_GNU_LIBC_VERSION")`), as `2.35`.
    #[serde(default)]
    pub glibc: Option<String>,
    /// The musl the interpreter runs on (its `ld-musl` loader's `Version`), as `1.2`.
    #[serde(default)]
    pub musl: Option<String>,
    /// `platform.mac_ver()[0]`, as `14.5`.
    #[serde(default)]
    pub macos: Option<String>,
}

fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.trim().parse().ok()?;
    let minor = it
        .next()
        .and_then(|m| {
            m.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or(0);
    Some((major, minor))
}

impl InterpreterPlatform {
    /// The platform tags pip and uv accept for this interpreter, most preferred first, as
    /// `packaging.tags.platform_tags()` orders them: on glibc 2.N `manylinux_2_N` down to
    /// `manylinux_2_17` (with the legacy `manylinux2014` alias beside it) and below, then
    /// `linux_<arch>`; on musl 1.N `musllinux_1_N` down to `musllinux_1_0`, then `linux_<arch>`;
    /// on macOS the running version down to 10.0 (`arm64` from 11.0, `universal2` after each);
    /// on Windows `win_amd64`, `win_arm64` or `win32`. A glibc host never accepts a musllinux
    /// wheel, nor a musl host a manylinux one: that is why `uv sync` reinstalls a mismatch.
    pub fn wheel_tags(&self) -> Vec<String> {
        let mut arch = self.machine.to_ascii_lowercase();
        match self.sys_platform.as_str() {
            p if p.starts_with("linux") => {
                if arch == "arm64" {
                    arch = "aarch64".into();
                }
                if self.is_32bit {
                    arch = match arch.as_str() {
                        "x86_64" => "i686".into(),
                        "aarch64" => "armv8l".into(),
                        _ => arch,
                    };
                }
                let mut tags = Vec::new();
                if let Some((2, minor)) = self.glibc.as_deref().and_then(major_minor) {
                    let floor = if matches!(arch.as_str(), "x86_64" | "i686") {
                        5
                    } else {
                        17
                    };
                    for m in (floor..=minor).rev() {
                        tags.push(format!("manylinux_2_{m}_{arch}"));
                        match m {
                            17 => tags.push(format!("manylinux2014_{arch}")),
                            12 => tags.push(format!("manylinux2010_{arch}")),
                            5 => tags.push(format!("manylinux1_{arch}")),
                            _ => {}
                        }
                    }
                } else if let Some((1, minor)) = self.musl.as_deref().and_then(major_minor) {
                    for m in (0..=minor).rev() {
                        tags.push(format!("musllinux_1_{m}_{arch}"));
                    }
                }
                tags.push(format!("linux_{arch}"));
                tags
            }
            "darwin" => {
                let (major, minor) = self
                    .macos
                    .as_deref()
                    .and_then(major_minor)
                    .unwrap_or((10, 9));
                let arm = arch == "arm64" || arch == "aarch64";
                let arch = if arm { "arm64" } else { "x86_64" };
                let mut tags = Vec::new();
                // macOS 11 and later are one version each; 10.x counts its minors.
                for m in (11..=major.max(11)).rev().filter(|m| *m <= major) {
                    tags.push(format!("macosx_{m}_0_{arch}"));
                    tags.push(format!("macosx_{m}_0_universal2"));
                }
                if !arm {
                    let top = if major == 10 { minor } else { 16 };
                    for m in (0..=top).rev() {
                        tags.push(format!("macosx_10_{m}_x86_64"));
                        tags.push(format!("macosx_10_{m}_universal2"));
                    }
                }
                tags
            }
            "win32" | "cygwin" => vec![match (arch.as_str(), self.is_32bit) {
                (_, true) => "win32".to_string(),
                ("arm64" | "aarch64", _) => "win_arm64".to_string(),
                _ => "win_amd64".to_string(),
            }],
            other => vec![format!("{other}_{arch}")],
        }
    }
}

impl FromStr for Target {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SUPPORTED_TARGETS
            .iter()
            .find(|t| **t == s.trim())
            .map(|t| Target(t))
            .ok_or_else(|| PlatformError::UnknownTarget(s.to_string()))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How a release asset is packed, which decides how it is unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetKind {
    /// `codex-package-<target>.tar.zst`: the package layout, zstd (smallest, fastest to unpack).
    PackageTarZst,
    /// `codex-package-<target>.tar.gz`: the package layout, gzip.
    PackageTarGz,
    /// `codex-<target>.tar.gz`: one binary named `codex-<target>`, from before the package layout.
    LegacyTarGz,
    /// `codex-<target>.exe.zip`: the same for Windows.
    LegacyZip,
    /// `openai_codex_cli_bin-<v>-py3-none-<platform>.whl`: the package inside `codex_cli_bin/`
    /// (only from `install --archive`).
    Wheel,
    /// `codex-<v>-<platform>.tgz` (`npm pack` names it `openai-codex-<v>-<platform>.tgz`): the
    /// `@openai/codex@<v>-<platform>` npm tarball, a gzip tar with the package inside
    /// `package/vendor/<triple>/`.
    NpmTarball,
}

/// The platform suffixes of `@openai/codex`'s per-platform npm versions (`<v>-<platform>`).
const NPM_PLATFORMS: &[&str] = &[
    "linux-x64",
    "linux-arm64",
    "darwin-x64",
    "darwin-arm64",
    "win32-x64",
    "win32-arm64",
];

impl AssetKind {
    /// The kind of an asset, from its name.
    pub(crate) fn from_name(name: &str) -> Option<AssetKind> {
        if name.starts_with("openai_codex_cli_bin-") && name.ends_with(".whl") {
            return Some(AssetKind::Wheel);
        }
        // Checked before the legacy `codex-<target>.tar.gz`, which shares the `codex-` prefix;
        // `codex-<v>.tgz` without a platform is the launcher package, which holds no runtime.
        if let Some(stem) = name.strip_suffix(".tgz") {
            let named = stem.starts_with("codex-") || stem.starts_with("openai-codex-");
            let platform = NPM_PLATFORMS.iter().any(|p| {
                stem.strip_suffix(p)
                    .is_some_and(|version| version.ends_with('-'))
            });
            return (named && platform).then_some(AssetKind::NpmTarball);
        }
        if name.starts_with("codex-package-") {
            if name.ends_with(".tar.zst") {
                return Some(AssetKind::PackageTarZst);
            }
            if name.ends_with(".tar.gz") {
                return Some(AssetKind::PackageTarGz);
            }
        } else if name.starts_with("codex-") {
            if name.ends_with(".exe.zip") || name.ends_with(".zip") {
                return Some(AssetKind::LegacyZip);
            }
            if name.ends_with(".tar.gz") {
                return Some(AssetKind::LegacyTarGz);
            }
        }
        None
    }

    /// Whether the archive holds the codex-package layout (`codex-package.json`, `bin/`, …), as
    /// opposed to a legacy single binary.
    pub(crate) fn is_package(self) -> bool {
        matches!(
            self,
            AssetKind::PackageTarZst
                | AssetKind::PackageTarGz
                | AssetKind::Wheel
                | AssetKind::NpmTarball
        )
    }

    /// The directory inside the archive that holds the package, for containers that carry more
    /// than the package: a wheel's `codex_cli_bin/`, an npm tarball's
    /// `package/vendor/<triple>/`. `None` when the package is the whole archive.
    pub fn member_root(self, target: &Target) -> Option<String> {
        match self {
            AssetKind::Wheel => Some("codex_cli_bin/".into()),
            AssetKind::NpmTarball => Some(format!("package/vendor/{target}/")),
            AssetKind::PackageTarZst
            | AssetKind::PackageTarGz
            | AssetKind::LegacyTarGz
            | AssetKind::LegacyZip => None,
        }
    }
}

#[cfg(target_os = "macos")]
fn running_under_rosetta() -> bool {
    // `sysctl.proc_translated` is 1 for a translated process, absent on Intel Macs.
    std::process::Command::new("sysctl")
        .args(["-in", "sysctl.proc_translated"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "1")
}

#[cfg(not(target_os = "macos"))]
fn running_under_rosetta() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plat(sys: &str, machine: &str) -> InterpreterPlatform {
        InterpreterPlatform {
            sys_platform: sys.into(),
            machine: machine.into(),
            ..Default::default()
        }
    }

    #[test]
    fn glibc_interpreters_take_manylinux_and_never_musllinux() {
        let p = InterpreterPlatform {
            glibc: Some("2.35".into()),
            ..plat("linux", "x86_64")
        };
        let tags = p.wheel_tags();
        assert_eq!(tags[0], "manylinux_2_35_x86_64");
        let at = |t: &str| tags.iter().position(|x| x == t);
        assert!(at("manylinux_2_17_x86_64") < at("manylinux2014_x86_64"));
        assert!(at("manylinux_2_17_x86_64").is_some());
        assert_eq!(tags.last().map(String::as_str), Some("linux_x86_64"));
        assert!(!tags.iter().any(|t| t.starts_with("musllinux")), "{tags:?}");
        // An old glibc cannot take a manylinux_2_17 wheel.
        let old = InterpreterPlatform {
            glibc: Some("2.12".into()),
            ..plat("linux", "x86_64")
        };
        assert!(!old
            .wheel_tags()
            .iter()
            .any(|t| t == "manylinux_2_17_x86_64"));
        let arm = InterpreterPlatform {
            glibc: Some("2.17".into()),
            ..plat("linux", "aarch64")
        };
        assert_eq!(
            arm.wheel_tags(),
            [
                "manylinux_2_17_aarch64",
                "manylinux2014_aarch64",
                "linux_aarch64"
            ]
        );
    }

    #[test]
    fn musl_interpreters_take_musllinux_only() {
        let p = InterpreterPlatform {
            musl: Some("1.2".into()),
            ..plat("linux", "x86_64")
        };
        assert_eq!(
            p.wheel_tags(),
            [
                "musllinux_1_2_x86_64",
                "musllinux_1_1_x86_64",
                "musllinux_1_0_x86_64",
                "linux_x86_64"
            ]
        );
    }

    #[test]
    fn macos_and_windows_tags_as_pip_orders_them() {
        let arm = InterpreterPlatform {
            macos: Some("14.5".into()),
            ..plat("darwin", "arm64")
        };
        let tags = arm.wheel_tags();
        assert_eq!(tags[0], "macosx_14_0_arm64");
        assert!(tags.iter().any(|t| t == "macosx_11_0_arm64"));
        assert!(!tags.iter().any(|t| t.ends_with("x86_64")));
        let intel = InterpreterPlatform {
            macos: Some("10.15.7".into()),
            ..plat("darwin", "x86_64")
        };
        let tags = intel.wheel_tags();
        assert_eq!(tags[0], "macosx_10_15_x86_64");
        assert!(tags.iter().any(|t| t == "macosx_10_9_x86_64"));
        assert!(!tags.iter().any(|t| t.starts_with("macosx_11")));
        assert_eq!(plat("win32", "AMD64").wheel_tags(), ["win_amd64"]);
        assert_eq!(plat("win32", "ARM64").wheel_tags(), ["win_arm64"]);
    }

    #[test]
    fn host_is_supported_here() {
        let t = Target::host().unwrap();
        assert!(SUPPORTED_TARGETS.contains(&t.as_str()));
        if cfg!(target_os = "linux") {
            assert!(t.as_str().ends_with("-unknown-linux-musl"));
        }
    }

    #[test]
    fn candidates_prefer_zstd_then_gzip_then_legacy() {
        let t: Target = "x86_64-unknown-linux-musl".parse().unwrap();
        let names: Vec<_> = t.asset_candidates().into_iter().map(|c| c.0).collect();
        assert_eq!(
            names,
            [
                "codex-package-x86_64-unknown-linux-musl.tar.zst",
                "codex-package-x86_64-unknown-linux-musl.tar.gz",
                "codex-x86_64-unknown-linux-musl.tar.gz"
            ]
        );
        let w: Target = "x86_64-pc-windows-msvc".parse().unwrap();
        assert_eq!(
            w.asset_candidates()[2].0,
            "codex-x86_64-pc-windows-msvc.exe.zip"
        );
        assert_eq!(w.exe_name("codex"), "codex.exe");
        for (name, kind) in t.asset_candidates().into_iter().chain(w.asset_candidates()) {
            assert_eq!(AssetKind::from_name(&name), Some(kind), "{name}");
        }
    }

    #[test]
    fn npm_tarballs_are_told_from_legacy_tarballs() {
        for name in [
            "codex-0.163.0-linux-x64.tgz",
            "codex-0.154.0-alpha.6-darwin-arm64.tgz",
            "openai-codex-0.163.0-win32-arm64.tgz",
        ] {
            assert_eq!(
                AssetKind::from_name(name),
                Some(AssetKind::NpmTarball),
                "{name}"
            );
        }
        assert_eq!(
            AssetKind::from_name("codex-x86_64-unknown-linux-musl.tar.gz"),
            Some(AssetKind::LegacyTarGz)
        );
        // The launcher package and unknown platforms hold no runtime for us.
        assert_eq!(AssetKind::from_name("codex-0.163.0.tgz"), None);
        assert_eq!(
            AssetKind::from_name("codex-0.163.0-linux-x64-musl.tgz"),
            None
        );
        assert_eq!(AssetKind::from_name("other-0.163.0-linux-x64.tgz"), None);
        let t: Target = "aarch64-apple-darwin".parse().unwrap();
        assert_eq!(
            AssetKind::NpmTarball.member_root(&t).as_deref(),
            Some("package/vendor/aarch64-apple-darwin/")
        );
        assert_eq!(
            AssetKind::Wheel.member_root(&t).as_deref(),
            Some("codex_cli_bin/")
        );
        assert_eq!(AssetKind::PackageTarZst.member_root(&t), None);
    }

    #[test]
    fn unknown_targets_are_refused() {
        assert!("x86_64-unknown-linux-gnu".parse::<Target>().is_err());
        assert!("".parse::<Target>().is_err());
    }
}
