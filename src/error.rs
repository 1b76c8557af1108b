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
    try_hint!(
        crate::pin::PinError,
        crate::pin::ManifestError,
        crate::platform::PlatformError,
        crate::store::StoreError,
        crate::store::LockError,
        crate::github::GithubError,
        crate::net::NetError,
        crate::unpack::UnpackError,
        crate::plan::PlanError,
        crate::install::InstallError,
        crate::appserver::AppServerError,
        crate::python::PythonError,
        crate::provision::AllSourcesFailed,
        crate::sources::pyindex::IndexError,
        crate::sources::npm::NpmError,
    );
    None
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
