//! `conv eval`: the resolved program, every default applied and every template expanded.

use super::{FAILED, FOUND, OK};
use conv_cli::{load, render};
use std::path::Path;

pub fn run(path: &Path, color: bool) -> u8 {
    let sources = match load::load_program(path) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("error: {err}");
            return FAILED;
        }
    };
    let checked = conv_compiler::check(&sources);
    eprint!("{}", render::human(&checked.diagnostics, &checked.sources, color));
    match &checked.program {
        Some(program) => match serde_json::to_string_pretty(program) {
            Ok(json) => {
                println!("{json}");
                OK
            }
            Err(err) => {
                eprintln!("error: cannot serialize the program: {err}");
                FAILED
            }
        },
        None => {
            eprintln!(
                "{}: {}",
                load::display_name(path),
                render::summary(checked.error_count(), checked.warning_count())
            );
            FOUND
        }
    }
}
