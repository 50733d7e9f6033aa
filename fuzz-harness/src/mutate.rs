//! Mutations of .conv files: generic ones (flip, delete, duplicate, splice) and ones that
//! aim at the shapes that used to crash or stall conv (deep chains of every construct,
//! huge numbers, odd characters, long lines).

use crate::rng::Rng;

/// A chain of `n` links of one construct, written without brackets where the construct
/// allows it.
fn chain(rng: &mut Rng, n: usize) -> String {
    let shapes: &[(&str, &str, &str)] = &[
        ("", "if a then 1 else ", "2"),
        ("", "- ", "x"),
        ("", "not ", "x"),
        ("a", " + a", ""),
        ("a", " * 2 - 1", ""),
        ("a", " and b or c", ""),
        ("x", ".y", ""),
        ("f", "()", ""),
        ("f", "(1)", ""),
        ("", "[", "1"),
        ("", "(", "1"),
        ("", "{ a = ", "1"),
        ("\"", "${\"", "\""),
        ("", "[for x in ", "xs"),
        ("", "if if ", "x"),
        ("", "x == ", "y"),
    ];
    let (head, link, tail) = rng.pick(shapes);
    let mut s = String::with_capacity(head.len() + link.len() * n + tail.len());
    s.push_str(head);
    for _ in 0..n {
        s.push_str(link);
    }
    s.push_str(tail);
    // Sometimes close what was opened, so the chain itself is well formed.
    if rng.chance(2) {
        let closer = match *link {
            "[" => "]",
            "(" => ")",
            "{ a = " => " }",
            "[for x in " => ": x]",
            _ => "",
        };
        s.push_str(&closer.repeat(n));
    }
    s
}

/// Declarations that each use the previous one: checking and evaluation go through all.
fn declaration_chain(rng: &mut Rng, n: usize) -> String {
    let shapes: &[&str] = &[
        "let a{i} = a{j} + 1\n",
        "let a{i} = [a{j}]\n",
        "let a{i} = [a{j}, a{j}]\n",
        "let a{i} = {{ v = a{j} }}\n",
        "type a{i} = List[a{j}]\n",
        "type a{i} = {{ v: a{j}? = none }}\n",
        "fn a{i}(x: Int) -> Int = a{j}(x) + 1\n",
        "let a{i} = \"${{a{j}}}\"\n",
        "service a{i} {{ depends_on = [a{j}] }}\n",
    ];
    let shape = rng.pick(shapes);
    let backward = rng.chance(2);
    let mut s = String::new();
    for k in 0..n {
        let i = if backward { n - k } else { k + 1 };
        s.push_str(
            &shape
                .replace("{i}", &i.to_string())
                .replace("{j}", &(i - 1).to_string())
                .replace("{{", "{")
                .replace("}}", "}"),
        );
    }
    s
}

const ODD: &[&str] = &[
    "\u{2028}",
    "\u{2029}",
    "\r",
    "\r\n",
    "\t",
    "\0",
    "\u{200b}",
    "\u{200d}",
    "\u{202e}",
    "\u{2066}",
    "\u{feff}",
    "\u{85}",
    "\u{b}",
    "\u{c}",
    "é",
    "e\u{301}",
    "😀",
    "\u{10ffff}",
    "שלום",
    "مرحبا",
    "\u{7f}",
    "\\",
    "\"",
    "${",
    "}",
    "//",
    "///",
    "\n",
    "'",
    "@",
    "#",
];

const NUMBERS: &[&str] = &[
    "99999999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616ms",
    "99999999999999d",
    "1.00000000000001ms",
    "0.0000001%",
    "100.0000001%",
    "1e9",
    "1_000_000_000Ti",
    "0x10",
    "1.5Gi",
    "-9223372036854775808",
    "340282366920938463463374607431768211456",
    "5min",
    "00000000001s",
    "1.",
    ".5",
];

/// A snippet aimed at a known weak spot.
fn snippet(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => {
            let n = rng.count(200_000);
            chain(rng, n)
        }
        1 => {
            let n = rng.count(5_000);
            declaration_chain(rng, n)
        }
        2 => rng.pick(NUMBERS).to_string(),
        3 => (0..rng.count(64)).map(|_| *rng.pick(ODD)).collect(),
        4 => "x".repeat(rng.count(1_000_000)),
        5 => {
            // Many distinct names in one record, list or call: lookups by name must not be linear.
            let (open, close) = *rng.pick(&[("{ ", " }"), ("[", "]"), ("f(", ")")]);
            let n = rng.count(100_000);
            let sep = if open == "{ " { " = 1, " } else { ", " };
            let mut s = String::from(open);
            for i in 0..n {
                s.push_str(&format!("f{i}{sep}"));
            }
            s.push_str(close);
            s
        }
        _ => {
            let word = *rng.pick(&["a, ", "1 + ", "\"s\", ", "{ a = 1 }, ", "x.y ", "// c\n"]);
            word.repeat(rng.count(100_000))
        }
    }
}

/// One input made from `base`, with a few mutations (`others` feed the splices).
pub fn mutate(rng: &mut Rng, base: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut data = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        apply(rng, &mut data, others);
    }
    data
}

fn apply(rng: &mut Rng, data: &mut Vec<u8>, others: &[Vec<u8>]) {
    let at = rng.below(data.len() + 1);
    match rng.below(10) {
        0 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] = rng.next_u64() as u8;
        }
        1 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] ^= 1 << rng.below(8);
        }
        2 => {
            let len = rng.count(data.len().saturating_sub(at).max(1));
            data.drain(at..(at + len).min(data.len()));
        }
        3 => {
            let len = rng.count(data.len().saturating_sub(at).max(1)).min(data.len() - at);
            let copy: Vec<u8> = data[at..at + len].to_vec();
            for _ in 0..rng.count(16) {
                data.splice(at..at, copy.iter().copied());
            }
        }
        4 | 5 => {
            let other = rng.pick(others);
            let from = rng.below(other.len() + 1);
            let len = rng.count(other.len().saturating_sub(from).max(1)).min(other.len() - from);
            data.splice(at..at, other[from..from + len].iter().copied());
        }
        6 => {
            // Join lines into one long line.
            for b in data.iter_mut().skip(at).take(rng.count(100_000)) {
                if *b == b'\n' {
                    *b = b' ';
                }
            }
        }
        _ => {
            let s = snippet(rng);
            // Often in place of an expression: after the next `=` from here.
            let at =
                if rng.chance(2) { data[at..].iter().position(|&b| b == b'=').map_or(at, |i| at + i + 1) } else { at };
            data.splice(at..at, s.into_bytes());
        }
    }
}
