//! E0404: a computed value outside its type's range.

use conv_lang::Code;

pub static VALUE_OUT_OF_RANGE: Code = Code {
    id: "E0404",
    name: "value-out-of-range",
    explanation: r#"## E0404: a computed value outside its type's range

An operation produces a value its type cannot hold: a negative Duration or ByteSize
(`30s - 1m`), or a Percent above 100% (`60% + 50%`).

Fix: change the operands so the result stays in range."#,
};
