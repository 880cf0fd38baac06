//! `try` and `can`, which Terraform evaluates lazily: an argument that fails is an answer,
//! not an error. hcl-rs evaluates every argument before a function runs, so the evaluator
//! resolves these calls first, innermost first: each argument is evaluated on its own
//! with the expression's context, and the call is replaced by the value it yields
//! (`try`: the first argument that evaluates; `can`: whether its argument does).
//! `issensitive` is answered the same way, from where its argument's value comes from.
//!
//! A `for` expression whose body calls them is expanded here too, element by element, with
//! the loop's names declared, so `[for d in disks : try(d.size, 20)]` works; if it cannot
//! be (its collection fails to evaluate), its calls are left to the eager forms of the
//! function library, where every argument must evaluate.

use hcl::eval::{Context, Evaluate};
use hcl_edit::expr::{Expression, ForExpr};
use hcl_edit::visit_mut::{self, VisitMut};

/// Whether an expression holds a sensitive value, if that can be known here.
pub type Marked<'m> = dyn Fn(&Expression) -> Option<bool> + 'm;

struct Lazy<'a, 'c, 'm> {
    ctx: &'a Context<'c>,
    in_for: usize,
    marked: &'a Marked<'m>,
}

fn literal(v: hcl::Value) -> Expression {
    let e: hcl::Expression = v.into();
    e.into()
}

/// Whether `node` calls `try` or `can` anywhere.
fn mentions_lazy(e: &Expression) -> bool {
    struct Find(bool);
    impl hcl_edit::visit::Visit for Find {
        fn visit_func_call(&mut self, node: &hcl_edit::expr::FuncCall) {
            if matches!(node.name.name.as_str(), "try" | "can" | "issensitive") {
                self.0 = true;
            }
            hcl_edit::visit::visit_func_call(self, node);
        }
    }
    let mut f = Find(false);
    hcl_edit::visit::Visit::visit_expr(&mut f, e);
    f.0
}

fn evaluate(e: Expression, ctx: &Context) -> Option<hcl::Value> {
    let e: hcl::Expression = e.into();
    e.evaluate(ctx).ok()
}

impl Lazy<'_, '_, '_> {
    /// The value of a `for` expression, each element evaluated with the loop's names.
    fn expand_for(&mut self, f: &ForExpr) -> Option<hcl::Value> {
        let mut coll = f.intro.collection_expr.clone();
        self.visit_expr_mut(&mut coll);
        let items: Vec<(hcl::Value, hcl::Value)> = match evaluate(coll, self.ctx)? {
            hcl::Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (hcl::Value::from(i as u64), v))
                .collect(),
            hcl::Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| (hcl::Value::from(k), v))
                .collect(),
            _ => return None,
        };
        let mut list = Vec::new();
        let mut obj: hcl::Map<String, hcl::Value> = hcl::Map::new();
        for (k, v) in items {
            let mut ctx = self.ctx.clone();
            if let Some(kv) = &f.intro.key_var {
                ctx.declare_var(kv.as_str(), k);
            }
            ctx.declare_var(f.intro.value_var.as_str(), v);
            let mut inner = Lazy {
                ctx: &ctx,
                in_for: 0,
                marked: self.marked,
            };
            if let Some(c) = &f.cond {
                let mut ce = c.expr.clone();
                inner.visit_expr_mut(&mut ce);
                match evaluate(ce, &ctx)? {
                    hcl::Value::Bool(true) => {}
                    hcl::Value::Bool(false) => continue,
                    _ => return None,
                }
            }
            let mut ve = f.value_expr.clone();
            inner.visit_expr_mut(&mut ve);
            let value = evaluate(ve, &ctx)?;
            match &f.key_expr {
                None => list.push(value),
                Some(ke) => {
                    let mut ke = ke.clone();
                    inner.visit_expr_mut(&mut ke);
                    let key = match evaluate(ke, &ctx)? {
                        hcl::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    if f.grouping {
                        match obj.entry(key).or_insert_with(|| hcl::Value::Array(vec![])) {
                            hcl::Value::Array(a) => a.push(value),
                            _ => return None,
                        }
                    } else if obj.insert(key, value).is_some() {
                        // A duplicate key is an error the evaluator reports.
                        return None;
                    }
                }
            }
        }
        Some(if f.key_expr.is_some() {
            hcl::Value::Object(obj)
        } else {
            hcl::Value::Array(list)
        })
    }
}

impl VisitMut for Lazy<'_, '_, '_> {
    fn visit_for_expr_mut(&mut self, node: &mut ForExpr) {
        self.in_for += 1;
        visit_mut::visit_for_expr_mut(self, node);
        self.in_for -= 1;
    }

    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        if self.in_for == 0 && mentions_lazy(expr) {
            if let Expression::ForExpr(f) = expr {
                if let Some(v) = self.expand_for(f) {
                    *expr = literal(v);
                    return;
                }
            }
        }
        visit_mut::visit_expr_mut(self, expr);
        if self.in_for > 0 {
            return;
        }
        let Expression::FuncCall(call) = expr else {
            return;
        };
        if !call.name.namespace.is_empty() {
            return;
        }
        let eval = |a: &Expression| -> Option<hcl::Value> {
            let e: hcl::Expression = a.clone().into();
            e.evaluate(self.ctx).ok()
        };
        let answer = match call.name.name.as_str() {
            "try" => call.args.iter().find_map(eval),
            "can" if call.args.len() == 1 => Some(hcl::Value::Bool(
                call.args.iter().next().and_then(eval).is_some(),
            )),
            // Sensitivity is a property of where a value comes from, which the
            // configuration tells.
            "issensitive" if call.args.len() == 1 => call
                .args
                .iter()
                .next()
                .and_then(|a| (self.marked)(a))
                .map(hcl::Value::Bool),
            _ => None,
        };
        if let Some(v) = answer {
            *expr = literal(v);
        }
    }
}

/// Replaces the `try`, `can` and `issensitive` calls of `expr` by their values.
pub fn resolve(expr: &mut Expression, ctx: &Context, marked: &Marked) {
    Lazy {
        ctx,
        in_for: 0,
        marked,
    }
    .visit_expr_mut(expr);
}

/// A copy of `expr` in which every call to one of `names` is replaced by `null` (what the
/// calls read is then not among the expression's references).
pub fn without_calls(expr: &Expression, names: &[&str]) -> Expression {
    struct Strip<'n>(&'n [&'n str]);
    impl VisitMut for Strip<'_> {
        fn visit_expr_mut(&mut self, expr: &mut Expression) {
            if let Expression::FuncCall(call) = expr {
                if self.0.contains(&call.name.name.as_str()) {
                    *expr = literal(hcl::Value::Null);
                    return;
                }
            }
            visit_mut::visit_expr_mut(self, expr);
        }
    }
    let mut out = expr.clone();
    Strip(names).visit_expr_mut(&mut out);
    out
}
