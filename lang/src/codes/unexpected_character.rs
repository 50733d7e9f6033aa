//! E0101: a character that is not part of the language.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0101` prints.

use crate::diagnostic::Code;

pub static UNEXPECTED_CHARACTER: Code = Code {
    id: "E0101",
    name: "unexpected-character",
    explanation: r#"## E0101: unexpected character

A character appears that no .conv token starts with, such as `'`, `;`, `&` or `@`.
The lexer skips it and goes on, so the rest of the file is still checked.

Example:

    service api {
      version = '1.4.2'   // single quotes
    }

Fix: strings use double quotes ("1.4.2"); the logical operators are the words
`and`, `or` and `not`; statements need no `;`."#,
};
