//! Loopback stand-ins for everything outside: GitHub's release API and downloads
//! ([`github`]), a Python package index ([`pyindex`]) and an npm registry ([`npm`]), all on the
//! generic [`http`] server with fault injection, and the model endpoint ([`model`]). Not every
//! test binary uses every helper.
#![allow(dead_code)]

pub mod github;
pub mod guide;
pub mod http;
pub mod model;
pub mod npm;
pub mod oci;
pub mod pyindex;
pub mod sigstore;
