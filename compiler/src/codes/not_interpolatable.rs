//! E0311: a value that cannot be put in a string.

use conv_lang::Code;

pub static NOT_INTERPOLATABLE: Code = Code {
    id: "E0311",
    name: "not-interpolatable",
    explanation: r#"## E0311: a value that cannot be put in a string

`${...}` accepts strings, numbers, booleans, units, entity references and enum variants
without payload. Lists, maps, records and optionals have no single text form.

Fix: interpolate a field of the value, or join the pieces yourself."#,
};
