//! TEMPORARY scaffold (being written by another engineer; replace wholesale).
use std::process::ExitCode;
#[derive(Debug, clap::Args)]
pub struct WheelArgs {
    #[command(flatten)]
    pub runtime: crate::cli::RuntimeArgs,
}
pub fn run(_args: WheelArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
