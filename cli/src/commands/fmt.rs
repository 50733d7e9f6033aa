//! `conv fmt`: rewrite files canonically, never from a broken parse.

use super::{FAILED, FOUND, OK};
use conv_cli::{load, render};
use conv_compiler::Sources;
use std::path::{Path, PathBuf};

pub fn run(paths: &[PathBuf], check_only: bool, color: bool) -> u8 {
    let mut status = OK;
    for path in paths {
        let files = match load::conv_files(path) {
            Ok(files) => files,
            Err(err) => {
                eprintln!("error: {err}");
                status = FAILED;
                continue;
            }
        };
        for file in files {
            let result = format_one(&file, check_only, color);
            status = status.max(result);
        }
    }
    status
}

fn format_one(file: &Path, check_only: bool, color: bool) -> u8 {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", file.display());
            return FAILED;
        }
    };
    let mut sources = Sources::new();
    let id = sources.add_bytes(load::display_name(file), bytes);
    if !sources.load_diagnostics().is_empty() {
        eprint!("{}", render::human(sources.load_diagnostics(), &sources, color));
        return FOUND;
    }
    let text = &sources.get(id).text;
    let parsed = conv_lang::parse(id, text);
    if parsed.has_errors() {
        eprint!("{}", render::human(&parsed.diagnostics, &sources, color));
        eprintln!("{}: not formatted, it has syntax errors", file.display());
        return FOUND;
    }
    let formatted = conv_lang::fmt::format(text, &parsed);
    if &formatted == text {
        return super::OK;
    }
    if check_only {
        println!("{}", file.display());
        return FOUND;
    }
    match write_atomically(file, &formatted) {
        Ok(()) => {
            eprintln!("formatted {}", file.display());
            OK
        }
        Err(err) => {
            eprintln!("error: cannot write {}: {err}", file.display());
            FAILED
        }
    }
}

/// Writes beside the file and renames over it, so a crash never leaves half a file.
fn write_atomically(file: &Path, text: &str) -> std::io::Result<()> {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = file.with_file_name(format!(".{name}.conv-fmt.tmp"));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
