//! How failures reach the user: one line of what failed, `Caused by:` lines for context, and a
//! `hint:` that names the fix. Library modules return their own `thiserror` enums, each with a
//! `hint()`; this module finds the most specific hint in an error chain.

use std::fmt;

/// A failure raised by the command layer, with the fix to suggest.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    /// Exit code 2: the command line itself was wrong.
    pub usage: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
            usage: false,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
    pub fn usage(mut self) -> Failure {
        self.usage = true;
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The hint for an error chain: the outermost error that has one wins, since it knows the most
/// about what the user was doing.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(h) = hint_of(cause) {
            return Some(h);
        }
    }
    None
}

/// The hint for a library error chain (without anyhow): the outermost that has one.
pub fn chain_hint(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(h) = hint_of(e) {
            return Some(h);
        }
        cur = e.source();
    }
    None
}

fn hint_of(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    macro_rules! try_hint {
        ($($ty:ty),* $(,)?) => {
            $(if let Some(e) = e.downcast_ref::<$ty>() { return Some(e.hint()).filter(|h| !h.is_empty()); })*
        };
    }
    if let Some(f) = e.downcast_ref::<Failure>() {
        return f.hint.clone();
    }
    // Every `thiserror` type of the library, outermost wrappers included: a transparent wrapper
    // hands `source()` to its inner error's cause, so the inner type is not in the chain and the
    // wrapper must answer for it. `every_library_error_declares_a_hint` keeps this list whole.
    try_hint!(
        crate::pin::PinError,
        crate::pin::ManifestError,
        crate::pin::version::VersionError,
        crate::platform::PlatformError,
        crate::store::StoreError,
        crate::store::LockError,
        crate::store::remove::RemoveError,
        crate::store::layout::IntegrityError,
        crate::github::GithubError,
        crate::net::NetError,
        crate::unpack::UnpackError,
        crate::plan::PlanError,
        crate::install::InstallError,
        crate::appserver::AppServerError,
        crate::appserver::protocol::ProtocolError,
        crate::prove::VersionError,
        crate::python::PythonError,
        crate::provision::AllSourcesFailed,
        crate::sources::UnknownSource,
        crate::sources::pyindex::IndexError,
        crate::sources::npm::NpmError,
        crate::verify::DigestError,
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

/// The `Caused by:` sentences of an error chain. Transparent wrappers repeat their inner
/// message; each sentence is kept once.
pub fn causes(err: &anyhow::Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut last = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if text != last && !last.ends_with(&text) {
            out.push(text.clone());
        }
        last = text;
    }
    out
}

/// Whether the error is a usage error (exit code 2).
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<Failure>().is_some_and(|f| f.usage)
            || c.downcast_ref::<crate::pin::version::VersionError>()
                .is_some()
            || c.downcast_ref::<crate::platform::PlatformError>()
                .is_some_and(|p| matches!(p, crate::platform::PlatformError::UnknownTarget(_)))
    })
}

/// Whether the error is a closed stdout (e.g. `| head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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

    /// A new error type without a hint, or one missing from `hint_of`'s list, fails here: the
    /// list is checked against every `thiserror` derive in `src/`.
    #[test]
    fn every_library_error_declares_a_hint() {
        // Payloads that never travel as errors on their own.
        const EXEMPT: &[(&str, &str)] = &[("PinProblem", "a warning's payload; PinWarning::hint")];
        let list = include_str!("error.rs");
        let list = &list[list.find("try_hint!(").unwrap()..];
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
                    let listed = list.contains(&format!("::{name},"));
                    if !listed && !EXEMPT.iter().any(|(n, _)| *n == name) {
                        missing.push(format!("{name} ({})", p.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "errors without a hint in hint_of: {missing:?}"
        );
    }
}
