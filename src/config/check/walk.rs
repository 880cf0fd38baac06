//! The walk of the configuration in dependency order: each node evaluated once its
//! dependencies are, module inputs and outputs through their calls, and a hook that sees
//! each resource's instances (the planner's per-instance phase, the checks).

use super::*;

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
pub(super) fn walk_inner<'n>(
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
pub(super) fn module_var(cfg: &Config, key: &str, sc: &Scope, diags: &mut Diagnostics) -> Value {
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
pub(super) fn module_value(cfg: &Config, key: &str, values: &BTreeMap<String, Value>) -> Value {
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

pub(super) fn scope<'a>(
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
