//! Defensive extraction of release archives into a staging directory.
//!
//! Archives come from the internet and are unpacked while they download (their digest is
//! checked before anything becomes visible), so every entry is treated as hostile. One module
//! per concern:
//!
//! - `policy`: what an entry may be: a name enclosed in the package, links that stay inside it,
//!   no duplicates, no devices, bounded sizes and entry counts; and which entries belong to the
//!   package at all (a member root such as an npm tarball's `package/vendor/<triple>/`).
//! - `writer`: the thread that writes and hashes each file while the decoder produces the next
//!   bytes, and the one that fsyncs them.
//! - `tar` and `zip`: one reader per container, both deciding through the same policy.
//!
//! What the unpacked tree must contain to be a Codex runtime is [`crate::package`]'s business.

mod growing;
mod policy;
mod tar;
mod wheel;
mod writer;
mod zip;

use std::any::Any;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::Hint;
use crate::platform::AssetKind;
use crate::store::FileRecord;

pub use self::growing::Growing;
pub use self::tar::unpack_tar;
pub use self::wheel::unpack_wheel_growing;
pub use self::zip::{reconcile_streamed_wheel, unpack_zip};
// File-system helpers other modules use; they live here until the crate has one home for them.

/// Start a thread named after its stage of the unpack, so `perf`, `top -H` and a panic's
/// message say which one it is. Fails as [`std::thread::spawn`] does, when the system cannot
/// start one.
pub(crate) fn spawn_named<F, T>(name: &str, f: F) -> std::thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap_or_else(|e| panic!("could not start the {name} thread: {e}"))
}

/// Make the calling thread one that waits for its turn when it wakes, instead of preempting the
/// thread that woke it: the writers and the download's file writes, which each hand-off wakes.
/// Its share of the CPU is unchanged (Linux's `SCHED_BATCH`, which any process may choose; the
/// threads it starts inherit it). Without it, each chunk an inflater handed its writer woke the
/// writer onto the inflater's own core: the inflater of `bin/codex`, whose end is the install's,
/// was preempted about 1,200 times and waited 50-150 ms for its writer (`perf`, sched_switch).
/// Elsewhere this does nothing.
pub(crate) fn defer_on_wake() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sets the policy of the calling thread (0) only; a refusal leaves it as it was.
        let refused = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0;
        if refused {
            tracing::trace!(
                "could not make this thread wait its turn when it wakes: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Bounds on what an archive may unpack to. The real 0.163.0 package is 377 MB in 6 files.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_total: u64,
    pub max_entry: u64,
    /// Every entry the archive lists counts, including those outside the member root.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total: 4 << 30,
            max_entry: 2 << 30,
            max_entries: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("archive entry `{entry}` is refused: {reason}")]
    Refused { entry: String, reason: &'static str },
    #[error("the archive unpacks to more than {limit} bytes; refusing it as a decompression bomb")]
    TooLarge { limit: u64 },
    #[error("the archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("the archive is corrupt or not a {kind} archive")]
    Corrupt {
        kind: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("could not write `{path}` while unpacking")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the package layout is invalid: {0}")]
    Layout(String),
    #[error("the {thread} thread panicked while unpacking: {message}")]
    Panicked {
        thread: &'static str,
        message: String,
    },
}

impl UnpackError {
    /// The error for a thread of the unpack that panicked, with its panic message.
    pub(crate) fn panicked(thread: &'static str, payload: Box<dyn Any + Send>) -> UnpackError {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        UnpackError::Panicked { thread, message }
    }
}

impl Hint for UnpackError {
    fn hint(&self) -> Option<String> {
        match self {
            UnpackError::Write { source, .. } if source.kind() == io::ErrorKind::StorageFull => Some("free disk space (the runtime needs about 400 MB), or move the cache with `--cache-dir DIR`".into()),
            UnpackError::Write { .. } => Some("the cache must be writable: see `--cache-dir` and CODEX_BOOTSTRAP_HOME".into()),
            UnpackError::Layout(_) => Some("the archive is not a Codex runtime for this version and target; check `--version`, `--target` and the source".into()),
            UnpackError::Panicked { .. } => Some("this is a bug in codex-bootstrap, not a fault of the archive; nothing was installed: run the command again, and report it with this output if it recurs".into()),
            _ => Some("this archive is not safe to install; if it came from a mirror, rebuild the mirror from a trusted source".into()),
        }
    }
}

/// What an extraction produced: every regular file with its hash, relative with `/`.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: Vec<FileRecord>,
    /// Files written without hashing them ([`Hashing::Only`]), by path: their digests are
    /// to come from the wheel's RECORD ([`crate::package::digests_from_record`]) before
    /// anything reads `files`. Empty unless asked for.
    pub unhashed: Vec<Unhashed>,
}

/// A regular file an unpack wrote without hashing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhashed {
    pub path: String,
    pub size: u64,
    pub executable: bool,
}

