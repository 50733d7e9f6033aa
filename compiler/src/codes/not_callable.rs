//! E0308: a call of something that is not a function.

use conv_lang::Code;

pub static NOT_CALLABLE: Code = Code {
    id: "E0308",
    name: "not-callable",
    explanation: r#"## E0308: a call of something that is not a function

Only functions (templates) can be called, and functions are not values: they cannot be
stored in a `let`, a field or a list.

Fix: call the function with its arguments, or remove the parentheses."#,
};
