//! E0306: a literal outside the range of its type.

use conv_lang::Code;

pub static LITERAL_OUT_OF_RANGE: Code = Code {
    id: "E0306",
    name: "literal-out-of-range",
    explanation: r#"## E0306: a literal outside the range of its type

A literal is outside the values its type allows: a Percent outside 0%..100%.

Fix: write a value in range."#,
};
