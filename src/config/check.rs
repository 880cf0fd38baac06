//! Ties loading, variables, references, the dependency graph, evaluation and schema
//! validation together: `Config` as written → [`Evaluated`] configuration, or every problem
//! found on the way.
//!
//! Stages stop early only when a later stage could not make sense of an earlier failure
//! (evaluation needs an acyclic graph); within a stage every problem is collected.

use super::eval::{eval, Scope};
use super::files::FileAccess;
use super::load;
use super::refs::{self, Target};
use super::types::Type;
use super::vars::{self, Raw, VarOptions};
use super::{scoped, Body, Config, DepTarget, Expr, Repetition};
use crate::addr::{InstanceKey, Mode, ResourceAddr, ResourceId};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::graph::Dag;
use crate::resource::{self, EvalAttr, EvalBlock, EvalBody};
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A node of the configuration's dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// `var.NAME`.
    Var(String),
    /// `local.NAME`: the bare name in the root module, `module.x.local.NAME` in a child.
    Local(String),
    /// An input variable of a child module instance: `module.x.var.NAME`.
    ModVar(String),
    /// An output of a child module instance: `module.x.output.NAME`.
    ModOut(String),
    /// The value of a module call (`module.x`): its instances' outputs.
    Module(String),
    /// A resource or data source block.
    Resource(ResourceId),
    /// `output.NAME` of the root module.
    Output(String),
}

/// The node a reference written in module instance `module` reads, if any.
pub fn node_of(module: &str, t: &Target) -> Option<Node> {
    Some(match t {
        Target::Var(n) if module.is_empty() => Node::Var(n.clone()),
        Target::Var(n) => Node::ModVar(scoped(module, "var", n)),
        Target::Local(n) => Node::Local(scoped(module, "local", n)),
        Target::Module(n) => Node::Module(scoped(module, "module", n)),
        Target::Resource(id) => Node::Resource(id.clone().in_module(module)),
        _ => return None,
    })
}

impl Node {
    /// The key of a value-holding node in the values map of a walk (locals, module
    /// variables, module outputs and module calls).
    pub fn value_key(&self) -> Option<&str> {
        match self {
            Node::Local(k) | Node::ModVar(k) | Node::ModOut(k) | Node::Module(k) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Var(n) => write!(f, "var.{n}"),
            Node::Local(n) if n.starts_with("module.") => write!(f, "{n}"),
            Node::Local(n) => write!(f, "local.{n}"),
            Node::ModVar(k) | Node::ModOut(k) | Node::Module(k) => write!(f, "{k}"),
            Node::Resource(id) => write!(f, "{id}"),
            Node::Output(n) => write!(f, "output.{n}"),
        }
    }
}

/// One expanded resource instance, evaluated as far as is known before apply.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its address.
    pub addr: ResourceAddr,
    /// Its evaluated arguments.
    pub body: EvalBody,
    /// The provider key (`alicloud` or `alicloud.<alias>`).
    pub provider: String,
    /// `count.index`, if counted.
    pub count_index: Option<u64>,
    /// `each.key`/`each.value`, if expanded with `for_each`.
    pub each: Option<(String, Value)>,
}

/// The most instances one resource may expand to (`count`, `for_each`): bounded input, so a
/// typo such as `count = 100000000` is a diagnostic, not an exhausted machine.
pub const MAX_INSTANCES: usize = 100_000;

/// Options for [`load()`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The configuration directory.
    pub dir: PathBuf,
    /// Variable values from the command line and environment.
    pub vars: VarOptions,
    /// `--allow-files-outside`: directories beyond the configuration's root that file
    /// functions may read.
    pub allow_files_outside: Vec<PathBuf>,
    /// `--untrusted-config`: ignore the configuration's own `allow_files_outside`.
    pub untrusted_config: bool,
}

/// A loaded, evaluated and validated configuration.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The configuration as written.
    pub config: Config,
    /// The directory it was read from.
    pub dir: PathBuf,
    /// What its file functions may read.
    pub files: FileAccess,
    /// Final variable values.
    pub vars: BTreeMap<String, Value>,
    /// Local values (possibly unknown).
    pub locals: BTreeMap<String, Value>,
    /// Every resource instance, by address.
    pub instances: BTreeMap<ResourceAddr, Instance>,
    /// Output values (possibly unknown).
    pub outputs: BTreeMap<String, Value>,
    /// Provider arguments, evaluated, by provider key.
    pub providers: BTreeMap<String, BTreeMap<String, Value>>,
    /// The dependency graph; edges carry the span of the reference that made them.
    pub graph: Dag<Node, Span>,
    /// The graph's nodes in topological order.
    pub order: Vec<Node>,
    /// Which locals and resource attributes hold sensitive values.
    pub sensitive: Sensitivity,
}

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
            let stripped = super::lazy::without_calls(&expr.edit, &["nonsensitive", "issensitive"]);
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

