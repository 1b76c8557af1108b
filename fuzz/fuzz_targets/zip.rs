//! The two zip unpackers: the whole-file one (legacy Windows assets, wheels into a package)
//! and the streamed wheel unpacker, which inflates entries while the download is still
//! growing the file and then reconciles them with the central directory. The input is raw
//! bytes (any input starting `PK`, as the seeds do) or arbitrary entries written by a real zip writer (stored or deflated, sizes before
//! or after the data, any name, mode, link). Whatever the input, for each unpacker: no panic,
//! nothing outside the destination, no link out, nothing group- or world-writable; and the two
//! agree: what the streamed path accepts the whole-file path accepts, with the same files
//! holding the same bytes.
#![no_main]
#[path = "common/mod.rs"]
mod common;

use std::fs::File;
use std::io::{Cursor, Write};
use std::sync::Arc;

use codex_bootstrap::unpack::{reconcile_streamed_wheel, unpack_wheel_growing, unpack_zip, Growing, Hashing, Limits};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;

#[derive(Arbitrary, Debug)]
struct Case {
    input: Input,
    /// How many pieces the download delivers the file in (0: already whole).
    pieces: u8,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    Entries { entries: Vec<ZEntry>, streamed: bool },
}

#[derive(Arbitrary, Debug)]
enum ZEntry {
    File { name: String, mode: u16, deflate: bool, data: Vec<u8> },
    Dir { name: String },
    Symlink { name: String, target: String },
}

fn write_entries<W: Write + std::io::Seek>(z: &mut zip::ZipWriter<W>, entries: &[ZEntry]) -> zip::result::ZipResult<()> {
    for e in entries {
        match e {
            ZEntry::File { name, mode, deflate, data } => {
                let method = if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
                let opts = SimpleFileOptions::default().compression_method(method).unix_permissions(u32::from(*mode) & 0o7777);
                z.start_file(name.as_str(), opts)?;
                z.write_all(data)?;
            }
            ZEntry::Dir { name } => z.add_directory(name.as_str(), SimpleFileOptions::default())?,
            ZEntry::Symlink { name, target } => z.add_symlink(name.as_str(), target.as_str(), SimpleFileOptions::default())?,
        }
    }
    Ok(())
}

fn build(entries: &[ZEntry], streamed: bool) -> Option<Vec<u8>> {
    if streamed {
        let mut z = zip::ZipWriter::new_stream(Vec::new());
        for e in entries {
            // The stream writer cannot seek back: only files.
            if let ZEntry::File { name, mode, deflate, data } = e {
                let method = if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
                let opts = SimpleFileOptions::default().compression_method(method).unix_permissions(u32::from(*mode) & 0o7777);
                z.start_file(name.as_str(), opts).ok()?;
                z.write_all(data).ok()?;
            }
        }
        Some(z.finish().ok()?.into_inner())
    } else {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        write_entries(&mut z, entries).ok()?;
        Some(z.finish().ok()?.into_inner())
    }
}

fuzz_target!(|data: &[u8]| {
    // A real zip (the seeds) is taken as it is; anything else describes entries to write.
    let case = if data.starts_with(b"PK") {
        Case { input: Input::Raw(data.to_vec()), pieces: (data.len() % 4) as u8 }
    } else {
        match Case::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(c) => c,
            Err(_) => return,
        }
    };
    let bytes = match &case.input {
        Input::Raw(b) => b.clone(),
        Input::Entries { entries, streamed } => match build(entries, *streamed) {
            Some(b) => b,
            None => return,
        },
    };
    let limits = Limits { max_total: 1 << 20, max_entry: 1 << 20, max_entries: 64 };
    let Some(whole) = common::Sandbox::new() else { return };
    let archive = whole.root.path().join("a.zip");
    if std::fs::write(&archive, &bytes).is_err() {
        return;
    }
    let Ok(file) = File::open(&archive) else { return };
    let zipped = unpack_zip(&file, &whole.dest, limits, None);
    whole.check(&["a.zip"]);

    // The streamed path, from a file a writer thread appends to piece by piece.
    let Some(streamed) = common::Sandbox::new() else { return };
    let partial = streamed.root.path().join("w.whl.partial");
    let Ok(mut out) = File::create(&partial) else { return };
    let Ok(reading) = File::open(&partial) else { return };
    let (growing, writer) = if case.pieces == 0 {
        out.write_all(&bytes).unwrap();
        (Growing::whole(reading), None)
    } else {
        let growing = Growing::new(reading);
        let (g, data, pieces) = (Arc::clone(&growing), bytes.clone(), usize::from(case.pieces));
        let writer = std::thread::spawn(move || {
            let step = data.len().div_ceil(pieces).max(1);
            let mut written = 0;
            for piece in data.chunks(step) {
                out.write_all(piece).unwrap();
                written += piece.len() as u64;
                g.publish(written);
            }
            g.complete();
        });
        (growing, Some(writer))
    };
    let mut result = unpack_wheel_growing(&growing, &streamed.dest, limits, &Hashing::Every);
    if let Some(w) = writer {
        w.join().unwrap();
    }
    if let Ok(unpacked) = &mut result {
        let file = File::open(&partial).unwrap();
        if let Err(e) = reconcile_streamed_wheel(&file, &streamed.dest, unpacked) {
            result = Err(e);
        }
    }
    streamed.check(&["w.whl.partial"]);

    if let Ok(s) = &result {
        let z = match &zipped {
            Ok(z) => z,
            Err(e) => panic!("the streamed path accepted what the whole-file path refused: {e}"),
        };
        let mut a: Vec<_> = s.files.iter().map(|f| (f.path.clone(), f.size, format!("{:?}", f.sha256))).collect();
        let mut b: Vec<_> = z.files.iter().map(|f| (f.path.clone(), f.size, format!("{:?}", f.sha256))).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "the two paths recorded different files");
        assert_eq!(common::files_under(&streamed.dest), common::files_under(&whole.dest), "the two paths wrote different files");
    }
});
