//! Zip files (legacy Windows assets, wheels): read from a file, since zip needs random access,
//! each entry going through the policy.

use std::fs::File;
use std::io;
use std::path::Path;

use super::policy::State;
use super::{Limits, UnpackError, Unpacked};

/// Unpack a zip file: a legacy Windows asset, or (with `member_root`, `codex_cli_bin/`) the
/// package inside a wheel, whose other entries (the module's `__init__.py` and `__pycache__/`,
/// `*.dist-info/`) are not part of the runtime and are skipped.
pub fn unpack_zip(
    path: &Path,
    dest: &Path,
    limits: Limits,
    member_root: Option<&str>,
) -> Result<Unpacked, UnpackError> {
    let corrupt = |source: io::Error| UnpackError::Corrupt {
        kind: "zip",
        source,
    };
    let file = File::open(path).map_err(corrupt)?;
    let mut zip = ::zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| corrupt(io::Error::new(io::ErrorKind::InvalidData, e)))?;
    let mut state = State::new(dest, limits);
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| corrupt(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        let name = entry
            .name()
            .map_err(|e| corrupt(io::Error::new(io::ErrorKind::InvalidData, e)))?
            .to_string();
        let Some(path) = state.member(&name, member_root, entry.is_dir())? else {
            continue;
        };
        if member_root.is_some() && (path == "__init__.py" || path.starts_with("__pycache__/")) {
            continue;
        }
        let rel = state.enclosed(path, &name)?;
        if entry.is_dir() {
            state.dir(&rel, &name)?;
        } else if entry.is_symlink() {
            return Err(UnpackError::Refused {
                entry: name,
                reason: "links are not allowed in zip assets",
            });
        } else {
            let size = entry.size();
            let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0)
                || path.to_ascii_lowercase().ends_with(".exe");
            state.file(&rel, &name, size, executable, &mut entry)?;
        }
    }
    state.finish()
}