/// Loads `opts.dir` and checks everything that can be checked before any API call.
pub fn load(opts: &Options) -> (Option<Evaluated>, Diagnostics) {
    let (ev, diags, _) = load_with_sources(opts);
    (ev, diags)
}

/// Like [`load()`], also returning the source files (variable files included) that the
/// diagnostics point into, whether or not the configuration is valid.
pub fn load_with_sources(opts: &Options) -> (Option<Evaluated>, Diagnostics, crate::diag::Sources) {
    let (mut cfg, mut diags) = load::load_dir(&opts.dir);
    let ev = check(&mut cfg, opts, &mut diags);
    diags.sort();
    let srcs = match &ev {
        Some(e) => &e.config.sources,
        None => &cfg.sources,
    };
    diags.dedup_locations(srcs);
    let sources = match &ev {
        Some(e) => e.config.sources.clone(),
        None => std::mem::take(&mut cfg.sources),
    };
    (ev.filter(|_| !diags.has_errors()), diags, sources)
}

/// Checks a decoded configuration.
pub fn check(cfg: &mut Config, opts: &Options, diags: &mut Diagnostics) -> Option<Evaluated> {
    let dir = opts.dir.as_path();
    let files = file_access(cfg, opts, diags);
    let raw = vars::gather(cfg, dir, &opts.vars, diags);
    let vars = resolve_vars(cfg, dir, &files, &raw, diags);
    super::modules::expand(cfg, dir, &files, &vars, diags);
    let graph = build_graph(cfg, diags);
    let cycles = graph.cycles();
    for (members, edges) in &cycles {
        let names: Vec<String> = members.iter().map(|m| m.to_string()).collect();
        let detail = edges
            .iter()
            .map(|(a, b, sp)| format!("  {b} refers to {a} at {}", cfg.sources.location(sp)))
            .collect::<Vec<_>>()
            .join("\n");
        diags.push(
            Diagnostic::error(
                "Cycle in the dependency graph",
                format!("Cycle: {}\n{detail}", names.join(", ")),
                edges.first().map(|e| e.2.clone()),
            )
            .with_hint("break the cycle: one of these objects must not refer to the others"),
        );
    }
    if !cycles.is_empty() {
        return None;
    }
    let order: Vec<Node> = graph.topo_order()?.into_iter().cloned().collect();
    let mut ev = Evaluated {
        config: Config::default(),
        dir: dir.to_path_buf(),
        files,
        vars,
        locals: BTreeMap::new(),
        instances: BTreeMap::new(),
        outputs: BTreeMap::new(),
        providers: BTreeMap::new(),
        sensitive: Sensitivity::default(),
        graph,
        order,
    };
    // Sensitivity follows from the configuration alone; `issensitive()` reads it while
    // evaluating.
    ev.sensitive = Sensitivity::of(cfg, &ev.order);
    let mut known = BTreeMap::new();
    let mut instances = Vec::new();
    let (locals, outputs) = walk(cfg, &ev, &mut known, diags, &mut |_, made, _, _| {
        instances.extend(made.into_owned().into_iter().map(|i| (i.addr.clone(), i)));
    });
    ev.locals = locals;
    ev.outputs = outputs;
    // Built in one pass (as the last of equal addresses wins, as inserting did): a B-tree
    // filled one instance at a time leaves its nodes about half empty.
    ev.instances = instances.into_iter().collect();
    resolve_timeouts(cfg, &ev, diags);
    check_providers(cfg, dir, &mut ev, diags);
    check_moves(cfg, &ev, diags);
    for o in cfg.outputs.values().chain(cfg.module_outputs.values()) {
        if !o.sensitive && ev.sensitive.refers_to_sensitive(cfg, &o.value) {
            diags.push(
                Diagnostic::error(
                    "Output refers to sensitive values",
                    "To reduce the risk of accidentally exporting sensitive data that was intended to be only internal, imgform requires that any root module output containing sensitive data be explicitly marked as sensitive, to confirm your intent.",
                    Some(o.value.span.clone()),
                )
                .with_hint("if you do intend to export this data, annotate the output value as sensitive by adding `sensitive = true`"),
            );
        }
    }
    ev.config = std::mem::take(cfg);
    Some(ev)
}

