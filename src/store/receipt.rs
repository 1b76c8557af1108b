//! The receipt: what was installed, from where, how it was verified, and every file with its
//! size and sha256. Written last into the staging directory, so its presence in a runtime
//! directory means the install completed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::verify::{DigestSource, Sha256};

/// Bumped when the receipt format changes incompatibly; older receipts are then reinstalled.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub schema: u32,
    /// The codex-bootstrap version that installed it.
    pub installer: String,
    pub version: CodexVersion,
    pub tag: String,
    pub target: Target,
    pub asset: String,
    /// Where the archive came from: a URL (no userinfo, its query redacted) or a local path.
    pub source_url: crate::redact::DisplayUrl,
    pub archive_sha256: Sha256,
    pub archive_size: u64,
    pub verified_by: DigestSource,
    /// Every digest the archive was checked against, most trusted first (absent in receipts
    /// written before pins composed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checked: Vec<crate::verify::Expected>,
    /// Which source served the archive (absent in receipts written before there were several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::plan::SourceKind>,
    /// What the Sigstore signature of `bin/codex` proved, or why there was none (absent in
    /// receipts written before signatures were checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::provenance::SignatureRecord>,
    /// The Sigstore bundle that proved `bin/codex` (its JSON text), so `doctor` and
    /// `install --verify` check the signature again offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_bundle: Option<String>,
    /// The wheel or npm tarball the archive was rebuilt from, when it is an OCI layer of the
    /// package tree rather than the release's package archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuilt_from: Option<String>,
    /// Seconds since the Unix epoch.
    pub installed_at: u64,
    /// The codex executable, relative to the runtime directory (`bin/codex`).
    pub entrypoint: String,
    /// The directory to put on PATH when launching codex (`codex-path`), when the package has one.
    pub path_dir: Option<String>,
    pub files: Vec<FileRecord>,
}

/// One installed file. Paths use `/` on every platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    pub sha256: Sha256,
    #[serde(default)]
    pub executable: bool,
}

impl Receipt {
    pub fn read(path: &Path) -> std::io::Result<Receipt> {
        let bytes = std::fs::read(path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// Total size of the installed files.
    pub fn installed_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain data cannot fail; an empty receipt would be refused on read anyway.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
impl Receipt {
    /// A receipt for store tests: `version` for `target`, from an unverified `a.tar.gz`, no files.
    pub(crate) fn for_test(version: &str, target: &str) -> Receipt {
        Receipt {
            schema: SCHEMA,
            installer: "test".into(),
            version: version.parse().expect("a test version"),
            tag: format!("rust-v{version}"),
            target: target.parse().expect("a test target"),
            asset: "a.tar.gz".into(),
            rebuilt_from: None,
            source_url: "file:///a.tar.gz".into(),
            archive_sha256: Sha256::of(b"a"),
            archive_size: 1,
            verified_by: DigestSource::Unverified,
            checked: Vec::new(),
            source: None,
            signature: None,
            signature_bundle: None,
            installed_at: 0,
            entrypoint: "bin/codex".into(),
            path_dir: None,
            files: Vec::new(),
        }
    }
}
