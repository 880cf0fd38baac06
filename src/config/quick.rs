//! The expressions most configurations are made of, evaluated without hcl-rs: literals,
//! references (`var.x`, `local.x`, `count.index`, `each.key`, `TYPE.NAME[count.index].id`)
//! and string templates that interpolate them (`"img-${count.index}"`).
//!
//! hcl-rs evaluates a string template by printing it back to text and parsing it again,
//! and a reference only after the referenced values were converted into its own value
//! type; for 50,000 instances with three such attributes that was a third of a plan's CPU.
//! Anything else — functions, operators, for-expressions, splats, heredocs, strip markers,
//! a reference that does not resolve — is left to [`super::eval`], which also words every
//! error: here, `None` means "evaluate it the long way", never "invalid".

use super::eval::Scope;
use super::scoped;
use crate::addr::ResourceId;
use crate::value::Value;
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::template::{Element, Strip};

/// The value of `e` written in `module`, when it is one of the simple forms.
pub fn eval(e: &Expression, module: &str, scope: &Scope) -> Option<Value> {
    match e {
        Expression::Null(_) => Some(Value::Null),
        Expression::Bool(b) => Some(Value::Bool(*b.value())),
        Expression::Number(n) => n.value().as_f64().map(Value::Number),
        Expression::String(s) => Some(Value::String(s.value().clone())),
        Expression::Parenthesis(p) => eval(p.inner(), module, scope),
        Expression::StringTemplate(t) => {
            // As in HCL, `"${x}"` alone is x itself, not x converted to a string.
            if let (1, Some(Element::Interpolation(i))) = (t.len(), t.get(0)) {
                if i.strip == Strip::None {
                    return eval(&i.expr, module, scope);
                }
            }
            let mut out = String::new();
            let mut unknown = false;
            for el in t.iter() {
                match el {
                    Element::Literal(s) => out.push_str(s.value()),
                    Element::Interpolation(i) if i.strip == Strip::None => {
                        match eval(&i.expr, module, scope)? {
                            Value::String(s) => out.push_str(&s),
                            Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                                out.push_str(&(n as i64).to_string())
                            }
                            Value::Unknown => unknown = true,
                            _ => return None,
                        }
                    }
                    _ => return None,
                }
            }
            Some(if unknown {
                Value::Unknown
            } else {
                Value::String(out)
            })
        }
        Expression::Traversal(t) => traversal(t, module, scope),
        _ => None,
    }
}

enum Key {
    Int(usize),
    Str(String),
}

/// An index known without the evaluator: a literal, `count.index` or `each.key`.
fn key(op: &TraversalOperator, module: &str, scope: &Scope) -> Option<Key> {
    match op {
        TraversalOperator::LegacyIndex(i) => Some(Key::Int(*i.value() as usize)),
        TraversalOperator::Index(e) => match eval(e, module, scope)? {
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 && n < 9.0e15 => {
                Some(Key::Int(n as usize))
            }
            Value::String(s) => Some(Key::Str(s)),
            _ => None,
        },
        _ => None,
    }
}

fn attr(op: &TraversalOperator) -> Option<&str> {
    match op {
        TraversalOperator::GetAttr(i) => Some(i.as_str()),
        _ => None,
    }
}

/// Steps into `v` along `ops`: attributes of objects, elements of lists, keys of maps.
fn walk<'v>(
    mut v: &'v Value,
    ops: &[&TraversalOperator],
    module: &str,
    scope: &Scope,
) -> Option<&'v Value> {
    for op in ops {
        v = match (v, op) {
            (Value::Map(m), TraversalOperator::GetAttr(i)) => m.get(i.as_str())?,
            (Value::List(l), _) => match key(op, module, scope)? {
                Key::Int(i) => l.get(i)?,
                Key::Str(_) => return None,
            },
            (Value::Map(m), _) => match key(op, module, scope)? {
                Key::Str(k) => m.get(&k)?,
                Key::Int(_) => return None,
            },
            _ => return None,
        };
    }
    Some(v)
}

/// A value read whole: unknown when any part of it is, as the evaluator's caller sees it.
fn whole(v: &Value, ops: &[&TraversalOperator], module: &str, scope: &Scope) -> Option<Value> {
    if v.has_unknown() {
        return Some(Value::Unknown);
    }
    walk(v, ops, module, scope).cloned()
}

