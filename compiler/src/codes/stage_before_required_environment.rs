//! E0504: a stage that runs before an environment it must follow.

use conv_lang::Code;

pub static STAGE_BEFORE_REQUIRED_ENVIRONMENT: Code = Code {
    id: "E0504",
    name: "stage-before-required-environment",
    explanation: r#"## E0504: a stage that runs before an environment it must follow

An environment lists others in `after`; a release that deploys to it must also deploy to
those environments, and its stages in it must come after its stages in them.

Examples: `production` has `after = [staging]`, but the release's first stage deploys to
production and its staging stage comes later; or the release has no staging stage at all, so
production would get a version staging never ran.

Fix: reorder the stages, add the missing stage, or change `after`."#,
};
