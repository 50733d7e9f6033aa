//! E0401: a function that calls itself.

use conv_lang::Code;

pub static RECURSIVE_FUNCTION: Code = Code {
    id: "E0401",
    name: "recursive-function",
    explanation: r#"## E0401: a function that calls itself

A function calls itself, directly or through other functions. conv forbids recursion so
that every program terminates; the whole call path is shown.

Fix: write the repetition with a `for` comprehension over a list."#,
};