/// `timeouts` written as expressions are evaluated with the variables and locals; they must
/// be known before the plan (a duration cannot wait for apply).
fn resolve_timeouts(cfg: &mut Config, ev: &Evaluated, diags: &mut Diagnostics) {
    let known = BTreeMap::new();
    let sc = scope(&ev.dir, ev, &known);
    let sources = cfg.sources.clone();
    for r in cfg.resources.values_mut() {
        if let Some(b) = r.dynamic_timeouts.take() {
            let Some(d) = super::dynamic::parse(&b, diags) else {
                continue;
            };
            let fe = &d.for_each.expr;
            let elements = match eval(&sources, fe, &sc) {
                Ok(v) if !v.has_unknown() => super::dynamic::elements(&v),
                Ok(_) => None,
                Err(e) => {
                    diags.push(e);
                    continue;
                }
            };
            let Some(elements) = elements else {
                diags.push(
                    Diagnostic::error(
                        "Invalid dynamic for_each argument",
                        "the for_each of dynamic \"timeouts\" must be a list or map known before the plan",
                        Some(fe.span.clone()),
                    )
                    .with_hint("derive it from variables and locals"),
                );
                continue;
            };
            for (k, v) in &elements {
                let body = super::dynamic::bind(&d.content.body, &d.iterator, k, v);
                for a in &body.attrs {
                    r.timeout_exprs.push((a.name.clone(), a.expr.clone()));
                }
            }
        }
        for (name, e) in std::mem::take(&mut r.timeout_exprs) {
            match eval(&sources, &e, &sc) {
                Ok(Value::String(s)) => {
                    super::load::set_timeout(&mut r.timeouts, &name, &s, &e.span, diags)
                }
                // A null timeout (a wrapper's unset variable) keeps the default.
                Ok(Value::Null) => {}
                Ok(other) => diags.push(
                    Diagnostic::error(
                        "Invalid duration",
                        format!(
                            "`{name}` must be a duration string known before the plan, got {}",
                            other.type_name()
                        ),
                        Some(e.span.clone()),
                    )
                    .with_hint("use a literal such as \"2h\", a variable, or a local"),
                ),
                Err(d) => diags.push(d),
            }
        }
    }
}

/// The file functions' policy: the configuration's root, `--allow-files-outside`, and
/// (unless `--untrusted-config`) the configuration's own `allow_files_outside`, which is
/// announced with a warning so that a reviewer sees it in the plan.
fn file_access(cfg: &Config, opts: &Options, diags: &mut Diagnostics) -> FileAccess {
    let mut allowed = Vec::new();
    for d in &opts.allow_files_outside {
        match std::fs::canonicalize(d) {
            Ok(c) if c.is_dir() => allowed.push(c),
            _ => diags.push(
                Diagnostic::error(
                    "Invalid --allow-files-outside",
                    format!("{} is not an existing directory", d.display()),
                    None,
                )
                .with_hint("name a directory that exists"),
            ),
        }
    }
    for (d, span) in &cfg.settings.allow_files_outside {
        if opts.untrusted_config {
            diags.push(Diagnostic::warning(
                "Ignored allow_files_outside",
                format!("--untrusted-config: the configuration may not widen file access, so {d:?} stays unreadable"),
                Some(span.clone()),
            ));
            continue;
        }
        let p = opts.dir.join(d);
        match std::fs::canonicalize(&p) {
            Ok(c) if c.is_dir() => {
                diags.push(
                    Diagnostic::warning(
                        "Configuration widens file access",
                        format!(
                            "allow_files_outside admits {}: file functions may read files there",
                            c.display()
                        ),
                        Some(span.clone()),
                    )
                    .with_hint("plan configurations from untrusted sources (pull requests) with --untrusted-config"),
                );
                allowed.push(c);
            }
            _ => diags.push(Diagnostic::error(
                "Invalid allow_files_outside",
                format!("{} is not an existing directory", p.display()),
                Some(span.clone()),
            )),
        }
    }
    FileAccess::for_dir(&opts.dir, &allowed).unwrap_or_else(|_| FileAccess::none())
}

/// Called after each resource's instances are evaluated; may add the resource's value to
/// the known values its dependents see.
pub type Hook<'h> =
    dyn FnMut(&ResourceId, Made<'_>, &mut BTreeMap<ResourceId, Value>, &mut Diagnostics) + 'h;

/// Which resources a walk evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expand {
    /// Every instance of every resource.
    All,
    /// Every resource whose arguments read another resource, directly or through locals
    /// and modules; the others cannot evaluate differently from the check, which made
    /// them once (`Evaluated::instances`), and are handed over as the check made them.
    Reading,
    /// No resource: the walk is for locals and outputs, which read resources from the
    /// known values.
    Nothing,
}

/// The instances a walk hands to its hook: evaluated by this walk, or the check's.
pub enum Made<'a> {
    /// Evaluated by this walk.
    Fresh(Vec<Instance>),
    /// As the check made them.
    Checked(Vec<&'a Instance>),
}

impl<'a> Made<'a> {
    /// The instances, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Instance> {
        let (fresh, checked): (&[Instance], &[&Instance]) = match self {
            Made::Fresh(v) => (v, &[]),
            Made::Checked(v) => (&[], v),
        };
        fresh.iter().chain(checked.iter().copied())
    }

    /// The instances one at a time, each freed once the caller is done with it: a hook
    /// that builds something per instance does not hold every evaluated body beside what
    /// it builds.
    pub fn into_each(self) -> impl Iterator<Item = std::borrow::Cow<'a, Instance>> {
        let (fresh, checked) = match self {
            Made::Fresh(v) => (v, vec![]),
            Made::Checked(v) => (vec![], v),
        };
        fresh
            .into_iter()
            .map(std::borrow::Cow::Owned)
            .chain(checked.into_iter().map(std::borrow::Cow::Borrowed))
    }

    /// The instances, owned.
    pub fn into_owned(self) -> Vec<Instance> {
        match self {
            Made::Fresh(v) => v,
            Made::Checked(v) => v.into_iter().cloned().collect(),
        }
    }
}

