//! The one HTTP client (trust store, proxies, timeouts, token policy), the retry classifier, and
//! resumable streaming downloads.

pub mod client;
pub mod download;
pub mod retry;

pub use client::{Http, NetConfig, NetError, Token};
pub use download::{Fetched, Transfer};
