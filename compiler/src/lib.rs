//! The conv compiler: from source files to a checked program.
//!
//! Pure: source text comes in through [`Sources`], diagnostics and values come out. The CLI
//! and the language server do the reading and the showing.

pub mod codes;
pub mod sources;

pub use sources::{Source, Sources};

use conv_lang::{Diagnostic, Parsed};

/// What checking a program produced: the parsed files and every diagnostic, sorted.
#[derive(Debug)]
pub struct Checked {
    pub parsed: Vec<Parsed>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Runs every phase that exists over the program and gathers the diagnostics.
pub fn check(sources: &Sources) -> Checked {
    let mut diagnostics: Vec<Diagnostic> = sources.load_diagnostics().to_vec();
    let parsed: Vec<Parsed> = sources
        .iter()
        .map(|s| conv_lang::parse(s.id, &s.text))
        .collect();
    for p in &parsed {
        diagnostics.extend(p.diagnostics.iter().cloned());
    }
    conv_lang::diagnostic::sort_diagnostics(&mut diagnostics);
    Checked {
        parsed,
        diagnostics,
    }
}
