//! E0402: declarations whose values depend on each other.

use conv_lang::Code;

pub static DECLARATION_CYCLE: Code = Code {
    id: "E0402",
    name: "declaration-cycle",
    explanation: r#"## E0402: declarations whose values depend on each other

A `let`, a default or an entity field needs its own value to be computed, through a chain
of other declarations. The whole chain is shown.

Fix: break the chain by writing one of the values directly."#,
};
