//! Ctrl-C: exit 130, as shells and CI runners expect, and never leave anything half-done.
//!
//! [`listen`] takes over SIGINT (a console Ctrl-C on Windows) for the whole process, once, at
//! start-up. From then on an interrupt either
//! - ends the process at once with exit code 130, when nothing is in flight that needs cleaning
//!   up (reading the store, waiting for a lock: the OS releases locks of a dead process), or
//! - inside [`or_interrupted`] (a download and unpack into a staging dir, a running
//!   `codex app-server`): makes that future return [`Interrupted`] after the work it raced is
//!   dropped, so its destructors run (the staging `TempDir` is removed, `kill_on_drop` children
//!   are killed) before `main` exits 130.
//!
//! A second Ctrl-C while that cleanup runs exits at once: the user insists.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::error::{Hint, Report};

/// The exit code of a process ended by Ctrl-C: 128 + SIGINT, what a shell reports for it.
pub const EXIT_CODE: u8 = 130;

/// The user pressed Ctrl-C.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

impl Hint for Interrupted {
    /// Nothing to fix: the user asked to stop.
    fn hint(&self) -> Option<String> {
        None
    }
}

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// How many [`or_interrupted`] futures are running: they clean up before the process exits.
static SCOPES: AtomicUsize = AtomicUsize::new(0);
static NOTIFY: Notify = Notify::const_new();

/// Take over Ctrl-C for this process. The handler is registered before this returns, so no
/// interrupt after it takes the default action (which would skip every destructor).
pub fn listen() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut interrupts = {
        let _entered = runtime.enter();
        platform::ctrl_c()?
    };
    std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            runtime.block_on(async move {
                while interrupts.recv().await.is_some() {
                    on_interrupt();
                }
            });
        })?;
    Ok(())
}

fn on_interrupt() {
    let first = !REQUESTED.swap(true, Ordering::SeqCst);
    let cleaning_up = SCOPES.load(Ordering::SeqCst) > 0;
    tracing::debug!(first, cleaning_up, "Ctrl-C");
    if first && cleaning_up {
        NOTIFY.notify_waiters();
    } else {
        std::process::exit(i32::from(EXIT_CODE));
    }
}

/// Whether Ctrl-C was pressed (a command that finished anyway still exits 130).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Resolves once Ctrl-C has been pressed. Only meaningful while a [`Scope`] lives: outside
/// one, Ctrl-C ends the process before anything could observe it.
pub(crate) async fn interrupted() {
    loop {
        let notified = NOTIFY.notified();
        tokio::pin!(notified);
        // Registered before the flag is read, so a notification in between is not lost.
        notified.as_mut().enable();
        if requested() {
            return;
        }
        notified.await;
    }
}

/// While a scope lives, Ctrl-C is left to the code that holds it (through [`interrupted`])
/// instead of ending the process. Take it before starting what must be cleaned up: a child
/// spawned before the scope could be orphaned by an interrupt in between.
#[must_use = "the scope ends when dropped"]
pub(crate) struct Scope(());

/// Enter a [`Scope`].
pub(crate) fn scope() -> Scope {
    SCOPES.fetch_add(1, Ordering::SeqCst);
    Scope(())
}

impl Drop for Scope {
    fn drop(&mut self) {
        SCOPES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Run `work` to its end unless Ctrl-C comes first. Then `work` is dropped (its destructors do
/// the cleaning up) before this returns [`Interrupted`].
///
/// Work that ends in the same moment counts as interrupted too: a terminal's Ctrl-C reaches
/// our children as well, and the failure that causes ("the app-server exited") is not the
/// story to tell.
pub(crate) async fn or_interrupted<F: Future>(work: F) -> Result<F::Output, Interrupted> {
    let _scope = scope();
    tokio::select! {
        biased;
        out = work => if requested() { Err(Interrupted) } else { Ok(out) },
        () = interrupted() => {
            tracing::debug!("interrupted: stopping and cleaning up");
            Err(Interrupted)
        }
    }
}

/// Whether an error says the user pressed Ctrl-C: [`Interrupted`] itself, or an error whose
/// `source()` chain holds it.
pub fn is_interrupted(err: &Report) -> bool {
    std::iter::successors(Some(err.error()), |&e| e.source()).any(|e| e.is::<Interrupted>())
}

#[cfg(unix)]
mod platform {
    use tokio::signal::unix::{signal, Signal, SignalKind};

    pub(super) fn ctrl_c() -> std::io::Result<Signal> {
        signal(SignalKind::interrupt())
    }
}

#[cfg(windows)]
mod platform {
    pub(super) fn ctrl_c() -> std::io::Result<tokio::signal::windows::CtrlC> {
        tokio::signal::windows::ctrl_c()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_that_finishes_is_returned() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(or_interrupted(async { 7 })).unwrap(), 7);
    }

    #[test]
    fn interrupted_errors_are_recognised_through_context() {
        use crate::error::{Failure, ResultExt as _};
        /// A module's own error for Ctrl-C, with `Interrupted` as its source.
        #[derive(Debug, thiserror::Error)]
        #[error("interrupted")]
        struct Wrapper(#[source] Interrupted);
        impl Hint for Wrapper {
            fn hint(&self) -> Option<String> {
                None
            }
        }
        let err = Err::<(), _>(Interrupted).context("installing").unwrap_err();
        assert!(is_interrupted(&err));
        let wrapped = Report::from(Wrapper(Interrupted));
        assert!(is_interrupted(&wrapped));
        assert!(!is_interrupted(&Report::from(Failure::new("interrupted"))));
    }
}
