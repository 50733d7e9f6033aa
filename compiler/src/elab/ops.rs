//! Operators: which operand types they accept, and what they give. Units keep their meaning.

use super::Elab;
use super::exprs::unit_hint;
use crate::codes;
use crate::core::Core;
use crate::types::{self, Ty};
use conv_lang::ast::{BinOp, Expr};
use conv_lang::{Diagnostic, Span};

impl<'a> Elab<'a, '_> {
    pub(super) fn binary(&mut self, op: BinOp, op_span: Span, lhs: &'a Expr, rhs: &'a Expr) -> (Core, Ty) {
        let at = (self.file, lhs.span.to(rhs.span));
        let build = |l, r| Core::Binary { op, lhs: Box::new(l), rhs: Box::new(r), at };
        match op {
            BinOp::And | BinOp::Or => {
                let l = self.check(lhs, &Ty::Bool);
                let r = self.check(rhs, &Ty::Bool);
                (build(l, r), Ty::Bool)
            }
            BinOp::Eq | BinOp::Ne => {
                let (l, lt) = self.infer(lhs);
                let r = if lt == Ty::Error { self.infer(rhs).0 } else { self.check(rhs, &lt) };
                (build(l, r), Ty::Bool)
            }
            _ => {
                let (l, lt) = self.infer(lhs);
                let (r, rt) = self.infer(rhs);
                match result_type(op, &lt, &rt) {
                    Some(ty) => (build(l, r), ty),
                    None => {
                        self.invalid_operands(op, op_span, lhs.span, &lt, rhs.span, &rt);
                        (Core::Error, Ty::Error)
                    }
                }
            }
        }
    }

    fn invalid_operands(&mut self, op: BinOp, op_span: Span, ls: Span, lt: &Ty, rs: Span, rt: &Ty) {
        let (l, r) = (self.show(lt), self.show(rt));
        let verb = match op {
            BinOp::Add => "add",
            BinOp::Sub => "subtract",
            BinOp::Mul => "multiply",
            BinOp::Div => "divide",
            _ => "compare",
        };
        let message = match op {
            BinOp::Sub => format!("cannot subtract {r} from {l}"),
            BinOp::Add => format!("cannot add {l} and {r}"),
            _ => format!("cannot {verb} {l} and {r}"),
        };
        let mut diag = Diagnostic::error(&codes::INVALID_OPERANDS, self.file, op_span, message)
            .with_primary_label(format!("`{}` does not take these", op.symbol()))
            .with_label(self.file, ls, format!("this is {}", types::with_article(&l)))
            .with_label(self.file, rs, format!("this is {}", types::with_article(&r)));
        if let Some(hint) = unit_hint(lt, rt).or_else(|| unit_hint(rt, lt)) {
            diag = diag.with_help(hint);
        } else if is_unit(lt) && is_unit(rt) {
            diag = diag.with_help("a duration, a size and a percentage cannot be mixed");
        }
        self.error(diag);
    }
}

fn is_unit(t: &Ty) -> bool {
    matches!(t, Ty::Duration | Ty::Bytes | Ty::Percent)
}

fn numeric(t: &Ty) -> bool {
    matches!(t, Ty::Int | Ty::Float)
}

/// The type of `lhs op rhs`, or `None` if the operator does not take these operands.
pub(crate) fn result_type(op: BinOp, l: &Ty, r: &Ty) -> Option<Ty> {
    use Ty::*;
    if *l == Error || *r == Error {
        return Some(match op {
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Bool,
            _ => Error,
        });
    }
    match op {
        BinOp::Add | BinOp::Sub => match (l, r) {
            (Int, Int) => Some(Int),
            (a, b) if numeric(a) && numeric(b) => Some(Float),
            (a, b) if is_unit(a) && a == b => Some(a.clone()),
            (String, String) if op == BinOp::Add => Some(String),
            (List(a), List(b)) if op == BinOp::Add && a == b => Some(l.clone()),
            _ => None,
        },
        BinOp::Mul => match (l, r) {
            (Int, Int) => Some(Int),
            (a, b) if numeric(a) && numeric(b) => Some(Float),
            (u, Int) | (Int, u) if is_unit(u) => Some(u.clone()),
            _ => None,
        },
        BinOp::Div => match (l, r) {
            (Int, Int) => Some(Int),
            (a, b) if numeric(a) && numeric(b) => Some(Float),
            (u, Int) if is_unit(u) => Some(u.clone()),
            (a, b) if is_unit(a) && a == b => Some(Float),
            _ => None,
        },
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => match (l, r) {
            (a, b) if numeric(a) && numeric(b) => Some(Bool),
            (a, b) if is_unit(a) && a == b => Some(Bool),
            (String, String) => Some(Bool),
            _ => None,
        },
        BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or => Some(Bool),
    }
}
