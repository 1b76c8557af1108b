//! Why making a runtime present failed: one enum over the layers below, each hint handed through.

use super::*;

/// Making a runtime present failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("could not read the current directory")]
    Cwd(#[source] std::io::Error),
    #[error("invalid mirror path `{path}`")]
    MirrorPath {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is neither a URL nor a directory")]
    BadMirror(String),
    #[error("could not start the async runtime")]
    AsyncRuntime(#[source] std::io::Error),
    #[error("invalid path `{}`", .0.display())]
    ArchivePath(PathBuf, #[source] std::io::Error),
    #[error("`{0}` is not a Codex release asset, runtime wheel or npm tarball")]
    NotAnAsset(String),
    #[error("could not read `{}`", .0.display())]
    ReadArchive(PathBuf, #[source] std::io::Error),
    #[error("no digest to verify `{0}` against")]
    NoDigest(String),
    #[error("`{name}` is codex {found}, but {wanted} was asked for")]
    ArchiveVersion {
        name: String,
        found: String,
        wanted: String,
    },
    #[error("`{}` is not an absolute path", .0.display())]
    NotAbsolute(PathBuf),
    #[error(transparent)]
    Pin(#[from] crate::pin::PinError),
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Lock(#[from] crate::store::LockError),
    #[error(transparent)]
    Source(#[from] sources::UnknownSource),
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(transparent)]
    Latest(#[from] AllSourcesFailed),
    #[error(transparent)]
    Run(#[from] sources::RunError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
    #[error(transparent)]
    Oci(#[from] crate::oci::OciError),
}

impl Hint for ProvisionError {
    fn hint(&self) -> Option<String> {
        match self {
            ProvisionError::Cwd(_) => Some("run it from a directory that exists and can be read".into()),
            ProvisionError::MirrorPath { .. } | ProvisionError::BadMirror(_) => Some("pass `--mirror https://host/path` or `--mirror file:///dir`".into()),
            ProvisionError::AsyncRuntime(_) => Some("the system refused a thread or a timer: check the process limits (`ulimit -u`)".into()),
            ProvisionError::ArchivePath(..) | ProvisionError::NotAbsolute(_) | ProvisionError::ReadArchive(..) => Some("check the path given to `--archive`".into()),
            ProvisionError::NotAnAsset(_) => Some("pass a codex-package-<target>.tar.zst/.tar.gz, codex-<target>.tar.gz/.exe.zip, openai_codex_cli_bin-*.whl or codex-<v>-<platform>.tgz".into()),
            ProvisionError::ArchiveVersion { found, wanted, .. } => Some(format!(
                "install it as what it is with `--version {found}`, or pass the archive of {wanted}"
            )),
            ProvisionError::NoDigest(_) => Some("pass `--sha256 HEX`, pin it in codex-runtime.toml (`codex-bootstrap pin`), or accept it unverified with `--trust-archive`".into()),
            ProvisionError::Pin(e) => e.hint(),
            ProvisionError::Platform(e) => e.hint(),
            ProvisionError::Store(e) => e.hint(),
            ProvisionError::Lock(e) => e.hint(),
            ProvisionError::Source(e) => e.hint(),
            ProvisionError::Net(e) => e.hint(),
            ProvisionError::Plan(e) => e.hint(),
            ProvisionError::Latest(e) => e.hint(),
            ProvisionError::Run(e) => e.hint(),
            ProvisionError::Install(e) => e.hint(),
            ProvisionError::Interrupted(e) => e.hint(),
            ProvisionError::Oci(e) => e.hint(),
        }
    }

    fn is_usage(&self) -> bool {
        match self {
            ProvisionError::BadMirror(_) | ProvisionError::NotAnAsset(_) => true,
            ProvisionError::Pin(e) => e.is_usage(),
            ProvisionError::Platform(e) => e.is_usage(),
            ProvisionError::Source(e) => e.is_usage(),
            ProvisionError::Oci(e) => e.is_usage(),
            _ => false,
        }
    }
}