/// Which files an unpack hashes as it writes them, for the receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Hashing {
    /// Every file: the receipt records the digests of the bytes written.
    #[default]
    Every,
    /// Only the entries named here (as the archive names them); the others are listed in
    /// [`Unpacked::unhashed`]. For a wheel whose own sha256 matched a pin that does not come
    /// from the channel serving it: see `install::wheel_hashing`.
    Only(Vec<String>),
}

impl Hashing {
    /// Whether the entry the archive names `name` is hashed as it is written.
    pub(crate) fn hashes(&self, name: &str) -> bool {
        match self {
            Hashing::Every => true,
            Hashing::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

/// Unpack a `.tar.zst`, `.tar.gz` (package or legacy) or npm `.tgz` stream into `dest` (which
/// must exist). With `member_root` (an npm tarball's `package/vendor/<triple>/`, from
/// [`AssetKind::member_root`]), only the entries below it are extracted, the prefix stripped;
/// the others are skipped, though they still count against [`Limits::max_entries`].
pub(crate) fn unpack_stream<R: Read>(
    kind: AssetKind,
    reader: R,
    dest: &Path,
    limits: Limits,
    member_root: Option<&str>,
) -> Result<Unpacked, UnpackError> {
    let reader = io::BufReader::with_capacity(1 << 20, reader);
    match kind {
        AssetKind::PackageTarZst => {
            let decoder = zstd::stream::read::Decoder::with_buffer(reader).map_err(|source| {
                UnpackError::Corrupt {
                    kind: "zstd",
                    source,
                }
            })?;
            unpack_tar(decoder, dest, limits, "tar.zst", member_root)
        }
        AssetKind::PackageTarGz | AssetKind::LegacyTarGz | AssetKind::NpmTarball => unpack_tar(
            flate2::read::GzDecoder::new(reader),
            dest,
            limits,
            "tar.gz",
            member_root,
        ),
        AssetKind::LegacyZip | AssetKind::Wheel => Err(UnpackError::Refused {
            entry: "<zip>".into(),
            reason: "zip archives are unpacked from a file, not a stream",
        }),
    }
}

#[cfg(test)]
mod tests {
    /// A writer's thread, and the threads it starts, wait their turn when woken.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_deferring_thread_and_its_children_are_batch_scheduled() {
        // SAFETY (each call): reads the calling thread's policy.
        let ours = unsafe { libc::sched_getscheduler(0) };
        let policies = std::thread::spawn(|| {
            super::defer_on_wake();
            let own = unsafe { libc::sched_getscheduler(0) };
            let child = std::thread::spawn(|| unsafe { libc::sched_getscheduler(0) })
                .join()
                .unwrap();
            (own, child)
        })
        .join()
        .unwrap();
        assert_eq!(policies, (libc::SCHED_BATCH, libc::SCHED_BATCH));
        // The thread that started them is untouched.
        assert_eq!(unsafe { libc::sched_getscheduler(0) }, ours);
    }
}
