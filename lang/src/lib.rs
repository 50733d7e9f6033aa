//! The .conv front end: lexing, parsing, the syntax tree, diagnostics and formatting.
//!
//! Pure: no file system, no network, no async. Callers hand in source text and get back
//! values; the CLI and the language server decide how to show them.

pub mod ast;
pub mod codes;
pub mod diagnostic;
pub mod dump;
pub mod excerpt;
pub mod fmt;
pub mod lexer;
pub mod line_index;
pub mod parser;
pub mod span;
pub mod stack;
pub mod token;
pub mod tree_depth;

pub use diagnostic::{Code, Diagnostic, Label, Severity};
pub use parser::{Parsed, parse};
pub use span::{FileId, Span};
