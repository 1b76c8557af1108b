//! The `codex-bootstrap` binary: parse, set up colour, logging and Ctrl-C, run, render errors,
//! choose the exit code (0, 1 failed, 2 usage, 130 interrupted).

mod cli;
mod commands;
mod ui;

use std::ffi::OsString;
use std::process::ExitCode;

use codex_bootstrap::{error, hints, interrupt, logging, proxy};

use crate::cli::Cli;

fn main() -> ExitCode {
    // Called by the name `codex` (the entry point `install` places): the runtime pinned here
    // runs, with every argument its own. Nothing is parsed.
    let mut args = std::env::args_os();
    if args
        .next()
        .is_some_and(|argv0| proxy::invoked_as_codex(&argv0))
    {
        return as_codex(args.collect());
    }
    // clap prints help and usage errors while parsing: `--color` must apply to them too.
    if let Some(when) = ui::color_from_args(std::env::args_os()) {
        ui::set_color(when);
    }
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
    let json = cli.command.json();
    ui::set_color(cli.color);
    let result = logging::init(cli.verbose)
        .map_err(error::Report::from)
        .and_then(|()| {
            // Without it Ctrl-C still stops us, only by signal instead of exit code 130.
            if let Err(e) = interrupt::listen() {
                tracing::debug!("could not take over Ctrl-C: {e}");
            }
            cli.command.run()
        });
    let interrupted = interrupt::requested();
    match result {
        Ok(_) if interrupted => ExitCode::from(interrupt::EXIT_CODE),
        Ok(code) => code,
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            // Scripts read the failure from stdout; people still get it on stderr.
            if json {
                let _ = commands::print_json(&hints::ErrorReport::of(&err));
            }
            let ui = ui::Ui::stderr_only();
            ui.error(&err);
            if interrupted || interrupt::is_interrupted(&err) {
                ExitCode::from(interrupt::EXIT_CODE)
            } else if err.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The `codex` entry point ([`proxy::run`]): the runtime's exit code, or ours after saying on
/// stderr why it could not run (stdout is codex's).
fn as_codex(args: Vec<OsString>) -> ExitCode {
    let ui = ui::Ui::stderr_only();
    if let Err(e) = logging::init(0) {
        ui.error(&error::Report::from(e));
        return ExitCode::from(2);
    }
    match proxy::run(args, cli::install_settings, &ui::Ui::new(false)) {
        // Windows' codes do not fit the u8 of `ExitCode`.
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let err = error::Report::from(e);
            ui.error(&err);
            if interrupt::requested() || interrupt::is_interrupted(&err) {
                ExitCode::from(interrupt::EXIT_CODE)
            } else if err.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
