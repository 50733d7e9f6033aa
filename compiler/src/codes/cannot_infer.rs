//! E0309: a value whose type cannot be known.

use conv_lang::Code;

pub static CANNOT_INFER: Code = Code {
    id: "E0309",
    name: "cannot-infer",
    explanation: r#"## E0309: a value whose type cannot be known

Some values need an expected type: `[]`, `none`, a bare enum variant such as `rollback`,
an anonymous record `{ ... }` used as a map. With nothing to expect, conv cannot tell what
they are.

Fix: annotate the declaration (`let gates: List[Gate] = []`)."#,
};
