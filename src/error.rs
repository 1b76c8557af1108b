//! How failures are described. Each library module returns its own `thiserror` type and
//! declares, next to it, what the user should do about it: the [`Hint`] trait. The command
//! layer raises a [`Failure`] (a message and its fix). This module knows no other module;
//! [`crate::hints`] finds the hint of a whole error chain.

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

impl Hint for Failure {
    fn hint(&self) -> String {
        self.hint.clone().unwrap_or_default()
    }
    fn is_usage(&self) -> bool {
        self.usage
    }
}

/// What an error tells the user beyond its message. Every library error type implements it
/// where it is declared; `hints::every_library_error_declares_a_hint` fails for one that
/// does not.
pub(crate) trait Hint {
    /// The fix to suggest, as one imperative sentence, or empty when there is nothing to do
    /// (the user pressed Ctrl-C); an inner error's hint is shown then.
    fn hint(&self) -> String;
    /// The hint of an error that holds others (every source failed, each for its own reason),
    /// given a function that finds the hint of one of them; the others need only [`Hint::hint`].
    fn hint_with(&self, _inner: &dyn Fn(&anyhow::Error) -> Option<String>) -> String {
        self.hint()
    }
    /// Whether the command line itself was wrong: exit code 2 instead of 1.
    fn is_usage(&self) -> bool {
        false
    }
}

/// An error and its causes on one line, `what: why: why`, as anyhow's `{:#}` prints them.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        parts.push(e.to_string());
        next = e.source();
    }
    parts.join(": ")
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
    fn each_cause_is_kept_once() {
        let err = anyhow::Error::new(std::io::Error::other("No space left on device"))
            .context("No space left on device")
            .context("could not write `codex-runtime.toml`");
        assert_eq!(causes(&err), ["No space left on device"]);
    }

    #[test]
    fn a_failure_carries_its_hint_and_usage() {
        let f = Failure::new("no such version").hint("list them").usage();
        assert_eq!(Hint::hint(&f), "list them");
        assert!(f.is_usage());
        assert_eq!(Hint::hint(&Failure::new("x")), "");
    }
}
