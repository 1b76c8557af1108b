//! What a Node project's `package.json` pins: `@openai/codex` (the CLI, whose optional
//! dependencies are the platform packages) or `@openai/codex-sdk` (which requires
//! `@openai/codex` at its own version) at an exact version. Kept here, below `node`, so that
//! discovery reads Node pins without importing the module that places packages.

use crate::pin::CodexVersion;

/// The package users install, and whose optional dependencies are the platform packages.
pub const CODEX_PACKAGE: &str = "@openai/codex";
/// The TypeScript SDK, which depends on `@openai/codex` at its own version.
pub const SDK_PACKAGE: &str = "@openai/codex-sdk";

/// An exact version spec (`0.163.0`, `=0.163.0`, `v0.163.0`): ranges, tags and URLs are not.
pub(crate) fn exact_spec(spec: &str) -> Option<CodexVersion> {
    let s = spec.trim();
    let s = s.strip_prefix('=').unwrap_or(s).trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    if !s.starts_with(|c: char| c.is_ascii_digit()) || s.contains([' ', '|', '<', '>', '*']) {
        return None;
    }
    CodexVersion::parse(s).ok()
}
