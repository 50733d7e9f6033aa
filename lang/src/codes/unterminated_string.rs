//! E0102: a string without its closing quote.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0102` prints.

use crate::diagnostic::Code;

pub static UNTERMINATED_STRING: Code = Code {
    id: "E0102",
    name: "unterminated-string",
    explanation: r#"## E0102: unterminated string

A string literal starts with `"` but the line ends before its closing `"`.
Strings cannot span lines; an interpolation `${...}` must also close on the same line.

Example:

    service api {
      version = "1.4.2
    }

Fix: close the string on the same line. To write a newline inside a string, use `\n`."#,
};
