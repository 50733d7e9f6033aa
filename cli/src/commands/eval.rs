//! `conv eval`: the resolved program, every default applied and every template expanded.

use super::{FAILED, OK};
use std::io::Write;
use std::path::Path;

pub fn run(path: &Path, color: bool) -> u8 {
    let program = match super::runtime::compile(path, &[], color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // Streamed: the JSON of a large program runs to megabytes.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, &program)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => OK,
        // A closed pipe (`conv eval | head`) is the reader's choice, not a failure.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Err(err) => {
            eprintln!("error: cannot write the program: {err}");
            FAILED
        }
    }
}
