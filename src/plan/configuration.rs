//! The `configuration` and `relevant_attributes` of Terraform's JSON plan, from the
//! configuration as written: each resource's expressions (`constant_value` for literals,
//! `references` for the rest), `count_expression`/`for_each_expression`, `depends_on`,
//! outputs, variables, provider configurations and module calls with their modules. Policy
//! tools (OPA/conftest, terraform-compliance) read these to check how things are wired, not
//! only what values they get.

use crate::config::check::Evaluated;
use crate::config::refs::{self, Target};
use crate::config::{Body, Config, DepTarget, Expr};
use serde_json::{json, Map, Value as J};
use std::collections::BTreeSet;

const PROVIDER: &str = "registry.terraform.io/aliyun/alicloud";

/// One reference as Terraform lists it, with its shorter forms (`alicloud_image.a[0].id`,
/// `alicloud_image.a[0]`, `alicloud_image.a`).
fn reference_strings(cfg: &Config, r: &refs::Reference) -> Vec<String> {
    let base = match &r.target {
        Target::Var(n) => return vec![format!("var.{n}")],
        Target::Local(n) => return vec![format!("local.{n}")],
        Target::CountIndex => return vec!["count.index".into()],
        Target::EachKey => return vec!["each.key".into()],
        Target::EachValue => return vec!["each.value".into()],
        Target::Path(p) => return vec![format!("path.{p}")],
        Target::Invalid(_) => return vec![],
        Target::Module(m) => format!("module.{m}"),
        Target::Resource(id) => id.to_string(),
    };
    let mut out = Vec::new();
    if r.indexed {
        // As written, without spaces: `module.env["prod"].image_id`.
        let text: String = cfg
            .sources
            .text(&r.span)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(a) = &r.attr {
            if let Some(inst) = text.strip_suffix(&format!(".{a}")) {
                out.push(text.clone());
                out.push(inst.to_string());
            }
        } else if text.starts_with(&base) && text != base {
            out.push(text.clone());
        }
    } else if let Some(a) = &r.attr {
        out.push(format!("{base}.{a}"));
    }
    out.push(base);
    out
}

/// `{"constant_value": v}` for an expression without references, else
/// `{"references": [...]}`.
fn expression(cfg: &Config, e: &Expr) -> J {
    let found = refs::find(e.span.file, &e.edit);
    if found.refs.is_empty() && found.funcs.is_empty() {
        if let Ok(v) = crate::config::vars::constant(cfg, e) {
            return json!({ "constant_value": v.to_json() });
        }
    }
    let mut seen = BTreeSet::new();
    let mut list = Vec::new();
    for r in &found.refs {
        for s in reference_strings(cfg, r) {
            if seen.insert(s.clone()) {
                list.push(J::String(s));
            }
        }
    }
    json!({ "references": list })
}

fn expressions(cfg: &Config, body: &Body) -> Map<String, J> {
    let mut m = Map::new();
    for a in &body.attrs {
        m.insert(a.name.clone(), expression(cfg, &a.expr));
    }
    for b in &body.blocks {
        let entry = m.entry(b.ident.clone()).or_insert_with(|| J::Array(vec![]));
        if let J::Array(v) = entry {
            v.push(J::Object(expressions(cfg, &b.body)));
        }
    }
    m
}

