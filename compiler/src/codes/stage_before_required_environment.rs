//! E0504: a stage that runs before an environment it must follow.

use conv_lang::Code;

pub static STAGE_BEFORE_REQUIRED_ENVIRONMENT: Code = Code {
    id: "E0504",
    name: "stage-before-required-environment",
    explanation: r#"## E0504: a stage that runs before an environment it must follow

An environment lists others in `after`; a release's stages in it must come after the
release's stages in those environments.

Example: `production` has `after = [staging]`, but the release's first stage deploys to
production and its staging stage comes later.

Fix: reorder the stages, or change `after`."#,
};
