//! E0208: modules that import each other.

use conv_lang::Code;

pub static IMPORT_CYCLE: Code = Code {
    id: "E0208",
    name: "import-cycle",
    explanation: r#"## E0208: modules that import each other

A module imports a module that, directly or through others, imports it back. The whole
cycle is shown. Import cycles make the order of declarations ambiguous.

Fix: move the shared declarations into a module of their own that both import."#,
};
