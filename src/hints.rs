//! What the library's errors tell the user beyond their message: the fix to suggest (`hint:`)
//! and whether the command line was wrong (exit code 2). Each error type declares both where it
//! is declared ([`Hint`]); this module, above every other library module and imported by none
//! of them, finds the one that speaks for a whole error chain.

use std::error::Error;

use crate::error::{causes, Failure, Hint};

/// The hint for an error chain: the outermost error that has one wins, since it knows the most
/// about what the user was doing.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(hint_of)
}

/// Whether the error is a usage error (exit code 2).
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|c| declared(c).is_some_and(|h| h.is_usage()))
}

fn hint_of(e: &(dyn Error + 'static)) -> Option<String> {
    // An error that holds others (every source failed) finds their hints the same way.
    declared(e)
        .map(|h| h.hint_with(&hint_for))
        .filter(|h| !h.is_empty())
}

/// The [`Hint`] of one error in a chain, when it is one of the library's.
fn declared<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a dyn Hint> {
    macro_rules! try_hint {
        ($($ty:ty),* $(,)?) => {
            $(if let Some(e) = e.downcast_ref::<$ty>() { return Some(e); })*
        };
    }
    // Every `thiserror` type of the library, outermost wrappers included: a transparent wrapper
    // hands `source()` to its inner error's cause, so the inner type is not in the chain and the
    // wrapper must answer for it. `every_library_error_declares_a_hint` keeps this list whole.
    try_hint!(
        Failure,
        crate::pin::PinError,
        crate::pin::ManifestError,
        crate::pin::version::VersionError,
        crate::platform::PlatformError,
        crate::fs::IoError,
        crate::store::StoreError,
        crate::store::LockError,
        crate::store::remove::RemoveError,
        crate::store::layout::IntegrityError,
        crate::github::GithubError,
        crate::net::NetError,
        crate::unpack::UnpackError,
        crate::plan::PlanError,
        crate::provision::ProvisionError,
        crate::mirror::MirrorError,
        crate::survey::SurveyError,
        crate::install::InstallError,
        crate::appserver::AppServerError,
        crate::appserver::protocol::ProtocolError,
        crate::prove::VersionError,
        crate::python::PythonError,
        crate::sources::UnknownSource,
        crate::sources::AllSourcesFailed,
        crate::sources::RunError,
        crate::sources::SourceError,
        crate::sources::artifact::ArtifactError,
        crate::sources::pyindex::IndexError,
        crate::sources::npm::NpmError,
        crate::verify::DigestError,
        crate::verify::DigestMismatch,
        crate::verify::SumsError,
        crate::interrupt::Interrupted,
    );
    None
}

/// A failure as `--json` prints it on stdout (the human text still goes to stderr): what failed,
/// each distinct cause outermost first, and the hint, or `null`.
#[derive(Debug, serde::Serialize)]
pub struct ErrorReport {
    pub error: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
}

impl ErrorReport {
    pub fn of(err: &anyhow::Error) -> ErrorReport {
        ErrorReport {
            error: err.to_string(),
            causes: causes(err),
            hint: hint_for(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_keeps_each_cause_once() {
        let err = anyhow::Error::new(std::io::Error::other("No space left on device"))
            .context("No space left on device")
            .context("could not write `codex-runtime.toml`");
        let report = ErrorReport::of(&err);
        assert_eq!(report.error, "could not write `codex-runtime.toml`");
        assert_eq!(report.causes, ["No space left on device"]);
        assert_eq!(report.hint, None);
    }

    #[test]
    fn the_json_report_carries_the_hint() {
        let err =
            anyhow::Error::new(Failure::new("codex 0.1.0 is not installed").hint("install it"));
        let report = ErrorReport::of(&err);
        assert!(report.causes.is_empty());
        assert_eq!(report.hint.as_deref(), Some("install it"));
    }

    #[test]
    fn usage_errors_are_found_through_context() {
        use anyhow::Context as _;
        let bad = crate::pin::CodexVersion::parse("not-a-version").unwrap_err();
        let err = Err::<(), _>(bad).context("reading the pin").unwrap_err();
        assert!(is_usage(&err));
        assert!(!is_usage(&anyhow::anyhow!("plain")));
    }

    /// A new error type without a hint, or one missing from `hint_of`'s list, fails here: the
    /// list is checked against every `thiserror` derive in `src/`.
    #[test]
    fn every_library_error_declares_a_hint() {
        // Payloads that never travel as errors on their own.
        const EXEMPT: &[(&str, &str)] = &[("PinProblem", "a warning's payload; PinWarning::hint")];
        let list = include_str!("hints.rs");
        let list =
            &list[list.find("try_hint!(\n").unwrap()..list.find("pub struct ErrorReport").unwrap()];
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("thiserror::Error)]") {
                    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                    if !text[line_start..i].contains("#[derive(") {
                        continue;
                    }
                    let after = &text[i..];
                    let decl = [after.find("pub enum "), after.find("pub struct ")]
                        .into_iter()
                        .flatten()
                        .min();
                    let Some(decl) = decl else {
                        continue;
                    };
                    let rest = &after[decl..];
                    let name: String = rest
                        .split_whitespace()
                        .nth(2)
                        .unwrap_or_default()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let listed = list.contains(&format!("::{name},"))
                        || list.contains(&format!("::{name}>"));
                    if !listed && !EXEMPT.iter().any(|(n, _)| *n == name) {
                        missing.push(format!("{name} ({})", p.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "errors without a hint in `declared`: {missing:?}"
        );
    }
}
