//! Feeds arbitrary bytes to the lexer, parser and formatter: none may panic, and what
//! formats must format to itself. Run: `cargo +nightly fuzz run parse` from fuzz/.
#![no_main]

use conv_lang::{FileId, fmt, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse(FileId(0), text);
    if !parsed.has_errors() {
        let once = fmt::format(text, &parsed);
        let again = parse(FileId(0), &once);
        assert!(!again.has_errors(), "formatter output does not parse");
        assert_eq!(fmt::format(&once, &again), once, "formatter is not idempotent");
    }
});
