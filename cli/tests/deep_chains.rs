//! Chains a million long that use no brackets (issue 11's shapes: `if ... else if ...`,
//! `- - - x`, `not not x`, `!!!x`, `a + a + ...`, `x.y.z...`, `let`s each using the one before,
//! and brackets too), each a few MB: the real `conv check`, `conv eval` (which frees what it
//! built) and `conv fmt --check` exit with a status and a coded diagnostic, never with a
//! signal (a stack overflow aborts the process). The same inputs are checked and freed on a
//! thread with the default stack of a spawned thread in compiler/tests/depth.rs.

use std::process::Command;

const N: usize = 1_000_000;

fn runs_cleanly(name: &str, text: String) {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{name}.conv");
    std::fs::write(dir.path().join(&file), text).unwrap();
    for args in [vec!["check", file.as_str()], vec!["eval", file.as_str()], vec!["fmt", "--check", file.as_str()]] {
        let out = Command::new(env!("CARGO_BIN_EXE_conv")).args(&args).current_dir(dir.path()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail = &stderr[stderr.len().saturating_sub(2000)..];
        match out.status.code() {
            Some(0) => {}
            Some(1) => assert!(
                stderr.contains("[E0"),
                "conv {} on {name}: exit 1 without a coded diagnostic:\n{tail}",
                args.join(" ")
            ),
            other => panic!("conv {} on {name}: {other:?} ({}):\n{tail}", args.join(" "), out.status),
        }
    }
}

#[test]
fn else_if_chain() {
    // 17 bytes a link: 200,000 links make 3.4 MB, far past any limit.
    runs_cleanly("else_if", format!("let y = {}0\n", "if true then 1 else ".repeat(N / 5)));
}

#[test]
fn unary_minus_chain() {
    runs_cleanly("minus", format!("let y = {}1\n", "- ".repeat(N)));
}

#[test]
fn not_chain() {
    runs_cleanly("not", format!("let y = {}true\n", "not ".repeat(N)));
}

#[test]
fn bang_chain() {
    runs_cleanly("bang", format!("let y = {}true\n", "!".repeat(N)));
}

#[test]
fn binary_chain() {
    runs_cleanly("plus", format!("let x = 1\nlet y = x{}\n", " + x".repeat(N)));
}

#[test]
fn field_chain() {
    runs_cleanly("field", format!("let y = x{}\n", ".y".repeat(N)));
}

#[test]
fn mixed_chain() {
    runs_cleanly("mixed", format!("let x = 1\nlet y = x{}\n", " * -x.y + not x".repeat(N / 4)));
}

#[test]
fn bracket_chain() {
    runs_cleanly("parens", format!("let y = {}1{}\n", "(".repeat(N), ")".repeat(N)));
}

#[test]
fn let_chain() {
    let mut text = String::from("let a0 = 1\n");
    for i in 1..20_000 {
        text.push_str(&format!("let a{i} = [a{}]\n", i - 1));
    }
    runs_cleanly("lets", text);
}
