//! Loopback stand-ins for everything outside: GitHub's release API and downloads
//! ([`github`], on the generic [`http`] server with fault injection) and the model endpoint
//! ([`model`]). Not every test binary uses every helper.
#![allow(dead_code)]

pub mod github;
pub mod http;
pub mod model;