/// A module instance's path without its instance keys: `module.env["prod"].module.x`
/// is `module.env.module.x`, the path of the configuration it was made from.
fn call_path(instance: &str) -> String {
    let mut out = String::with_capacity(instance.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in instance.chars() {
        if depth > 0 {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
        } else if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// The module whose files live in instance `path` (the first instance of each call stands
/// for the call, as Terraform's configuration is per call, not per instance).
fn module(cfg: &Config, path: &str) -> J {
    let mut resources = Vec::new();
    for (id, r) in cfg.resources.iter().filter(|(id, _)| id.module == path) {
        let rel = crate::addr::ResourceId {
            module: String::new(),
            ..id.clone()
        };
        let mut m = Map::new();
        m.insert("address".into(), json!(rel.to_string()));
        m.insert(
            "mode".into(),
            json!(if id.mode == crate::addr::Mode::Data {
                "data"
            } else {
                "managed"
            }),
        );
        m.insert("type".into(), json!(id.kind));
        m.insert("name".into(), json!(id.name));
        let key = r
            .provider
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| "alicloud".into());
        // Terraform's opaque key: `alicloud` in the root module, `module.x:alicloud` in a
        // module (the call path, without instance keys).
        let key = if id.module.is_empty() {
            key
        } else {
            format!("{}:{key}", call_path(&id.module))
        };
        m.insert("provider_config_key".into(), json!(key));
        m.insert("expressions".into(), J::Object(expressions(cfg, &r.body)));
        m.insert("schema_version".into(), json!(0));
        if let Some(c) = &r.count {
            m.insert("count_expression".into(), expression(cfg, c));
        }
        if let Some(f) = &r.for_each {
            m.insert("for_each_expression".into(), expression(cfg, f));
        }
        if !r.depends_on.is_empty() {
            let deps: Vec<String> = r
                .depends_on
                .iter()
                .map(|d| match &d.target {
                    DepTarget::Resource(t) => crate::addr::ResourceId {
                        module: String::new(),
                        ..t.clone()
                    }
                    .to_string(),
                    DepTarget::Module(k) => k
                        .rsplit_once("module.")
                        .map(|(_, n)| format!("module.{n}"))
                        .unwrap_or_else(|| k.clone()),
                })
                .collect();
            m.insert("depends_on".into(), json!(deps));
        }
        resources.push(J::Object(m));
    }
    let mut out = Map::new();
    let mut outputs = Map::new();
    let mut variables = Map::new();
    if path.is_empty() {
        for (n, o) in &cfg.outputs {
            let mut e = Map::new();
            e.insert("expression".into(), expression(cfg, &o.value));
            if o.sensitive {
                e.insert("sensitive".into(), json!(true));
            }
            if let Some(d) = &o.description {
                e.insert("description".into(), json!(d));
            }
            outputs.insert(n.clone(), J::Object(e));
        }
        for (n, v) in &cfg.variables {
            variables.insert(n.clone(), variable(cfg, &v.default, v));
        }
    } else {
        let prefix = format!("{path}.output.");
        for (k, o) in cfg.module_outputs.range(prefix.clone()..) {
            let Some(n) = k.strip_prefix(&prefix) else {
                break;
            };
            let mut e = Map::new();
            e.insert("expression".into(), expression(cfg, &o.value));
            if o.sensitive {
                e.insert("sensitive".into(), json!(true));
            }
            outputs.insert(n.to_string(), J::Object(e));
        }
        let prefix = format!("{path}.var.");
        for (k, mv) in cfg.module_vars.range(prefix.clone()..) {
            let Some(n) = k.strip_prefix(&prefix) else {
                break;
            };
            variables.insert(n.to_string(), variable(cfg, &mv.var.default, &mv.var));
        }
    }
    if !outputs.is_empty() {
        out.insert("outputs".into(), J::Object(outputs));
    }
    out.insert("resources".into(), J::Array(resources));
    let calls = module_calls(cfg, path);
    if !calls.is_empty() {
        out.insert("module_calls".into(), J::Object(calls));
    }
    if !variables.is_empty() {
        out.insert("variables".into(), J::Object(variables));
    }
    J::Object(out)
}

fn variable(cfg: &Config, default: &Option<Expr>, v: &crate::config::Variable) -> J {
    let mut e = Map::new();
    if let Some(d) = default {
        if let Ok(val) = crate::config::vars::constant(cfg, d) {
            let shown = if v.sensitive { J::Null } else { val.to_json() };
            e.insert("default".into(), shown);
        }
    }
    if let Some(d) = &v.description {
        e.insert("description".into(), json!(d));
    }
    if v.sensitive {
        e.insert("sensitive".into(), json!(true));
    }
    J::Object(e)
}

/// The calls made from module instance `parent`, each with its source, arguments and the
/// module of its first instance.
fn module_calls(cfg: &Config, parent: &str) -> Map<String, J> {
    let mut out = Map::new();
    let prefix = if parent.is_empty() {
        "module.".to_string()
    } else {
        format!("{parent}.module.")
    };
    for (key, node) in cfg.modules.range(prefix.clone()..) {
        let Some(name) = key.strip_prefix(&prefix) else {
            break;
        };
        if name.contains('.') {
            continue;
        }
        let Some((_, first)) = node.instances.first() else {
            continue;
        };
        let mut m = Map::new();
        // The call's arguments are the instance's module variables with an input.
        let mut args = Map::new();
        let vprefix = format!("{first}.var.");
        for (k, mv) in cfg.module_vars.range(vprefix.clone()..) {
            let Some(n) = k.strip_prefix(&vprefix) else {
                break;
            };
            if let Some(e) = &mv.input {
                args.insert(n.to_string(), expression(cfg, e));
            }
        }
        m.insert("source".into(), json!(node.source));
        if let Some(c) = &node.count {
            m.insert("count_expression".into(), expression(cfg, c));
        }
        if let Some(f) = &node.for_each {
            m.insert("for_each_expression".into(), expression(cfg, f));
        }
        m.insert("expressions".into(), J::Object(args));
        m.insert("module".into(), module(cfg, first));
        out.insert(name.to_string(), J::Object(m));
    }
    out
}

/// Terraform's `configuration` object.
pub fn configuration(ev: &Evaluated) -> J {
    let cfg = &ev.config;
    let mut providers = Map::new();
    for (key, p) in &cfg.providers {
        let mut m = Map::new();
        m.insert("name".into(), json!("alicloud"));
        m.insert("full_name".into(), json!(PROVIDER));
        if let Some(a) = &p.alias {
            m.insert("alias".into(), json!(a));
        }
        m.insert("expressions".into(), J::Object(expressions(cfg, &p.body)));
        providers.insert(key.clone(), J::Object(m));
    }
    if providers.is_empty() {
        providers.insert(
            "alicloud".into(),
            json!({"name": "alicloud", "full_name": PROVIDER}),
        );
    }
    json!({ "provider_config": providers, "root_module": module(cfg, "") })
}

/// Terraform's `relevant_attributes`: the resource attributes other parts of the
/// configuration read (`{"resource": "alicloud_image.a", "attribute": ["id"]}`).
pub fn relevant_attributes(ev: &Evaluated) -> J {
    let cfg = &ev.config;
    let mut found: BTreeSet<(String, String)> = BTreeSet::new();
    let mut exprs: Vec<&Expr> = Vec::new();
    fn body_exprs<'a>(b: &'a Body, out: &mut Vec<&'a Expr>) {
        for a in &b.attrs {
            out.push(&a.expr);
        }
        for bl in &b.blocks {
            body_exprs(&bl.body, out);
        }
    }
    for r in cfg.resources.values() {
        body_exprs(&r.body, &mut exprs);
        exprs.extend(r.count.iter().chain(r.for_each.iter()));
    }
    exprs.extend(cfg.outputs.values().map(|o| &o.value));
    exprs.extend(cfg.module_outputs.values().map(|o| &o.value));
    exprs.extend(cfg.locals.values().map(|a| &a.expr));
    exprs.extend(cfg.module_vars.values().filter_map(|m| m.input.as_ref()));
    for e in exprs {
        let module = cfg.sources.module_of(e.span.file);
        for r in refs::find(e.span.file, &e.edit).refs {
            if let (Target::Resource(id), Some(attr)) = (&r.target, &r.attr) {
                let id = id.clone().in_module(module);
                found.insert((id.to_string(), attr.clone()));
            }
        }
    }
    J::Array(
        found
            .into_iter()
            .map(|(res, attr)| json!({ "resource": res, "attribute": [attr] }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_call_path_drops_instance_keys_even_with_brackets_in_them() {
        assert_eq!(super::call_path("module.x"), "module.x");
        assert_eq!(
            super::call_path(r#"module.env["prod"].module.img[0]"#),
            "module.env.module.img"
        );
        assert_eq!(super::call_path(r#"module.e["a]\"b["]"#), "module.e");
    }
}
