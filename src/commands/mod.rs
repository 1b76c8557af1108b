//! One file per subcommand. Commands orchestrate the library modules and render results; they
//! hold no mechanism of their own.

pub mod doctor;
pub mod install;
pub mod quickstart;
pub mod wheel;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Install(args) => install::run(args),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Wheel(args) => wheel::run(args),
    }
}
