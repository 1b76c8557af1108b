//! `uv.lock`: the runtime and SDK packages, and every wheel of the runtime with its URL (or
//! local path), sha256 and size. Only those fields are modelled; serde ignores the rest.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::requirements::codex_dist;
use super::{line_at, read_toml, Found, LockedWheel, PinProblem, PinWarning, RUNTIME_DIST};
use crate::pin::version::CodexVersion;
use crate::verify::Sha256;

/// The parts of a `uv.lock` read here.
#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    /// Absent for a workspace member with a dynamic version.
    version: Option<Spanned<String>>,
    #[serde(default)]
    wheels: Vec<Spanned<UvWheel>>,
}

/// `{ url = "…", hash = "sha256:…", size = N, upload-time = "…" }`; a wheel from a local
/// directory has `path` instead of `url`, and uv may add `filename`.
#[derive(Deserialize)]
struct UvWheel {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
}

/// Pins in a `uv.lock`: the runtime and SDK packages, and the runtime's wheels.
pub(super) fn read(path: &Path, warnings: &mut Vec<PinWarning>) -> Vec<Found> {
    let Some((text, lock)) = read_toml::<UvLock>(path, PinProblem::NotUvLock, warnings) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for package in lock.package {
        let Some(dist) = codex_dist(&package.name) else {
            continue;
        };
        let Some(spec) = package.version else {
            continue;
        };
        let mut warn = |line: usize, problem| {
            warnings.push(PinWarning {
                file: path.to_path_buf(),
                line: Some(line),
                problem,
            })
        };
        let Ok(version) = CodexVersion::parse(spec.get_ref()) else {
            let line = line_at(&text, spec.span().start);
            let spec = spec.into_inner();
            warn(line, PinProblem::BadVersion { dist, spec });
            continue;
        };
        let mut wheels = Vec::new();
        if dist == RUNTIME_DIST {
            for wheel in package.wheels {
                let line = line_at(&text, wheel.span().start);
                let wheel = wheel.into_inner();
                let filename = wheel
                    .filename
                    .or_else(|| wheel.url.as_deref().and_then(url_filename))
                    .or_else(|| wheel.path.as_deref().and_then(path_filename));
                let sha256 = match wheel.hash.as_deref().map(Sha256::parse) {
                    Some(Ok(sha256)) => sha256,
                    Some(Err(_)) => {
                        let hash = wheel.hash.unwrap_or_default();
                        warn(line, PinProblem::BadHash { dist, hash });
                        continue;
                    }
                    None => {
                        let file = filename;
                        warn(line, PinProblem::WheelWithoutHash { dist, file });
                        continue;
                    }
                };
                wheels.push(LockedWheel {
                    filename,
                    url: wheel.url,
                    sha256,
                    size: wheel.size,
                    line: Some(line),
                });
            }
        }
        found.push(Found::new(path, dist, version, wheels));
    }
    found
}

/// The last path segment of a URL, percent-decoded: the wheel's filename. A segment whose
/// escapes do not decode to UTF-8 is kept as written.
fn url_filename(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| {
        percent_encoding::percent_decode_str(name)
            .decode_utf8()
            .map_or_else(|_| name.to_string(), |decoded| decoded.into_owned())
    })
}

fn path_filename(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next()?;
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_filenames_are_percent_decoded() {
        assert_eq!(
            url_filename("https://h.test/p/openai_codex_cli_bin-0.163.0%2Blocal-py3-none-win_amd64.whl?x=1#sha256=aa")
                .as_deref(),
            Some("openai_codex_cli_bin-0.163.0+local-py3-none-win_amd64.whl")
        );
        // Escapes that are incomplete, not hex, or not UTF-8 stay as written.
        for kept in ["a%2", "a%+1b", "%ff"] {
            assert_eq!(
                url_filename(&format!("https://h.test/{kept}")).as_deref(),
                Some(kept)
            );
        }
        assert_eq!(url_filename("https://h.test/dir/"), None);
        assert_eq!(
            path_filename(r"C:\wheels\openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl")
                .as_deref(),
            Some("openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl")
        );
    }

    #[test]
    fn each_wheel_knows_the_line_of_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uv.lock");
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        std::fs::write(
            &file,
            format!(
                "version = 1\n\
                 \n\
                 [[package]]\n\
                 name = \"openai-codex-cli-bin\"\n\
                 version = \"0.163.0\"\n\
                 wheels = [\n    \
                 {{ url = \"https://h.test/openai_codex_cli_bin-0.163.0-py3-none-win_amd64.whl\", hash = \"sha256:{a}\", size = 1 }},\n    \
                 {{ path = \"w/openai_codex_cli_bin-0.163.0-py3-none-win_arm64.whl\", hash = \"sha256:{b}\" }},\n\
                 ]\n"
            ),
        )
        .unwrap();
        let mut warnings = Vec::new();
        let found = read(&file, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        let [runtime] = found.as_slice() else {
            panic!("one package")
        };
        let lines: Vec<(Option<usize>, Sha256)> = runtime
            .wheels
            .as_ref()
            .unwrap()
            .wheels
            .iter()
            .map(|w| (w.line, w.sha256))
            .collect();
        let sha = |hex: &str| Sha256::parse(hex).unwrap();
        assert_eq!(lines, [(Some(7), sha(&a)), (Some(8), sha(&b))]);
    }
}
