//! E0302: an operator applied to types it does not accept.

use conv_lang::Code;

pub static INVALID_OPERANDS: Code = Code {
    id: "E0302",
    name: "invalid-operands",
    explanation: r#"## E0302: an operator applied to types it does not accept

Units combine only in ways that keep their meaning: `5m + 3s` is a Duration, `30s * 2` is
a Duration, but `5m + 3` (a bare number has no unit), `5m + 1%` (different units) and
`30s * 30s` are errors. Comparisons need two values of the same type.

Fix: give the number a unit (`3s`), or convert the value you meant."#,
};
