//! One instance, not the whole list: `alicloud_ecs_image_pipeline.p[count.index].id` in
//! the 500th build reads the 500th pipeline. Without this, every such reference converts
//! all N instances for the evaluator, and a configuration of N pairs costs O(N²).
//!
//! Before evaluating, each traversal `TYPE.NAME[i]` (or `data.TYPE.NAME[i]`) whose index is
//! known here (`count.index`, `each.key`, a number or a string) is replaced by a fresh
//! variable holding that one instance; what follows the index (`.id`) stays.

use super::eval::Scope;
use crate::addr::ResourceId;
use crate::value::Value;
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::visit_mut::{self, VisitMut};

/// The prefix of the variables this introduces; references never start with it.
pub const PREFIX: &str = "__imgform_pick_";

/// What picking found.
#[derive(Default)]
pub struct Picked {
    /// The variables to declare, with their values.
    pub vars: Vec<(String, hcl::Value)>,
    /// True when a picked instance is not known yet (the expression is then unknown).
    pub unknown: bool,
}

struct Picker<'a, 's> {
    module: &'a str,
    scope: &'a Scope<'s>,
    out: Picked,
}

fn op_name(op: &TraversalOperator) -> Option<&str> {
    match op {
        TraversalOperator::GetAttr(i) => Some(i.as_str()),
        _ => None,
    }
}

enum Key {
    Int(usize),
    Str(String),
}

impl Picker<'_, '_> {
    /// The index, if it is known without evaluating anything else.
    fn key(&self, op: &TraversalOperator) -> Option<Key> {
        match op {
            TraversalOperator::LegacyIndex(i) => Some(Key::Int(*i.value() as usize)),
            TraversalOperator::Index(e) => match e {
                Expression::Number(n) => n.value().as_u64().map(|i| Key::Int(i as usize)),
                Expression::String(s) => Some(Key::Str(s.value().to_string())),
                Expression::Traversal(t) => {
                    let Expression::Variable(v) = &t.expr else {
                        return None;
                    };
                    let attr = t.operators.first().and_then(|o| op_name(o.value()));
                    match (v.as_str(), attr, t.operators.len()) {
                        ("count", Some("index"), 1) => {
                            self.scope.count_index.map(|i| Key::Int(i as usize))
                        }
                        ("each", Some("key"), 1) => {
                            self.scope.each.map(|(k, _)| Key::Str(k.to_string()))
                        }
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn pick(&mut self, t: &mut Traversal) {
        let Expression::Variable(root) = &t.expr else {
            return;
        };
        let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
        let (id, at) = match root.as_str() {
            "var" | "local" | "count" | "each" | "path" | "module" | "self" | "terraform" => return,
            "data" => match (
                ops.first().and_then(|o| op_name(o)),
                ops.get(1).and_then(|o| op_name(o)),
            ) {
                (Some(k), Some(n)) => (ResourceId::data(k, n), 2),
                _ => return,
            },
            kind => match ops.first().and_then(|o| op_name(o)) {
                Some(n) => (ResourceId::managed(kind, n), 1),
                None => return,
            },
        };
        let Some(key) = ops.get(at).and_then(|o| self.key(o)) else {
            return;
        };
        let Some(all) = self.scope.resources.get(&id.in_module(self.module)) else {
            return;
        };
        let one = match (all, &key) {
            (Value::List(l), Key::Int(i)) => l.get(*i),
            (Value::Map(m), Key::Str(k)) => m.get(k),
            _ => None,
        };
        let Some(one) = one else {
            // Out of range: the evaluator says so, with the whole value.
            return;
        };
        if one.has_unknown() {
            self.out.unknown = true;
            return;
        }
        let name = format!("{PREFIX}{}", self.out.vars.len());
        self.out.vars.push((name.clone(), one.to_hcl()));
        t.expr = Expression::Variable(hcl_edit::Ident::new(name).into());
        t.operators.drain(..=at);
    }
}

impl VisitMut for Picker<'_, '_> {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        // Indexes are picked inside out: `a[b[count.index].n]` first picks `b[...]`.
        visit_mut::visit_expr_mut(self, expr);
        let done = match expr {
            Expression::Traversal(t) => {
                self.pick(t);
                t.operators.is_empty()
            }
            _ => false,
        };
        if done {
            // `alicloud_image.a[0]` with nothing after it: just the variable.
            if let Expression::Traversal(t) = expr {
                let v = t.expr.clone();
                *expr = v;
            }
        }
    }
}

/// Rewrites `expr`, returning the variables its picked instances need.
pub fn pick(expr: &mut Expression, module: &str, scope: &Scope) -> Picked {
    let mut p = Picker {
        module,
        scope,
        out: Picked::default(),
    };
    p.visit_expr_mut(expr);
    p.out
}
