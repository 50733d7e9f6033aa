//! Limits on how deep checking and evaluation recurse, so that no program exhausts the stack.
//!
//! A single declaration's syntax is at most `conv_lang::parser::MAX_NESTING` deep (E0107),
//! but declarations use each other: a chain of `let`s, aliases, defaults or calls makes the
//! checker and the evaluator recurse through all of them, and a chain of `let`s that each
//! wrap the previous one in a list builds a type and a value as deep as the chain. Both are
//! cut off here with E0406.

use crate::codes;
use crate::types::Ty;
use conv_lang::{Diagnostic, FileId, Span};

/// How deep elaboration and evaluation may recurse: expressions and the declarations they
/// go through, together.
pub const MAX_DEPTH: usize = 1024;

/// How deeply lists, maps and optionals may nest in a type (and so in a value of it).
pub const MAX_TYPE_DEPTH: usize = 256;

/// A recursion counter: [`Depth::enter`] fails past [`MAX_DEPTH`], and only the first failure
/// of a descent is reported, not once per level on the way back.
#[derive(Debug, Default)]
pub struct Depth {
    now: usize,
    reported: bool,
}

impl Depth {
    /// Steps one level down; `false` (without stepping) when that would be too deep.
    pub fn enter(&mut self) -> bool {
        if self.now >= MAX_DEPTH {
            return false;
        }
        self.now += 1;
        true
    }

    /// Steps `levels` down at once; `false` (without stepping) when that would be too deep.
    pub fn skip(&mut self, levels: usize) -> bool {
        if self.now + levels > MAX_DEPTH {
            return false;
        }
        self.now += levels;
        true
    }

    pub fn unskip(&mut self, levels: usize) {
        self.now -= levels;
        if self.now == 0 {
            self.reported = false;
        }
    }

    /// The current level: 0 outside any descent.
    pub fn now(&self) -> usize {
        self.now
    }

    pub fn leave(&mut self) {
        self.now -= 1;
        if self.now == 0 {
            self.reported = false;
        }
    }

    /// The diagnostic for a failed [`Depth::enter`], the first time in a descent.
    pub fn report(&mut self, file: FileId, span: Span) -> Option<Diagnostic> {
        if std::mem::replace(&mut self.reported, true) {
            return None;
        }
        Some(
            Diagnostic::error(
                &codes::TOO_DEEP,
                file,
                span,
                format!("this goes more than {MAX_DEPTH} levels deep through other declarations"),
            )
            .with_primary_label("too deep to check")
            .with_help("write the value in fewer steps: fewer declarations that each use the next"),
        )
    }
}

/// How many lists, maps and optionals `ty` nests.
pub fn type_depth(ty: &Ty) -> usize {
    let mut depth = 0;
    let mut at = ty;
    while let Ty::List(inner) | Ty::Map(inner) | Ty::Optional(inner) = at {
        depth += 1;
        at = inner;
    }
    depth
}

/// E0406 for a type nested past [`MAX_TYPE_DEPTH`].
pub fn type_too_deep(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::error(
        &codes::TOO_DEEP,
        file,
        span,
        format!("this type nests lists, maps and optionals more than {MAX_TYPE_DEPTH} deep"),
    )
    .with_primary_label("too deep to check")
    .with_help("write the value in fewer steps: fewer declarations that each wrap the previous one")
}
