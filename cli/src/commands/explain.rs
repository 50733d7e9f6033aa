//! `conv explain`: the long story behind a diagnostic code.

use super::{FAILED, OK};
use conv_cli::explain;

pub fn run(code: Option<&str>, list: bool) -> u8 {
    if list {
        for c in explain::all_codes() {
            println!("{}  {}", c.id, c.name);
        }
        return OK;
    }
    let Some(query) = code else { return FAILED };
    match explain::find(query) {
        Some(c) => {
            println!("{}", c.explanation.trim_end());
            OK
        }
        None => {
            eprintln!("error: unknown code `{query}`; `conv explain --list` shows every code");
            FAILED
        }
    }
}
