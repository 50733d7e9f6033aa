//! The tokens of .conv, recognised by a logos-generated lexer.
//!
//! Strings are not lexed here: `"` hands control to the string scanner in `lexer.rs`,
//! because interpolation (`${expr}`) nests arbitrary tokens inside a string.

use logos::Logos;
use std::fmt;

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'src> {
    #[regex(r"///[^\n]*", priority = 5, allow_greedy = true)]
    DocComment(&'src str),
    #[regex(r"//[^\n]*", priority = 4, allow_greedy = true)]
    Comment(&'src str),

    #[token("import")]
    Import,
    #[token("fn")]
    Fn,
    #[token("type")]
    Type,
    #[token("enum")]
    Enum,
    #[token("let")]
    Let,
    #[token("environment")]
    Environment,
    #[token("service")]
    Service,
    #[token("release")]
    Release,
    #[token("if")]
    If,
    #[token("then")]
    Then,
    #[token("else")]
    Else,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("not")]
    Not,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("none")]
    None,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'src str),
    #[regex(r"[0-9][0-9_]*", priority = 3)]
    Int(&'src str),
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*", priority = 3)]
    Float(&'src str),
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?(ms|s|m|h|d)", priority = 10)]
    Duration(&'src str),
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?(B|Ki|Mi|Gi|Ti)", priority = 10)]
    Bytes(&'src str),
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?%", priority = 10)]
    Percent(&'src str),
    /// A number glued to an unknown suffix, such as `5min`: reported, never parsed as two tokens.
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?[A-Za-z_][A-Za-z0-9_]*", priority = 1)]
    BadNumber(&'src str),

    /// Only seen by the driver, which scans the string itself.
    #[token("\"")]
    Quote,
    /// Produced by the string scanner, never by logos.
    StrStart,
    StrText(&'src str),
    InterpOpen,
    InterpClose,
    StrEnd,

    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("=")]
    Eq,
    #[token(".")]
    Dot,
    #[token("->")]
    Arrow,
    #[token("?")]
    Question,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
}

/// Every reserved word, in the order the grammar lists them.
pub const KEYWORDS: &[&str] = &[
    "import",
    "fn",
    "type",
    "enum",
    "let",
    "environment",
    "service",
    "release",
    "if",
    "then",
    "else",
    "for",
    "in",
    "and",
    "or",
    "not",
    "true",
    "false",
    "none",
];

impl Token<'_> {
    /// A number of any kind: an integer, a float, a duration, a size, a percentage, or one
    /// that did not lex as any of them.
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Token::Int(_)
                | Token::Float(_)
                | Token::Duration(_)
                | Token::Bytes(_)
                | Token::Percent(_)
                | Token::BadNumber(_)
        )
    }

    /// Whether `word` is, whole, a keyword that starts a declaration ([`Token::starts_declaration`]).
    pub fn is_declaration_keyword(word: &[u8]) -> bool {
        let Ok(word) = std::str::from_utf8(word) else { return false };
        let mut tokens = Token::lexer(word);
        matches!(tokens.next(), Some(Ok(token)) if token.starts_declaration()) && tokens.next().is_none()
    }

    /// Keywords that may only begin a top-level declaration; the parser resynchronises on them.
    pub fn starts_declaration(&self) -> bool {
        matches!(
            self,
            Token::Import
                | Token::Fn
                | Token::Type
                | Token::Enum
                | Token::Let
                | Token::Environment
                | Token::Service
                | Token::Release
        )
    }

    pub fn is_keyword(&self) -> bool {
        self.starts_declaration()
            || matches!(
                self,
                Token::If
                    | Token::Then
                    | Token::Else
                    | Token::For
                    | Token::In
                    | Token::And
                    | Token::Or
                    | Token::Not
                    | Token::True
                    | Token::False
                    | Token::None
            )
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Token::DocComment(_) => "doc comment",
            Token::Comment(_) => "comment",
            Token::Import => "`import`",
            Token::Fn => "`fn`",
            Token::Type => "`type`",
            Token::Enum => "`enum`",
            Token::Let => "`let`",
            Token::Environment => "`environment`",
            Token::Service => "`service`",
            Token::Release => "`release`",
            Token::If => "`if`",
            Token::Then => "`then`",
            Token::Else => "`else`",
            Token::For => "`for`",
            Token::In => "`in`",
            Token::And => "`and`",
            Token::Or => "`or`",
            Token::Not => "`not`",
            Token::True => "`true`",
            Token::False => "`false`",
            Token::None => "`none`",
            Token::Ident(name) => return write!(f, "`{name}`"),
            Token::Int(t)
            | Token::Float(t)
            | Token::Duration(t)
            | Token::Bytes(t)
            | Token::Percent(t)
            | Token::BadNumber(t) => return write!(f, "`{t}`"),
            Token::Quote | Token::StrStart => "string",
            Token::StrText(_) => "string text",
            Token::InterpOpen => "`${`",
            Token::InterpClose => "`}`",
            Token::StrEnd => "end of string",
            Token::LBrace => "`{`",
            Token::RBrace => "`}`",
            Token::LBracket => "`[`",
            Token::RBracket => "`]`",
            Token::LParen => "`(`",
            Token::RParen => "`)`",
            Token::Comma => "`,`",
            Token::Colon => "`:`",
            Token::Eq => "`=`",
            Token::Dot => "`.`",
            Token::Arrow => "`->`",
            Token::Question => "`?`",
            Token::Plus => "`+`",
            Token::Minus => "`-`",
            Token::Star => "`*`",
            Token::Slash => "`/`",
            Token::EqEq => "`==`",
            Token::NotEq => "`!=`",
            Token::Lt => "`<`",
            Token::Le => "`<=`",
            Token::Gt => "`>`",
            Token::Ge => "`>=`",
        };
        f.write_str(s)
    }
}
