//! Expansion: `count` and `for_each` made into instances, each instance's body evaluated
//! (`dynamic` blocks included) and checked by its schema.

use super::*;

/// Evaluates `e`, or gives `Unknown` when it has unresolved references.
pub(super) fn eval_checked(cfg: &Config, e: &Expr, sc: &Scope) -> Result<Value, Diagnostic> {
    if !refs_ok(cfg, e, sc) {
        return Ok(Value::Unknown);
    }
    eval(&cfg.sources, e, sc)
}

pub(super) fn eval_body(
    cfg: &Config,
    body: &Body,
    sc: &Scope,
    span: Span,
    diags: &mut Diagnostics,
) -> EvalBody {
    let mut out = EvalBody {
        span,
        ..EvalBody::default()
    };
    for a in &body.attrs {
        let value = match eval_checked(cfg, &a.expr, sc) {
            Ok(v) => v,
            Err(d) => {
                diags.push(d);
                Value::Unknown
            }
        };
        // As in Terraform, an argument whose value is null is not set at all: a module
        // passing `var.x` (default null) through leaves the argument out.
        if value.is_null() {
            continue;
        }
        out.attrs.insert(
            a.name.clone(),
            EvalAttr {
                value,
                span: a.expr.span.clone(),
                key_span: a.key_span.clone(),
            },
        );
    }
    out.attrs.shrink_to_fit();
    for b in &body.blocks {
        if b.ident == "dynamic" {
            out.blocks.extend(eval_dynamic(cfg, b, sc, diags));
            continue;
        }
        out.blocks.push(EvalBlock {
            ident: b.ident.clone(),
            span: b.span.clone(),
            body: eval_body(cfg, &b.body, sc, b.span.clone(), diags),
        });
    }
    out
}

/// The blocks a `dynamic` block makes: one per element of its `for_each`.
pub(super) fn eval_dynamic(
    cfg: &Config,
    b: &crate::config::Block,
    sc: &Scope,
    diags: &mut Diagnostics,
) -> Vec<EvalBlock> {
    let Some(d) = crate::config::dynamic::parse(b, diags) else {
        return vec![];
    };
    let fe = &d.for_each.expr;
    let value = match eval_checked(cfg, fe, sc) {
        Ok(v) => v,
        Err(e) => {
            diags.push_once(e);
            return vec![];
        }
    };
    if value.has_unknown() {
        diags.push_once(
            Diagnostic::error(
                "Invalid dynamic for_each argument",
                format!("the for_each of dynamic \"{}\" depends on values known only after apply, so the blocks cannot be planned", d.name),
                Some(fe.span.clone()),
            )
            .with_hint("derive for_each from variables, locals and data sources"),
        );
        return vec![];
    }
    let Some(elements) = crate::config::dynamic::elements(&value) else {
        diags.push_once(
            Diagnostic::error(
                "Invalid dynamic for_each argument",
                format!(
                    "for_each must be a list, set or map; got {}",
                    value.type_name()
                ),
                Some(fe.span.clone()),
            )
            .with_hint("use a list of objects, or a map"),
        );
        return vec![];
    };
    elements
        .iter()
        .map(|(k, v)| {
            let body = crate::config::dynamic::bind(&d.content.body, &d.iterator, k, v);
            EvalBlock {
                ident: d.name.to_string(),
                span: d.content.span.clone(),
                body: eval_body(cfg, &body, sc, d.content.span.clone(), diags),
            }
        })
        .collect()
}

/// One instance to make: its key, `count.index` and `each`.
pub(crate) type Expansion = (Option<InstanceKey>, Option<u64>, Option<(String, Value)>);

/// The instances a known `for_each` value makes: a map's entries, or a set of strings.
pub(crate) fn for_each_keys(v: Value, span: &Span) -> Result<Vec<Expansion>, Diagnostic> {
    let mut keys = Vec::new();
    match v {
        Value::Map(m) => {
            for (k, v) in m {
                keys.push((Some(InstanceKey::Str(k.clone())), None, Some((k, v))));
            }
        }
        Value::List(l) if l.iter().all(|v| v.as_str().is_some()) => {
            for v in l {
                let k = v.as_str().unwrap_or_default().to_string();
                keys.push((Some(InstanceKey::Str(k.clone())), None, Some((k, v))));
            }
        }
        other => {
            return Err(Diagnostic::error(
                "Invalid for_each argument",
                format!(
                    "for_each must be a map, or a set of strings; got {}",
                    other.type_name()
                ),
                Some(span.clone()),
            )
            .with_hint("use toset([...]) for a list of strings"))
        }
    }
    Ok(keys)
}

