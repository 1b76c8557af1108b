//! The one HTTP client (trust store, proxies, timeouts, token policy), the retry classifier, and
//! resumable streaming downloads.

pub(crate) mod client;
mod credentials;
pub(crate) mod download;
mod error;
pub(crate) mod progress;
pub(crate) mod retry;
mod roots;

pub use client::{
    allowed_url, split_secrets, Credential, Credentials, Http, NetConfig, NetError, NetSettings,
    ScopedCredential, Token,
};
pub use download::{Fetched, Transfer};
pub use progress::{NoProgress, Progress};

use std::path::PathBuf;

/// `file:///dir/x` -> `/dir/x`: a mirror or an asset on the local file system, read without
/// the network.
pub(crate) fn local_path(url: &str) -> Option<PathBuf> {
    let u = reqwest::Url::parse(url).ok()?;
    (u.scheme() == "file")
        .then(|| u.to_file_path().ok())
        .flatten()
}
