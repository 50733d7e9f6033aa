//! Evaluation of the core program. Pure and terminating: no recursion survives checking,
//! loops run over finite lists, and each entity and `let` is evaluated once.

use crate::codes;
use crate::core::{Core, DeclId, InterpPart};
use crate::depth::{Depth, MAX_DEPTH};
use crate::elab::Elaborated;
use crate::hash::HashMap;
use crate::index::Index;
use crate::types::RecordId;
use crate::value::Value;
use conv_lang::ast::{BinOp, EntityKind};
use conv_lang::{Diagnostic, FileId, Span};
use std::rc::Rc;

/// A declaration's value once evaluated, with a bound on how deep it is (see [`Reach`]).
#[derive(Clone)]
enum Slot {
    InProgress,
    Done(Value, usize),
}

pub struct Evaluator<'e, 'a> {
    elab: &'e Elaborated<'a>,
    index: &'e Index<'a>,
    pub diags: Vec<Diagnostic>,
    lets: HashMap<DeclId, Slot>,
    /// By index in `elab.entities`; `None` until first needed.
    entities: Vec<Option<Slot>>,
    entity_index: HashMap<(EntityKind, &'e str), usize>,
    entity_stack: Vec<String>,
    defaults: HashMap<(RecordId, usize), (Value, usize)>,
    /// Calls whose arguments are all scalars, by function and arguments: a function is pure,
    /// so `policy(bake_factor: 2)` in ten thousand releases is evaluated once, and its value
    /// (shared, as values are) reused, with how deep it went.
    calls: HashMap<(DeclId, Vec<Scalar>), (Value, usize)>,
    reach: Reach,
}

/// An argument a call is remembered by: a value without parts, compared exactly (floats by
/// their bits).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Scalar {
    Int(i64),
    Float(u64),
    Bool(bool),
    Str(Rc<str>),
    Duration(u64),
    Bytes(u64),
    Percent(u64),
    Entity(EntityKind, Rc<str>),
    Variant(crate::types::EnumId, usize),
    None,
}

impl Scalar {
    fn of(v: &Value) -> Option<Scalar> {
        Some(match v {
            Value::Int(i) => Scalar::Int(*i),
            Value::Float(f) => Scalar::Float(f.to_bits()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Str(s) => Scalar::Str(s.clone()),
            Value::Duration(d) => Scalar::Duration(*d),
            Value::Bytes(b) => Scalar::Bytes(*b),
            Value::Percent(p) => Scalar::Percent(p.to_bits()),
            Value::Entity(kind, name) => Scalar::Entity(*kind, name.clone()),
            Value::Variant(e, i, None) => Scalar::Variant(*e, *i),
            Value::None => Scalar::None,
            Value::List(_) | Value::Map(_) | Value::Record(..) | Value::Variant(_, _, Some(_)) | Value::Error => {
                return None;
            }
        })
    }
}

/// How deep evaluation has gone. A declaration's value is evaluated once and then reused,
/// so reusing it counts as going as deep again as its own evaluation went: a chain of `let`s
/// that each wrap the previous one builds a value as deep as the chain, without the
/// evaluator ever recursing through it.
#[derive(Default)]
struct Reach {
    depth: Depth,
    /// The deepest level reached, reused values included, since the current declaration began.
    peak: usize,
    /// The declaration being evaluated, where a too-deep evaluation is reported.
    here: Option<(FileId, Span)>,
}

impl<'e, 'a> Evaluator<'e, 'a> {
    pub fn new(elab: &'e Elaborated<'a>, index: &'e Index<'a>) -> Self {
        let entity_index = elab.entities.iter().enumerate().map(|(i, e)| ((e.kind, e.name.as_str()), i)).collect();
        Evaluator {
            elab,
            index,
            diags: Vec::new(),
            lets: HashMap::default(),
            entities: vec![None; elab.entities.len()],
            entity_index,
            entity_stack: Vec::new(),
            defaults: HashMap::default(),
            calls: HashMap::default(),
            reach: Reach::default(),
        }
    }

