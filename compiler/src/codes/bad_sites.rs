//! E0508: an environment with no sites or a repeated site.

use conv_lang::Code;

pub static BAD_SITES: Code = Code {
    id: "E0508",
    name: "bad-sites",
    explanation: r#"## E0508: an environment with no sites or a repeated site

An environment needs at least one site, and each site name once.

Fix: list each site once."#,
};
