//! E0103: an unknown escape sequence in a string.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0103` prints.

use crate::diagnostic::Code;

pub static INVALID_ESCAPE: Code = Code {
    id: "E0103",
    name: "invalid-escape",
    explanation: r#"## E0103: invalid escape

Inside a string, a backslash must start one of the escapes `\n`, `\t`, `\r`,
`\\`, `\"` or `\$`. Any other character after `\` is an error, so that a
Windows path or a regular expression is never silently changed.

Example:

    let path = "C:\temp\new"   // `\t` and `\n` are escapes; this is probably not meant

Fix: double the backslash (`"C:\\temp\\new"`). Write `\${` for a literal `${`."#,
};
