//! References: every reference of every expression checked (with "did you mean" hints)
//! and turned into the dependency graph's edges, `depends_on` included.

use super::*;

pub(super) struct RefCtx<'a> {
    cfg: &'a Config,
    /// Whether `count.index` is available (a counted resource's body, a counted module
    /// call's arguments).
    count: bool,
    /// Whether `each.key`/`each.value` are available.
    each: bool,
}

impl<'a> RefCtx<'a> {
    fn top(cfg: &'a Config) -> Self {
        RefCtx {
            cfg,
            count: false,
            each: false,
        }
    }
}

pub(super) fn body_exprs(b: &Body, out: &mut Vec<Expr>) {
    for a in &b.attrs {
        out.push(a.expr.clone());
    }
    for bl in &b.blocks {
        if bl.ident == "dynamic" {
            // Problems in the block itself are reported when it is evaluated.
            if let Some(d) = crate::config::dynamic::parse(bl, &mut Diagnostics::default()) {
                let (for_each, content) = crate::config::dynamic::exprs(&d);
                out.push(for_each);
                body_exprs(&content, out);
            }
            continue;
        }
        body_exprs(&bl.body, out);
    }
}

pub(super) fn check_ref(
    ctx: &RefCtx,
    r: &refs::Reference,
    diags: &mut Diagnostics,
) -> Option<Node> {
    let cfg = ctx.cfg;
    let module = cfg.sources.module_of(r.span.file);
    let node = node_of(module, &r.target);
    match &r.target {
        Target::Var(n) if !module.is_empty() => {
            let key = scoped(module, "var", n);
            if cfg.module_vars.contains_key(&key) {
                return node;
            }
            diags.push(
                Diagnostic::error(
                    "Reference to undeclared input variable",
                    format!("an input variable named {n:?} has not been declared in this module"),
                    Some(r.span.clone()),
                )
                .with_hint(format!(
                    "declare it: variable \"{n}\" {{}}, and pass it from the module block"
                )),
            );
            None
        }
        Target::Var(n) => {
            if cfg.variables.contains_key(n) {
                return Some(Node::Var(n.clone()));
            }
            let mut d = Diagnostic::error(
                "Reference to undeclared input variable",
                format!("an input variable named {n:?} has not been declared"),
                Some(r.span.clone()),
            );
            d = match did_you_mean(n, cfg.variables.keys().map(String::as_str)) {
                Some(s) => d.with_hint(format!("did you mean var.{s}?")),
                None => d.with_hint(format!("declare it: variable \"{n}\" {{}}")),
            };
            diags.push(d);
            None
        }
        Target::Local(n) => {
            if cfg.locals.contains_key(&scoped(module, "local", n)) {
                return node;
            }
            let mut d = Diagnostic::error(
                "Reference to undeclared local value",
                format!("a local value named {n:?} has not been declared"),
                Some(r.span.clone()),
            );
            let prefix = format!("{module}.local.");
            let names = cfg.locals.keys().filter_map(|k| {
                if module.is_empty() {
                    Some(k.as_str()).filter(|k| !k.starts_with("module."))
                } else {
                    k.strip_prefix(&prefix)
                }
            });
            if let Some(s) = did_you_mean(n, names) {
                d = d.with_hint(format!("did you mean local.{s}?"));
            }
            diags.push(d);
            None
        }
        Target::Module(name) => check_module_ref(ctx, module, name, r, diags).then_some(node?),
        Target::Resource(id) => {
            let rel = id.clone().in_module(module);
            let Some(res) = cfg.resources.get(&rel) else {
                let all: Vec<String> = cfg
                    .resources
                    .keys()
                    .filter(|k| k.module == module)
                    .map(|k| {
                        ResourceId {
                            module: String::new(),
                            ..k.clone()
                        }
                        .to_string()
                    })
                    .collect();
                let mut d = Diagnostic::error(
                    "Reference to undeclared resource",
                    format!(
                        "a {} named {id} has not been declared",
                        if id.mode == Mode::Data {
                            "data source"
                        } else {
                            "resource"
                        }
                    ),
                    Some(r.span.clone()),
                );
                if let Some(s) = did_you_mean(&id.to_string(), all.iter().map(String::as_str)) {
                    d = d.with_hint(format!("did you mean {s}?"));
                }
                diags.push(d);
                return None;
            };
            let multi = res.count.is_some() || res.for_each.is_some();
            check_instance_key(
                ("resource", "attributes", "ATTR"),
                &id.to_string(),
                multi,
                r,
                diags,
            );
            if let (Some(attr), Some(schema)) = (&r.attr, schema_of(&rel)) {
                if !schema.has_field(attr) {
                    let mut d = Diagnostic::error(
                        "Unsupported attribute",
                        format!("{id} has no attribute named {attr:?}"),
                        Some(r.span.clone()),
                    );
                    if let Some(s) = did_you_mean(attr, schema.field_names()) {
                        d = d.with_hint(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
            }
            Some(Node::Resource(rel))
        }
        Target::CountIndex => {
            if !ctx.count {
                diags.push(
                    Diagnostic::error(
                        "Reference to \"count\" in a non-counted context",
                        "`count.index` is only available in a resource that sets `count`",
                        Some(r.span.clone()),
                    )
                    .with_hint("set `count` on this resource, or remove the reference"),
                );
            }
            None
        }
        Target::EachKey | Target::EachValue => {
            if !ctx.each {
                diags.push(
                    Diagnostic::error(
                        "Reference to \"each\" in a context without for_each",
                        "`each.key` and `each.value` are only available in a resource that sets `for_each`",
                        Some(r.span.clone()),
                    )
                    .with_hint("set `for_each` on this resource, or remove the reference"),
                );
            }
            None
        }
        Target::Path(_) => None,
        Target::Invalid(what) => {
            diags.push(
                Diagnostic::error(
                    "Invalid reference",
                    format!("`{what}` is not a valid reference here"),
                    Some(r.span.clone()),
                )
                .with_hint("references look like var.NAME, local.NAME, TYPE.NAME.ATTR or data.TYPE.NAME.ATTR"),
            );
            None
        }
    }
}

/// A reference to a repeated block must pick an instance before reading from it, and one to
/// a single block has no instance key. `what` names the block, what is read from it, and a
/// placeholder for that.
pub(super) fn check_instance_key(
    what: (&str, &str, &str),
    name: &str,
    multi: bool,
    r: &refs::Reference,
    diags: &mut Diagnostics,
) {
    let (block, read, placeholder) = what;
    if multi && !r.indexed && r.attr.is_some() {
        diags.push(
            Diagnostic::error(
                format!("Missing {block} instance key"),
                format!("{name} has `count` or `for_each`, so its {read} must be read from one instance"),
                Some(r.span.clone()),
            )
            .with_hint(format!("for example {name}[0].{0} or {name}[*].{0}", r.attr.as_deref().unwrap_or("id"))),
        );
    }
    if !multi && r.indexed {
        diags.push(
            Diagnostic::error(
                format!("Unexpected {block} instance key"),
                format!("{name} has neither `count` nor `for_each`, so it has no instance keys"),
                Some(r.span.clone()),
            )
            .with_hint(format!("drop the index: {name}.{placeholder}")),
        );
    }
}

/// Checks `module.NAME[...].OUTPUT`: the call exists, is indexed as its repetition
/// requires, and its module declares the output.
pub(super) fn check_module_ref(
    ctx: &RefCtx,
    module: &str,
    name: &str,
    r: &refs::Reference,
    diags: &mut Diagnostics,
) -> bool {
    let cfg = ctx.cfg;
    let key = scoped(module, "module", name);
    let Some(m) = cfg.modules.get(&key) else {
        let calls: Vec<String> = cfg
            .modules
            .keys()
            .filter_map(|k| {
                k.strip_prefix(&scoped(module, "module", ""))
                    .map(String::from)
            })
            .filter(|k| !k.contains('.'))
            .collect();
        let mut d = Diagnostic::error(
            "Reference to undeclared module",
            format!("no module call named {name:?} is declared in this module"),
            Some(r.span.clone()),
        );
        if let Some(s) = did_you_mean(name, calls.iter().map(String::as_str)) {
            d = d.with_hint(format!("did you mean module.{s}?"));
        }
        // A call that failed to expand was reported where it is written.
        if !cfg.module_declared.contains(&key) {
            diags.push(d);
        }
        return false;
    };
    let multi = m.repetition != Repetition::Single;
    check_instance_key(("module", "outputs", "OUTPUT"), &key, multi, r, diags);
    if let (Some(attr), Some((_, path))) = (&r.attr, m.instances.first()) {
        if !cfg
            .module_outputs
            .contains_key(&scoped(path, "output", attr))
        {
            let prefix = format!("{path}.output.");
            let outs: Vec<String> = cfg
                .module_outputs
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix).map(String::from))
                .collect();
            let mut d = Diagnostic::error(
                "Unsupported attribute",
                format!("the module {name:?} has no output named {attr:?}"),
                Some(r.span.clone()),
            );
            d = match did_you_mean(attr, outs.iter().map(String::as_str)) {
                Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                None => d.with_hint("declare it in the module: output \"NAME\" { value = ... }"),
            };
            diags.push(d);
        }
    }
    true
}

pub(super) fn add_refs(
    g: &mut Dag<Node, Span>,
    ctx: &RefCtx,
    to: &Node,
    exprs: &[Expr],
    diags: &mut Diagnostics,
) {
    for e in exprs {
        for r in refs::find(e.span.file, &e.edit).refs {
            if let Some(from) = check_ref(ctx, &r, diags) {
                g.add_edge(from, to.clone(), r.span.clone());
            }
        }
    }
}

/// Builds the dependency graph, checking every reference on the way.
pub fn build_graph(cfg: &Config, diags: &mut Diagnostics) -> Dag<Node, Span> {
    let mut g = Dag::new();
    for n in cfg.variables.keys() {
        g.add_node(Node::Var(n.clone()));
    }
    let top = RefCtx::top(cfg);
    for (n, a) in &cfg.locals {
        let node = Node::Local(n.clone());
        g.add_node(node.clone());
        add_refs(&mut g, &top, &node, std::slice::from_ref(&a.expr), diags);
    }
    for (key, mv) in &cfg.module_vars {
        let node = Node::ModVar(key.clone());
        g.add_node(node.clone());
        let inst = cfg.module_instances.get(&mv.instance);
        let ctx = RefCtx {
            cfg,
            count: inst.is_some_and(|i| i.count_index.is_some()),
            each: inst.is_some_and(|i| i.each.is_some()),
        };
        let exprs: Vec<Expr> = mv.input.iter().chain(&mv.var.default).cloned().collect();
        add_refs(&mut g, &ctx, &node, &exprs, diags);
    }
    for (key, o) in &cfg.module_outputs {
        let node = Node::ModOut(key.clone());
        g.add_node(node.clone());
        add_refs(&mut g, &top, &node, std::slice::from_ref(&o.value), diags);
        add_depends_on(&mut g, cfg, &node, &o.depends_on, diags);
    }
    for (key, m) in &cfg.modules {
        let node = Node::Module(key.clone());
        g.add_node(node.clone());
        for (_, path) in &m.instances {
            let prefix = format!("{path}.output.");
            for (k, o) in cfg.module_outputs.range(prefix.clone()..) {
                if !k.starts_with(&prefix) {
                    break;
                }
                g.add_edge(Node::ModOut(k.clone()), node.clone(), o.span.clone());
            }
        }
    }
    for (id, r) in &cfg.resources {
        let node = Node::Resource(id.clone());
        g.add_node(node.clone());
        let mut meta = Vec::new();
        meta.extend(r.count.clone());
        meta.extend(r.for_each.clone());
        add_refs(&mut g, &top, &node, &meta, diags);
        let inner = RefCtx {
            cfg,
            count: r.count.is_some(),
            each: r.for_each.is_some(),
        };
        let mut exprs = Vec::new();
        body_exprs(&r.body, &mut exprs);
        add_refs(&mut g, &inner, &node, &exprs, diags);
        add_depends_on(&mut g, cfg, &node, &r.depends_on, diags);
    }
    // A module call's depends_on holds back every resource of its instances, nested
    // modules included.
    for (path, inst) in cfg
        .module_instances
        .iter()
        .filter(|(_, i)| !i.depends_on.is_empty())
    {
        for id in cfg.resources.keys().filter(|id| within(&id.module, path)) {
            add_depends_on(
                &mut g,
                cfg,
                &Node::Resource(id.clone()),
                &inst.depends_on,
                diags,
            );
        }
    }
    for (n, o) in &cfg.outputs {
        let node = Node::Output(n.clone());
        g.add_node(node.clone());
        add_refs(&mut g, &top, &node, std::slice::from_ref(&o.value), diags);
        add_depends_on(&mut g, cfg, &node, &o.depends_on, diags);
    }
    g
}

/// Whether module instance `module` is `path` or nested in it; `path` may be a call key
/// (`module.x`), which holds all its instances.
pub(super) fn within(module: &str, path: &str) -> bool {
    module
        .strip_prefix(path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

pub(super) fn add_depends_on(
    g: &mut Dag<Node, Span>,
    cfg: &Config,
    node: &Node,
    deps: &[crate::config::DependsOn],
    diags: &mut Diagnostics,
) {
    for d in deps {
        match &d.target {
            DepTarget::Resource(id) if cfg.resources.contains_key(id) => {
                g.add_edge(Node::Resource(id.clone()), node.clone(), d.span.clone());
            }
            DepTarget::Module(key) if cfg.modules.contains_key(key) => {
                g.add_edge(Node::Module(key.clone()), node.clone(), d.span.clone());
                for id in cfg.resources.keys().filter(|id| within(&id.module, key)) {
                    if Node::Resource(id.clone()) != *node {
                        g.add_edge(Node::Resource(id.clone()), node.clone(), d.span.clone());
                    }
                }
            }
            other => {
                let shown = match other {
                    DepTarget::Resource(id) => ResourceId {
                        module: String::new(),
                        ..id.clone()
                    }
                    .to_string(),
                    DepTarget::Module(k) => k
                        .rsplit_once("module.")
                        .map(|(_, n)| format!("module.{n}"))
                        .unwrap_or(k.clone()),
                };
                let d = Diagnostic::error(
                    "Reference to undeclared resource",
                    format!("depends_on names {shown}, which is not declared"),
                    Some(d.span.clone()),
                );
                diags.push_once(d);
            }
        }
    }
}

/// True when every reference of `e` resolves (reference errors were reported while
/// building the graph; evaluating such an expression would only report them again).
pub(super) fn refs_ok(cfg: &Config, e: &Expr, sc: &Scope) -> bool {
    let module = cfg.sources.module_of(e.span.file);
    refs::find(e.span.file, &e.edit).refs.iter().all(|r| {
        match (&r.target, node_of(module, &r.target)) {
            (_, Some(Node::Var(n))) => cfg.variables.contains_key(&n) && sc.vars.contains_key(&n),
            (_, Some(Node::Local(k))) => cfg.locals.contains_key(&k),
            (_, Some(Node::ModVar(k))) => sc.locals.contains_key(&k),
            (_, Some(Node::Module(k))) => cfg.modules.contains_key(&k),
            (_, Some(Node::Resource(id))) => cfg.resources.contains_key(&id),
            (_, Some(_)) => false,
            (t, None) => match t {
                Target::CountIndex => sc.count_index.is_some(),
                Target::EachKey | Target::EachValue => sc.each.is_some(),
                Target::Path(_) => true,
                _ => false,
            },
        }
    })
}
