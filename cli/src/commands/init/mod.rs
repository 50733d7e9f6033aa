//! `conv init [DIR]`: a small working program to start from.

use super::{FAILED, OK};
use std::path::Path;

/// The program written; it checks, plans and applies as it is (on the simulator).
const PROGRAM: &str = include_str!("main.conv");

pub fn run(dir: &Path) -> u8 {
    let target = dir.join("main.conv");
    if target.exists() {
        eprintln!("error: {} already exists; nothing was written", target.display());
        return FAILED;
    }
    if let Err(err) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {err}", dir.display());
        return FAILED;
    }
    if let Err(err) = conv_runtime::write_atomically(&target, PROGRAM.as_bytes()) {
        eprintln!("error: cannot write {}: {err}", target.display());
        return FAILED;
    }
    let shown = dir.display();
    eprintln!("wrote {}", target.display());
    eprintln!("next: conv check {shown} && conv plan {shown} && conv apply {shown}");
    OK
}
