//! E0313: a nested block where its type has no list for it.

use conv_lang::Code;

pub static INVALID_NESTED_BLOCK: Code = Code {
    id: "E0313",
    name: "invalid-nested-block",
    explanation: r#"## E0313: a nested block where its type has no list for it

A nested block `kind name { ... }` adds an element to the list field `kinds` of the
enclosing record (for example `stage canary { ... }` inside `rollout { ... }` adds to
`stages`). The enclosing type has no such list field.

Fix: use a nested block only where the schema has the list, or write the field directly."#,
};
