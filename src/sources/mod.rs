//! Where the runtime's bytes can come from, and the one place a plan is carried out.
//!
//! The same runtime is published through three official channels: GitHub releases (or a mirror
//! of them), the Python package index (`openai-codex-cli-bin` wheels) and npm
//! (`@openai/codex@<v>-<platform>` tarballs). [`crate::plan`] lists, per source, the candidate
//! files and their pins; [`run`] walks that list in order, asking each source the metadata its
//! candidates need (GitHub's release API, the index's page, the packument: once per run),
//! settling each candidate into an [`Asset`] (URL and every digest it must have), and handing
//! it to the caller's attempt. A source that cannot be reached, or cannot serve this version and
//! target, hands over to the next at once; a candidate the source does not have hands over to
//! its next candidate. Nothing here chooses a URL the plan did not name.

pub mod artifact;
pub(crate) mod config_files;
pub(crate) mod locate;
pub mod npm;
pub mod pyindex;
pub mod uv_config;

mod failure;
mod latest;
pub(crate) mod oci;
mod run;

use crate::error::Hint;

pub use crate::plan::SourceKind;
pub use failure::{
    reason_of, AllSourcesFailed, Failed, RunError, SourceError, SourceFailure, Verdict,
};
pub use latest::{latest, Latest};
pub use locate::{Located, Location};
pub use run::{run, settle_first, Attempt, IndexPages, Session};

/// The order `auto` stands for.
pub(crate) const AUTO: &[SourceKind] =
    &[SourceKind::Github, SourceKind::PythonIndex, SourceKind::Npm];

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a source (expected github, python-index, npm or auto)")]
pub struct UnknownSource(pub String);

impl Hint for UnknownSource {
    fn hint(&self) -> Option<String> {
        Some(
            "pass `--source github,python-index,npm` (or `auto`), or set CODEX_BOOTSTRAP_SOURCES"
                .into(),
        )
    }
    /// A `--source` value (or CODEX_BOOTSTRAP_SOURCES) that names no source.
    fn is_usage(&self) -> bool {
        true
    }
}

/// Parse `--source` values (each may be a comma list) into an order without repeats. Empty
/// means `auto`. A mirror, when given, goes first.
pub(crate) fn parse_order(
    values: &[String],
    mirror: bool,
) -> Result<Vec<SourceKind>, UnknownSource> {
    let mut order = Vec::new();
    if mirror {
        order.push(SourceKind::Mirror);
    }
    let mut any = false;
    for part in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        any = true;
        let kinds: &[SourceKind] = match part.to_ascii_lowercase().as_str() {
            "auto" => AUTO,
            "github" => &[SourceKind::Github],
            "python-index" | "python" | "pypi-index" | "index" => &[SourceKind::PythonIndex],
            "npm" => &[SourceKind::Npm],
            _ => return Err(UnknownSource(part.to_string())),
        };
        for k in kinds {
            if !order.contains(k) {
                order.push(*k);
            }
        }
    }
    if !any {
        for k in AUTO {
            if !order.contains(k) {
                order.push(*k);
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_parses_lists_expands_auto_and_puts_the_mirror_first() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_order(&[], false).unwrap(), AUTO);
        assert_eq!(
            parse_order(&s(&["npm,python-index"]), false).unwrap(),
            [SourceKind::Npm, SourceKind::PythonIndex]
        );
        assert_eq!(
            parse_order(&s(&["npm", "auto"]), true).unwrap(),
            [
                SourceKind::Mirror,
                SourceKind::Npm,
                SourceKind::Github,
                SourceKind::PythonIndex
            ]
        );
        assert!(parse_order(&s(&["ftp"]), false).is_err());
    }

    #[test]
    fn reasons_join_the_chain_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(reason_of(&e), "outer: inner");
    }
}