/// Evaluates locals, resources and outputs in topological order. `known` holds resource
/// values known so far (from state, or reads); the hook decides what each resource
/// contributes. Returns the locals and outputs.
pub fn walk(
    cfg: &Config,
    ev: &Evaluated,
    known: &mut BTreeMap<ResourceId, Value>,
    diags: &mut Diagnostics,
    hook: &mut Hook,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    walk_expanding(cfg, ev, Expand::All, known, diags, hook)
}

/// Like [`walk`], evaluating the resources `expand` says.
pub fn walk_expanding(
    cfg: &Config,
    ev: &Evaluated,
    expand: Expand,
    known: &mut BTreeMap<ResourceId, Value>,
    diags: &mut Diagnostics,
    hook: &mut Hook,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    walk_inner(cfg, ev, ev.order.iter(), None, expand, known, diags, hook)
}

/// The nodes `n` depends on, directly or not, and `n` itself, in topological order: all
/// that evaluating `n` needs.
pub fn closure(ev: &Evaluated, n: &Node) -> Vec<Node> {
    let mut seen: std::collections::BTreeSet<Node> = std::collections::BTreeSet::new();
    let mut stack = vec![n.clone()];
    while let Some(x) = stack.pop() {
        if seen.insert(x.clone()) {
            stack.extend(ev.graph.dependencies(&x).into_iter().cloned());
        }
    }
    ev.order
        .iter()
        .filter(|x| seen.contains(*x))
        .cloned()
        .collect()
}

/// Like [`walk`], over `nodes` only (in the order given, which must be topological); with
/// `only`, that resource expands to that one instance.
pub fn walk_nodes<'n>(
    cfg: &Config,
    ev: &Evaluated,
    nodes: impl Iterator<Item = &'n Node>,
    only: Option<&ResourceAddr>,
    known: &mut BTreeMap<ResourceId, Value>,
    diags: &mut Diagnostics,
    hook: &mut Hook,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    walk_inner(cfg, ev, nodes, only, Expand::All, known, diags, hook)
}

#[allow(clippy::too_many_arguments)]
fn walk_inner<'n>(
    cfg: &Config,
    ev: &Evaluated,
    nodes: impl Iterator<Item = &'n Node>,
    only: Option<&ResourceAddr>,
    expand: Expand,
    known: &mut BTreeMap<ResourceId, Value>,
    diags: &mut Diagnostics,
    hook: &mut Hook,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let dir = ev.dir.as_path();
    // With `Expand::Reading`: the nodes whose value reads a resource, directly or not
    // (nodes come in topological order, so a node's dependencies are settled first).
    let mut reading: std::collections::HashSet<&Node> = std::collections::HashSet::new();
    let mut locals: BTreeMap<String, Value> = BTreeMap::new();
    let mut outputs = BTreeMap::new();
    for node in nodes {
        if expand == Expand::Reading
            && ev
                .graph
                .dependencies(node)
                .into_iter()
                .any(|d| matches!(d, Node::Resource(_)) || reading.contains(d))
        {
            reading.insert(node);
        }
        let sc = Scope {
            dir,
            files: &ev.files,
            vars: &ev.vars,
            locals: &locals,
            resources: known,
            count_index: None,
            each: None,
            sensitivity: Some((cfg, &ev.sensitive)),
        };
        match node {
            Node::Var(_) => {}
            Node::Local(name) => {
                let a = &cfg.locals[name];
                let v = match eval_checked(cfg, &a.expr, &sc) {
                    Ok(v) => v,
                    Err(d) => {
                        diags.push(d);
                        Value::Unknown
                    }
                };
                locals.insert(name.clone(), v);
            }
            Node::Resource(id) => {
                let r = &cfg.resources[id];
                let made = match expand {
                    Expand::Nothing => continue,
                    Expand::Reading if !reading.contains(node) => Made::Checked(
                        ev.instances
                            .range(id.instance(None)..)
                            .take_while(|(a, _)| a.id == *id)
                            .map(|(_, i)| i)
                            .collect(),
                    ),
                    _ => {
                        let one = only.filter(|a| a.id == *id).map(|a| &a.key);
                        Made::Fresh(expand_resource(cfg, &sc, r, diags, one))
                    }
                };
                hook(id, made, known, diags);
            }
            Node::Output(name) => {
                let o = &cfg.outputs[name];
                match eval_checked(cfg, &o.value, &sc) {
                    Ok(v) => {
                        outputs.insert(name.clone(), v);
                    }
                    Err(d) => diags.push(d),
                }
            }
            Node::ModVar(key) => {
                let v = module_var(cfg, key, &sc, diags);
                locals.insert(key.clone(), v);
            }
            Node::ModOut(key) => {
                let o = &cfg.module_outputs[key];
                let v = eval_checked(cfg, &o.value, &sc).unwrap_or_else(|d| {
                    diags.push_once(d);
                    Value::Unknown
                });
                locals.insert(key.clone(), v);
            }
            Node::Module(key) => {
                let v = module_value(cfg, key, &locals);
                locals.insert(key.clone(), v);
            }
        }
    }
    (locals, outputs)
}

