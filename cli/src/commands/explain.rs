//! `conv explain`: the long story behind a diagnostic code.

use super::{FAILED, OK};
use conv_cli::explain;
use serde_json::json;

pub fn run(code: Option<&str>, list: bool, as_json: bool) -> u8 {
    if list {
        if as_json {
            let codes: Vec<_> = explain::all_codes().iter().map(|c| json!({ "code": c.id, "name": c.name })).collect();
            super::runtime::write_stdout(&serde_json::to_string_pretty(&codes).unwrap_or_default());
        } else {
            for c in explain::all_codes() {
                println!("{}  {}", c.id, c.name);
            }
        }
        return OK;
    }
    let Some(query) = code else { return FAILED };
    match explain::find(query) {
        Some(c) if as_json => {
            let doc = json!({ "code": c.id, "name": c.name, "explanation": c.explanation.trim_end() });
            super::runtime::write_stdout(&serde_json::to_string_pretty(&doc).unwrap_or_default());
            OK
        }
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
