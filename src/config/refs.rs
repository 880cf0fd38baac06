//! Extracts references (`var.x`, `local.y`, `alicloud_image.base.id`,
//! `data.alicloud_images.u.ids.0`, `count.index`, `each.key`) from expressions.
//!
//! Uses hcl-edit's visitor so each reference keeps its span; names bound by `for`
//! expressions are scoped out. Function names are collected too, so the evaluator declares
//! only the functions an expression calls.

use crate::addr::ResourceId;
use crate::diag::Span;
use hcl_edit::expr::{Expression, ForExpr, FuncCall, Traversal, TraversalOperator};
use hcl_edit::visit::{self, Visit};

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `var.NAME`.
    Var(String),
    /// `local.NAME`.
    Local(String),
    /// `TYPE.NAME` or `data.TYPE.NAME`.
    Resource(ResourceId),
    /// `module.NAME`: the outputs of a module call (an object, or a list or map of
    /// objects when the call has `count` or `for_each`).
    Module(String),
    /// `count.index`.
    CountIndex,
    /// `each.key`.
    EachKey,
    /// `each.value`.
    EachValue,
    /// `path.module`, `path.root`, `path.cwd`.
    Path(String),
    /// Something that cannot be a reference (`var` alone, `count.foo`, `self`).
    Invalid(String),
}

/// One reference.
#[derive(Debug, Clone)]
pub struct Reference {
    /// What it points at.
    pub target: Target,
    /// For resources and modules: the attribute (or output) read after the optional instance key (`id` in
    /// `alicloud_image.a[0].id`), if any.
    pub attr: Option<String>,
    /// True when a resource reference has an instance key (`[0]`, `["k"]`, `.0`, `[*]`).
    pub indexed: bool,
    /// Where it is written.
    pub span: Span,
}

/// References and function calls found in one expression.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// References in source order.
    pub refs: Vec<Reference>,
    /// Names of called functions, with spans.
    pub funcs: Vec<(String, Span)>,
}

struct Collector {
    file: usize,
    bound: Vec<String>,
    found: Found,
}

fn op_attr(op: &TraversalOperator) -> Option<&str> {
    match op {
        TraversalOperator::GetAttr(i) => Some(i.as_str()),
        _ => None,
    }
}

impl Collector {
    fn span(&self, n: &impl hcl_edit::Span) -> Span {
        Span::new(self.file, n.span().unwrap_or(0..0))
    }

    fn root_ref(&mut self, root: &str, ops: &[&TraversalOperator], span: Span) {
        if self.bound.iter().any(|b| b == root) || root.starts_with(super::pick::PREFIX) {
            return;
        }
        let a0 = ops.first().and_then(|o| op_attr(o));
        let (target, rest): (Target, &[&TraversalOperator]) = match root {
            "var" => match a0 {
                Some(n) => (Target::Var(n.to_string()), &ops[1..]),
                None => (Target::Invalid("var".into()), &[]),
            },
            "local" => match a0 {
                Some(n) => (Target::Local(n.to_string()), &ops[1..]),
                None => (Target::Invalid("local".into()), &[]),
            },
            "count" => match a0 {
                Some("index") => (Target::CountIndex, &[]),
                _ => (Target::Invalid("count".into()), &[]),
            },
            "each" => match a0 {
                Some("key") => (Target::EachKey, &[]),
                Some("value") => (Target::EachValue, &[]),
                _ => (Target::Invalid("each".into()), &[]),
            },
            "path" => match a0 {
                Some(n) => (Target::Path(n.to_string()), &[]),
                None => (Target::Invalid("path".into()), &[]),
            },
            "module" => match a0 {
                Some(n) => (Target::Module(n.to_string()), &ops[1..]),
                None => (Target::Invalid("module".into()), &[]),
            },
            "self" | "terraform" => (Target::Invalid(root.into()), &[]),
            "data" => {
                let t = a0;
                let n = ops.get(1).and_then(|o| op_attr(o));
                match (t, n) {
                    (Some(t), Some(n)) => (Target::Resource(ResourceId::data(t, n)), &ops[2..]),
                    _ => (Target::Invalid("data".into()), &[]),
                }
            }
            _ => match a0 {
                Some(n) => (Target::Resource(ResourceId::managed(root, n)), &ops[1..]),
                None => (Target::Invalid(root.into()), &[]),
            },
        };
        let (indexed, attr) = if matches!(target, Target::Resource(_) | Target::Module(_)) {
            match rest.first() {
                Some(TraversalOperator::GetAttr(i)) => (false, Some(i.as_str().to_string())),
                Some(_) => (true, rest.get(1).and_then(|o| op_attr(o)).map(String::from)),
                None => (false, None),
            }
        } else {
            (false, None)
        };
        self.found.refs.push(Reference {
            target,
            attr,
            indexed,
            span,
        });
    }
}

