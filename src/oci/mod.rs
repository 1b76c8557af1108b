//! Fleets on an OCI registry: the runtime as a multi-platform image (an image index tagged with
//! the Codex version, one image per target, one layer that is the codex-package tree).
//!
//! - [`reference`]: `oci://REGISTRY/REPO[:TAG]`, parsed and vetted (a name from outside is never
//!   a path).
//! - [`image`]: the index, manifest and descriptor documents, and the platform of each target.
//! - [`auth`]: credentials as container tools keep them (docker's `config.json`, podman's
//!   `auth.json`, `docker-credential-*` helpers).
//! - [`client`]: the distribution API over our one HTTP client, answering the registry's
//!   `WWW-Authenticate` challenge (Basic, or Bearer token exchange).
//!
//! Known gaps: uploads are monolithic (`POST` then one `PUT ?digest=`), no cross-repository
//! mount, no referrers (the Sigstore bundle is not pushed yet).

pub mod auth;
pub mod client;
mod error;
pub mod image;
pub mod layer;
pub mod reference;

pub use client::Registry;
pub use error::OciError;
pub use reference::Reference;
