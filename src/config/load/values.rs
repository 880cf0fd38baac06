//! `variable`, `locals` and `output` blocks.

use super::*;

pub(super) fn decode_variable(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"NAME\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if !check_name(name, lspan, "variable", diags) {
        return;
    }
    restrict(
        &b.body,
        "a variable block",
        &["type", "default", "description", "sensitive", "nullable"],
        &["validation"],
        diags,
    );
    let mut v = Variable {
        name: name.clone(),
        ty: b.body.attr("type").map(|a| a.expr.clone()),
        default: b.body.attr("default").map(|a| a.expr.clone()),
        description: b
            .body
            .attr("description")
            .and_then(|a| want_literal_str(a, diags)),
        sensitive: b
            .body
            .attr("sensitive")
            .map(|a| literal_bool(a, diags))
            .unwrap_or(false),
        nullable: b
            .body
            .attr("nullable")
            .map(|a| literal_bool(a, diags))
            .unwrap_or(true),
        validations: vec![],
        span: b.span.clone(),
    };
    for vb in b.body.blocks.iter().filter(|x| x.ident == "validation") {
        restrict(
            &vb.body,
            "a validation block",
            &["condition", "error_message"],
            &[],
            diags,
        );
        match (vb.body.attr("condition"), vb.body.attr("error_message")) {
            (Some(c), Some(m)) => v.validations.push(Validation {
                condition: c.expr.clone(),
                error_message: m.expr.clone(),
            }),
            (None, _) => missing("a validation block", "condition", &vb.span, diags),
            (_, None) => missing("a validation block", "error_message", &vb.span, diags),
        }
    }
    let module = cfg.sources.module_of(b.span.file).to_string();
    let prev = if module.is_empty() {
        cfg.variables.get(name).map(|p| p.span.clone())
    } else {
        cfg.module_vars
            .get(&scoped(&module, "var", name))
            .map(|p| p.var.span.clone())
    };
    if let Some(prev) = prev {
        diags.push(Diagnostic::error(
            "Duplicate variable declaration",
            format!(
                "variable {name:?} is already declared at {}",
                cfg.sources.location(&prev)
            ),
            Some(lspan.clone()),
        ));
        return;
    }
    if module.is_empty() {
        cfg.variables.insert(name.clone(), v);
    } else {
        cfg.module_vars.insert(
            scoped(&module, "var", name),
            ModuleVar {
                var: v,
                input: None,
                instance: module,
            },
        );
    }
}

pub(super) fn decode_locals(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    for bb in &b.body.blocks {
        unexpected(
            "a locals block",
            &bb.ident,
            &bb.ident_span,
            &[],
            diags,
            "block type",
        );
    }
    let module = cfg.sources.module_of(b.span.file).to_string();
    for a in &b.body.attrs {
        let key = scoped(&module, "local", &a.name);
        if let Some(prev) = cfg.locals.get(&key) {
            diags.push(Diagnostic::error(
                "Duplicate local value definition",
                format!(
                    "local.{} is already defined at {}",
                    a.name,
                    cfg.sources.location(&prev.span)
                ),
                Some(a.key_span.clone()),
            ));
            continue;
        }
        cfg.locals.insert(key, a.clone());
    }
}

pub(super) fn decode_output(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"NAME\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if !check_name(name, lspan, "output", diags) {
        return;
    }
    restrict(
        &b.body,
        "an output block",
        &["value", "description", "sensitive", "depends_on"],
        &[],
        diags,
    );
    let Some(value) = b.body.attr("value") else {
        missing("an output block", "value", &b.span, diags);
        return;
    };
    let o = Output {
        name: name.clone(),
        value: value.expr.clone(),
        description: b
            .body
            .attr("description")
            .and_then(|a| want_literal_str(a, diags)),
        sensitive: b
            .body
            .attr("sensitive")
            .map(|a| literal_bool(a, diags))
            .unwrap_or(false),
        depends_on: b
            .body
            .attr("depends_on")
            .map(|a| decode_depends_on(cfg, a, diags))
            .unwrap_or_default(),
        span: b.span.clone(),
    };
    let module = cfg.sources.module_of(b.span.file).to_string();
    let map = if module.is_empty() {
        &mut cfg.outputs
    } else {
        &mut cfg.module_outputs
    };
    let key = if module.is_empty() {
        name.clone()
    } else {
        scoped(&module, "output", name)
    };
    if let Some(prev) = map.get(&key) {
        let at = cfg.sources.location(&prev.span);
        diags.push(Diagnostic::error(
            "Duplicate output definition",
            format!("output {name:?} is already defined at {at}"),
            Some(lspan.clone()),
        ));
        return;
    }
    map.insert(key, o);
}
