//! `conv check`: every phase of the compiler, nothing run.

use super::{FAILED, FOUND, OK};
use crate::Format;
use conv_cli::{load, render};
use std::path::PathBuf;

pub fn run(paths: &[PathBuf], format: Format, color: bool) -> u8 {
    let mut status = OK;
    let mut all_json = Vec::new();
    for path in paths {
        let sources = match load::load_program(path) {
            Ok(sources) => sources,
            Err(err) => {
                eprintln!("error: {err}");
                status = FAILED;
                continue;
            }
        };
        let checked = conv_compiler::check(&sources);
        // Freeing a large program's trees takes longer than the process exit does.
        let checked = std::mem::ManuallyDrop::new(checked);
        if checked.error_count() > 0 && status == OK {
            status = FOUND;
        }
        match format {
            Format::Json => all_json.push(render::json(&checked.diagnostics, &checked.sources)),
            Format::Human => {
                eprint!("{}", render::human(&checked.diagnostics, &checked.sources, color));
                let name = load::display_name(path);
                if checked.diagnostics.is_empty() {
                    eprintln!("{name}: ok");
                } else {
                    eprintln!("{name}: {}", render::summary(checked.error_count(), checked.warning_count()));
                }
            }
        }
    }
    if format == Format::Json {
        println!("{}", render::escape_json(merge_json_arrays(&all_json)));
    }
    status
}

/// Several programs, one JSON array on stdout.
fn merge_json_arrays(arrays: &[String]) -> String {
    let mut items: Vec<serde_json::Value> = Vec::new();
    for a in arrays {
        if let Ok(serde_json::Value::Array(mut v)) = serde_json::from_str(a) {
            items.append(&mut v);
        }
    }
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}
