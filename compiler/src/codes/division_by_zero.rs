//! E0403: a division by zero.

use conv_lang::Code;

pub static DIVISION_BY_ZERO: Code = Code {
    id: "E0403",
    name: "division-by-zero",
    explanation: r#"## E0403: a division by zero

A division's right operand evaluates to zero.

Fix: divide by a value that cannot be zero."#,
};
