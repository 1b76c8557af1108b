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

/// What `--mirror oci://` takes from an image index for `target`: the digest of the manifest
/// of the target's platform (None: the index lists no such platform), or why it is refused.
pub fn oci_platform_manifest(
    index: &crate::oci::image::Index,
    target: &Target,
) -> Result<Option<String>, String> {
    let want = crate::oci::image::Platform::of(target);
    crate::sources::oci::platform_manifest(index, &want).map(|d| d.map(str::to_string))
}

/// What `--mirror oci://` takes from an image manifest for `target`: each package layer's
/// asset name, sha256, size and blob URL under `reference`.
pub fn oci_layers(
    manifest: &crate::oci::image::Manifest,
    reference: &crate::oci::Reference,
    target: &Target,
) -> Vec<(String, crate::verify::Sha256, u64, String)> {
    crate::sources::oci::layers(manifest, reference, target)
        .into_iter()
        .map(|l| (l.name, l.digest, l.size, l.url))
        .collect()
}

/// The names of the release assets the install path looks for on `target`, best first.
pub fn release_asset_names(target: &Target) -> Vec<String> {
    target
        .asset_candidates()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

/// An asset's size, and its digest parsed (or the text refused).
pub type SettledAsset = (Option<u64>, Option<Result<crate::verify::Sha256, String>>);

/// The asset of a GitHub release that the install path settles for `name`, as it reads it:
/// its size, and its digest parsed (or the text refused).
pub fn github_release_asset(release: &crate::github::Release, name: &str) -> Option<SettledAsset> {
    let a = release.asset(name)?;
    let digest = a
        .digest
        .as_ref()
        .map(|d| crate::verify::Sha256::parse(d).map_err(|_| d.clone()));
    Some((a.size, digest))
}
