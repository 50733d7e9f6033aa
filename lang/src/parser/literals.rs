//! Literal values: numbers with units, and string escapes.

use crate::ast::{ExprKind, LitValue, Literal, Name};
use crate::token::Token;
use chumsky::input::ValueInput;
use chumsky::prelude::*;

use super::grammar::{LabelError, ParserExtra};

/// Custom errors with this prefix become E0104 (invalid number) rather than syntax errors.
pub(crate) const INVALID_NUMBER_PREFIX: &str = "invalid number: ";

/// Why a number token cannot be read, if it cannot: checked by the lexer, which reports it.
pub(crate) fn number_problem(tok: &Token<'_>) -> Option<String> {
    let result = match tok {
        Token::Int(t) => int(t),
        Token::Float(t) => float(t),
        Token::Duration(t) => duration(t),
        Token::Bytes(t) => bytes(t),
        Token::Percent(t) => percent(t),
        _ => return None,
    };
    result.err()
}

pub(crate) fn literal<'t, 's: 't, I, E>() -> impl Parser<'t, I, ExprKind, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    any()
        .filter(|tok: &Token<'s>| tok.is_number() || matches!(tok, Token::True | Token::False | Token::None))
        .map(|tok: Token<'s>| {
            let (value, text) = match tok {
                Token::True => (Ok(LitValue::Bool(true)), "true"),
                Token::False => (Ok(LitValue::Bool(false)), "false"),
                Token::None => (Ok(LitValue::None), "none"),
                Token::Int(t) => (int(t), t),
                Token::Float(t) => (float(t), t),
                Token::Duration(t) => (duration(t), t),
                Token::Bytes(t) => (bytes(t), t),
                Token::Percent(t) => (percent(t), t),
                // Already reported by the lexer: stand in as an error node.
                Token::BadNumber(_) => return ExprKind::Error,
                _ => return ExprKind::Error,
            };
            // The lexer has already turned unreadable numbers into `BadNumber`.
            match value {
                Ok(value) => ExprKind::Literal(Literal { value, text: Name::new(text) }),
                Err(_) => ExprKind::Error,
            }
        })
        .labelled("a literal")
}

/// The number without its `_` separators (borrowed when it has none, as most do).
fn digits(t: &str) -> std::borrow::Cow<'_, str> {
    if t.contains('_') { t.chars().filter(|c| *c != '_').collect::<String>().into() } else { t.into() }
}

fn int(t: &str) -> Result<LitValue, String> {
    digits(t)
        .parse::<i64>()
        .map(LitValue::Int)
        .map_err(|_| "is too large (the largest Int is 9223372036854775807)".into())
}

fn float(t: &str) -> Result<LitValue, String> {
    digits(t).parse::<f64>().map(LitValue::Float).map_err(|_| "is not a number".into())
}

/// Splits `1.5s` into 1.5 and `s`.
fn number_and_unit(t: &str) -> (std::borrow::Cow<'_, str>, &str) {
    let cut = t.find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.')).unwrap_or(t.len());
    (digits(&t[..cut]), &t[cut..])
}

/// Scales `number` by `factor` and insists on a whole result, in exact decimal arithmetic.
fn whole(number: &str, factor: u64, unit_name: &str) -> Result<u64, String> {
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let too_large = || format!("is too large for a {unit_name}");
    let whole_part: u64 = int_part.parse().map_err(|_| too_large())?;
    let mut total = whole_part.checked_mul(factor).ok_or_else(too_large)?;
    let mut scale = factor as u128;
    let mut frac_value: u128 = 0;
    let mut denominator: u128 = 1;
    for c in frac_part.chars() {
        frac_value = frac_value * 10 + c.to_digit(10).unwrap_or(0) as u128;
        denominator *= 10;
        if denominator > 1_000_000_000_000_000_000 {
            return Err(format!("has more digits than a {unit_name} can hold"));
        }
    }
    scale *= frac_value;
    if !scale.is_multiple_of(denominator) {
        return Err(format!("is not a whole number of {unit_name} units"));
    }
    total = total.checked_add((scale / denominator) as u64).ok_or_else(too_large)?;
    Ok(total)
}

fn duration(t: &str) -> Result<LitValue, String> {
    let (number, unit) = number_and_unit(t);
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => 86_400_000,
    };
    whole(&number, factor, "millisecond").map(LitValue::Duration)
}

fn bytes(t: &str) -> Result<LitValue, String> {
    let (number, unit) = number_and_unit(t);
    let factor = match unit {
        "B" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        _ => 1 << 40,
    };
    whole(&number, factor, "byte").map(LitValue::Bytes)
}

fn percent(t: &str) -> Result<LitValue, String> {
    let (number, _) = number_and_unit(t);
    number.parse::<f64>().map(LitValue::Percent).map_err(|_| "is not a number".into())
}

/// Decodes the escapes the lexer accepted; an invalid one was reported there and is kept as written.
pub fn unescape(raw: &str) -> Name {
    if !raw.contains('\\') {
        return Name::new(raw);
    }
    let mut out = Name::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other @ ('\\' | '"' | '$')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The inverse of `unescape`, for the formatter.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out
}