/// The value of a child module's input variable: the call's argument, evaluated in the
/// caller's scope with the instance's `count.index`/`each`, or the default; converted to
/// the declared type and checked by its validations.
fn module_var(cfg: &Config, key: &str, sc: &Scope, diags: &mut Diagnostics) -> Value {
    let mv = &cfg.module_vars[key];
    let inst = cfg.module_instances.get(&mv.instance);
    let isc = Scope {
        count_index: inst.and_then(|i| i.count_index),
        each: inst.and_then(|i| i.each.as_ref().map(|(k, v)| (k.as_str(), v))),
        ..*sc
    };
    let (raw, span) = match (&mv.input, &mv.var.default) {
        (Some(e), _) => (eval_checked(cfg, e, &isc), e.span.clone()),
        (None, Some(d)) => (vars::constant(cfg, d), d.span.clone()),
        // Reported when the call was expanded.
        (None, None) => return Value::Unknown,
    };
    let value = match raw {
        Ok(v) => v,
        Err(d) => {
            diags.push_once(d);
            return Value::Unknown;
        }
    };
    if value.has_unknown() {
        return value;
    }
    let ty = match &mv.var.ty {
        Some(e) => Type::parse(&e.edit).unwrap_or(Type::Any),
        None => Type::Any,
    };
    let name = &mv.var.name;
    let value = match ty.convert(value) {
        Ok(v) => v,
        Err(m) => {
            diags.push(
                Diagnostic::error(
                    "Invalid value for input variable",
                    format!("the value given for the module's variable {name:?} is not valid: {m}"),
                    Some(span),
                )
                .with_hint("give a value of the variable's declared type"),
            );
            return Value::Unknown;
        }
    };
    if value.is_null() && !mv.var.nullable {
        diags.push(Diagnostic::error(
            "Required variable is null",
            format!("the module's variable {name:?} is not nullable, but its value is null"),
            Some(span),
        ));
        return Value::Unknown;
    }
    if mv.var.validations.is_empty() {
        return value;
    }
    let mut one = sc.locals.clone();
    one.insert(key.to_string(), value.clone());
    let vsc = Scope {
        locals: &one,
        ..*sc
    };
    for val in &mv.var.validations {
        match eval(&cfg.sources, &val.condition, &vsc) {
            Ok(Value::Bool(false)) => {
                let msg = eval(&cfg.sources, &val.error_message, &vsc)
                    .ok()
                    .and_then(|m| m.as_str().map(String::from))
                    .unwrap_or_else(|| "the validation condition is false".into());
                diags.push(
                    Diagnostic::error(
                        "Invalid value for variable",
                        format!("{msg}\n({}.var.{name} = {value})", mv.instance),
                        Some(span.clone()),
                    )
                    .with_hint(format!(
                        "this was checked by the validation rule at {}",
                        cfg.sources.location(&val.condition.span)
                    )),
                );
            }
            Ok(_) => {}
            Err(d) => diags.push_once(d),
        }
    }
    value
}

/// The value of `module.NAME`: an object of each instance's outputs; a list of them with
/// `count`, a map with `for_each`.
fn module_value(cfg: &Config, key: &str, values: &BTreeMap<String, Value>) -> Value {
    let m = &cfg.modules[key];
    let one = |path: &str| -> Value {
        let prefix = format!("{path}.output.");
        let mut obj = BTreeMap::new();
        for k in cfg.module_outputs.range(prefix.clone()..).map(|(k, _)| k) {
            let Some(name) = k.strip_prefix(&prefix) else {
                break;
            };
            obj.insert(
                name.to_string(),
                values.get(k).cloned().unwrap_or(Value::Unknown),
            );
        }
        Value::Map(obj)
    };
    match m.repetition {
        Repetition::Single => m
            .instances
            .first()
            .map(|(_, p)| one(p))
            .unwrap_or(Value::Map(BTreeMap::new())),
        Repetition::Count => Value::List(m.instances.iter().map(|(_, p)| one(p)).collect()),
        Repetition::ForEach => Value::Map(
            m.instances
                .iter()
                .map(|(k, p)| {
                    let k = match k {
                        Some(InstanceKey::Str(s)) => s.clone(),
                        Some(InstanceKey::Int(i)) => i.to_string(),
                        None => String::new(),
                    };
                    (k, one(p))
                })
                .collect(),
        ),
    }
}

fn scope<'a>(
    dir: &'a Path,
    ev: &'a Evaluated,
    known: &'a BTreeMap<ResourceId, Value>,
) -> Scope<'a> {
    Scope {
        dir,
        files: &ev.files,
        vars: &ev.vars,
        locals: &ev.locals,
        resources: known,
        count_index: None,
        each: None,
        sensitivity: None,
    }
}

