//! A wheel's `RECORD` (CSV: path, `sha256=<b64>`, size). The input read as a RECORD never
//! panics the parser; read as rows, the RECORD written from them (quoted as CSV writers
//! quote) parses back to the same paths and digests.
#![no_main]
use codex_bootstrap::store::wheel_tree::parse_record;
use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The bytes as a RECORD (the seeds are real ones)...
    for (path, hash) in parse_record(&String::from_utf8_lossy(data)) {
        assert!(!path.contains('\n'));
        assert!(hash.is_none_or(|h| !h.contains(',')));
    }
    // ...and as rows to write one from.
    type Rows = Vec<(String, Option<String>, u32)>;
    if let Ok(rows) = Rows::arbitrary_take_rest(Unstructured::new(data)) {
        {
            // Rows a writer can produce: one line each, a digest without separators.
            let rows: Vec<_> = rows
                .into_iter()
                .filter(|(p, h, _)| {
                    !p.contains(['\n', '\r'])
                        && !p.trim().is_empty()
                        && h.as_deref().is_none_or(|h| !h.contains([',', '\n', '\r', '"']))
                })
                .collect();
            let mut text = String::new();
            for (path, hash, size) in &rows {
                let path = if path.contains([',', '"']) { format!("\"{}\"", path.replace('"', "\"\"")) } else { path.clone() };
                let hash = hash.as_ref().map(|h| format!("sha256={h}")).unwrap_or_default();
                text.push_str(&format!("{path},{hash},{size}\n"));
            }
            let parsed = parse_record(&text);
            let expected: Vec<_> = rows.into_iter().map(|(p, h, _)| (p, h)).collect();
            assert_eq!(parsed, expected, "{text:?}");
        }
    }
});
