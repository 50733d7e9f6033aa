//! E0503: a stage that sends less than an earlier one.

use conv_lang::Code;

pub static STAGE_FRACTION_DECREASES: Code = Code {
    id: "E0503",
    name: "stage-fraction-decreases",
    explanation: r#"## E0503: a stage that sends less than an earlier one

Within a release, the stages that deploy to one environment must not decrease their
fraction: a stage at 10% after one at 20% would take instances back without a rollback.

Example:

    stage canary_1  { env = production, fraction = 20% }
    stage canary_10 { env = production, fraction = 10% }

Fix: order the stages by increasing fraction."#,
};
