//! E0204: an imported name the module does not declare.

use conv_lang::Code;

pub static UNKNOWN_IMPORT: Code = Code {
    id: "E0204",
    name: "unknown-import",
    explanation: r#"## E0204: an imported name the module does not declare

`import m.{name}` names something module `m` does not declare.

Example:

    import std.gates.{latency_p90}

Fix: use one of the names the module declares; the message suggests the closest one.
Entities are never imported: they are visible everywhere."#,
};
