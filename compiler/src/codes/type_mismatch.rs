//! E0301: a value of the wrong type.

use conv_lang::Code;

pub static TYPE_MISMATCH: Code = Code {
    id: "E0301",
    name: "type-mismatch",
    explanation: r#"## E0301: a value of the wrong type

The value's type is not the one the context expects. The message names both; a second
label shows where the expectation comes from when it is elsewhere (a field of a schema, a
parameter of a template).

Example:

    fn latency_p99(under: Duration, window: Duration = 5m) -> Gate = ...
    let g = latency_p99(under: 250ms, window: 1%)   // expected Duration, found Percent

Fix: write a value of the expected type; units are part of the type (`30s`, not `30`)."#,
};
