//! E0304: a required field is not given.

use conv_lang::Code;

pub static MISSING_FIELD: Code = Code {
    id: "E0304",
    name: "missing-field",
    explanation: r#"## E0304: a required field is not given

A record literal or block leaves out a field that has no default.

Example:

    environment staging {
      provider = local {}
      // `sites` has no default
    }

Fix: add the field. Fields with defaults may be left out."#,
};
