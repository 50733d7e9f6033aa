//! E0505: a dependency that no stage deploys first.

use conv_lang::Code;

pub static DEPENDENCY_NOT_ORDERED: Code = Code {
    id: "E0505",
    name: "dependency-not-ordered",
    explanation: r#"## E0505: a dependency that no stage deploys first

A service depends on another that is not in its release and is not deployed, by another
release, to the environments this release deploys to. Its dependency might not be there
when it starts.

Fix: put both services in one release, or deploy the dependency's release to the same
environments."#,
};
