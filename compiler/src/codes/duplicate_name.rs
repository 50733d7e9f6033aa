//! E0202: two declarations with one name.

use conv_lang::Code;

pub static DUPLICATE_NAME: Code = Code {
    id: "E0202",
    name: "duplicate-name",
    explanation: r#"## E0202: two declarations with one name

Two declarations in one scope have the same name: two services called `api`, a `let` and
a `fn` with one name in a file, or an imported name that collides with a local one.
Entities are program-wide, so two files may not both declare `service api`.

Fix: rename one of them. The second label shows the first declaration."#,
};
