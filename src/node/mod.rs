//! `install --node`: give a Node project the platform package that npm's optional dependency
//! would have given `@openai/codex` (`@openai/codex-<platform>`, which is
//! `npm:@openai/codex@<V>-<platform>`), its files linked from the store.
//!
//! Both `@openai/codex`'s `bin/codex.js` and `@openai/codex-sdk` resolve
//! `@openai/codex/package.json`, then, with a `require` rooted at that file's real path, the
//! platform package's `package.json`, and run `vendor/<triple>/bin/codex`. Node follows symlinks
//! to real paths, so the one place that resolution always finds is beside `@openai/codex`'s real
//! directory: the project's `node_modules/@openai/` for npm, yarn's node-modules linker and bun,
//! `node_modules/.pnpm/@openai+codex@<V>/node_modules/@openai/` for pnpm.
//!
//! [`project`] finds the project and its `@openai/codex` as npm finds them; [`lock`] reads the
//! integrity every Node lock format records for the platform packages (project pins, composed
//! by the plan like `uv.lock`'s hashes); [`place`] lays the package out.
//!
//! Every placement is recorded beside the runtime it came from ([`crate::store::placements`]),
//! so `list` shows the projects and `prune`/`uninstall` keep a runtime one symlinks into.
//!
//! Known gap: Yarn Plug'n'Play (no `node_modules`) is refused.

mod lock;
mod place;
mod project;

pub use lock::{read_locks, LockedPlatform, NodeLock};
pub use place::{place, NodeReport};
pub use project::{find_project, NodeProject, VersionFrom};

use std::path::PathBuf;

use crate::error::Hint;
use crate::fs::IoError;

pub use crate::pin::discover::package_json::{CODEX_PACKAGE, SDK_PACKAGE};

/// Every platform `@openai/codex` publishes a package for, as npm spells it.
pub const PLATFORMS: &[&str] = &[
    "linux-x64",
    "linux-arm64",
    "darwin-x64",
    "darwin-arm64",
    "win32-x64",
    "win32-arm64",
];

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("no Node project at or above `{}`: no `package.json` and no `node_modules`", .start.display())]
    NoProject { start: PathBuf },
    #[error("the Node project `{}` has no `@openai/codex`: not in `node_modules`, a lock file or `package.json`", .root.display())]
    NoCodex { root: PathBuf },
    #[error("`{}` gives `@openai/codex` as `{spec}`, which is not an exact Codex version", .file.display())]
    BadVersion { file: PathBuf, spec: String },
    #[error("the Node project's `@openai/codex` is {project} ({from}), not the {asked} asked for")]
    VersionMismatch {
        project: String,
        from: String,
        asked: String,
    },
    #[error("the Node project `{}` uses Yarn Plug'n'Play: it has no `node_modules` to place the platform package in", .root.display())]
    PlugNPlay { root: PathBuf },
    #[error("the runtime tree `{tree}` in the store changed: {change}")]
    TreeChanged {
        tree: String,
        change: crate::store::wheel_tree::TreeChange,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

impl Hint for NodeError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            NodeError::NoProject { .. } => {
                "run it inside a Node project, or name one: `--node DIR`".into()
            }
            NodeError::NoCodex { .. } => "install the SDK (`npm install @openai/codex-sdk`) or the CLI (`npm install @openai/codex`) in it, then run this again".into(),
            NodeError::BadVersion { .. } => "run `npm install` so `node_modules/@openai/codex` is there, or pin an exact version such as `0.163.0`".into(),
            NodeError::VersionMismatch { .. } => "drop `--version`: the platform package must be the version of the project's `@openai/codex`".into(),
            NodeError::PlugNPlay { .. } => "set `nodeLinker: node-modules` in `.yarnrc.yml` and run `yarn install`".into(),
            NodeError::TreeChanged { .. } => "reinstall it with `codex-bootstrap install --node --force`; `codex-bootstrap doctor` shows what else changed".into(),
            NodeError::Io(_) => "check that the project's `node_modules` is writable".into(),
        })
    }

    fn is_usage(&self) -> bool {
        matches!(self, NodeError::VersionMismatch { .. })
    }
}

/// `(os, cpu)` of an npm platform (`linux-x64` -> `linux`, `x64`), as its package.json says.
pub(crate) fn os_cpu(platform: &str) -> (&str, &str) {
    platform.split_once('-').unwrap_or((platform, ""))
}
