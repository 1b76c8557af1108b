//! `codex-bootstrap completions SHELL`: shell completion scripts, generated from the CLI itself.

use std::io::Write;
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
    // Generated into memory, then written: clap_complete panics on a write error, and a
    // closed pipe (`completions bash | head -1`) is the reader's choice, exit 0 (in main).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "codex-bootstrap", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}
