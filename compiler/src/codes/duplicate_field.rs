//! E0305: a field or key given twice.

use conv_lang::Code;

pub static DUPLICATE_FIELD: Code = Code {
    id: "E0305",
    name: "duplicate-field",
    explanation: r#"## E0305: a field or key given twice

A record literal, block or map literal gives the same field or key twice. Only one value
can win, so conv refuses to guess.

Fix: remove one of them."#,
};
