//! Parsing frees everything it made: the language server parses on every edit, for hours.

use conv_lang::FileId;

/// This process's resident memory, in bytes (Linux).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|pages| pages.parse::<usize>().ok()).unwrap_or(0) * 4096
}

#[test]
fn parsing_again_and_again_does_not_grow_memory() {
    let text = include_str!("../../examples/quickstart/main.conv");
    // Warm up: the allocator's pools and the first batches' threads.
    for _ in 0..100 {
        assert!(conv_lang::parse(FileId(0), text).diagnostics.is_empty());
    }
    let before = resident();
    for _ in 0..2000 {
        std::hint::black_box(conv_lang::parse(FileId(0), text));
    }
    let grown = resident().saturating_sub(before);
    // A parser that leaked its grammar (a cycle of strong references) grew by about 10 KB a
    // parse here; what remains is the allocator's noise.
    assert!(grown < 4 << 20, "memory grew by {} KB over 2000 parses", grown >> 10);
}