impl Visit for Collector {
    fn visit_expr(&mut self, expr: &Expression) {
        if let Expression::Variable(v) = expr {
            let span = self.span(v);
            self.root_ref(v.as_str(), &[], span);
            return;
        }
        visit::visit_expr(self, expr);
    }

    fn visit_traversal(&mut self, node: &Traversal) {
        let ops: Vec<&TraversalOperator> = node.operators.iter().map(|o| o.value()).collect();
        if let Expression::Variable(v) = &node.expr {
            let span = self.span(node);
            self.root_ref(v.as_str(), &ops, span);
        } else {
            self.visit_expr(&node.expr);
        }
        for op in ops {
            if let TraversalOperator::Index(e) = op {
                self.visit_expr(e);
            }
        }
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        // The collection is evaluated outside the loop's scope.
        self.visit_expr(&node.intro.collection_expr);
        let before = self.bound.len();
        if let Some(k) = &node.intro.key_var {
            self.bound.push(k.as_str().to_string());
        }
        self.bound.push(node.intro.value_var.as_str().to_string());
        if let Some(k) = &node.key_expr {
            self.visit_expr(k);
        }
        self.visit_expr(&node.value_expr);
        if let Some(c) = &node.cond {
            self.visit_expr(&c.expr);
        }
        self.bound.truncate(before);
    }

    fn visit_for_directive(&mut self, node: &hcl_edit::template::ForDirective) {
        let intro = &node.for_expr;
        self.visit_expr(&intro.collection_expr);
        let before = self.bound.len();
        if let Some(k) = &intro.key_var {
            self.bound.push(k.as_str().to_string());
        }
        self.bound.push(intro.value_var.as_str().to_string());
        self.visit_template(&node.for_expr.template);
        self.bound.truncate(before);
    }

    fn visit_func_call(&mut self, node: &FuncCall) {
        let span = self.span(&node.name.name);
        self.found
            .funcs
            .push((node.name.name.as_str().to_string(), span));
        visit::visit_func_call(self, node);
    }
}

/// Finds references in an expression of file `file`.
pub fn find(file: usize, expr: &Expression) -> Found {
    let mut c = Collector {
        file,
        bound: vec![],
        found: Found::default(),
    };
    c.visit_expr(expr);
    c.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<String> {
        let e = hcl_edit::parser::parse_expr(src).expect("parses");
        find(0, &e)
            .refs
            .iter()
            .map(|r| format!("{:?}/{:?}/{}", r.target, r.attr, r.indexed))
            .collect()
    }

    #[test]
    fn finds_every_kind() {
        assert_eq!(
            refs(r#""${var.env}-${local.p}" == alicloud_image.a[0].id ? data.alicloud_images.u.ids.0 : each.key"#),
            vec![
                "Var(\"env\")/None/false",
                "Local(\"p\")/None/false",
                "Resource(ResourceId { module: \"\", mode: Managed, kind: \"alicloud_image\", name: \"a\" })/Some(\"id\")/true",
                "Resource(ResourceId { module: \"\", mode: Data, kind: \"alicloud_images\", name: \"u\" })/Some(\"ids\")/false",
                "EachKey/None/false",
            ]
        );
    }

    #[test]
    fn for_locals_are_scoped_out() {
        assert_eq!(
            refs("[for d in var.disks : upper(d.name) if d.size > local.min]"),
            vec!["Var(\"disks\")/None/false", "Local(\"min\")/None/false"]
        );
    }

    #[test]
    fn finds_functions() {
        let e = hcl_edit::parser::parse_expr("upper(lower(var.x))").expect("parses");
        let f = find(0, &e);
        let names: Vec<_> = f.funcs.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, vec!["upper", "lower"]);
    }
}