fn resolve_vars(
    cfg: &Config,
    dir: &Path,
    files: &FileAccess,
    raw: &BTreeMap<String, Raw>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, v) in &cfg.variables {
        let ty = match &v.ty {
            Some(e) => match Type::parse(&e.edit) {
                Ok(t) => t,
                Err(m) => {
                    diags.push(Diagnostic::error(
                        "Invalid type specification",
                        m,
                        Some(e.span.clone()),
                    ));
                    Type::Any
                }
            },
            None => Type::Any,
        };
        let (value, span) = match raw.get(name) {
            Some(r) => {
                let span = match r {
                    Raw::Value(_, s) => Some(s.clone()),
                    Raw::Text(..) => None,
                };
                match vars::convert(&ty, r) {
                    Ok(val) => (val, span),
                    Err(m) => {
                        let from = match r {
                            Raw::Value(..) => "the variables file".to_string(),
                            Raw::Text(_, src) => src.to_string(),
                        };
                        diags.push(
                            Diagnostic::error(
                                "Invalid value for input variable",
                                format!("the value of var.{name} from {from} is not valid: {m}"),
                                span.clone().or_else(|| Some(v.span.clone())),
                            )
                            .with_hint("give a value of the variable's declared type"),
                        );
                        continue;
                    }
                }
            }
            None => match &v.default {
                Some(d) => match vars::constant(cfg, d).and_then(|val| {
                    ty.convert(val).map_err(|m| {
                        Diagnostic::error(
                            "Invalid default value for variable",
                            m,
                            Some(d.span.clone()),
                        )
                    })
                }) {
                    Ok(val) => (val, Some(d.span.clone())),
                    Err(e) => {
                        diags.push(e);
                        continue;
                    }
                },
                None => {
                    diags.push(
                        Diagnostic::error(
                            "No value for required variable",
                            format!("the variable {name:?} has no default and no value was given"),
                            Some(v.span.clone()),
                        )
                        .with_hint(format!(
                            "set it in imgform.vars, with --var '{name}=...', or in IMGFORM_VAR_{name}"
                        )),
                    );
                    continue;
                }
            },
        };
        if value.is_null() && !v.nullable {
            diags.push(Diagnostic::error(
                "Required variable is null",
                format!("var.{name} is not nullable, but its value is null"),
                span.or_else(|| Some(v.span.clone())),
            ));
            continue;
        }
        let mut one = BTreeMap::new();
        one.insert(name.clone(), value.clone());
        let empty = BTreeMap::new();
        let res = BTreeMap::new();
        let sc = Scope {
            dir,
            files,
            vars: &one,
            locals: &empty,
            resources: &res,
            count_index: None,
            each: None,
            sensitivity: None,
        };
        for val in &v.validations {
            let others: Vec<_> = refs::find(val.condition.span.file, &val.condition.edit)
                .refs
                .into_iter()
                .filter(|r| r.target != Target::Var(name.clone()))
                .collect();
            if let Some(r) = others.first() {
                diags.push(Diagnostic::error(
                    "Invalid reference in variable validation",
                    format!("the condition for var.{name} may only refer to var.{name}"),
                    Some(r.span.clone()),
                ));
                continue;
            }
            match eval(&cfg.sources, &val.condition, &sc) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let msg = eval(&cfg.sources, &val.error_message, &sc)
                        .ok()
                        .and_then(|m| m.as_str().map(String::from))
                        .unwrap_or_else(|| "the validation condition is false".into());
                    diags.push(
                        Diagnostic::error(
                            "Invalid value for variable",
                            format!("{msg}\n(var.{name} = {value})"),
                            span.clone().or_else(|| Some(val.condition.span.clone())),
                        )
                        .with_hint(format!(
                            "this was checked by the validation rule at {}",
                            cfg.sources.location(&val.condition.span)
                        )),
                    );
                }
                Ok(other) => diags.push(Diagnostic::error(
                    "Invalid validation condition",
                    format!(
                        "the condition must be true or false, got {}",
                        other.type_name()
                    ),
                    Some(val.condition.span.clone()),
                )),
                Err(d) => diags.push(d),
            }
        }
        out.insert(name.clone(), value);
    }
    out
}

/// The schema of a resource, if its kind is known.
pub fn schema_of(id: &ResourceId) -> Option<&'static resource::Schema> {
    match id.mode {
        Mode::Managed => resource::managed(&id.kind),
        Mode::Data => resource::data(&id.kind),
    }
}

struct RefCtx<'a> {
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

fn body_exprs(b: &Body, out: &mut Vec<Expr>) {
    for a in &b.attrs {
        out.push(a.expr.clone());
    }
    for bl in &b.blocks {
        if bl.ident == "dynamic" {
            // Problems in the block itself are reported when it is evaluated.
            if let Some(d) = super::dynamic::parse(bl, &mut Diagnostics::default()) {
                let (for_each, content) = super::dynamic::exprs(&d);
                out.push(for_each);
                body_exprs(&content, out);
            }
            continue;
        }
        body_exprs(&bl.body, out);
    }
}

