//! `dynamic "NAME" { for_each = ..., iterator = it, content { ... } }`: one `NAME` block
//! per element of `for_each`.
//!
//! The content is expanded by substitution: in a copy of the content, every reference to
//! the iterator (`it.key`, `it.value.size`) is replaced by the element itself, written as an
//! object literal `{ key = ..., value = ... }`. What remains are ordinary expressions, so
//! references, evaluation, validation and diagnostics (at the attribute's own span) work
//! as they do for a block written out by hand, nested dynamic blocks included.

use super::{Attr, Block, Body, Expr};
use crate::diag::{Diagnostic, Diagnostics};
use crate::value::Value;
use hcl_edit::expr::Expression;
use hcl_edit::visit_mut::{self, VisitMut};

/// A `dynamic` block's parts.
pub struct Dynamic<'a> {
    /// The type of the blocks it makes (`disk_device_mapping`).
    pub name: &'a str,
    /// `for_each`.
    pub for_each: &'a Attr,
    /// The iterator's name: `iterator`, or the block type.
    pub iterator: String,
    /// `content { ... }`.
    pub content: &'a Block,
}

/// Reads a `dynamic` block, reporting what is missing or wrong.
pub fn parse<'a>(b: &'a Block, diags: &mut Diagnostics) -> Option<Dynamic<'a>> {
    let Some((name, _)) = b.labels.first() else {
        diags.push(
            Diagnostic::error(
                "Missing dynamic block label",
                "a dynamic block is labelled with the type of the blocks it makes, as in dynamic \"disk_device_mapping\"",
                Some(b.ident_span.clone()),
            )
            .with_hint("add the block type as its label"),
        );
        return None;
    };
    for a in &b.body.attrs {
        if !matches!(a.name.as_str(), "for_each" | "iterator" | "labels") {
            diags.push_once(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "a dynamic block takes for_each and iterator, not `{}`",
                        a.name
                    ),
                    Some(a.key_span.clone()),
                )
                .with_hint("move the argument into the content block"),
            );
        }
    }
    let Some(for_each) = b.body.attr("for_each") else {
        diags.push_once(
            Diagnostic::error(
                "Missing required argument",
                "a dynamic block needs `for_each`",
                Some(b.span.clone()),
            )
            .with_hint("add for_each = <a list, set or map>"),
        );
        return None;
    };
    let iterator = match b.body.attr("iterator") {
        None => name.clone(),
        Some(a) => match &a.expr.edit {
            Expression::Variable(v) => v.as_str().to_string(),
            _ => {
                diags.push_once(
                    Diagnostic::error(
                        "Invalid dynamic iterator name",
                        "`iterator` is a bare name, such as iterator = disk",
                        Some(a.expr.span.clone()),
                    )
                    .with_hint("write the name without quotes"),
                );
                return None;
            }
        },
    };
    let contents: Vec<&Block> = b
        .body
        .blocks
        .iter()
        .filter(|x| x.ident == "content")
        .collect();
    let [content] = contents.as_slice() else {
        diags.push_once(
            Diagnostic::error(
                "Invalid dynamic block",
                format!(
                    "a dynamic block has exactly one content block; this one has {}",
                    contents.len()
                ),
                Some(b.span.clone()),
            )
            .with_hint("put the block's arguments in one content { ... } block"),
        );
        return None;
    };
    for other in b.body.blocks.iter().filter(|x| x.ident != "content") {
        diags.push_once(Diagnostic::error(
            "Unsupported block type",
            format!(
                "a dynamic block holds one content block, not `{}`",
                other.ident
            ),
            Some(other.ident_span.clone()),
        ));
    }
    Some(Dynamic {
        name,
        for_each,
        iterator,
        content,
    })
}

/// The elements of a `for_each` value as (key, value): a map's entries, a list's or set's
/// elements keyed by index (a set's by the element, as Terraform does for sets of strings).
pub fn elements(v: &Value) -> Option<Vec<(Value, Value)>> {
    match v {
        Value::Map(m) => Some(
            m.iter()
                .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                .collect(),
        ),
        Value::List(l) => Some(
            l.iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v.clone()))
                .collect(),
        ),
        Value::Null => Some(vec![]),
        _ => None,
    }
}

struct Bind<'a> {
    name: &'a str,
    with: &'a Expression,
}

impl VisitMut for Bind<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        if let Expression::Variable(v) = expr {
            if v.as_str() == self.name {
                *expr = self.with.clone();
                return;
            }
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// A copy of `body` in which the iterator `name` is the element (`key`, `value`).
pub fn bind(body: &Body, name: &str, key: &Value, value: &Value) -> Body {
    let mut obj = std::collections::BTreeMap::new();
    obj.insert("key".to_string(), key.clone());
    obj.insert("value".to_string(), value.clone());
    let lit: hcl::Expression = Value::Map(obj).to_hcl().into();
    let with: Expression = lit.into();
    let mut out = body.clone();
    bind_in(&mut out, &mut Bind { name, with: &with });
    out
}

fn bind_in(body: &mut Body, b: &mut Bind) {
    for a in &mut body.attrs {
        b.visit_expr_mut(&mut a.expr.edit);
    }
    for bl in &mut body.blocks {
        bind_in(&mut bl.body, b);
    }
}

/// The expressions of a dynamic block, with the iterator bound to a placeholder: what the
/// dependency graph needs (the references it makes), without the iterator itself.
pub fn exprs(d: &Dynamic) -> (Expr, Body) {
    (
        d.for_each.expr.clone(),
        bind(&d.content.body, &d.iterator, &Value::Null, &Value::Null),
    )
}
