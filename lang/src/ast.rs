//! The syntax tree: what the parser builds and the formatter prints.
//!
//! Every node carries its byte span. Nodes that failed to parse become `Error` nodes so
//! that later phases can skip them without reporting again.

use crate::span::Span;
use serde::Serialize;

/// A name or a short literal text as written in the source.
pub type Name = compact_str::CompactString;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceFile {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Ident {
    /// Inline, without an allocation, up to 24 bytes: nearly every name.
    pub name: Name,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    /// The `///` lines just above, joined; attached after parsing.
    pub doc: Option<String>,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ItemKind {
    Import(Import),
    Entity(Entity),
    Fn(FnDecl),
    Type(TypeDecl),
    Enum(EnumDecl),
    Let(LetDecl),
}

/// `import std.gates.{latency_p99, http_ok}` or `import teams.gates`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Import {
    pub path: Vec<Ident>,
    /// The names brought into scope; `None` imports the module under its last path segment.
    pub names: Option<Vec<Ident>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Environment,
    Service,
    Release,
}

impl EntityKind {
    pub fn keyword(self) -> &'static str {
        match self {
            EntityKind::Environment => "environment",
            EntityKind::Service => "service",
            EntityKind::Release => "release",
        }
    }
}

/// `service api { ... }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub name: Ident,
    pub body: Block,
}

/// The braces of an entity, a nested block or a record literal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Block {
    pub entries: Vec<Entry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub doc: Option<String>,
    pub kind: EntryKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum EntryKind {
    /// `name = value`, or `"key" = value` in a map literal.
    Field { key: Key, value: Expr },
    /// `stage canary { ... }`
    Nested { kind: Ident, name: Ident, body: Block },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Key {
    Name(Ident),
    Str { value: Name, span: Span },
}

impl Key {
    pub fn text(&self) -> &str {
        match self {
            Key::Name(id) => &id.name,
            Key::Str { value, .. } => value,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Key::Name(id) => id.span,
            Key::Str { span, .. } => *span,
        }
    }
}

/// `fn latency_p99(under: Duration, window: Duration = 5m) -> Gate = ...`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `type Probe = { path: String = "/healthz" }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeDecl {
    pub name: Ident,
    pub ty: TypeExpr,
}

/// `enum OnFailure { rollback, pause }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Variant {
    pub doc: Option<String>,
    pub name: Ident,
    pub fields: Option<Vec<FieldDecl>>,
    pub span: Span,
}

/// `let standard_gates: List[Gate] = [...]`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LetDecl {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TypeExprKind {
    /// `Int`, `List[String]`, `std.gates.Gate`
    Named {
        path: Vec<Ident>,
        args: Vec<TypeExpr>,
    },
    Record(Vec<FieldDecl>),
    Optional(Box<TypeExpr>),
    Error,
}

/// A field of a record type: `path: String = "/healthz"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Literal(Literal),
    Str(Vec<StrPart>),
    Name(Ident),
    Field {
        base: Box<Expr>,
        name: Ident,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    List(Vec<Expr>),
    /// `{ a = 1 }` or, with a tag, `local { instances_per_site = 2 }`.
    Record(Box<RecordLit>),
    For(Box<Comprehension>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    Paren(Box<Expr>),
    /// Already reported; later phases stay silent about it.
    Error,
}

/// Boxed in [`ExprKind`], as is [`Comprehension`], to keep every expression node small.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordLit {
    pub tag: Option<Ident>,
    pub body: Block,
}

/// `[for var in iter if filter: body]`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comprehension {
    pub var: Ident,
    pub iter: Expr,
    pub filter: Option<Expr>,
    pub body: Expr,
}

/// A literal keeps its source text, so the formatter prints it as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Literal {
    pub value: LitValue,
    pub text: Name,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LitValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    /// Whole milliseconds.
    Duration(u64),
    /// Bytes.
    Bytes(u64),
    /// Percent points: `1.5%` is 1.5.
    Percent(f64),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum StrPart {
    Text(Name),
    /// Boxed: most strings have no `${...}`, and text parts stay small.
    Interp(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    /// Binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div => 5,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum UnOp {
    Neg,
    Not,
}
