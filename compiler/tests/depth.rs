//! Programs whose declarations use each other in long chains are checked without exhausting
//! the stack: past the limits they get E0406, and the rest of the program is still checked.
//! Each case runs on a thread with the default stack size of a spawned thread.

use conv_compiler::{Sources, check};

fn codes_of(text: String) -> Vec<&'static str> {
    std::thread::spawn(move || {
        let mut sources = Sources::new();
        sources.add("main.conv", text);
        let mut codes: Vec<&'static str> = check(&sources).diagnostics.iter().map(|d| d.code.id).collect();
        codes.dedup();
        codes
    })
    .join()
    .expect("checking does not panic")
}

/// `let`s, each declared before the one it uses, so that checking recurses through all.
fn backward_chain(n: usize, wrap: &str) -> String {
    let mut text = String::new();
    for i in (1..=n).rev() {
        text.push_str(&format!("let a{i} = {}\n", wrap.replace('X', &format!("a{}", i - 1))));
    }
    text.push_str("let a0 = 1\nlet broken: Int = \"s\"\n");
    text
}

fn forward_chain(n: usize, wrap: &str) -> String {
    let mut text = String::from("let a0 = 1\n");
    for i in 1..=n {
        text.push_str(&format!("let a{i} = {}\n", wrap.replace('X', &format!("a{}", i - 1))));
    }
    text.push_str("let broken: Int = \"s\"\n");
    text
}

#[test]
fn long_let_chains_are_refused_and_the_rest_is_checked() {
    for text in [
        backward_chain(5_000, "X + 1"),
        backward_chain(5_000, "[X]"),
        forward_chain(5_000, "[X]"),
        forward_chain(5_000, "{ a = X }"),
        forward_chain(3_000, "{ a = X, b = X }"),
    ] {
        let codes = codes_of(text);
        assert!(codes.contains(&"E0406"), "{codes:?}");
        assert!(codes.contains(&"E0301"), "the rest is checked: {codes:?}");
    }
}

#[test]
fn short_chains_are_fine() {
    assert_eq!(codes_of(backward_chain(100, "X + 1")), ["E0301"]);
    assert_eq!(codes_of(forward_chain(100, "[X]")), ["E0301"]);
}

#[test]
fn long_alias_chains_are_refused() {
    let mut text = String::new();
    for i in (1..=5_000).rev() {
        text.push_str(&format!("type T{i} = List[T{}]\n", i - 1));
    }
    text.push_str("type T0 = Int\nlet x: T5000 = []\nlet broken: Int = \"s\"\n");
    let codes = codes_of(text);
    assert!(codes.contains(&"E0406"), "{codes:?}");
    assert!(codes.contains(&"E0301"), "{codes:?}");
}

#[test]
fn functions_that_wrap_their_argument_through_a_chain_are_refused() {
    let mut text = String::from("fn wrap(x: Int) -> List[Int] = [x]\nlet a0 = 1\n");
    for i in 1..=3_000 {
        text.push_str(&format!("let a{i} = [for y in [a{}]: y]\n", i - 1));
    }
    text.push_str("let broken: Int = \"s\"\n");
    let codes = codes_of(text);
    assert!(codes.contains(&"E0406"), "{codes:?}");
}

/// Chains a million long without brackets (and with them), a few MB each: refused with
/// E0107, the rest of the file still checked, and everything built for them freed, all on
/// the small stack of a spawned thread (`codes_of` drops the result there). The real binary
/// runs the same shapes in cli/tests/deep_chains.rs.
fn million_long(shape: &str) -> String {
    const N: usize = 1_000_000;
    let body = match shape {
        "else-if" => format!("{}0", "if true then 1 else ".repeat(N / 5)),
        "minus" => format!("{}1", "- ".repeat(N)),
        "not" => format!("{}true", "not ".repeat(N)),
        "plus" => format!("x{}", " + x".repeat(N)),
        "field" => format!("x{}", ".y".repeat(N)),
        "mixed" => format!("x{}", " * -x.y + not x".repeat(N / 4)),
        "parens" => format!("{}1{}", "(".repeat(N), ")".repeat(N)),
        _ => unreachable!(),
    };
    format!("let x = 1\nlet y = {body}\nlet broken: Int = \"s\"\n")
}

#[test]
fn million_long_unary_chains_are_refused_and_freed_on_a_small_stack() {
    for shape in ["minus", "not", "parens"] {
        let codes = codes_of(million_long(shape));
        assert_eq!(codes, ["E0107", "E0301"], "{shape}");
    }
}

#[test]
fn million_long_binary_and_field_chains_are_refused_and_freed_on_a_small_stack() {
    for shape in ["plus", "field", "mixed"] {
        let codes = codes_of(million_long(shape));
        assert_eq!(codes, ["E0107", "E0301"], "{shape}");
    }
}

#[test]
fn million_long_else_if_chains_are_refused_and_freed_on_a_small_stack() {
    let codes = codes_of(million_long("else-if"));
    assert_eq!(codes, ["E0107", "E0301"]);
}