fn traversal(t: &Traversal, module: &str, scope: &Scope) -> Option<Value> {
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
    let a0 = ops.first().and_then(|o| attr(o));
    match root.as_str() {
        "count" if a0 == Some("index") && ops.len() == 1 => {
            scope.count_index.map(|i| Value::Number(i as f64))
        }
        "each" => {
            let (k, v) = scope.each?;
            match a0? {
                "key" if ops.len() == 1 => Some(Value::String(k.to_string())),
                // An unknown inside each.value is left to the evaluator's own rules.
                "value" => walk(v, &ops[1..], module, scope)
                    .filter(|v| !v.has_unknown())
                    .cloned(),
                _ => None,
            }
        }
        "var" => {
            let n = a0?;
            let v = if module.is_empty() {
                scope.vars.get(n)?
            } else {
                scope.locals.get(&scoped(module, "var", n))?
            };
            whole(v, &ops[1..], module, scope)
        }
        "local" => whole(
            scope.locals.get(&scoped(module, "local", a0?))?,
            &ops[1..],
            module,
            scope,
        ),
        "path" | "module" | "self" | "terraform" => None,
        kind => {
            let (id, at) = if kind == "data" {
                (ResourceId::data(a0?, ops.get(1).and_then(|o| attr(o))?), 2)
            } else {
                (ResourceId::managed(kind, a0?), 1)
            };
            // A resource without a known value here is unknown, as a whole.
            let Some(all) = scope.resources.get(&id.in_module(module)) else {
                return Some(Value::Unknown);
            };
            // `TYPE.NAME[i]` reads instance i only: its unknowns make the result unknown,
            // not those of its siblings.
            let picked = ops
                .get(at)
                .and_then(|op| match (all, key(op, module, scope)?) {
                    (Value::List(l), Key::Int(i)) => l.get(i),
                    (Value::Map(m), Key::Str(k)) => m.get(&k),
                    _ => None,
                });
            match picked {
                Some(one) => whole(one, &ops[at + 1..], module, scope),
                None => whole(all, &ops[at..], module, scope),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::files::FileAccess;
    use crate::config::Expr;
    use crate::diag::{Sources, Span};
    use std::collections::BTreeMap;
    use std::path::Path;

    fn parse(src: &str) -> Expression {
        hcl_edit::parser::parse_expr(src).expect("parses")
    }

    #[test]
    fn simple_forms_give_what_the_evaluator_gives_and_the_rest_is_left_to_it() {
        let mut vars = BTreeMap::new();
        vars.insert("env".to_string(), Value::String("prod".into()));
        vars.insert("n".to_string(), Value::Number(3.0));
        vars.insert(
            "tags".to_string(),
            Value::Map(BTreeMap::from([(
                "team".into(),
                Value::String("img".into()),
            )])),
        );
        let mut locals = BTreeMap::new();
        locals.insert("prefix".to_string(), Value::String("base".into()));
        locals.insert("later".to_string(), Value::Unknown);
        let inst = |id: Option<&str>| {
            Value::Map(BTreeMap::from([
                (
                    "id".to_string(),
                    id.map_or(Value::Unknown, |s| Value::String(s.into())),
                ),
                ("image_name".to_string(), Value::String("x".into())),
            ]))
        };
        let mut resources = BTreeMap::new();
        resources.insert(
            ResourceId::managed("alicloud_image", "a"),
            Value::List(vec![inst(Some("m-0")), inst(None), inst(Some("m-2"))]),
        );
        resources.insert(
            ResourceId::managed("alicloud_image", "c"),
            Value::List(vec![inst(Some("m-5"))]),
        );
        resources.insert(
            ResourceId::data("alicloud_images", "base"),
            Value::Map(BTreeMap::from([(
                "ids".to_string(),
                Value::List(vec![Value::String("m-9".into())]),
            )])),
        );
        let each_v = Value::Map(BTreeMap::from([(
            "region".to_string(),
            Value::String("cn-shanghai".into()),
        )]));
        let none = FileAccess::none();
        let scope = Scope {
            dir: Path::new("."),
            files: &none,
            vars: &vars,
            locals: &locals,
            resources: &resources,
            count_index: Some(2),
            each: Some(("sh", &each_v)),
            sensitivity: None,
        };
        let sources = Sources::default();
        let slow = |src: &str| {
            crate::config::eval::eval_long(
                &sources,
                &Expr {
                    edit: parse(src),
                    span: Span::new(0, 0..src.len()),
                },
                &scope,
            )
        };
        for src in [
            r#""s-bp1system0001""#,
            "42",
            "1.5",
            "true",
            "null",
            "(var.env)",
            r#""a-${count.index}""#,
            r#""${var.n}""#,
            r#""${true}""#,
            r#""${var.tags}""#,
            r#""${count.index}""#,
            r#""${var.env}-${each.key}-${var.n}-${true}""#,
            r#""$${not} %%{this}""#,
            "var.tags.team",
            r#"var.tags["team"]"#,
            "local.prefix",
            "local.later",
            r#""${local.later}-x""#,
            "each.value.region",
            "alicloud_image.a[count.index].id",
            "alicloud_image.a[0].id",
            "alicloud_image.a[1].image_name",
            "alicloud_image.a[0]",
            "alicloud_image.b.id",
            "alicloud_image.a.id",
            "data.alicloud_images.base.ids[0]",
        ] {
            let fast = eval(&parse(src), "", &scope);
            assert!(fast.is_some(), "{src} is one of the simple forms");
            assert_eq!(fast.map(Ok), Some(slow(src)), "{src}");
        }
        for src in [
            "upper(var.env)",
            "var.n + 1",
            r#""x${var.tags}""#,
            r#""${~ var.env ~}""#,
            r#""%{if true}x%{endif}""#,
            "var.nope",
            "alicloud_image.c.id",
            "alicloud_image.c[7].id",
            "alicloud_image.c[*].id",
            "path.module",
            "[var.env]",
            "each.nope",
        ] {
            assert_eq!(
                eval(&parse(src), "", &scope),
                None,
                "{src} is left to hcl-rs"
            );
        }
    }
}
