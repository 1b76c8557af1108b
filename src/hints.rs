//! A failure as `--json` prints it: what failed, why, and the fix. The fix and the exit code
//! come from the error's own type ([`crate::error::Hint`]), which answers for everything it
//! wraps; no list of types is kept here. The tests prove it across the layers.

use crate::error::Report;

/// A failure as `--json` prints it on stdout (the human text still goes to stderr): what failed,
/// each distinct cause outermost first, and the hint, or `null`.
#[derive(Debug, serde::Serialize)]
pub struct ErrorReport {
    pub error: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
}

impl ErrorReport {
    /// Each string on one line: the terminal's line breaks and the padding that aligns them
    /// under `error:` and `hint:` mean nothing to a script.
    pub fn of(err: &Report) -> ErrorReport {
        ErrorReport {
            error: one_line(&err.to_string()),
            causes: err.causes().iter().map(|c| one_line(c)).collect(),
            hint: err.hint().map(|h| one_line(&h)),
        }
    }
}

/// `text`'s lines, their alignment padding collapsed, joined by `; ` (by a space after a
/// line that ends in `:`).
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Failure, Hint as _, ResultExt as _};
    use crate::install::InstallError;
    use crate::net::NetError;
    use crate::plan::SourceKind;
    use crate::sources::{AllSourcesFailed, Failed, RunError};

    fn offline() -> NetError {
        NetError::Status {
            url: "https://example.invalid/codex.tar.gz".into(),
            status: 404,
        }
    }

    #[test]
    fn the_json_report_keeps_each_cause_once() {
        let err = Err::<(), _>(std::io::Error::other("No space left on device"))
            .context("No space left on device")
            .context("could not write `codex-runtime.toml`")
            .unwrap_err();
        let report = ErrorReport::of(&err);
        assert_eq!(report.error, "could not write `codex-runtime.toml`");
        assert_eq!(report.causes, ["No space left on device"]);
        assert_eq!(report.hint, None);
    }

    #[test]
    fn the_json_report_puts_each_string_on_one_line() {
        let err = Report::from(
            Failure::new("could not install codex 9.9.9 from any source:\n        mirror: gone\n        github: no release")
                .hint("mirror: fill it\n      github: check the version"),
        );
        let report = ErrorReport::of(&err);
        assert_eq!(
            report.error,
            "could not install codex 9.9.9 from any source: mirror: gone; github: no release"
        );
        assert_eq!(
            report.hint.as_deref(),
            Some("mirror: fill it; github: check the version")
        );
    }

    #[test]
    fn the_json_report_carries_the_hint() {
        let err = Report::from(Failure::new("codex 0.1.0 is not installed").hint("install it"));
        let report = ErrorReport::of(&err);
        assert!(report.causes.is_empty());
        assert_eq!(report.hint.as_deref(), Some("install it"));
    }

    /// An install that failed in the network layer, two layers down and under context: the
    /// hint is the network error's, found by the enums that wrap it.
    #[test]
    fn a_wrapped_errors_hint_comes_through_its_wrappers() {
        let inner = offline().hint();
        assert!(inner.is_some());
        let install = InstallError::from(offline());
        let provision = crate::provision::ProvisionError::from(install);
        let err = Err::<(), _>(provision)
            .context("installing codex 0.163.0")
            .unwrap_err();
        assert_eq!(err.hint(), inner);
        assert!(!err.is_usage());
        // A wrapper that knows better speaks first: GaveUp hands over to what it gave up on.
        let gave_up = NetError::GaveUp {
            url: "https://example.invalid/x".into(),
            attempts: 5,
            source: Box::new(offline()),
        };
        assert_eq!(Report::from(gave_up).hint(), inner);
    }

    /// Every source failed, each for its own reason: each reason's hint, found through its
    /// own wrappers, is listed under its source, then the closing advice.
    #[test]
    fn every_sources_hint_is_found_through_its_own_error() {
        let unstable = InstallError::Unstable {
            url: "https://example.invalid/x".into(),
        };
        let unstable_hint = unstable.hint().unwrap();
        let connect_hint = "are you offline";
        let failed = AllSourcesFailed {
            what: "download codex 0.163.0".into(),
            failures: vec![
                Failed::of(offline()).at(SourceKind::Github),
                Failed::of(unstable).at(SourceKind::PythonIndex),
                Failed::of(crate::github::GithubError::from(offline())).at(SourceKind::Npm),
            ],
        };
        let err = Report::from(RunError::from(failed));
        let hint = err.hint().unwrap();
        let net_hint = offline().hint().unwrap();
        assert!(hint.contains(&format!("github: {net_hint}")), "{hint}");
        assert!(
            hint.contains(&format!("python-index: {unstable_hint}")),
            "{hint}"
        );
        // The npm failure's hint is the same sentence as github's: listed once.
        assert_eq!(hint.matches(net_hint.as_str()).count(), 1, "{hint}");
        assert!(!hint.contains(connect_hint), "{hint}");
        // A failure with no hint of its own adds nothing; with nothing at all there is none.
        let none = AllSourcesFailed {
            what: "x".into(),
            failures: vec![Failed::of(crate::sources::SourceError::Unserved(
                "no such file".into(),
            ))
            .at(SourceKind::Github)],
        };
        assert_eq!(Report::from(none).hint(), None);
    }

    #[test]
    fn usage_errors_are_found_through_context() {
        let bad = crate::pin::CodexVersion::parse("not-a-version").unwrap_err();
        let err = Err::<(), _>(bad).context("reading the pin").unwrap_err();
        assert!(err.is_usage());
        assert!(!Report::from(Failure::new("plain")).is_usage());
    }

    /// A version refused inside a pin file (a `#[source]`, not a transparent wrapper), under
    /// the provisioning enum and context: still exit code 2.
    #[test]
    fn a_usage_error_deep_in_a_chain_exits_2() {
        let bad = crate::pin::CodexVersion::parse("0.x").unwrap_err();
        let pin = crate::pin::PinError::Version {
            origin: "`codex-runtime.toml`".into(),
            source: bad,
        };
        let survey = crate::survey::SurveyError::from(crate::provision::ProvisionError::from(pin));
        let err = Err::<(), _>(survey).context("pinning").unwrap_err();
        assert!(err.is_usage());
        let target = "sparc-sun-solaris"
            .parse::<crate::platform::Target>()
            .unwrap_err();
        assert!(Report::from(crate::mirror::MirrorError::from(
            crate::provision::ProvisionError::from(target)
        ))
        .is_usage());
    }
}