    /// The value of an entity's block: a record of its schema.
    pub fn entity_value(&mut self, kind: EntityKind, name: &str) -> Value {
        let Some(&i) = self.entity_index.get(&(kind, name)) else {
            return Value::Error;
        };
        match &self.entities[i] {
            Some(Slot::Done(v, deep)) => return self.reuse(v.clone(), *deep),
            Some(Slot::InProgress) => {
                let start = self.entity_stack.iter().position(|n| n == name).unwrap_or(0);
                let mut path = self.entity_stack[start..].to_vec();
                path.push(name.to_string());
                let info = &self.elab.entities[i];
                self.diags.push(
                    Diagnostic::error(
                        &codes::DECLARATION_CYCLE,
                        info.file,
                        info.name_span,
                        format!("`{name}` depends on itself: {}", path.join(" -> ")),
                    )
                    .with_primary_label("its fields need its own fields")
                    .with_help("write one of the values in the chain directly"),
                );
                self.entities[i] = Some(Slot::Done(Value::Error, 0));
                return Value::Error;
            }
            None => {}
        }
        self.entities[i] = Some(Slot::InProgress);
        self.entity_stack.push(name.to_string());
        let info = &self.elab.entities[i];
        let (value, deep) = self.measured((info.file, info.name_span), |this| this.eval(&info.body, &mut Vec::new()));
        self.entity_stack.pop();
        if let Some(Slot::Done(v, _)) = &self.entities[i] {
            return v.clone();
        }
        self.entities[i] = Some(Slot::Done(value.clone(), deep));
        value
    }

    pub fn let_value(&mut self, id: DeclId) -> Value {
        match self.lets.get(&id) {
            Some(Slot::Done(v, deep)) => return self.reuse(v.clone(), *deep),
            // Cycles through lets are reported by the checker.
            Some(Slot::InProgress) => return Value::Error,
            None => {}
        }
        let Some(core) = self.elab.lets.get(&id) else {
            return Value::Error;
        };
        self.lets.insert(id, Slot::InProgress);
        let decl = self.index.decl(id);
        let (v, deep) = self.measured((decl.file, decl.name_span), |this| this.eval(core, &mut Vec::new()));
        self.lets.insert(id, Slot::Done(v.clone(), deep));
        v
    }

    fn default_value(&mut self, record: RecordId, field: usize) -> Value {
        if let Some((v, deep)) = self.defaults.get(&(record, field)) {
            return self.reuse(v.clone(), *deep);
        }
        let (v, deep) = match self.elab.record_defaults.get(&(record, field)) {
            Some(core) => {
                let f = &self.elab.types.record(record).fields[field];
                self.measured((f.file, f.span), |this| this.eval(core, &mut Vec::new()))
            }
            None => (Value::Error, 0),
        };
        self.defaults.insert((record, field), (v.clone(), deep));
        v
    }

    /// Evaluates a declaration's value with `here` as the place to report it too deep, and
    /// returns how deep the evaluation went below the current level.
    fn measured(&mut self, here: (FileId, Span), f: impl FnOnce(&mut Self) -> Value) -> (Value, usize) {
        let saved = self.reach.here.replace(here);
        let out = self.below(f);
        self.reach.here = saved;
        out
    }

    /// A value evaluated before, as deep as `deep` below here: refused if that is too deep.
    fn reuse(&mut self, v: Value, deep: usize) -> Value {
        let reached = self.reach.depth.now() + deep;
        if reached > MAX_DEPTH {
            self.too_deep();
            return Value::Error;
        }
        self.reach.peak = self.reach.peak.max(reached);
        v
    }

    fn too_deep(&mut self) {
        if let Some((file, span)) = self.reach.here
            && let Some(diag) = self.reach.depth.report(file, span)
        {
            self.diags.push(diag);
        }
    }

    /// Evaluates `core`, or gives an error value past [`MAX_DEPTH`].
    pub fn eval(&mut self, core: &Core, frame: &mut Vec<Value>) -> Value {
        if !self.reach.depth.enter() {
            self.too_deep();
            return Value::Error;
        }
        self.reach.peak = self.reach.peak.max(self.reach.depth.now());
        let v = conv_lang::stack::grow(|| self.eval_unguarded(core, frame));
        self.reach.depth.leave();
        v
    }

