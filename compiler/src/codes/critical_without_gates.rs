//! W0501: a service deployed to a critical environment with no health gate.

use conv_lang::Code;

pub static CRITICAL_WITHOUT_GATES: Code = Code {
    id: "W0501",
    name: "critical-without-gates",
    explanation: r#"## W0501: a service deployed to a critical environment with no health gate

An environment marked `critical = true` (production) receives a service that has no
health gate, through a stage with no gates either: nothing would notice a bad version.

Fix: give the service gates (`gates = [http_ok(), max_error_rate(under: 1%)]`) or give the
stage gates."#,
};
