//! E0106: a bracket that is never closed, or closed by the wrong one.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0106` prints.

use crate::diagnostic::Code;

pub static UNCLOSED_DELIMITER: Code = Code {
    id: "E0106",
    name: "unclosed-delimiter",
    explanation: r#"## E0106: unclosed delimiter

A `{`, `[` or `(` is not closed before the declaration ends, or is closed by a
different bracket. The label points at the opening bracket.

Example:

    service api {
      gates = [http_ok(path: "/healthz")
    }

Fix: add the missing `]`. `conv fmt` refuses to format a file with this error,
so nothing is rewritten from a guess."#,
};
