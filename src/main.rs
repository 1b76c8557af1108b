//! The `codex-bootstrap` binary: parse, run, render errors, choose the exit code.

use std::process::ExitCode;

use codex_bootstrap::{cli::Cli, commands, error};

fn main() -> ExitCode {
    let cli = match Cli::try_parse_checked() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) if error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let ui = codex_bootstrap::ui::Ui::stderr_only();
            ui.error(&err);
            if error::is_usage(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
