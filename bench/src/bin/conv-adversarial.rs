//! Generates a program of one adversarial shape, about BYTES long, for bench/adversarial.sh:
//!
//!     conv-adversarial SHAPE BYTES FILE
//!
//! Shapes: `long-line` (one record literal on a single line), `chains` (lines of operator
//! and `if ... else if` chains as long as E0107 allows), `many-decls` (small `let`s),
//! `huge-list` (one list, an element per line), `deep` (declarations nested 250 brackets
//! deep), `let-chain` (each `let` uses the one before), `errors` (a syntax error on every
//! line), `unknown-names` (a `let` per line using a name that does not exist, each a
//! `did you mean` among every name of the program), `tagged-records` (a `let` per line whose
//! value is a variant written without an expected type, looked up among the enums in scope).
//! Each must be checked in time linear in its size.

use std::fmt::Write as _;
use std::process::ExitCode;

fn generate(shape: &str, bytes: usize) -> Option<String> {
    let mut s = String::with_capacity(bytes + 4096);
    let mut i = 0usize;
    match shape {
        "long-line" => {
            s.push_str("let r = {");
            while s.len() < bytes {
                let _ = write!(s, " f{i} = {i},");
                i += 1;
            }
            s.push_str(" }\n");
        }
        "chains" => {
            while s.len() < bytes {
                if i.is_multiple_of(2) {
                    let _ = writeln!(s, "let c{i} = 1{}", " + 1".repeat(250));
                } else {
                    let _ = writeln!(s, "let c{i} = {}0", "if true then 1 else ".repeat(120));
                }
                i += 1;
            }
        }
        "many-decls" => {
            while s.len() < bytes {
                let _ = writeln!(s, "let v{i} = {i}");
                i += 1;
            }
        }
        "huge-list" => {
            s.push_str("let xs = [\n");
            while s.len() < bytes {
                let _ = writeln!(s, "  {i},");
                i += 1;
            }
            s.push_str("]\n");
        }
        "deep" => {
            while s.len() < bytes {
                let _ = writeln!(s, "let d{i} = {}1{}", "[".repeat(250), "]".repeat(250));
                i += 1;
            }
        }
        "let-chain" => {
            s.push_str("let a0 = 1\n");
            while s.len() < bytes {
                i += 1;
                let _ = writeln!(s, "let a{i} = a{} + 1", i - 1);
            }
        }
        "errors" => {
            while s.len() < bytes {
                let _ = writeln!(s, "let e{i} = = {i}");
                i += 1;
            }
        }
        "unknown-names" => {
            while s.len() < bytes {
                let _ = writeln!(s, "let u{i}: Int = nope{i}");
                i += 1;
            }
        }
        "tagged-records" => {
            while s.len() < bytes {
                let _ = writeln!(s, "let g{i} = latency {{ quantile = 99%, under = 1s }}");
                i += 1;
            }
        }
        _ => return None,
    }
    Some(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [shape, bytes, file] = args.as_slice() else {
        eprintln!("usage: conv-adversarial SHAPE BYTES FILE");
        return ExitCode::from(2);
    };
    let Ok(bytes) = bytes.parse::<usize>() else {
        eprintln!("BYTES must be a number");
        return ExitCode::from(2);
    };
    let Some(text) = generate(shape, bytes) else {
        eprintln!("unknown shape {shape}");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::write(file, text) {
        eprintln!("{file}: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
