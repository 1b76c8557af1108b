//! The tar unpacker's entry checks. The input is either raw bytes read as a tar stream, or a
//! list of entries (any path, link name, type and mode) packed into a well-formed tar; it is
//! unpacked whole, or (as an npm tarball is) only below a member root. Whatever the input:
//! no panic, nothing created beside the destination (a sibling directory must stay empty),
//! every link that resolves stays inside, and nothing is group- or world-writable.
#![no_main]
#[path = "common/mod.rs"]
mod common;

use codex_bootstrap::unpack::{unpack_tar, Limits};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

/// An npm tarball's member root, as the installer passes it.
const NPM_ROOT: &str = "package/vendor/x86_64-unknown-linux-musl/";

#[derive(Arbitrary, Debug)]
struct Case {
    npm: bool,
    input: Input,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    Entries(Vec<common::Entry>),
}

fuzz_target!(|data: &[u8]| {
    // A real tar (the seeds: `ustar` at offset 257) is taken as it is, unpacked whole or below
    // the npm root by its length's parity; anything else describes entries to pack.
    let case = if data.get(257..262) == Some(b"ustar".as_slice()) {
        Case { npm: data.len() % 2 == 0, input: Input::Raw(data.to_vec()) }
    } else {
        match Case::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(c) => c,
            Err(_) => return,
        }
    };
    let bytes = match &case.input {
        Input::Raw(b) => b.clone(),
        Input::Entries(e) => common::pack(e),
    };
    let Some(sandbox) = common::Sandbox::new() else { return };
    let limits = Limits { max_total: 1 << 20, max_entry: 1 << 20, max_entries: 64 };
    let member_root = case.npm.then_some(NPM_ROOT);
    let _ = unpack_tar(bytes.as_slice(), &sandbox.dest, limits, "tar", member_root);
    sandbox.check(&[]);
});
