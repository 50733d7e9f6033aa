//! The registry of every diagnostic code, for `conv explain` and the docs.

use conv_lang::Code;

/// Every code any phase can emit, in order.
pub fn all_codes() -> Vec<&'static Code> {
    let mut codes: Vec<&'static Code> = conv_lang::codes::ALL.to_vec();
    codes.extend(conv_compiler::codes::ALL.iter().copied());
    codes.sort_by_key(|c| c.id);
    codes
}

/// Finds a code by its id (`E0105`, any case) or its name (`syntax-error`).
pub fn find(query: &str) -> Option<&'static Code> {
    all_codes().into_iter().find(|c| c.id.eq_ignore_ascii_case(query) || c.name == query)
}
