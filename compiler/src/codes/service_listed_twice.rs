//! E0512: a release that names a service twice.

use conv_lang::Code;

pub static SERVICE_LISTED_TWICE: Code = Code {
    id: "E0512",
    name: "service-listed-twice",
    explanation: r#"## E0512: a release that names a service twice

A release's `services` names the same service twice.

Fix: list it once."#,
};
