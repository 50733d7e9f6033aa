//! E0303: a field the record type does not have.

use conv_lang::Code;

pub static UNKNOWN_FIELD: Code = Code {
    id: "E0303",
    name: "unknown-field",
    explanation: r#"## E0303: a field the record type does not have

A record literal, a block or a field access names a field its type does not declare.

Example:

    service api {
      replica = 3   // the field is `replicas`
    }

Fix: use a declared field; the message suggests the closest one. `conv explain` of the
schema types lives in std.prelude (EnvironmentSpec, ServiceSpec, ReleaseSpec)."#,
};
