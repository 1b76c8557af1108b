//! The one HTTP client (trust store, proxies, timeouts, token policy), the retry classifier, and
//! resumable streaming downloads.

pub mod client;
pub mod download;
pub mod progress;
pub mod retry;

pub use client::{
    redact_userinfo, Credential, Credentials, Http, NetConfig, NetError, ScopedCredential, Token,
};
pub use download::{Fetched, Transfer};
pub use progress::{NoProgress, Progress};
