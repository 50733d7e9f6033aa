//! E0501: services that depend on each other.

use conv_lang::Code;

pub static SERVICE_DEPENDENCY_CYCLE: Code = Code {
    id: "E0501",
    name: "service-dependency-cycle",
    explanation: r#"## E0501: services that depend on each other

`depends_on` orders services: a dependency starts first and stops last. Services that
depend on each other, directly or through others, cannot be ordered. The whole cycle is
shown.

Fix: remove one edge of the cycle."#,
};
