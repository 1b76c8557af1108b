//! Fleets on an OCI registry: the runtime as a multi-platform image (an image index tagged with
//! the Codex version, one image per target, one layer that is the codex-package tree).
//!
//! - [`reference`]: `oci://REGISTRY/REPO[:TAG]`, parsed and vetted (a name from outside is never
//!   a path).
//! - [`image`]: the index, manifest and descriptor documents, and the platform of each target.
//! - [`auth`]: credentials as container tools keep them (docker's `config.json`, podman's
//!   `auth.json`, `docker-credential-*` helpers).
//! - [`client`]: the distribution API over our one HTTP client, answering the registry's
//!   `WWW-Authenticate` challenge (Basic, or Bearer token exchange): manifests, tags, blobs,
//!   chunked and resumable uploads, cross-repository mounts, referrers (and their tag schema).
//!
//! Known gaps:
//! - Token auth is tested against distribution with a token server of the tests' own (one
//!   scope per token request); registries whose realm wants `offline_token`/refresh tokens
//!   (the OAuth2 POST form) get the GET exchange only.
//! - A layer rebuilt from a wheel or an npm tarball is deterministic for one zstd version and
//!   level; another zstd may compress the same tar differently (its `diff_id` stays the same).
//! - Referrers: the referrers API is tested on the loopback stand-in; distribution 2.8 has
//!   none, so against it only the tag schema (`sha256-<hex>`) is exercised.
//! - A dropped chunk resumes from the upload's `Range`: tested on the stand-in (chunks alone
//!   against distribution). Distribution says `0-0` for both zero bytes and one: taken as
//!   zero, and as one when a resend from zero is refused (416).

pub mod auth;
pub mod client;
mod error;
pub mod image;
pub mod layer;
pub mod reference;

pub use client::Registry;
pub use error::OciError;
pub use reference::Reference;
