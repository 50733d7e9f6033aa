//! E0514: a failure budget that lets every site fail.

use conv_lang::Code;

pub static FAILURE_BUDGET_TOO_LARGE: Code = Code {
    id: "E0514",
    name: "failure-budget-too-large",
    explanation: r#"## E0514: a failure budget that lets every site fail

`max_failures` is the share of a stage's sites that may fail before the stage fails. A
budget that allows every site to fail means the stage can never fail, and no rollback
would ever happen.

Fix: allow fewer failures than there are sites."#,
};
