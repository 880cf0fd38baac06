//! `resource` and `data` blocks with their meta-arguments: `lifecycle`, `timeouts` (Go
//! durations), `depends_on`.

use super::*;

/// Parses a duration as Terraform writes them (Go's `time.ParseDuration`): a sequence of
/// decimal numbers, each with a unit — `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h` — such as
/// `"60m"`, `"1h30m"`, `"1.5h"` or `"250ms"`. `None` for anything else, including a bare
/// number: a duration with no unit is ambiguous.
pub fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let (unit, len) = [
            ("ns", 1.0),
            ("us", 1e3),
            ("\u{b5}s", 1e3),
            ("\u{3bc}s", 1e3),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 60e9),
            ("h", 3600e9),
        ]
        .iter()
        .find(|(u, _)| rest.starts_with(u))
        .map(|(u, f)| (*f, u.len()))?;
        nanos += num * unit;
        rest = &rest[len..];
    }
    if !nanos.is_finite() || nanos > 1e18 {
        return None;
    }
    Some(std::time::Duration::from_nanos(nanos.round() as u64))
}

/// A duration in whole seconds, rounded up (timeouts, lock waits).
pub fn parse_duration(s: &str) -> Option<u64> {
    parse_go_duration(s).map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

pub(super) fn decode_depends_on(cfg: &Config, a: &Attr, diags: &mut Diagnostics) -> Vec<DependsOn> {
    let mut out = Vec::new();
    let Expression::Array(arr) = &a.expr.edit else {
        diags.push(Diagnostic::error(
            "Invalid depends_on",
            "`depends_on` must be a list of resource or data source references",
            Some(a.expr.span.clone()),
        ));
        return out;
    };
    for el in arr.iter() {
        let e = Expr {
            edit: el.clone(),
            span: span_of(a.expr.span.file, el),
        };
        let module = cfg.sources.module_of(a.expr.span.file);
        let parsed = traversal_text(cfg, &e).and_then(|t| {
            // `alicloud_image.x.id` is accepted as in Terraform: only TYPE.NAME matters.
            let parts: Vec<&str> = t.split('.').collect();
            let addr = match parts.as_slice() {
                ["module", name] if is_valid_name(name) => {
                    return Some(DepTarget::Module(scoped(module, "module", name)))
                }
                ["module", ..] => return None,
                ["data", kind, name, ..] => format!("data.{kind}.{name}"),
                [kind, name, ..] => format!("{kind}.{name}"),
                _ => return None,
            };
            let addr = addr.parse::<ResourceAddr>().ok()?;
            Some(DepTarget::Resource(addr.id.in_module(module)))
        });
        match parsed {
            Some(target) => out.push(DependsOn {
                target,
                span: e.span.clone(),
            }),
            None => diags.push(
                Diagnostic::error(
                    "Invalid depends_on reference",
                    "each element of `depends_on` must name a resource, data source or module, such as alicloud_image.base or module.network",
                    Some(e.span.clone()),
                )
                .with_hint("write the reference without quotes"),
            ),
        }
    }
    out
}

pub(super) fn decode_resource(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 2, "\"TYPE\" \"NAME\"", diags) {
        return;
    }
    let mode = if b.ident == "data" {
        Mode::Data
    } else {
        Mode::Managed
    };
    let (kind, tspan) = &b.labels[0];
    let (name, nspan) = &b.labels[1];
    if !check_name(name, nspan, "resource", diags) {
        return;
    }
    let id = match mode {
        Mode::Managed => ResourceId::managed(kind, name),
        Mode::Data => ResourceId::data(kind, name),
    }
    .in_module(cfg.sources.module_of(b.span.file));
    let mut r = Resource {
        id: id.clone(),
        span: b.span.clone(),
        type_span: tspan.clone(),
        count: None,
        for_each: None,
        depends_on: vec![],
        provider: None,
        lifecycle: Lifecycle::default(),
        timeouts: Timeouts::default(),
        timeout_exprs: Vec::new(),
        dynamic_timeouts: None,
        body: Body::default(),
    };
    for a in &b.body.attrs {
        match a.name.as_str() {
            "count" => r.count = Some(a.expr.clone()),
            "for_each" => r.for_each = Some(a.expr.clone()),
            "depends_on" => r.depends_on = decode_depends_on(cfg, a, diags),
            "provider" => match traversal_text(cfg, &a.expr) {
                Some(t) => r.provider = Some((t, a.expr.span.clone())),
                None => diags.push(
                    Diagnostic::error(
                        "Invalid provider reference",
                        "`provider` must be a reference such as alicloud.shanghai",
                        Some(a.expr.span.clone()),
                    )
                    .with_hint("write it without quotes: provider = alicloud.shanghai"),
                ),
            },
            _ => r.body.attrs.push(a.clone()),
        }
    }
    if r.count.is_some() && r.for_each.is_some() {
        diags.push(
            Diagnostic::error(
                "Invalid combination of count and for_each",
                "`count` and `for_each` cannot both be set on one resource",
                r.for_each.as_ref().map(|e| e.span.clone()),
            )
            .with_hint("keep one of them"),
        );
    }
    for bb in &b.body.blocks {
        match bb.ident.as_str() {
            "lifecycle" if mode == Mode::Managed => decode_lifecycle(&mut r.lifecycle, bb, diags),
            "timeouts" if mode == Mode::Managed => {
                decode_timeouts(&mut r.timeouts, &mut r.timeout_exprs, bb, diags)
            }
            "dynamic"
                if mode == Mode::Managed
                    && bb.labels.first().is_some_and(|l| l.0 == "timeouts") =>
            {
                r.dynamic_timeouts = Some(bb.clone())
            }
            _ => r.body.blocks.push(bb.clone()),
        }
    }
    // One search of the map, not a look-up and an insert (50,000 blocks of one type
    // compare their type names at every step).
    match cfg.resources.entry(id) {
        std::collections::btree_map::Entry::Occupied(prev) => diags.push(Diagnostic::error(
            "Duplicate resource configuration",
            format!(
                "{} is already declared at {}",
                prev.key(),
                cfg.sources.location(&prev.get().span)
            ),
            Some(nspan.clone()),
        )),
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(r);
        }
    }
}

