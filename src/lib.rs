//! codex-bootstrap: provision the Codex CLI runtime that the Codex SDKs drive.
//!
//! The data flow runs one way, and the modules follow it:
//!
//! ```text
//! pin -> plan -> download -> verify -> unpack -> store -> (python) -> prove
//! ```
//!
//! [`pin`] decides which runtime version, [`plan`] turns it into one asset, one URL and one
//! expected digest ([`sources`] for each channel, [`github`] asks the release API),
//! [`net::download`] downloads it resumably, [`verify`] hashes, [`unpack`] extracts
//! defensively, [`package`] checks the runtime's layout, [`store`] makes it visible
//! atomically, [`python`] exposes it to a Python environment, [`prove`] runs its
//! `codex --version`, and [`appserver`] / [`doctor`] prove it works. [`provision`] runs the
//! flow for one runtime, and [`proxy`] is the `codex` entry point that runs the runtime each
//! directory pins; the binary's `commands` only orchestrate.
//!
//! Every library error implements [`error::Hint`] where it is declared, and an error that wraps
//! another answers for it, so the fix of a whole chain is its outermost error's to give; the
//! binary carries errors up as an [`error::Report`], and [`hints`] renders one for `--json`. The command line (`cli`, `commands`, `ui`) is
//! the binary's own (`src/main.rs`), so no library module can import it; library modules
//! import each other without a cycle (`tests/it/layering.rs`).

// The docs are for whoever carries the crate on (`cargo doc --document-private-items`): they
// link crate-private items freely.
#![allow(rustdoc::private_intra_doc_links)]

pub mod appserver;
pub(crate) mod child_env;
pub mod doctor;
pub mod error;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod github;
pub mod hints;
pub mod install;
pub mod interrupt;
pub mod link;
pub mod logging;
pub mod mirror;
pub mod net;
pub mod node;
pub mod oci;
pub(crate) mod package;
pub mod pin;
pub mod plan;
pub mod platform;
pub(crate) mod prove;
pub mod provenance;
pub mod provision;
pub mod proxy;
pub mod python;
pub mod redact;
pub mod remote;
pub mod report;
pub mod sources;
pub mod store;
pub mod survey;
pub mod unpack;
pub mod verify;
