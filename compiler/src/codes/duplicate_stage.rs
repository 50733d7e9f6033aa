//! E0511: two stages of a release with one name.

use conv_lang::Code;

pub static DUPLICATE_STAGE: Code = Code {
    id: "E0511",
    name: "duplicate-stage",
    explanation: r#"## E0511: two stages of a release with one name

Stage names address the stages in plans, approvals and the journal
(`conv approve storefront canary`), so they must be unique within a release.

Fix: rename one of the stages."#,
};
