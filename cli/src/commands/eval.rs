//! `conv eval`: the resolved program, every default applied and every template expanded.

use super::{FAILED, OK};
use std::path::Path;

pub fn run(path: &Path, color: bool) -> u8 {
    let program = match super::runtime::compile(path, &[], color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match serde_json::to_string_pretty(&program) {
        Ok(json) => {
            super::runtime::write_stdout(&json);
            OK
        }
        Err(err) => {
            eprintln!("error: cannot serialize the program: {err}");
            FAILED
        }
    }
}
