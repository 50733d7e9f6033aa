//! E0108: a source file that is not valid UTF-8.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0108` prints.

use crate::diagnostic::Code;

pub static NOT_UTF8: Code = Code {
    id: "E0108",
    name: "not-utf8",
    explanation: r#"## E0108: file is not UTF-8

.conv files are UTF-8 text. The file holds a byte sequence that is not valid
UTF-8 (often a file saved as Latin-1 or UTF-16, or a binary file with a .conv
name). The label points at the first invalid byte.

Fix: re-save the file as UTF-8, for example with `iconv -f latin1 -t utf-8`."#,
};
