//! `module` calls: their source, inputs, meta-arguments and `providers` map.

use super::*;

/// True when an expression is a traversal rooted at `root` (used for `provider = alicloud.x`).
pub fn is_rooted_at(e: &Expression, root: &str) -> bool {
    match e {
        Expression::Traversal(t) => {
            matches!(&t.expr, Expression::Variable(v) if v.as_str() == root)
                && t.operators
                    .iter()
                    .all(|o| matches!(o.value(), TraversalOperator::GetAttr(_)))
        }
        Expression::Variable(v) => v.as_str() == root,
        _ => false,
    }
}

/// `module "NAME" { source = "./path" ... }`: recorded as written; the call is expanded
/// once variables are known (see `config::modules`).
pub(super) fn decode_module_call(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"NAME\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if !check_name(name, lspan, "module", diags) {
        return;
    }
    for bb in &b.body.blocks {
        diags.push(
            Diagnostic::error(
                "Unsupported block type",
                format!(
                    "a module block takes arguments only; `{}` blocks are not expected here",
                    bb.ident
                ),
                Some(bb.ident_span.clone()),
            )
            .with_hint("pass values to the module as arguments: NAME = value"),
        );
    }
    let parent = cfg.sources.module_of(b.span.file).to_string();
    let mut call = ModuleCall {
        name: name.clone(),
        parent,
        source: (String::new(), b.span.clone()),
        count: None,
        for_each: None,
        depends_on: vec![],
        providers: vec![],
        inputs: vec![],
        name_span: lspan.clone(),
        span: b.span.clone(),
    };
    let mut has_source = false;
    for a in &b.body.attrs {
        match a.name.as_str() {
            "source" => {
                if let Some(s) = want_literal_str(a, diags) {
                    call.source = (s, a.expr.span.clone());
                    has_source = true;
                }
            }
            // A version constraint matters to `terraform init` only.
            "version" => {}
            "count" => call.count = Some(a.expr.clone()),
            "for_each" => call.for_each = Some(a.expr.clone()),
            "depends_on" => call.depends_on = decode_depends_on(cfg, a, diags),
            "providers" => call.providers = decode_module_providers(cfg, a, diags),
            _ => call.inputs.push(a.clone()),
        }
    }
    if !has_source {
        missing("a module block", "source", &b.span, diags);
        return;
    }
    if call.count.is_some() && call.for_each.is_some() {
        diags.push(
            Diagnostic::error(
                "Invalid combination of count and for_each",
                "`count` and `for_each` cannot both be set on one module call",
                call.for_each.as_ref().map(|e| e.span.clone()),
            )
            .with_hint("keep one of them"),
        );
    }
    let key = call.key();
    if let Some(prev) = cfg.module_calls.iter().find(|c| c.key() == key) {
        diags.push(Diagnostic::error(
            "Duplicate module call",
            format!(
                "module {name:?} is already called at {}",
                cfg.sources.location(&prev.span)
            ),
            Some(lspan.clone()),
        ));
        return;
    }
    cfg.module_calls.push(call);
}

/// `providers = { alicloud = alicloud.sh, alicloud.peer = alicloud }`.
pub(super) fn decode_module_providers(
    cfg: &Config,
    a: &Attr,
    diags: &mut Diagnostics,
) -> Vec<(String, String, Span)> {
    let mut out = Vec::new();
    let bad = |span: Span, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(
                "Invalid providers argument",
                "`providers` maps the module's provider names to this module's providers, such as { alicloud = alicloud.shanghai }",
                Some(span),
            )
            .with_hint("write keys and values as references, without quotes"),
        )
    };
    let Expression::Object(o) = &a.expr.edit else {
        bad(a.expr.span.clone(), diags);
        return out;
    };
    let file = a.expr.span.file;
    let text = |n: &dyn hcl_edit::Span| -> String {
        cfg.sources
            .text(&Span::new(file, n.span().unwrap_or(0..0)))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    for (k, v) in o.iter() {
        let key = match k {
            hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
            hcl_edit::expr::ObjectKey::Expression(e) => text(e),
        };
        let value = text(v.expr());
        let ok =
            |s: &str| s == "alicloud" || s.strip_prefix("alicloud.").is_some_and(is_valid_name);
        let span = span_of(file, v.expr());
        if !ok(&key) || !ok(&value) {
            bad(span, diags);
            continue;
        }
        out.push((key, value, span));
    }
    out
}
