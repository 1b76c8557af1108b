//! One turn, start to end: what `quickstart` runs and `doctor --turn` checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::client::{AppServer, Event, TurnResult};
use super::process::SpawnOptions;
use super::protocol::{AccountInfo, TurnStatus};
use super::AppServerError;

/// Everything one turn learned.
#[derive(Debug, Serialize)]
pub struct TurnReport {
    pub runtime_version: Option<String>,
    pub codex_home: Option<String>,
    pub account: AccountInfo,
    #[serde(flatten)]
    pub turn: TurnResult,
}

/// initialize -> initialized -> account/read -> thread/start -> turn/start -> turn/completed,
/// bounded by `timeout`, interruptible by Ctrl-C; the child is killed on every early exit, and
/// a turn that does not complete is an error.
pub async fn one_turn(
    opts: &SpawnOptions,
    cwd: &Path,
    model: Option<&str>,
    prompt: &str,
    timeout: Duration,
    on_event: impl FnMut(Event<'_>),
) -> Result<TurnReport, AppServerError> {
    // Before the child exists: from here on Ctrl-C ends the turn (the child is killed, exit
    // 130) instead of ending the process and orphaning the child.
    let _scope = crate::interrupt::scope();
    AppServer::supervise(
        opts,
        timeout,
        crate::interrupt::interrupted(),
        async move |server| {
            let info = server.initialize().await?;
            let account = server.account().await?;
            if account.requires_openai_auth
                && account.account_type.is_none()
                && local_auth(opts.codex_home.as_deref()).is_none()
            {
                return Err(AppServerError::AuthRequired);
            }
            let thread = server.start_thread(cwd, model).await?;
            let turn = server.run_turn(&thread, prompt, on_event).await?;
            if turn.status != TurnStatus::Completed {
                let message = turn
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("the turn ended as {:?}", turn.status));
                return Err(AppServerError::TurnFailed {
                    message,
                    stderr_tail: String::new(),
                });
            }
            Ok(TurnReport {
                runtime_version: info.runtime_version(),
                codex_home: info.codex_home,
                account,
                turn,
            })
        },
    )
    .await
}

/// Whether credentials for OpenAI are configured without asking the server: the environment or
/// an `auth.json` in CODEX_HOME; where they are. Never reads the secret itself.
pub fn local_auth(codex_home: Option<&Path>) -> Option<String> {
    for var in ["OPENAI_API_KEY", "CODEX_API_KEY"] {
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            return Some(var.to_string());
        }
    }
    let home = codex_home
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CODEX_HOME").map(PathBuf::from))
        .or_else(|| dirs::home_dir().map(|h| h.join(".codex")))?;
    let auth = home.join("auth.json");
    auth.is_file().then(|| auth.display().to_string())
}
