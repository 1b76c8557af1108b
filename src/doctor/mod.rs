//! Health checks: each one a name, a status, a one-line summary, an optional detail, and for
//! anything not ok a hint that names the fix. Every check is bounded in time and changes
//! nothing.
//!
//! One module per group of checks, in the order [`run`] runs them: [`pin`] (this host's
//! platform, the pin), [`store`] (the cache, the installed runtime, its integrity), [`runtime`]
//! (it executes, PATH, the app-server answers, auth, one turn), [`network`] (every source
//! reachable), [`python`] (a Python environment's runtime), [`node`] (a Node project's platform
//! package). [`report`] is what a check returns;
//! [`runner`] runs the selected checks in order. The command layer picks the checks and renders
//! the report.

pub(crate) mod network;
pub(crate) mod node;
pub(crate) mod pin;
pub(crate) mod python;
pub(crate) mod report;
pub(crate) mod runner;
pub(crate) mod runtime;
pub(crate) mod store;

pub use node::NodeCheck;
pub use report::{Check, Report, Status};
pub use runner::{run, PythonCheck, Selection};
pub use runtime::AppServerInputs;
