//! E0105: a token where the grammar expects something else.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0105` prints.

use crate::diagnostic::Code;

pub static SYNTAX_ERROR: Code = Code {
    id: "E0105",
    name: "syntax-error",
    explanation: r#"## E0105: syntax error

The parser found a token where the grammar does not allow it, for example a
missing `=` between a field and its value, or a missing comma between list
elements. The message says what was expected.

The parser recovers at the next field or declaration, so each independent
mistake is reported once and the rest of the file is still checked.

Example:

    service api {
      version "1.4.2"      // expected `=`
    }

Fix: follow the grammar in lang/SPEC.md; fields are written `name = value`,
call arguments `name: value`, list elements are separated by commas."#,
};