    fn eval_unguarded(&mut self, core: &Core, frame: &mut Vec<Value>) -> Value {
        match core {
            Core::Value(v) => v.clone(),
            Core::Local(slot) => frame.get(*slot).cloned().unwrap_or(Value::Error),
            Core::Let(id) => self.let_value(*id),
            Core::Entity(kind, name) => Value::Entity(*kind, name.clone()),
            Core::Field(base, idx) => match self.eval(base, frame) {
                Value::Record(_, fields) => fields.get(*idx).cloned().unwrap_or(Value::Error),
                Value::Entity(kind, name) => match self.entity_value(kind, &name) {
                    Value::Record(_, fields) => fields.get(*idx).cloned().unwrap_or(Value::Error),
                    _ => Value::Error,
                },
                _ => Value::Error,
            },
            Core::List(items) => Value::List(items.iter().map(|i| self.eval(i, frame)).collect()),
            Core::Map(items) => {
                let mut entries: Vec<(Rc<str>, Value)> =
                    items.iter().map(|(k, v)| (Rc::from(k.as_str()), self.eval(v, frame))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Map(entries.into())
            }
            Core::Record(rid, fields) => {
                let values = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| match f {
                        Some(c) => self.eval(c, frame),
                        None => self.default_value(*rid, i),
                    })
                    .collect();
                Value::Record(*rid, values)
            }
            Core::Variant(e, i, payload) => {
                Value::Variant(*e, *i, payload.as_ref().map(|p| Rc::new(self.eval(p, frame))))
            }
            Core::Call(f, args) => self.call(*f, args, frame),
            Core::For { slot, iter, filter, body } => {
                let (Value::List(items), deep) = self.below(|this| this.eval(iter, frame)) else {
                    return Value::Error;
                };
                // The body is as deep as the items it wraps, and they are as deep as the list.
                self.deeper(deep, |this| {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items.iter().cloned() {
                        frame.truncate(*slot);
                        frame.push(item);
                        if let Some(f) = filter
                            && this.eval(f, frame) != Value::Bool(true)
                        {
                            continue;
                        }
                        out.push(this.eval(body, frame));
                    }
                    frame.truncate(*slot);
                    Value::List(out.into())
                })
            }
            Core::If(c, t, e) => match self.eval(c, frame) {
                Value::Bool(true) => self.eval(t, frame),
                Value::Bool(false) => self.eval(e, frame),
                _ => Value::Error,
            },
            Core::Binary { op, lhs, rhs, at } => {
                let l = self.eval(lhs, frame);
                match (op, &l) {
                    (BinOp::And, Value::Bool(false)) => return Value::Bool(false),
                    (BinOp::Or, Value::Bool(true)) => return Value::Bool(true),
                    _ => {}
                }
                let r = self.eval(rhs, frame);
                self.binary(*op, l, r, *at)
            }
            Core::Neg(inner, at) => match self.eval(inner, frame) {
                Value::Int(i) => match i.checked_neg() {
                    Some(n) => Value::Int(n),
                    None => self.fail(&codes::INTEGER_OVERFLOW, *at, "this negation overflows"),
                },
                Value::Float(f) => Value::Float(-f),
                _ => Value::Error,
            },
            Core::Not(inner) => match self.eval(inner, frame) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Error,
            },
            Core::Interp(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        InterpPart::Text(t) => s.push_str(t),
                        InterpPart::Value(c) => {
                            let v = self.eval(c, frame);
                            if v.is_error() {
                                return Value::Error;
                            }
                            s.push_str(&self.display(&v));
                        }
                    }
                }
                Value::Str(s.into())
            }
            Core::Error => Value::Error,
        }
    }

    fn call(&mut self, f: DeclId, args: &[Option<Core>], frame: &mut Vec<Value>) -> Value {
        if self.elab.recursive_fns.contains(&f) {
            return Value::Error;
        }
        let Some(info) = self.elab.fns.get(&f) else {
            return Value::Error;
        };
        let mut callee = Vec::with_capacity(args.len());
        let mut deepest = 0;
        for (i, a) in args.iter().enumerate() {
            let (v, deep) = self.below(|this| match a {
                Some(c) => this.eval(c, frame),
                None => match this.elab.param_defaults.get(&(f, i)) {
                    Some(c) => this.eval(c, &mut Vec::new()),
                    None => Value::Error,
                },
            });
            deepest = deepest.max(deep);
            callee.push(v);
        }
        let key = callee.iter().map(Scalar::of).collect::<Option<Vec<_>>>().map(|args| (f, args));
        if let Some((v, deep)) = key.as_ref().and_then(|k| self.calls.get(k)) {
            let (v, deep) = (v.clone(), *deep);
            return self.reuse(v, deep);
        }
        // The body is as deep as the arguments it wraps.
        let (v, deep) = self.below(|this| this.deeper(deepest, |this| this.eval(&info.body, &mut callee)));
        if let Some(key) = key {
            self.calls.insert(key, (v.clone(), deep));
        }
        v
    }

    /// `f`'s value, and how deep below the current level evaluating it went.
    fn below(&mut self, f: impl FnOnce(&mut Self) -> Value) -> (Value, usize) {
        let base = self.reach.depth.now();
        let saved = std::mem::replace(&mut self.reach.peak, base);
        let v = f(self);
        let deep = self.reach.peak - base;
        self.reach.peak = self.reach.peak.max(saved);
        (v, deep)
    }

    /// Runs `f` counted `levels` deeper than the current level.
    fn deeper(&mut self, levels: usize, f: impl FnOnce(&mut Self) -> Value) -> Value {
        if !self.reach.depth.skip(levels) {
            self.too_deep();
            return Value::Error;
        }
        let v = f(self);
        self.reach.depth.unskip(levels);
        v
    }

    fn fail(&mut self, code: &'static conv_lang::Code, at: (FileId, Span), label: &str) -> Value {
        let message = match code.id {
            "E0403" => "division by zero",
            "E0405" => "integer overflow",
            _ => "value out of range",
        };
        self.diags.push(Diagnostic::error(code, at.0, at.1, message).with_primary_label(label));
        Value::Error
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value, at: (FileId, Span)) -> Value {
        use Value::*;
        if l.is_error() || r.is_error() {
            return Error;
        }
        let overflow = |this: &mut Self| this.fail(&codes::INTEGER_OVERFLOW, at, "the result does not fit in 64 bits");
        let negative = |this: &mut Self| this.fail(&codes::VALUE_OUT_OF_RANGE, at, "this would be negative");
        let by_zero = |this: &mut Self| this.fail(&codes::DIVISION_BY_ZERO, at, "the right side is zero");
        match op {
            BinOp::Eq => return Bool(equal(&l, &r)),
            BinOp::Ne => return Bool(!equal(&l, &r)),
            BinOp::And | BinOp::Or => return r,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (&l, &r) {
                    (Str(a), Str(b)) => a.partial_cmp(b),
                    _ => number(&l).zip(number(&r)).and_then(|(a, b)| a.partial_cmp(&b)),
                };
                let Some(ord) = ord else { return Error };
                return Bool(match op {
                    BinOp::Lt => ord.is_lt(),
                    BinOp::Le => ord.is_le(),
                    BinOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                });
            }
            _ => {}
        }
        match (op, l, r) {
            (BinOp::Add, Int(a), Int(b)) => a.checked_add(b).map(Int).unwrap_or_else(|| overflow(self)),
            (BinOp::Sub, Int(a), Int(b)) => a.checked_sub(b).map(Int).unwrap_or_else(|| overflow(self)),
            (BinOp::Mul, Int(a), Int(b)) => a.checked_mul(b).map(Int).unwrap_or_else(|| overflow(self)),
            (BinOp::Div, Int(_), Int(0)) => by_zero(self),
            (BinOp::Div, Int(a), Int(b)) => a.checked_div(b).map(Int).unwrap_or_else(|| overflow(self)),
            (BinOp::Add, Str(a), Str(b)) => Str(format!("{a}{b}").into()),
            (BinOp::Add, List(a), List(b)) => List(a.iter().chain(b.iter()).cloned().collect()),
            (BinOp::Add, Duration(a), Duration(b)) => a.checked_add(b).map(Duration).unwrap_or_else(|| overflow(self)),
            (BinOp::Add, Bytes(a), Bytes(b)) => a.checked_add(b).map(Bytes).unwrap_or_else(|| overflow(self)),
            (BinOp::Sub, Duration(a), Duration(b)) => a.checked_sub(b).map(Duration).unwrap_or_else(|| negative(self)),
            (BinOp::Sub, Bytes(a), Bytes(b)) => a.checked_sub(b).map(Bytes).unwrap_or_else(|| negative(self)),
            (BinOp::Add | BinOp::Sub, Percent(a), Percent(b)) => {
                let v = if op == BinOp::Add { a + b } else { a - b };
                if !(0.0..=100.0).contains(&v) {
                    return self.fail(&codes::VALUE_OUT_OF_RANGE, at, "a Percent is between 0% and 100%");
                }
                Percent(v)
            }
            (BinOp::Mul, Duration(a), Int(b)) | (BinOp::Mul, Int(b), Duration(a)) => {
                scale(a, b).map(Duration).unwrap_or_else(|| negative_or_overflow(self, b, at))
            }
            (BinOp::Mul, Bytes(a), Int(b)) | (BinOp::Mul, Int(b), Bytes(a)) => {
                scale(a, b).map(Bytes).unwrap_or_else(|| negative_or_overflow(self, b, at))
            }
            (BinOp::Mul, Percent(a), Int(b)) | (BinOp::Mul, Int(b), Percent(a)) => {
                let v = a * b as f64;
                if !(0.0..=100.0).contains(&v) {
                    return self.fail(&codes::VALUE_OUT_OF_RANGE, at, "a Percent is between 0% and 100%");
                }
                Percent(v)
            }
            (BinOp::Div, Duration(_) | Bytes(_) | Percent(_), Int(0)) => by_zero(self),
            (BinOp::Div, Duration(_) | Bytes(_), Int(b)) if b < 0 => negative(self),
            (BinOp::Div, Duration(a), Int(b)) => Duration(a / b as u64),
            (BinOp::Div, Bytes(a), Int(b)) => Bytes(a / b as u64),
            (BinOp::Div, Percent(a), Int(b)) => Percent(a / b as f64),
            (BinOp::Div, Duration(_), Duration(0)) | (BinOp::Div, Bytes(_), Bytes(0)) => by_zero(self),
            (BinOp::Div, Percent(_), Percent(b)) if b == 0.0 => by_zero(self),
            (BinOp::Div, Duration(a), Duration(b)) | (BinOp::Div, Bytes(a), Bytes(b)) => Float(a as f64 / b as f64),
            (BinOp::Div, Percent(a), Percent(b)) => Float(a / b),
            (op, a, b) => match (number(&a), number(&b)) {
                (Some(x), Some(y)) => match op {
                    BinOp::Add => Float(x + y),
                    BinOp::Sub => Float(x - y),
                    BinOp::Mul => Float(x * y),
                    _ if y == 0.0 => by_zero(self),
                    _ => Float(x / y),
                },
                _ => Error,
            },
        }
    }

    /// How a value reads inside a string.
    pub fn display(&self, v: &Value) -> String {
        conv_lang::stack::grow(|| match v {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => conv_model::program::trim_float(*f),
            Value::Bool(b) => b.to_string(),
            Value::Duration(ms) => conv_model::program::duration(*ms),
            Value::Bytes(b) => bytes(*b),
            Value::Percent(p) => format!("{}%", conv_model::program::trim_float(*p)),
            Value::Entity(_, name) => name.to_string(),
            Value::Variant(e, i, _) => self.elab.types.enum_ty(*e).variants[*i].name.clone(),
            _ => String::new(),
        })
    }

    pub fn index(&self) -> &Index<'a> {
        self.index
    }
}

fn negative_or_overflow(this: &mut Evaluator<'_, '_>, factor: i64, at: (FileId, Span)) -> Value {
    if factor < 0 {
        this.fail(&codes::VALUE_OUT_OF_RANGE, at, "this would be negative")
    } else {
        this.fail(&codes::INTEGER_OVERFLOW, at, "the result does not fit in 64 bits")
    }
}

fn scale(a: u64, b: i64) -> Option<u64> {
    u64::try_from(b).ok().and_then(|b| a.checked_mul(b))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Duration(d) | Value::Bytes(d) => Some(*d as f64),
        Value::Percent(p) => Some(*p),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    crate::value::equal(a, b)
}

fn bytes(b: u64) -> String {
    for (shift, unit) in [(40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
        if b != 0 && b.is_multiple_of(1u64 << shift) {
            return format!("{}{unit}", b >> shift);
        }
    }
    format!("{b}B")
}
