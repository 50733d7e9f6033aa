//! E0405: an integer too large.

use conv_lang::Code;

pub static INTEGER_OVERFLOW: Code = Code {
    id: "E0405",
    name: "integer-overflow",
    explanation: r#"## E0405: an integer too large

An operation on Int, Duration or ByteSize overflows 64 bits.

Fix: use smaller values."#,
};
