//! The integration tests: one binary, one test context ([`common`]), loopback servers from
//! `tests/support`.

#[path = "../support/mod.rs"]
mod support;

mod action;
mod cli;
mod codex_home;
mod color;
mod common;
mod docs;
mod doctor;
mod faults;
mod fixture;
mod fleet;
mod hostile;
mod install;
mod interrupt;
mod json;
mod layering;
mod logging;
mod messages;
mod node;
mod oci;
mod pins;
mod plan;
mod provenance;
mod proxy;
mod python;
mod python_wheel;
mod quickstart;
mod registries;
mod secrets;
mod sigstore_conformance;
mod sources;
mod store;
#[cfg(unix)]
mod store_trust;
mod truth;
