//! The entry points of elaboration's recursion, each counted against `depth::MAX_DEPTH`,
//! and the one place where types grow deeper, bounded by `depth::MAX_TYPE_DEPTH`.

use super::Elab;
use crate::core::Core;
use crate::depth;
use crate::types::Ty;
use conv_lang::Span;
use conv_lang::ast::{Expr, TypeExpr};
use conv_lang::stack::grow;

impl<'a> Elab<'a, '_> {
    /// Checks `e` against `expected`; on a mismatch, reports it and carries on.
    pub(super) fn check(&mut self, e: &'a Expr, expected: &Ty) -> Core {
        if !self.enter(e.span) {
            return Core::Error;
        }
        let core = grow(|| self.check_unguarded(e, expected));
        self.depth.leave();
        core
    }

    /// The core expression and type of `e`.
    pub(super) fn infer(&mut self, e: &'a Expr) -> (Core, Ty) {
        if !self.enter(e.span) {
            return (Core::Error, Ty::Error);
        }
        let out = grow(|| self.infer_unguarded(e));
        self.depth.leave();
        out
    }

    /// The type a type expression denotes, in the current module.
    pub(super) fn lower_type(&mut self, texpr: &'a TypeExpr) -> Ty {
        if !self.enter(texpr.span) {
            return Ty::Error;
        }
        let ty = grow(|| self.lower_type_unguarded(texpr));
        self.depth.leave();
        ty
    }

    /// `ty`, a list, map or optional just built around another type, unless that makes it
    /// too deep.
    pub(super) fn nest(&mut self, ty: Ty, span: Span) -> Ty {
        if depth::type_depth(&ty) <= depth::MAX_TYPE_DEPTH {
            return ty;
        }
        if !matches!(self.diags.last(), Some(d) if d.code.id == crate::codes::TOO_DEEP.id) {
            self.error(depth::type_too_deep(self.file, span));
        }
        Ty::Error
    }

    fn enter(&mut self, span: Span) -> bool {
        if self.depth.enter() {
            return true;
        }
        if let Some(diag) = self.depth.report(self.file, span) {
            self.error(diag);
        }
        false
    }
}
