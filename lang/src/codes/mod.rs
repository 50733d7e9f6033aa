//! The front end's diagnostic codes, one module each with its explanation.

mod file_too_large;
mod invalid_escape;
mod invalid_number;
mod not_utf8;
mod syntax_error;
mod too_deeply_nested;
mod unclosed_delimiter;
mod unexpected_character;
mod unterminated_string;

pub use file_too_large::FILE_TOO_LARGE;
pub use invalid_escape::INVALID_ESCAPE;
pub use invalid_number::INVALID_NUMBER;
pub use not_utf8::NOT_UTF8;
pub use syntax_error::SYNTAX_ERROR;
pub use too_deeply_nested::TOO_DEEPLY_NESTED;
pub use unclosed_delimiter::UNCLOSED_DELIMITER;
pub use unexpected_character::UNEXPECTED_CHARACTER;
pub use unterminated_string::UNTERMINATED_STRING;

use crate::diagnostic::Code;

/// Every code the front end can emit, in order.
pub static ALL: &[&Code] = &[
    &UNEXPECTED_CHARACTER,
    &UNTERMINATED_STRING,
    &INVALID_ESCAPE,
    &INVALID_NUMBER,
    &SYNTAX_ERROR,
    &UNCLOSED_DELIMITER,
    &TOO_DEEPLY_NESTED,
    &NOT_UTF8,
    &FILE_TOO_LARGE,
];
