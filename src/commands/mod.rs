//! One file per subcommand. Commands orchestrate the library modules and render results; they
//! hold no mechanism of their own.

pub mod cache_key;
pub mod completions;
pub mod doctor;
pub mod install;
pub mod list;
pub mod mirror;
pub mod pin;
pub mod prune;
pub mod quickstart;
pub mod uninstall;
pub mod wheel;
pub mod which;

use std::io::Write;
use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Install(args) => install::run(args),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Wheel(args) => wheel::run(args),
        Command::Pin(args) => pin::run(args),
        Command::Mirror(args) => mirror::run(args),
        Command::List(args) => list::run(args),
        Command::Which(args) => which::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::Prune(args) => prune::run(args),
        Command::CacheKey(args) => cache_key::run(args),
        Command::Completions(args) => completions::run(args),
    }
}

/// Whether the command asked for `--json`: then its result, and a failure too, is one JSON
/// object on stdout.
pub fn wants_json(command: &Command) -> bool {
    match command {
        Command::Install(a) => a.json,
        Command::Quickstart(a) => a.json,
        Command::Doctor(a) => a.json,
        Command::Wheel(a) => a.output.json,
        Command::Pin(a) => a.output.json,
        Command::Mirror(a) => a.output.json,
        Command::List(a) => a.json,
        Command::Which(a) => a.output.json,
        Command::Uninstall(a) => a.output.json,
        Command::Prune(a) => a.output.json,
        Command::CacheKey(a) => a.output.json,
        Command::Completions(_) => false,
    }
}

/// Print a `--json` result: one pretty-printed JSON document and a newline on stdout. The
/// shapes are documented in the README ("JSON output") and pinned by `tests/it/json.rs`.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    // Rendered first and written whole: a closed stdout (`| head`) is then a plain io error
    // that `error::is_broken_pipe` recognises (serde_json's error hides its io source).
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