pub(super) fn decode_lifecycle(l: &mut Lifecycle, b: &Block, diags: &mut Diagnostics) {
    restrict(
        &b.body,
        "a lifecycle block",
        &["prevent_destroy", "create_before_destroy", "ignore_changes"],
        &[],
        diags,
    );
    for a in &b.body.attrs {
        match a.name.as_str() {
            "prevent_destroy" => l.prevent_destroy = literal_bool(a, diags),
            "create_before_destroy" => l.create_before_destroy = literal_bool(a, diags),
            "ignore_changes" => match &a.expr.edit {
                Expression::Variable(v) if v.as_str() == "all" => {
                    l.ignore_changes = vec![("*".to_string(), a.expr.span.clone())]
                }
                Expression::Array(arr) => {
                    for el in arr.iter() {
                        let sp = span_of(a.expr.span.file, el);
                        let name = match el {
                            Expression::Variable(v) => Some(v.as_str().to_string()),
                            Expression::String(s) => Some(s.value().clone()),
                            Expression::Traversal(t) => match (&t.expr, t.operators.first()) {
                                (Expression::Variable(v), _) => Some(v.as_str().to_string()),
                                _ => None,
                            },
                            _ => None,
                        };
                        match name {
                            Some(n) => l.ignore_changes.push((n, sp)),
                            None => diags.push(Diagnostic::error(
                                "Invalid ignore_changes entry",
                                "each entry of `ignore_changes` must be an attribute name",
                                Some(sp),
                            )),
                        }
                    }
                }
                _ => diags.push(
                    Diagnostic::error(
                        "Invalid ignore_changes",
                        "`ignore_changes` must be a list of attribute names or the keyword `all`",
                        Some(a.expr.span.clone()),
                    )
                    .with_hint("for example: ignore_changes = [tags, description]"),
                ),
            },
            _ => {}
        }
    }
}

pub(super) fn decode_timeouts(
    t: &mut Timeouts,
    exprs: &mut Vec<(String, Expr)>,
    b: &Block,
    diags: &mut Diagnostics,
) {
    restrict(
        &b.body,
        "a timeouts block",
        &["create", "update", "delete"],
        &[],
        diags,
    );
    for a in &b.body.attrs {
        let Some(s) = literal_str(&a.expr) else {
            // `create = var.build_timeout`: evaluated once variables and locals are known.
            exprs.push((a.name.clone(), a.expr.clone()));
            continue;
        };
        set_timeout(t, &a.name, &s, &a.expr.span, diags);
    }
}

/// Sets one timeout from its text, or reports an invalid duration at `span`.
pub(crate) fn set_timeout(
    t: &mut Timeouts,
    name: &str,
    s: &str,
    span: &Span,
    diags: &mut Diagnostics,
) {
    let Some(secs) = parse_duration(s) else {
        diags.push(
            Diagnostic::error(
                "Invalid duration",
                format!("{s:?} is not a duration"),
                Some(span.clone()),
            )
            .with_hint("write a duration such as \"60m\", \"2h\" or \"1h30m\""),
        );
        return;
    };
    match name {
        "create" => t.create = Some(secs),
        "update" => t.update = Some(secs),
        "delete" => t.delete = Some(secs),
        _ => {}
    }
}
