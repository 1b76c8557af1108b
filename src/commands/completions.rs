//! `codex-bootstrap completions SHELL`: shell completion scripts, generated from the CLI itself.

use std::process::ExitCode;

use clap::CommandFactory;
use codex_bootstrap::error::Report;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> Result<ExitCode, Report> {
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(
        args.shell,
        &mut cmd,
        "codex-bootstrap",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}
