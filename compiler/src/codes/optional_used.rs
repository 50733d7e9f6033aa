//! E0310: an optional value used where a value is needed.

use conv_lang::Code;

pub static OPTIONAL_USED: Code = Code {
    id: "E0310",
    name: "optional-used",
    explanation: r#"## E0310: an optional value used where a value is needed

A value of type `T?` may be `none`, so it cannot be used as a `T` directly.

Fix: test it first: `if x != none then x else default`."#,
};