fn check_ref(ctx: &RefCtx, r: &refs::Reference, diags: &mut Diagnostics) -> Option<Node> {
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
fn check_instance_key(
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
fn check_module_ref(
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

fn add_refs(
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
fn within(module: &str, path: &str) -> bool {
    module
        .strip_prefix(path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

fn add_depends_on(
    g: &mut Dag<Node, Span>,
    cfg: &Config,
    node: &Node,
    deps: &[super::DependsOn],
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
fn refs_ok(cfg: &Config, e: &Expr, sc: &Scope) -> bool {
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

/// Evaluates `e`, or gives `Unknown` when it has unresolved references.
fn eval_checked(cfg: &Config, e: &Expr, sc: &Scope) -> Result<Value, Diagnostic> {
    if !refs_ok(cfg, e, sc) {
        return Ok(Value::Unknown);
    }
    eval(&cfg.sources, e, sc)
}

fn eval_body(
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
fn eval_dynamic(
    cfg: &Config,
    b: &super::Block,
    sc: &Scope,
    diags: &mut Diagnostics,
) -> Vec<EvalBlock> {
    let Some(d) = super::dynamic::parse(b, diags) else {
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
    let Some(elements) = super::dynamic::elements(&value) else {
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
            let body = super::dynamic::bind(&d.content.body, &d.iterator, k, v);
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

fn expand_resource(
    cfg: &Config,
    sc: &Scope,
    r: &super::Resource,
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

fn check_providers(cfg: &Config, dir: &Path, ev: &mut Evaluated, diags: &mut Diagnostics) {
    let known = BTreeMap::new();
    for (key, p) in &cfg.providers {
        let sc = scope(dir, ev, &known);
        let body = eval_body(cfg, &p.body, &sc, p.span.clone(), diags);
        let mut m = BTreeMap::new();
        for (name, a) in &body.attrs {
            let v = &a.value;
            let bad = match name.as_str() {
                "region" => v.as_str().and_then(|r| resource::rules::region_id(r).err()),
                "signature_version" => v
                    .as_str()
                    .filter(|s| !matches!(*s, "v1" | "v3"))
                    .map(|s| (format!("{s:?} is not a signature version"), "use \"v3\" (ACS3-HMAC-SHA256, the default) or \"v1\" (HMAC-SHA1)".to_string())),
                "poll_interval" | "max_poll_interval" => v
                    .as_str()
                    .filter(|s| load::parse_go_duration(s).is_none_or(|d| d.is_zero()))
                    .map(|s| (format!("{s:?} is not a positive duration"), "write a duration such as \"2s\", \"500ms\" or \"15s\"".to_string())),
                "max_retries" => v
                    .as_f64()
                    .filter(|n| *n < 0.0 || n.fract() != 0.0)
                    .map(|n| (format!("{n} is not a number of retries"), "use a whole number, 0 or more".to_string())),
                "endpoint" => v
                    .as_str()
                    .filter(|s| s.starts_with("http://") && !crate::cloud::is_loopback_url(s))
                    .map(|s| (format!("{s:?} uses plain HTTP to a host that is not on this machine"), "use https://, or an http:// endpoint on 127.0.0.1/localhost (the local cloud)".to_string())),
                _ => None,
            };
            if let Some((detail, hint)) = bad {
                diags.push(
                    Diagnostic::error(
                        format!("Invalid value for `{name}`"),
                        detail,
                        Some(a.span.clone()),
                    )
                    .with_hint(hint),
                );
            }
            m.insert(name.clone(), a.value.clone());
        }
        ev.providers.insert(key.clone(), m);
    }
}

fn check_moves(cfg: &Config, ev: &Evaluated, diags: &mut Diagnostics) {
    for i in &cfg.imports {
        if !cfg.resources.contains_key(&i.to.id) {
            diags.push(
                Diagnostic::error(
                    "Import target is not in the configuration",
                    format!(
                        "{} must be declared with a resource block to import into it",
                        i.to.id
                    ),
                    Some(i.to_span.clone()),
                )
                .with_hint(format!(
                    "add resource \"{}\" \"{}\" {{ ... }}",
                    i.to.id.kind, i.to.id.name
                )),
            );
        } else if !ev.instances.contains_key(&i.to) {
            diags.push(Diagnostic::error(
                "Import target does not exist",
                format!(
                    "{} is not an instance of the configuration (check its key)",
                    i.to
                ),
                Some(i.to_span.clone()),
            ));
        }
        let empty = BTreeMap::new();
        let sc = scope(&ev.dir, ev, &empty);
        match eval(&cfg.sources, &i.id, &sc) {
            Ok(Value::String(s)) if !s.is_empty() => {}
            Ok(Value::Unknown) => diags.push(Diagnostic::error(
                "Invalid import id",
                "the import id must be known when planning",
                Some(i.id.span.clone()),
            )),
            Ok(other) => diags.push(Diagnostic::error(
                "Invalid import id",
                format!("the import id must be a non-empty string, got {other}"),
                Some(i.id.span.clone()),
            )),
            Err(d) => diags.push(d),
        }
    }
    for m in &cfg.moved {
        if !cfg.resources.contains_key(&m.to.id) {
            diags.push(
                Diagnostic::error(
                    "Moved object's new address is not in the configuration",
                    format!("the `to` address {} is not declared", m.to),
                    Some(m.span.clone()),
                )
                .with_hint(
                    "a moved block points from an old address to a resource block that exists",
                ),
            );
        }
        if cfg.resources.contains_key(&m.from.id) && m.from.key.is_none() && m.to.key.is_none() {
            diags.push(Diagnostic::error(
                "Moved object still in the configuration",
                format!("{} is still declared; a moved block's `from` must no longer be in the configuration", m.from),
                Some(m.span.clone()),
            ));
        }
    }
    for m in &cfg.moved_modules {
        if !cfg.module_instances.contains_key(&m.to) {
            diags.push(
                Diagnostic::error(
                    "Moved object's new address is not in the configuration",
                    format!("the `to` module {} is not declared", m.to),
                    Some(m.span.clone()),
                )
                .with_hint("a moved block points from an old module to a module call that exists (with its key, if it has count or for_each)"),
            );
        }
        if cfg.module_instances.contains_key(&m.from) {
            diags.push(Diagnostic::error(
                "Moved object still in the configuration",
                format!("{} is still declared; a moved block's `from` must no longer be in the configuration", m.from),
                Some(m.span.clone()),
            ));
        }
    }
    for r in &cfg.removed {
        if cfg.resources.contains_key(&r.from.id) {
            diags.push(
                Diagnostic::error(
                    "Removed resource still in the configuration",
                    format!("{} is declared, so it cannot also be removed", r.from.id),
                    Some(r.span.clone()),
                )
                .with_hint("delete the resource block, or the removed block"),
            );
        }
    }
}

/// Evaluates a string expression that may only use variables and locals (import ids).
pub fn eval_simple(ev: &Evaluated, e: &Expr) -> Option<String> {
    let known = BTreeMap::new();
    let sc = scope(&ev.dir, ev, &known);
    match eval(&ev.config.sources, e, &sc) {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_reading_resources_hands_over_the_checks_instances_of_resources_that_read_none() {
        let (mut cfg, mut diags) = load::load_str(&[(
            "main.tf",
            r#"
locals {
  from_a = alicloud_image.a[0].id
}
resource "alicloud_image" "a" {
  count       = 2
  image_name  = "a-${count.index}"
  snapshot_id = "s-bp1system0001"
}
resource "alicloud_image" "b" {
  image_name  = "image-b"
  description = local.from_a
  snapshot_id = "s-bp1system0001"
}
resource "alicloud_image" "c" {
  image_name  = "image-c"
  snapshot_id = "s-bp1system0001"
}
"#,
        )]);
        let ev = check(&mut cfg, &Options::default(), &mut diags).expect("valid");
        assert!(!diags.has_errors(), "{diags:?}");
        let a = ResourceId::managed("alicloud_image", "a");
        let mut known = BTreeMap::new();
        known.insert(
            a.clone(),
            Value::List(vec![
                Value::Map(BTreeMap::from([(
                    "id".to_string(),
                    Value::String("m-a0".into()),
                )])),
                Value::Map(BTreeMap::from([(
                    "id".to_string(),
                    Value::String("m-a1".into()),
                )])),
            ]),
        );
        let mut seen = Vec::new();
        walk_expanding(
            &ev.config,
            &ev,
            Expand::Reading,
            &mut known,
            &mut diags,
            &mut |id, made, _, _| {
                let checked = matches!(made, Made::Checked(_));
                let descriptions: Vec<Option<Value>> = made
                    .iter()
                    .map(|i| i.body.get("description").cloned())
                    .collect();
                for i in made.iter() {
                    // The check's instances are the very ones in `ev.instances`.
                    if checked {
                        assert!(std::ptr::eq(i, &ev.instances[&i.addr]));
                    }
                }
                seen.push((id.name.clone(), checked, made.iter().count(), descriptions));
            },
        );
        assert_eq!(
            seen,
            vec![
                ("a".to_string(), true, 2, vec![None, None]),
                // `b` reads `a` through a local: evaluated again, with what is known of `a`.
                (
                    "b".to_string(),
                    false,
                    1,
                    vec![Some(Value::String("m-a0".into()))]
                ),
                ("c".to_string(), true, 1, vec![None]),
            ]
        );
        // Walks for locals and outputs evaluate no resource.
        let (locals, _) = walk_expanding(
            &ev.config,
            &ev,
            Expand::Nothing,
            &mut known,
            &mut diags,
            &mut |id, _, _, _| panic!("{id} was evaluated"),
        );
        assert_eq!(locals["from_a"], Value::String("m-a0".into()));
    }
}
