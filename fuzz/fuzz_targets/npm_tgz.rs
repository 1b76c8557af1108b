//! An npm tarball (`.tgz`: gzip around a tar) unpacked as `install --node` and the npm channel
//! unpack one, only below the platform's member root. The input is raw bytes (any input
//! starting with gzip's magic, as the seeds do), a gzip of raw
//! bytes, or a gzip of a well-formed tar of arbitrary entries. Whatever the input: no panic,
//! nothing outside the destination, no link out, nothing group- or world-writable.
#![no_main]
#[path = "common/mod.rs"]
mod common;

use std::io::Write;

use codex_bootstrap::unpack::Limits;
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const NPM_ROOT: &str = "package/vendor/x86_64-unknown-linux-musl/";

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    GzipOf(Vec<u8>),
    Entries(Vec<common::Entry>),
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fuzz_target!(|data: &[u8]| {
    // A real gzip (the seeds) is taken as it is; anything else describes what to compress.
    let input = if data.starts_with(&[0x1f, 0x8b]) {
        Input::Raw(data.to_vec())
    } else {
        match Input::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(i) => i,
            Err(_) => return,
        }
    };
    let bytes = match &input {
        Input::Raw(b) => b.clone(),
        Input::GzipOf(b) => gzip(b),
        Input::Entries(e) => gzip(&common::pack(e)),
    };
    let Some(sandbox) = common::Sandbox::new() else { return };
    let limits = Limits { max_total: 1 << 20, max_entry: 1 << 20, max_entries: 64 };
    let _ = codex_bootstrap::fuzzing::unpack_npm_tgz(&bytes, &sandbox.dest, limits, Some(NPM_ROOT));
    sandbox.check(&[]);
});
