//! For the fuzz targets in `fuzz/` only: not part of the crate's interface, and free to change.
//!
//! The parsers of outside input that are private to their modules are reached here, each
//! through one small function that calls exactly what the install path calls, so a fuzz
//! target exercises the real code and the internals stay private everywhere else.

use std::path::Path;

use serde_json::Value;

use crate::pin::{CodexVersion, PinWarning, ProjectPin};
use crate::platform::Target;
use crate::unpack::{UnpackError, Unpacked};

/// The Python pin of one directory (`pyproject.toml`, `requirements*.txt` with their
/// includes, `uv.lock`, `codex-runtime.toml`), read as discovery reads each directory on its
/// way up, and the warnings met.
pub fn python_pin_in_dir(dir: &Path) -> (Result<Option<ProjectPin>, String>, Vec<PinWarning>) {
    let mut warnings = Vec::new();
    let pin = crate::pin::discover::pin_in_dir(dir, &mut warnings).map_err(|e| e.to_string());
    (pin, warnings)
}

/// The login a netrc text gives `host` (the password stays inside its token).
pub fn netrc(text: &str, host: &str, use_default: bool) -> Option<String> {
    use crate::sources::config_files::{netrc_lookup, NetrcDefault};
    let default = if use_default {
        NetrcDefault::Use
    } else {
        NetrcDefault::Ignore
    };
    match netrc_lookup(text, host, default)? {
        crate::net::Credential::Basic { user, .. } => Some(user),
        _ => Some(String::new()),
    }
}

/// An `.npmrc`'s pairs (variables expanded) and the keys that name a variable.
pub fn npmrc(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    use crate::sources::config_files::{npmrc_interpolated_keys, npmrc_pairs};
    (npmrc_pairs(text), npmrc_interpolated_keys(text))
}

/// The value of `key` in `[section]` of a pip INI file.
pub fn pip_ini(text: &str, section: &str, key: &str) -> Option<String> {
    crate::sources::config_files::ini_value(text, section, &[key])
}

/// The index a uv configuration file (`uv.toml`, or `pyproject.toml`'s `[tool.uv]`) at
/// `path` names for the runtime.
pub fn uv_config_index(path: &Path) -> Option<String> {
    crate::sources::uv_config::index_in_file(path)
}

/// `codex-package.json` in `dir` checked against what was unpacked there, as for a package
/// archive of `version` for `target`: the entrypoint and `path_dir` it accepts.
pub fn codex_package(
    dir: &Path,
    unpacked: &mut Unpacked,
    version: &CodexVersion,
    target: &Target,
) -> Result<(String, Option<String>), UnpackError> {
    let layout = crate::package::validate_layout(
        dir,
        unpacked,
        crate::platform::AssetKind::PackageTarGz,
        version,
        target,
    )?;
    Ok((layout.entrypoint, layout.path_dir))
}

/// One app-server line read as the transport reads it, rendered back as it would be written
/// (None: not a message); a turn notification's `params` are decoded as the turn decodes them.
pub fn appserver_line(line: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(line).ok()?;
    let message = crate::appserver::msg::Message::from_value(value)?;
    if let crate::appserver::msg::Message::Notification { method, params } = &message {
        let _ = crate::appserver::protocol::TurnNotification::decode(method, params.clone());
    }
    Some(message.to_value())
}

/// A Sigstore bundle (standard or cosign legacy) parsed into the verifier's type: its format,
/// or the typed error.
pub fn sigstore_bundle(bytes: &[u8]) -> Result<String, crate::provenance::ProvenanceError> {
    crate::provenance::parse(bytes).map(|(_, format)| format!("{format:?}"))
}

/// An npm tarball (`.tgz`) unpacked as `install` unpacks one, only below `member_root`.
pub fn unpack_npm_tgz(
    tgz: &[u8],
    dest: &Path,
    limits: crate::unpack::Limits,
    member_root: Option<&str>,
) -> Result<Unpacked, UnpackError> {
    crate::unpack::unpack_stream(
        crate::platform::AssetKind::NpmTarball,
        tgz,
        dest,
        limits,
        member_root,
    )
}
