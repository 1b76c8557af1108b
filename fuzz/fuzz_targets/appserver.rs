//! App-server JSON-RPC lines, read as the transport reads them: no panic on any line (deep or
//! huge JSON included), and a line accepted as a message renders to a value that reads back
//! as the same message.
#![no_main]
use codex_bootstrap::fuzzing::appserver_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    if let Some(v) = appserver_line(line) {
        let again = appserver_line(&v.to_string()).expect("a rendered message reads back");
        assert_eq!(again, v);
    }
});