pub(super) fn expand_resource(
    cfg: &Config,
    sc: &Scope,
    r: &crate::config::Resource,
    diags: &mut Diagnostics,
    only: Option<&Option<InstanceKey>>,
) -> Vec<Instance> {
    let Some(schema) = schema_of(&r.id) else {
        let kinds: Vec<&str> = match r.id.mode {
            Mode::Managed => resource::managed_names(),
            Mode::Data => resource::data_names(),
        };
        let mut d = Diagnostic::error(
            "Unsupported resource type",
            format!(
                "imgform does not manage {} of type {:?}",
                if r.id.mode == Mode::Data {
                    "data sources"
                } else {
                    "resources"
                },
                r.id.kind
            ),
            Some(r.type_span.clone()),
        );
        d = match did_you_mean(&r.id.kind, kinds.iter().copied()) {
            Some(s) => d.with_hint(format!("did you mean {s:?}?")),
            None => d.with_hint(format!("supported types: {}", kinds.join(", "))),
        };
        diags.push(d);
        return vec![];
    };
    for (name, span) in &r.lifecycle.ignore_changes {
        if name != "*" && !schema.has_field(name) {
            let mut d = Diagnostic::error(
                "Unsupported attribute in ignore_changes",
                format!("{} has no attribute named {name:?}", r.id.kind),
                Some(span.clone()),
            );
            if let Some(s) = did_you_mean(name, schema.field_names()) {
                d = d.with_hint(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
    let provider = match &r.provider {
        Some((p, span)) => {
            if !cfg.providers.contains_key(p) {
                let mut d = Diagnostic::error(
                    "Provider configuration not present",
                    format!("{} uses provider {p}, which is not configured", r.id),
                    Some(span.clone()),
                );
                let keys: Vec<&str> = cfg.providers.keys().map(String::as_str).collect();
                d = match did_you_mean(p, keys.iter().copied()) {
                    Some(s) => d.with_hint(format!("did you mean {s}?")),
                    None => d.with_hint(format!(
                        "add provider \"alicloud\" {{ alias = \"{}\" ... }}",
                        p.trim_start_matches("alicloud.")
                    )),
                };
                diags.push(d);
            }
            p.clone()
        }
        None => "alicloud".to_string(),
    };
    let sc = *sc;
    let mut keys: Vec<Expansion> = Vec::new();
    let meta_ok = r
        .count
        .iter()
        .chain(r.for_each.iter())
        .all(|e| refs_ok(cfg, e, &sc));
    if !meta_ok {
        return vec![];
    }
    if let Some(c) = &r.count {
        // As in Terraform, a string holding a whole number converts (`--var n=3` on an
        // untyped variable).
        let counted = eval_checked(cfg, c, &sc).map(|v| match v {
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map(Value::Number)
                .unwrap_or(Value::String(s)),
            other => other,
        });
        match counted {
            Ok(Value::Number(n)) if n > MAX_INSTANCES as f64 => {
                diags.push(
                    Diagnostic::error(
                        "Invalid count argument",
                        format!(
                            "count is {n}; one resource may have at most {MAX_INSTANCES} instances"
                        ),
                        Some(c.span.clone()),
                    )
                    .with_hint("split the images over several resources or configurations"),
                );
                return vec![];
            }
            Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 => {
                for i in 0..n as u64 {
                    keys.push((Some(InstanceKey::Int(i)), Some(i), None));
                }
            }
            Ok(Value::Unknown) => {
                diags.push(
                    Diagnostic::error(
                        "Invalid count argument",
                        "the count value depends on resource attributes that cannot be known until apply",
                        Some(c.span.clone()),
                    )
                    .with_hint("derive count from variables and locals only"),
                );
                return vec![];
            }
            Ok(other) => {
                diags.push(Diagnostic::error(
                    "Invalid count argument",
                    format!("count must be a non-negative whole number, got {other}"),
                    Some(c.span.clone()),
                ));
                return vec![];
            }
            Err(d) => {
                diags.push(d);
                return vec![];
            }
        }
    } else if let Some(fe) = &r.for_each {
        match eval_checked(cfg, fe, &sc) {
            Ok(v) if v.has_unknown() => {
                diags.push(
                    Diagnostic::error(
                        "Invalid for_each argument",
                        "the for_each value depends on resource attributes that cannot be known until apply",
                        Some(fe.span.clone()),
                    )
                    .with_hint("derive for_each from variables and locals only"),
                );
                return vec![];
            }
            Ok(v) => match for_each_keys(v, &fe.span) {
                Ok(k) => keys = k,
                Err(d) => {
                    diags.push(d);
                    return vec![];
                }
            },
            Err(d) => {
                diags.push(d);
                return vec![];
            }
        }
        if keys.len() > MAX_INSTANCES {
            diags.push(
                Diagnostic::error(
                    "Invalid for_each argument",
                    format!(
                        "for_each has {} elements; one resource may have at most {MAX_INSTANCES} instances",
                        keys.len()
                    ),
                    Some(fe.span.clone()),
                )
                .with_hint("split the images over several resources or configurations"),
            );
            return vec![];
        }
    } else {
        keys.push((None, None, None));
    }
    let mut made = Vec::new();
    for (key, ci, each) in keys {
        if only.is_some_and(|k| *k != key) {
            continue;
        }
        let addr = r.id.instance(key);
        let isc = Scope {
            count_index: ci,
            each: each.as_ref().map(|(k, v)| (k.as_str(), v)),
            ..sc
        };
        let body = eval_body(cfg, &r.body, &isc, r.span.clone(), diags);
        schema.validate(&body, diags);
        made.push(Instance {
            addr,
            body,
            provider: provider.clone(),
            count_index: ci,
            each,
        });
    }
    made
}
