//! How failures are described. Each library module returns its own `thiserror` type and
//! declares, next to it, what the user should do about it: the [`Hint`] trait, which an error
//! that wraps another answers by asking the one it wraps. The command layer carries any such
//! error up as a [`Report`], with the context it gained on the way, and raises a [`Failure`]
//! (a message and its fix) of its own. This module knows no other module.

use std::error::Error;
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

impl Error for Failure {}

impl Hint for Failure {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
    fn is_usage(&self) -> bool {
        self.usage
    }
}

/// What an error tells the user beyond its message. Every library error type implements it
/// where it is declared, and an error that wraps another answers for the one it wraps (its
/// own fix when it knows better, else the inner error's): the types walk the chain, so a
/// [`Report`] asks only the error it holds.
pub trait Hint {
    /// The fix to suggest, as one imperative sentence, or `None` when there is nothing to do
    /// (the user pressed Ctrl-C).
    fn hint(&self) -> Option<String>;
    /// Whether the command line itself was wrong: exit code 2 instead of 1. A wrapper answers
    /// `true` when the error it wraps does.
    fn is_usage(&self) -> bool {
        false
    }
}

/// Errors of other crates that the command layer propagates: they name no fix of their own.
macro_rules! no_hint {
    ($($ty:ty),* $(,)?) => {
        $(impl Hint for $ty {
            fn hint(&self) -> Option<String> {
                None
            }
        })*
    };
}

no_hint!(std::io::Error, serde_json::Error);

/// An error the command layer can report: its message and causes ([`Error`]), its fix and
/// exit code ([`Hint`]). Every library error is one.
pub trait Diagnostic: Error + Hint + Send + Sync + 'static {}

impl<E: Error + Hint + Send + Sync + 'static> Diagnostic for E {}

/// A failure on its way up the command layer: the error, and what the command was doing when
/// it happened (`could not write `codex-runtime.toml``). `?` turns any library error into one.
pub struct Report {
    error: Box<dyn Diagnostic>,
    /// Innermost first, as they were added.
    context: Vec<String>,
}

impl<E: Diagnostic> From<E> for Report {
    fn from(error: E) -> Report {
        Report {
            error: Box::new(error),
            context: Vec::new(),
        }
    }
}

impl Report {
    /// Say what was being done when the error happened; it is printed first.
    pub fn context(mut self, message: impl fmt::Display) -> Report {
        self.context.push(message.to_string());
        self
    }

    /// The error itself, under its context.
    pub fn error(&self) -> &(dyn Error + 'static) {
        &*self.error
    }

    /// Every message, outermost first: the context, then the error and its `source()`s.
    pub fn chain(&self) -> Vec<String> {
        let sources = std::iter::successors(Some(self.error()), |&e| e.source());
        self.context
            .iter()
            .rev()
            .cloned()
            .chain(sources.map(|e| e.to_string()))
            .collect()
    }

    /// The `Caused by:` sentences. Transparent wrappers repeat their inner message; each
    /// sentence is kept once.
    pub fn causes(&self) -> Vec<String> {
        let chain = self.chain();
        let mut out = Vec::new();
        for pair in chain.windows(2) {
            let (last, text) = (&pair[0], &pair[1]);
            if text != last && !last.ends_with(text.as_str()) {
                out.push(text.clone());
            }
        }
        out
    }

    /// The fix to suggest: the error's, found by its own type through whatever it wraps.
    pub fn hint(&self) -> Option<String> {
        self.error.hint()
    }

    /// Whether it is a usage error (exit code 2).
    pub fn is_usage(&self) -> bool {
        self.error.is_usage()
    }

    /// Whether the error is a closed stdout (e.g. `| head`), which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        std::iter::successors(Some(self.error()), |&e| e.source()).any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        })
    }
}

/// The outermost message: the last context given, else the error's own.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.context.last() {
            Some(outer) => f.write_str(outer),
            None => fmt::Display::fmt(&self.error, f),
        }
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("context", &self.context)
            .field("error", &self.error)
            .finish()
    }
}

/// `.context(..)` and `.with_context(|| ..)` on a `Result` whose error becomes a [`Report`].
pub trait ResultExt<T> {
    fn context(self, message: impl fmt::Display) -> Result<T, Report>;
    fn with_context<M: fmt::Display>(self, message: impl FnOnce() -> M) -> Result<T, Report>;
}

impl<T, E: Into<Report>> ResultExt<T> for Result<T, E> {
    fn context(self, message: impl fmt::Display) -> Result<T, Report> {
        self.map_err(|e| e.into().context(message))
    }
    fn with_context<M: fmt::Display>(self, message: impl FnOnce() -> M) -> Result<T, Report> {
        self.map_err(|e| e.into().context(message()))
    }
}

/// An error and its causes on one line, `what: why: why`.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        parts.push(e.to_string());
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_kept_once() {
        let err = Err::<(), _>(std::io::Error::other("No space left on device"))
            .context("No space left on device")
            .context("could not write `codex-runtime.toml`")
            .unwrap_err();
        assert_eq!(err.to_string(), "could not write `codex-runtime.toml`");
        assert_eq!(err.causes(), ["No space left on device"]);
    }

    #[test]
    fn a_failure_carries_its_hint_and_usage() {
        let f = Failure::new("no such version").hint("list them").usage();
        assert_eq!(Hint::hint(&f).as_deref(), Some("list them"));
        assert!(f.is_usage());
        assert_eq!(Hint::hint(&Failure::new("x")), None);
    }

    #[test]
    fn a_broken_pipe_is_found_under_context() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let err = Err::<(), _>(pipe).context("printing").unwrap_err();
        assert!(err.is_broken_pipe());
        assert!(!Report::from(Failure::new("x")).is_broken_pipe());
    }
}
