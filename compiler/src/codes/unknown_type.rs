//! E0314: a type name that nothing declares.

use conv_lang::Code;

pub static UNKNOWN_TYPE: Code = Code {
    id: "E0314",
    name: "unknown-type",
    explanation: r#"## E0314: a type name that nothing declares

A type annotation names a type that is neither built in (Int, Float, Bool, String,
Duration, ByteSize, Percent, List, Map, Environment, Service, Release) nor declared with
`type` or `enum` in scope.

Fix: correct the name or import the type."#,
};
