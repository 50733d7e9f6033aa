//! E0513: a release with no stage.

use conv_lang::Code;

pub static RELEASE_WITHOUT_STAGES: Code = Code {
    id: "E0513",
    name: "release-without-stages",
    explanation: r#"## E0513: a release with no stage

A release's strategy has no stage, so it would never deploy anything.

Fix: add stages, or use a template such as `std.rollout.progressive`."#,
};
