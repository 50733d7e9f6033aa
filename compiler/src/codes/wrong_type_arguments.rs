//! E0312: a type with the wrong number of arguments.

use conv_lang::Code;

pub static WRONG_TYPE_ARGUMENTS: Code = Code {
    id: "E0312",
    name: "wrong-type-arguments",
    explanation: r#"## E0312: a type with the wrong number of arguments

`List` and `Map` take one type argument (`List[String]`, `Map[Duration]`); other types
take none.

Fix: write the type with the right number of arguments."#,
};
