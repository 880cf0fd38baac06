//! Which values are sensitive: declared by variables and outputs, marked by the schema,
//! and propagated through locals, templates, functions and resources.

use super::*;

/// Which values are sensitive, propagated as Terraform does: a sensitive variable makes
/// every local, resource attribute and output that refers to it sensitive, through string
/// templates, function calls and collections, and so on down the graph (a resource
/// attribute set from a sensitive value is itself sensitive where others read it).
#[derive(Debug, Clone, Default)]
pub struct Sensitivity {
    /// Sensitive locals.
    pub locals: std::collections::BTreeSet<String>,
    /// Sensitive outputs of module calls, as `CALL.OUTPUT` (`module.net.secret`).
    pub module_outputs: std::collections::BTreeSet<String>,
    /// Sensitive top-level attributes (or nested block names) per resource.
    pub attrs: BTreeMap<ResourceId, std::collections::BTreeSet<String>>,
}

impl Sensitivity {
    /// Computes sensitivity in one pass over the nodes in topological order.
    pub fn of(cfg: &Config, order: &[Node]) -> Sensitivity {
        let mut s = Sensitivity::default();
        for node in order {
            match node {
                Node::Local(name) => {
                    if let Some(a) = cfg.locals.get(name) {
                        if s.refers_to_sensitive(cfg, &a.expr) {
                            s.locals.insert(name.clone());
                        }
                    }
                }
                Node::Resource(id) => {
                    let Some(r) = cfg.resources.get(id) else {
                        continue;
                    };
                    let mut set = std::collections::BTreeSet::new();
                    if let Some(schema) = schema_of(id) {
                        set.extend(
                            schema
                                .attrs
                                .iter()
                                .filter(|a| a.sensitive)
                                .map(|a| a.name.to_string()),
                        );
                    }
                    for a in &r.body.attrs {
                        if s.refers_to_sensitive(cfg, &a.expr) {
                            set.insert(a.name.clone());
                        }
                    }
                    for b in &r.body.blocks {
                        if s.block_is_sensitive(cfg, &b.body) {
                            // A dynamic block stands for the blocks it makes.
                            let name = match (b.ident.as_str(), b.labels.first()) {
                                ("dynamic", Some((l, _))) => l.clone(),
                                _ => b.ident.clone(),
                            };
                            set.insert(name);
                        }
                    }
                    if !set.is_empty() {
                        s.attrs.insert(id.clone(), set);
                    }
                }
                Node::ModVar(key) => {
                    if let Some(mv) = cfg.module_vars.get(key) {
                        let input = mv.input.as_ref();
                        if mv.var.sensitive || input.is_some_and(|e| s.refers_to_sensitive(cfg, e))
                        {
                            s.locals.insert(key.clone());
                        }
                    }
                }
                Node::ModOut(key) => {
                    if let Some(o) = cfg.module_outputs.get(key) {
                        if o.sensitive || s.refers_to_sensitive(cfg, &o.value) {
                            s.locals.insert(key.clone());
                        }
                    }
                }
                Node::Module(key) => {
                    // A module call's value holds each instance's outputs.
                    let Some(m) = cfg.modules.get(key) else {
                        continue;
                    };
                    for (_, path) in &m.instances {
                        let prefix = format!("{path}.output.");
                        for k in s.locals.range(prefix.clone()..) {
                            let Some(out) = k.strip_prefix(&prefix) else {
                                break;
                            };
                            s.module_outputs.insert(format!("{key}.{out}"));
                        }
                    }
                }
                Node::Var(_) | Node::Output(_) => {}
            }
        }
        s
    }

    fn block_is_sensitive(&self, cfg: &Config, body: &Body) -> bool {
        body.attrs
            .iter()
            .any(|a| self.refers_to_sensitive(cfg, &a.expr))
            || body
                .blocks
                .iter()
                .any(|b| self.block_is_sensitive(cfg, &b.body))
    }

    /// Whether `expr` reads a sensitive value.
    pub fn refers_to_sensitive(&self, cfg: &Config, expr: &Expr) -> bool {
        let module = cfg.sources.module_of(expr.span.file);
        let mut found = refs::find(expr.span.file, &expr.edit);
        // What `nonsensitive(x)` and `issensitive(x)` read does not make the result
        // sensitive.
        if found
            .funcs
            .iter()
            .any(|(n, _)| n == "nonsensitive" || n == "issensitive")
        {
            let stripped =
                crate::config::lazy::without_calls(&expr.edit, &["nonsensitive", "issensitive"]);
            found = refs::find(expr.span.file, &stripped);
        }
        // `sensitive(x)` marks what it is part of, as in Terraform.
        if found.funcs.iter().any(|(n, _)| n == "sensitive") {
            return true;
        }
        found.refs.iter().any(|r| match node_of(module, &r.target) {
            Some(Node::Var(v)) => cfg.variables.get(&v).is_some_and(|d| d.sensitive),
            Some(Node::Local(k) | Node::ModVar(k)) => self.locals.contains(&k),
            Some(Node::Module(k)) => match &r.attr {
                Some(a) => self.module_outputs.contains(&format!("{k}.{a}")),
                None => self
                    .module_outputs
                    .range(format!("{k}.")..)
                    .next()
                    .is_some_and(|x| x.starts_with(&format!("{k}."))),
            },
            Some(Node::Resource(id)) => self.attrs.get(&id).is_some_and(|set| match &r.attr {
                Some(a) => set.contains(a),
                None => !set.is_empty(),
            }),
            _ => false,
        })
    }
}
