//! E0307: a call with missing, unknown or extra arguments.

use conv_lang::Code;

pub static WRONG_ARGUMENTS: Code = Code {
    id: "E0307",
    name: "wrong-arguments",
    explanation: r#"## E0307: a call with missing, unknown or extra arguments

A template call gives an argument the function does not declare, repeats one, gives too
many positional arguments, or leaves out a parameter without a default.

Example:

    latency_p99(window: 30s)   // `under` has no default

Fix: follow the signature; hover in an editor shows it."#,
};
