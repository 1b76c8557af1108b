//! The versioned runtime store: `<data>/runtimes/<version>/<target>/`, immutable once renamed
//! into place, with a receipt that lists every file; downloads and per-artifact locks in the
//! cache directory; staging and cleanup.
//!
//! Readers (the warm path, doctor, quickstart) take no lock: a runtime directory either does not
//! exist or is complete, because it only ever appears by one rename of a finished staging dir.

pub mod layout;
mod legacy;
pub mod lock;
pub mod placements;
pub mod receipt;
pub mod remove;
pub mod staging;
pub mod trust;
pub mod wheel_tree;

pub use layout::{
    InstalledRuntime, Locations, Store, StoreError, CACHEDIR_TAG, CACHE_ENV, DATA_ENV, HOME_ENV,
    RECEIPT_NAME,
};
pub use legacy::Adopted;
pub use lock::{ArtifactLock, LockError, LOCK_TIMEOUT_ENV};
pub use receipt::{FileRecord, Receipt};
pub use staging::{move_aside_and_remove, Staging};
