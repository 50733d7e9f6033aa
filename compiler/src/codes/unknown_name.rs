//! E0201: a name that nothing declares.

use conv_lang::Code;

pub static UNKNOWN_NAME: Code = Code {
    id: "E0201",
    name: "unknown-name",
    explanation: r#"## E0201: a name that nothing declares

A name is used that is not declared in this file, imported, a declared entity, or part of
the prelude. The message suggests the closest name in scope.

Example:

    service api {
      depends_on = [db_prxy]   // the service is `db_proxy`
    }

Fix: correct the spelling, declare the name, or import it (`import std.gates.{http_ok}`).
A name from another file of the program is imported with `import file.{name}`; entities
(environments, services, releases) are visible everywhere without an import. In a
command's argv, `{port}` (without `$`) is the runtime placeholder, not `${port}`."#,
};
