//! E0203: an import of a module that does not exist.

use conv_lang::Code;

pub static UNKNOWN_MODULE: Code = Code {
    id: "E0203",
    name: "unknown-module",
    explanation: r#"## E0203: an import of a module that does not exist

`import a.b` loads the file a/b.conv relative to the program root, or a standard-library
module when the path starts with `std`. No such module exists.

Example:

    import std.gate.{http_ok}   // the module is std.gates

Fix: correct the path. `conv check` on a single file sees only that file and the standard
library; check the directory to include the program's other modules."#,
};
