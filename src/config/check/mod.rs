//! Ties loading, variables, references, the dependency graph, evaluation and schema
//! validation together: `Config` as written → [`Evaluated`] configuration, or every problem
//! found on the way.
//!
//! Stages stop early only when a later stage could not make sense of an earlier failure
//! (evaluation needs an acyclic graph); within a stage every problem is collected.
//!
//! This file holds the stages' order and the configuration-wide checks (variables,
//! providers, timeouts, moves); each stage's own work has its file: `references` (the
//! references and the graph), `walk` (evaluation in dependency order), `expand`
//! (instances and their bodies), `sensitivity`.

mod expand;
mod references;
mod sensitivity;
mod walk;
pub(crate) use expand::*;
pub use references::*;
pub use sensitivity::*;
pub use walk::*;

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
