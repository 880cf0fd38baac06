//! The planner: a pure function from the evaluated configuration and the refreshed state to
//! a [`Plan`]. It walks the configuration in dependency order so that resources that do
//! not change make their recorded values known to their dependents (a second plan after an
//! apply is empty), and values that depend on unapplied resources stay unknown
//! (`(known after apply)`).

use super::model::*;
use crate::addr::{Mode, ResourceAddr, ResourceId};
use crate::config::check::{self, Evaluated, Instance, Node};
use crate::diag::{Diagnostic, Diagnostics};
use crate::resource::{same_value, BlockSchema, EvalBody, Schema, Ty, Update};
use crate::state::{ResourceState, State, Status};
use crate::value::Value;
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Reads from the cloud what planning needs: data sources and objects to import.
pub trait Reader {
    /// Reads a data source with fully known arguments.
    fn read_data(&mut self, provider: &str, kind: &str, args: &J) -> Result<J, String>;
    /// Reads an object to import; `None` when it does not exist.
    fn import(&mut self, provider: &str, kind: &str, id: &str) -> Result<Option<J>, String>;
}

/// A reader for plans that must not touch the cloud (tests, `--refresh=false` without
/// data sources).
pub struct NoReader;

impl Reader for NoReader {
    fn read_data(&mut self, _: &str, kind: &str, _: &J) -> Result<J, String> {
        Err(format!(
            "cannot read data source {kind} without a cloud connection"
        ))
    }
    fn import(&mut self, _: &str, kind: &str, id: &str) -> Result<Option<J>, String> {
        Err(format!(
            "cannot import {kind} {id} without a cloud connection"
        ))
    }
}

/// What the planner needs.
pub struct Input<'a> {
    /// The configuration.
    pub ev: &'a Evaluated,
    /// The state after refresh (the plan keeps it as its prior state).
    pub state: State,
    /// Drift found by refresh.
    pub drift: Vec<Drift>,
    /// Region of each provider key.
    pub regions: &'a BTreeMap<String, String>,
    /// Options.
    pub options: &'a Options,
}

/// Attributes cleared (set empty) when removed from the configuration.
const CLEARABLE: &[&str] = &["description", "image_family", "tags"];

/// Converts an evaluated value to JSON, recording unknown paths.
fn to_json(v: &Value) -> (J, bool) {
    match v {
        Value::Unknown => (J::Null, true),
        Value::List(l) => {
            let mut unk = false;
            let a = l
                .iter()
                .map(|x| {
                    let (j, u) = to_json(x);
                    unk |= u;
                    j
                })
                .collect();
            (J::Array(a), unk)
        }
        Value::Map(m) => {
            let mut unk = false;
            let o = m
                .iter()
                .map(|(k, x)| {
                    let (j, u) = to_json(x);
                    unk |= u;
                    (k.clone(), j)
                })
                .collect();
            (J::Object(o), unk)
        }
        other => (other.to_json(), false),
    }
}

/// The configured attributes of a body as JSON, with the set of unknown ones.
pub fn config_json(body: &EvalBody) -> (Map<String, J>, BTreeSet<String>) {
    let mut out = Map::new();
    let mut unknown = BTreeSet::new();
    for (k, a) in &body.attrs {
        if a.value.is_null() {
            continue;
        }
        let (j, u) = to_json(&a.value);
        if u {
            unknown.insert(k.clone());
        }
        out.insert(k.clone(), j);
    }
    let mut names: Vec<&str> = body.blocks.iter().map(|b| b.ident.as_str()).collect();
    names.dedup();
    for name in names {
        let mut list = Vec::new();
        for b in body.blocks(name) {
            let (inner, u) = config_json(&b.body);
            if !u.is_empty() {
                unknown.insert(name.to_string());
            }
            list.push(J::Object(inner));
        }
        out.insert(name.to_string(), J::Array(list));
    }
    (out, unknown)
}

/// Blocks differ when any configured sub-attribute differs, by the attribute's type
/// (sub-attributes the cloud computed are not compared).
fn blocks_differ(schema: &BlockSchema, cfg: &J, prior: Option<&J>) -> bool {
    let (Some(c), Some(p)) = (cfg.as_array(), prior.and_then(|p| p.as_array())) else {
        return cfg.as_array().is_some_and(|c| !c.is_empty());
    };
    if c.len() != p.len() {
        return true;
    }
    c.iter().zip(p).any(|(cb, pb)| match cb.as_object() {
        Some(o) => o.iter().any(|(k, v)| {
            if let Some(inner) = schema.blocks.iter().find(|b| b.name == k) {
                return blocks_differ(inner, v, pb.get(k));
            }
            let ty = schema
                .attrs
                .iter()
                .find(|a| a.name == k)
                .map(|a| a.ty)
                .unwrap_or(Ty::Any);
            !same_value(ty, v, pb.get(k))
        }),
        None => true,
    })
}

struct Diffed {
    action: Action,
    after: J,
    after_unknown: J,
    replace_paths: Vec<String>,
    changed: Vec<String>,
}

fn diff(
    schema: &Schema,
    cfg: &Map<String, J>,
    unknown: &BTreeSet<String>,
    prior: Option<&J>,
    ignore: &[String],
) -> Diffed {
    let mut after_unknown = Map::new();
    for u in unknown {
        after_unknown.insert(u.clone(), J::Bool(true));
    }
    let Some(prior) = prior else {
        let mut after = cfg.clone();
        for u in unknown {
            after.insert(u.clone(), J::Null);
        }
        for a in schema.attrs.iter().filter(|a| a.update == Update::Computed) {
            after_unknown.insert(a.name.into(), J::Bool(true));
        }
        after_unknown.insert("id".into(), J::Bool(true));
        return Diffed {
            action: Action::Create,
            after: J::Object(after),
            after_unknown: J::Object(after_unknown),
            replace_paths: vec![],
            changed: vec![],
        };
    };
    let ignored = |n: &str| ignore.iter().any(|i| i == n || i == "*");
    let mut after = prior.as_object().cloned().unwrap_or_default();
    let mut update = false;
    let mut replace = Vec::new();
    let mut changed_names = Vec::new();
    for a in schema.attrs {
        if a.update == Update::Computed || ignored(a.name) {
            continue;
        }
        let prior_v = prior.get(a.name);
        let changed = match cfg.get(a.name) {
            Some(v) if unknown.contains(a.name) => {
                after.insert(a.name.into(), J::Null);
                let _ = v;
                true
            }
            // The value the configuration gives replaces the recorded one only when it
            // differs by the attribute's type: `"40"` stays 40 for a number.
            Some(v) if same_value(a.ty, v, prior_v) => false,
            Some(v) => {
                after.insert(a.name.into(), v.clone());
                true
            }
            None if CLEARABLE.contains(&a.name) && a.update == Update::InPlace => {
                let empty = if a.name == "tags" {
                    json!({})
                } else {
                    json!("")
                };
                let had = prior_v.is_some_and(|p| {
                    !(p.is_null()
                        || p == &empty
                        || p.as_object().is_some_and(|o| o.is_empty())
                        || p.as_str() == Some(""))
                });
                if had {
                    after.insert(a.name.into(), empty);
                }
                had
            }
            None => false,
        };
        if changed {
            changed_names.push(a.name.to_string());
            match a.update {
                Update::ForceNew => replace.push(a.name.to_string()),
                _ => update = true,
            }
        }
    }
    for b in schema.blocks {
        if ignored(b.name) {
            continue;
        }
        if let Some(v) = cfg.get(b.name) {
            let changed = unknown.contains(b.name) || blocks_differ(b, v, prior.get(b.name));
            if changed {
                changed_names.push(b.name.to_string());
                after.insert(b.name.into(), v.clone());
                match b.update {
                    Update::ForceNew => replace.push(b.name.to_string()),
                    _ => update = true,
                }
            }
        }
    }
    let action = if !replace.is_empty() {
        Action::DeleteThenCreate
    } else if update {
        Action::Update
    } else {
        Action::NoOp
    };
    if action.is_replace() {
        for a in schema.attrs.iter().filter(|a| a.update == Update::Computed) {
            after_unknown.insert(a.name.into(), J::Bool(true));
        }
        after_unknown.insert("id".into(), J::Bool(true));
    }
    Diffed {
        action,
        after: J::Object(after),
        after_unknown: J::Object(after_unknown),
        replace_paths: replace,
        changed: changed_names,
    }
}

/// Objects the instance names by literal id (a pipeline's `COMPONENT ic-…`) must exist:
/// one that does not is an error at the attribute, before any call. Without a cloud
/// connection (the reader cannot look) nothing is checked.
fn check_references(
    reader: &mut dyn Reader,
    inst: &Instance,
    kind: &str,
    cfg: &Map<String, J>,
    unknown: &BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    let Ok(k) = crate::resource::kind(kind) else {
        return;
    };
    for r in k.references(&J::Object(cfg.clone())) {
        if unknown.contains(r.attr) {
            continue;
        }
        if let Ok(None) = reader.import(&inst.provider, r.kind, &r.id) {
            diags.push(
                Diagnostic::error(
                    "Reference to an object that does not exist",
                    format!(
                        "`{}` names {} {}, which does not exist in this region",
                        r.attr, r.kind, r.id
                    ),
                    Some(inst.body.span_of(r.attr)),
                )
                .with_hint(format!(
                    "create it with a `{}` resource and refer to its id, or correct the id",
                    r.kind
                )),
            );
        }
    }
}

/// The resource blocks `id` depends on, through locals and variables.
fn resource_deps(ev: &Evaluated, id: &ResourceId) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![Node::Resource(id.clone())];
    let mut seen = BTreeSet::new();
    while let Some(n) = stack.pop() {
        for d in ev.graph.dependencies(&n) {
            if !seen.insert(d.clone()) {
                continue;
            }
            match d {
                Node::Resource(r) => {
                    out.insert(r.to_string());
                }
                other => stack.push(other.clone()),
            }
        }
    }
    out.into_iter().collect()
}

/// Renames state rows (`moved`): each `from` row becomes `to`, unless `to` is taken.
fn rename_rows(
    state: &mut crate::state::State,
    pairs: Vec<(ResourceAddr, ResourceAddr)>,
    moved_from: &mut BTreeMap<ResourceAddr, ResourceAddr>,
) {
    for (from, to) in pairs {
        if state.resources.contains_key(&to) {
            continue;
        }
        if let Some(mut r) = state.resources.remove(&from) {
            r.addr = to.clone();
            state.resources.insert(to.clone(), r);
            moved_from.insert(to, from);
        }
    }
}

/// What a data source waits for: its own `depends_on`, and that of each module call it
/// is inside.
fn data_deps<'a>(
    cfg: &'a crate::config::Config,
    r: &'a crate::config::Resource,
) -> Vec<&'a crate::config::DepTarget> {
    let mut out: Vec<&crate::config::DepTarget> = r.depends_on.iter().map(|d| &d.target).collect();
    let mut at = r.id.module.as_str();
    while !at.is_empty() {
        if let Some(i) = cfg.module_instances.get(at) {
            out.extend(i.depends_on.iter().map(|d| &d.target));
        }
        at = at.rfind(".module.").map(|p| &at[..p]).unwrap_or("");
    }
    out
}

/// Whether `t` names the resource `id` (itself, or a module it is in).
fn dep_names(t: &crate::config::DepTarget, id: &ResourceId) -> bool {
    match t {
        crate::config::DepTarget::Resource(r) => r == id,
        crate::config::DepTarget::Module(k) => id
            .module
            .strip_prefix(k.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')),
    }
}

/// The attributes of each resource that some expression reads, from every expression of
/// every configuration file: `None` for a resource read whole (`alicloud_image.a[0]`,
/// `[for i in alicloud_image.a : i]`, `a[0]["id"]`). `None` overall when a file cannot be
/// read as HCL here, so that nothing is left out.
fn read_attributes(
    cfg: &crate::config::Config,
) -> Option<HashMap<ResourceId, Option<BTreeSet<String>>>> {
    use hcl_edit::visit::Visit;
    struct Refs<'a> {
        file: usize,
        module: &'a str,
        out: HashMap<ResourceId, Option<BTreeSet<String>>>,
    }
    impl Visit for Refs<'_> {
        fn visit_attr(&mut self, a: &hcl_edit::structure::Attribute) {
            for r in crate::config::refs::find(self.file, &a.value).refs {
                if let crate::config::refs::Target::Resource(id) = r.target {
                    let e = self
                        .out
                        .entry(id.in_module(self.module))
                        .or_insert_with(|| Some(BTreeSet::new()));
                    match (e.as_mut(), r.attr) {
                        (Some(set), Some(attr)) => {
                            set.insert(attr);
                        }
                        _ => *e = None,
                    }
                }
            }
        }
    }
    let mut refs = Refs {
        file: 0,
        module: "",
        out: HashMap::new(),
    };
    for (i, f) in cfg.sources.files().iter().enumerate() {
        let body = hcl_edit::parser::parse_body(&f.text).ok()?;
        refs.file = i;
        refs.module = &f.module;
        refs.visit_body(&body);
    }
    Some(refs.out)
}

/// An instance's value for the expressions that read it: only the attributes they read
/// (`read`, `None` for all), with the schema's unset ones (null, or no blocks) filled in.
fn instance_value(
    schema: &crate::resource::Schema,
    after: &J,
    unknown: bool,
    read: Option<&BTreeSet<String>>,
) -> Value {
    if unknown {
        return Value::Unknown;
    }
    let wanted = |k: &str| read.is_none_or(|r| r.contains(k));
    let mut v = match (after, read) {
        (J::Object(o), Some(_)) => Value::Map(
            o.iter()
                .filter(|(k, _)| wanted(k))
                .map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect(),
        ),
        _ => Value::from_json(after),
    };
    if let Value::Map(m) = &mut v {
        for a in schema.attrs.iter().filter(|a| wanted(a.name)) {
            m.entry(a.name.to_string()).or_insert(Value::Null);
        }
        for b in schema.blocks.iter().filter(|b| wanted(b.name)) {
            m.entry(b.name.to_string())
                .or_insert_with(|| Value::List(vec![]));
        }
    }
    v
}

fn aggregate(
    r: &crate::config::Resource,
    values: Vec<(Option<crate::addr::InstanceKey>, Value)>,
) -> Value {
    if r.count.is_some() {
        Value::List(values.into_iter().map(|v| v.1).collect())
    } else if r.for_each.is_some() {
        Value::Map(
            values
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Some(crate::addr::InstanceKey::Str(s)) => Some((s, v)),
                    _ => None,
                })
                .collect(),
        )
    } else {
        values
            .into_iter()
            .next()
            .map(|v| v.1)
            .unwrap_or(Value::Unknown)
    }
}

/// Plans.
pub fn plan(input: Input, reader: &mut dyn Reader) -> (Option<Plan>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let ev = input.ev;
    let cfg = &ev.config;
    let opts = input.options;
    // The working state, with moves and imports applied; the prior state is the state as
    // refresh found it, copied only when moves or imports change the working one.
    let mut state = input.state;
    let prior_state =
        (!cfg.moved_modules.is_empty() || !cfg.moved.is_empty() || !cfg.imports.is_empty())
            .then(|| state.clone());
    // One change per configured instance (and per row to destroy), sized once: growing by
    // doubling would hold two copies of the list at its peak.
    let mut changes: Vec<Change> = Vec::with_capacity(ev.instances.len());
    // moved blocks: rename state entries first, whole modules before single resources.
    let mut moved_from: BTreeMap<ResourceAddr, ResourceAddr> = BTreeMap::new();
    for m in &cfg.moved_modules {
        let pairs: Vec<(ResourceAddr, ResourceAddr)> = state
            .resources
            .keys()
            .filter_map(|a| {
                let rest = a.id.module.strip_prefix(&m.from)?;
                // `module.a` moves `module.a` and what is nested in it; `module.a` without
                // a key does not move `module.ab`.
                if !(rest.is_empty() || rest.starts_with('.')) {
                    return None;
                }
                let mut to = a.clone();
                to.id.module = format!("{}{rest}", m.to);
                Some((a.clone(), to))
            })
            .collect();
        rename_rows(&mut state, pairs, &mut moved_from);
    }
    for m in &cfg.moved {
        let pairs: Vec<(ResourceAddr, ResourceAddr)> = state
            .resources
            .keys()
            .filter(|a| {
                if m.from.key.is_some() {
                    **a == m.from
                } else {
                    a.id == m.from.id
                }
            })
            .map(|a| {
                let to = if m.from.key.is_some() || m.to.key.is_some() {
                    m.to.clone()
                } else {
                    m.to.id.instance(a.key.clone())
                };
                (a.clone(), to)
            })
            .collect();
        rename_rows(&mut state, pairs, &mut moved_from);
    }
    // import blocks: read objects not yet in state.
    let mut importing: BTreeMap<ResourceAddr, String> = BTreeMap::new();
    for imp in &cfg.imports {
        if state.resources.contains_key(&imp.to) || opts.destroy {
            continue;
        }
        let Some(inst) = ev.instances.get(&imp.to) else {
            continue;
        };
        let id = match check::eval_simple(ev, &imp.id) {
            Some(s) => s,
            None => continue,
        };
        let region = input
            .regions
            .get(&inst.provider)
            .cloned()
            .unwrap_or_default();
        match reader.import(&inst.provider, &imp.to.id.kind, &id) {
            Ok(Some(attrs)) => {
                state.resources.insert(
                    imp.to.clone(),
                    ResourceState {
                        addr: imp.to.clone(),
                        kind: imp.to.id.kind.clone(),
                        provider: inst.provider.clone(),
                        region,
                        id: Some(id.clone()),
                        status: Status::Ready,
                        client_token: None,
                        generation: 1,
                        attrs: attrs.into(),
                        deps: vec![],
                        pending: None,
                    },
                );
                importing.insert(imp.to.clone(), id);
            }
            Ok(None) => diags.push(
                Diagnostic::error(
                    "Cannot import non-existent remote object",
                    format!("{} {id} does not exist in {region}", imp.to.id.kind),
                    Some(imp.span.clone()),
                )
                .with_hint("check the id and the provider's region"),
            ),
            Err(e) => diags.push(Diagnostic::error(
                "Cannot read the object to import",
                e,
                Some(imp.span.clone()),
            )),
        }
    }
    let targeted = |id: &ResourceId| -> bool {
        if opts.targets.is_empty() {
            return true;
        }
        opts.targets
            .iter()
            .any(|t| t == &id.to_string() || t.starts_with(&format!("{id}[")))
    };
    let mut target_ids: BTreeSet<String> = BTreeSet::new();
    if !opts.targets.is_empty() {
        for (id, _) in cfg.resources.iter() {
            if opts
                .targets
                .iter()
                .any(|t| t == &id.to_string() || t.starts_with(&format!("{id}[")))
            {
                target_ids.insert(id.to_string());
                target_ids.extend(resource_deps(ev, id));
            }
        }
    }
    let in_targets = |id: &ResourceId| {
        opts.targets.is_empty() || target_ids.contains(&id.to_string()) || targeted(id)
    };
    // The state rows the configuration still has (the state's own keys, borrowed: a copy
    // of 50,000 addresses took 8 MB).
    let mut config_addrs: BTreeSet<&ResourceAddr> = BTreeSet::new();
    let mut known: BTreeMap<ResourceId, Value> = BTreeMap::new();
    let regions = input.regions;
    let (_, outputs) = {
        let state_ref = &state;
        let changes_ref = &mut changes;
        let config_addrs_ref = &mut config_addrs;
        let importing_ref = &importing;
        let moved_ref = &moved_from;
        let read_attrs_all = read_attributes(cfg);
        let read_attrs_ref = &read_attrs_all;
        let mut hook = |id: &ResourceId,
                        made: check::Made<'_>,
                        known: &mut BTreeMap<ResourceId, Value>,
                        diags: &mut Diagnostics| {
            let Some(r) = cfg.resources.get(id) else {
                return;
            };
            let schema = check::schema_of(id);
            // Values only something reads are kept: a plan of 50,000 images that nothing
            // refers to does not convert each of them for the evaluator.
            let read = !ev.graph.dependents(&Node::Resource(id.clone())).is_empty();
            // ... and of those, only the attributes something reads.
            let read_attrs = read_attrs_ref
                .as_ref()
                .and_then(|m| m.get(id))
                .and_then(|a| a.as_ref());
            // What every instance of the resource shares, worked out once.
            let deps = resource_deps(ev, id);
            let ignore: Vec<String> = r
                .lifecycle
                .ignore_changes
                .iter()
                .map(|x| x.0.clone())
                .collect();
            // Attributes marked sensitive by the schema, or set from a sensitive value
            // (propagated through locals, templates, functions and other resources), are
            // shown as `(sensitive value)`.
            let sensitive: Vec<String> = ev
                .sensitive
                .attrs
                .get(id)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            let mut values = Vec::new();
            for inst in made.into_each() {
                let inst = &*inst;
                if let Some((a, _)) = state_ref.resources.get_key_value(&inst.addr) {
                    config_addrs_ref.insert(a);
                }
                let Some(schema) = schema else { continue };
                let region = regions.get(&inst.provider).cloned().unwrap_or_default();
                let (mut cfg_json, unknown) = config_json(&inst.body);
                schema.normalize(&mut cfg_json);
                if id.mode == Mode::Data {
                    // With depends_on naming something that changes in this plan, the
                    // read waits for apply, as in Terraform.
                    let pending = data_deps(cfg, r).iter().any(|t| {
                        changes_ref.iter().any(|c| {
                            !matches!(c.action, Action::NoOp | Action::Read)
                                && dep_names(t, &c.addr.id)
                        })
                    });
                    if unknown.is_empty() && !opts.destroy && !pending {
                        match reader.read_data(
                            &inst.provider,
                            &id.kind,
                            &J::Object(cfg_json.clone()),
                        ) {
                            Ok(v) => values.push((inst.addr.key.clone(), Value::from_json(&v))),
                            Err(e) => {
                                diags.push(Diagnostic::error(
                                    format!("Cannot read {}", inst.addr),
                                    e,
                                    Some(r.span.clone()),
                                ));
                                values.push((inst.addr.key.clone(), Value::Unknown));
                            }
                        }
                    } else {
                        values.push((inst.addr.key.clone(), Value::Unknown));
                        if !opts.destroy {
                            changes_ref.push(Change {
                                addr: inst.addr.clone(),
                                prev_addr: None,
                                kind: id.kind.clone(),
                                provider: inst.provider.clone(),
                                region,
                                action: Action::Read,
                                reason: Some(
                                    if pending && unknown.is_empty() {
                                        "read_because_dependency_pending"
                                    } else {
                                        "read_because_config_unknown"
                                    }
                                    .into(),
                                ),
                                before: None,
                                after: Some(Box::new(J::Object(cfg_json))),
                                after_unknown: json!({}),
                                replace_paths: vec![],
                                changed: vec![],
                                sensitive: vec![],
                                importing: None,
                                deps: deps.clone(),
                                unchanged: false,
                            });
                        }
                    }
                    continue;
                }
                let prior = state_ref.resources.get(&inst.addr);
                // The row's attributes as the diff reads them: parsed for this instance
                // only, with its id among them.
                let prior_attrs = prior.map(|p| {
                    let mut a = p.attrs.value();
                    if let (Some(o), Some(id)) = (a.as_object_mut(), &p.id) {
                        o.insert("id".into(), J::String(id.clone()));
                    }
                    if importing_ref.contains_key(&inst.addr) {
                        // An imported object adopts configured values the cloud cannot report
                        // (instance_id, build inputs) instead of being replaced for them.
                        if let Some(o) = a.as_object_mut() {
                            for (k, v) in &cfg_json {
                                o.entry(k.clone()).or_insert_with(|| v.clone());
                            }
                        }
                    }
                    a
                });
                let mut d = diff(
                    schema,
                    &cfg_json,
                    &unknown,
                    prior_attrs
                        .as_ref()
                        .filter(|_| prior.is_some_and(|p| p.status != Status::Creating)),
                    &ignore,
                );
                if matches!(d.action, Action::Create) || !d.replace_paths.is_empty() {
                    check_references(reader, inst, &id.kind, &cfg_json, &unknown, diags);
                }
                let mut reason = None;
                if let Some(p) = prior {
                    match p.status {
                        Status::Creating => {
                            d.action = Action::Resume;
                            reason = Some(if p.id.is_some() {
                                "resume_wait".to_string()
                            } else {
                                "resume_create".to_string()
                            });
                            d.after = prior_attrs.clone().unwrap_or_default();
                            d.after_unknown = json!({"id": p.id.is_none(), "status": true});
                        }
                        Status::Tainted => {
                            d.action = Action::DeleteThenCreate;
                            reason = Some("replace_because_tainted".into());
                        }
                        Status::Deleting => {
                            d.action = Action::DeleteThenCreate;
                            reason = Some("replace_because_delete_interrupted".into());
                        }
                        Status::Ready => {}
                    }
                }
                if prior.is_some()
                    && opts.replace.iter().any(|x| *x == inst.addr.to_string())
                    && matches!(d.action, Action::NoOp | Action::Update)
                {
                    d.action = Action::DeleteThenCreate;
                    reason = Some("replace_by_request".into());
                }
                if d.action.is_replace() {
                    if reason.is_none() {
                        reason = Some("replace_because_cannot_update".into());
                    }
                    if r.lifecycle.create_before_destroy {
                        d.action = Action::CreateThenDelete;
                    }
                    if r.lifecycle.prevent_destroy {
                        diags.push(Diagnostic::error("Instance cannot be destroyed", format!("{} has lifecycle.prevent_destroy set, but the plan calls for it to be replaced (because of {})", inst.addr, d.replace_paths.join(", ")), Some(r.span.clone())).with_hint("remove prevent_destroy, or change the configuration so no replacement is needed"));
                    }
                }
                let unknown_value = matches!(
                    d.action,
                    Action::Create
                        | Action::Resume
                        | Action::DeleteThenCreate
                        | Action::CreateThenDelete
                ) || !unknown.is_empty();
                if opts.destroy || !in_targets(id) {
                    d.action = Action::NoOp;
                }
                if opts.refresh_only {
                    d.action = Action::NoOp;
                }
                values.push((
                    inst.addr.key.clone(),
                    if read {
                        instance_value(schema, &d.after, unknown_value, read_attrs)
                    } else {
                        Value::Unknown
                    },
                ));
                // A no-op that is exactly its row in the prior state (not moved, not
                // imported) keeps neither copy: the prior state has it.
                let unchanged = d.action == Action::NoOp
                    && !moved_ref.contains_key(&inst.addr)
                    && !importing_ref.contains_key(&inst.addr)
                    && prior.is_some_and(|p| p.status == Status::Ready)
                    && prior_attrs.as_ref() == Some(&d.after);
                changes_ref.push(Change {
                    addr: inst.addr.clone(),
                    prev_addr: moved_ref.get(&inst.addr).cloned().map(Box::new),
                    kind: id.kind.clone(),
                    provider: inst.provider.clone(),
                    region: prior
                        .map(|p| p.region.clone())
                        .filter(|r| !r.is_empty())
                        .unwrap_or(region),
                    action: d.action,
                    reason,
                    before: prior_attrs.filter(|_| !unchanged).map(Box::new),
                    after: (!unchanged).then(|| Box::new(d.after)),
                    after_unknown: d.after_unknown,
                    replace_paths: d.replace_paths,
                    changed: d.changed,
                    sensitive: sensitive.clone(),
                    importing: importing_ref.get(&inst.addr).cloned(),
                    deps: deps.clone(),
                    unchanged,
                });
            }
            known.insert(id.clone(), aggregate(r, values));
        };
        // A resource that reads no other is handed over as the check evaluated it.
        check::walk_expanding(
            cfg,
            ev,
            check::Expand::Reading,
            &mut known,
            &mut diags,
            &mut hook,
        )
    };
    // State entries without configuration: destroy, or forget for `removed` blocks. The
    // changes they replace (a destroy plan's no-ops, say) are removed once, after the
    // loop: removing each as its row was met cost rows × changes (24 s for a destroy plan
    // of 20,000 images).
    let mut gone: Vec<Change> = Vec::new();
    for (addr, r) in &state.resources {
        if config_addrs.contains(addr) && !opts.destroy {
            continue;
        }
        if addr.id.mode == Mode::Data {
            continue;
        }
        if !opts.targets.is_empty()
            && !opts
                .targets
                .iter()
                .any(|t| *t == addr.to_string() || *t == addr.id.to_string())
        {
            continue;
        }
        let removed = cfg
            .removed
            .iter()
            .find(|x| x.from == *addr || (x.from.key.is_none() && x.from.id == addr.id));
        let action = match removed {
            Some(rm) if !rm.destroy && !opts.destroy => Action::Forget,
            _ => Action::Delete,
        };
        if opts.refresh_only {
            continue;
        }
        if action == Action::Delete && !opts.destroy {
            if let Some(res) = cfg.resources.get(&addr.id) {
                if res.lifecycle.prevent_destroy {
                    diags.push(Diagnostic::error("Instance cannot be destroyed", format!("{addr} has lifecycle.prevent_destroy set, but the plan calls for it to be destroyed"), Some(res.span.clone())));
                }
            }
        }
        gone.push(Change {
            addr: addr.clone(),
            prev_addr: None,
            kind: r.kind.clone(),
            provider: r.provider.clone(),
            region: r.region.clone(),
            action,
            reason: Some(if opts.destroy {
                "delete_because_destroy".into()
            } else if removed.is_some() {
                "forget_because_removed".into()
            } else if let Some(res) = cfg.resources.get(&addr.id) {
                // Terraform's reasons for an instance whose block still exists.
                match (&addr.key, res.count.is_some(), res.for_each.is_some()) {
                    (Some(crate::addr::InstanceKey::Int(_)), true, _) => {
                        "delete_because_count_index".into()
                    }
                    (Some(crate::addr::InstanceKey::Str(_)), _, true) => {
                        "delete_because_each_key".into()
                    }
                    (None, true, _) | (None, _, true) => "delete_because_no_repetition".into(),
                    _ => "delete_because_wrong_repetition".into(),
                }
            } else {
                "delete_because_no_resource_config".into()
            }),
            before: Some(Box::new(r.attrs.value())),
            after: None,
            after_unknown: json!({}),
            replace_paths: vec![],
            changed: vec![],
            // What apply recorded as sensitive, and what the configuration (if the block
            // is still there) makes sensitive: a destroy plan shows neither.
            sensitive: {
                let mut s = crate::state::sensitive_attrs(r);
                if let Some(set) = ev.sensitive.attrs.get(&addr.id) {
                    s.extend(set.iter().cloned());
                }
                s.sort();
                s.dedup();
                s
            },
            importing: None,
            deps: r.deps.clone(),
            unchanged: false,
        });
    }
    if !gone.is_empty() {
        let replaced: std::collections::HashSet<&ResourceAddr> =
            gone.iter().map(|c| &c.addr).collect();
        changes.retain(|c| !replaced.contains(&c.addr));
        changes.append(&mut gone);
    }
    // Addresses are unique: an unstable sort orders them the same, without a buffer.
    changes.sort_unstable_by(|a, b| a.addr.cmp(&b.addr));
    let mut out_changes = BTreeMap::new();
    for (name, o) in &cfg.outputs {
        let v = outputs.get(name).cloned().unwrap_or(Value::Unknown);
        let (after, unk) = to_json(&v);
        let before = state.outputs.get(name).map(|s| s.value.clone());
        let action = if opts.destroy {
            // An output the state never held has nothing to delete.
            if before.is_none() {
                "no-op"
            } else {
                "delete"
            }
        } else {
            match &before {
                None => "create",
                Some(b) if !unk && same_value(Ty::Any, &after, Some(b)) => "no-op",
                Some(_) => "update",
            }
        };
        out_changes.insert(
            name.clone(),
            OutputChange {
                action: action.into(),
                before: before.unwrap_or(J::Null),
                after: if opts.destroy { J::Null } else { after },
                after_unknown: unk && !opts.destroy,
                sensitive: o.sensitive,
            },
        );
    }
    for (name, s) in &state.outputs {
        if !cfg.outputs.contains_key(name) {
            out_changes.insert(
                name.clone(),
                OutputChange {
                    action: "delete".into(),
                    before: s.value.clone(),
                    after: J::Null,
                    after_unknown: false,
                    sensitive: s.sensitive,
                },
            );
        }
    }
    let mut warnings = Vec::new();
    if !opts.targets.is_empty() {
        warnings.push("Resource targeting is in effect: the plan may not show every change the configuration implies. Targeting is for exceptional situations such as recovering from errors, not for routine use.".into());
    }
    if diags.has_errors() {
        return (None, diags);
    }
    let plan = Plan {
        lineage: state.lineage.clone(),
        serial: state.serial,
        changes,
        drift: input.drift,
        outputs: out_changes,
        options: opts.clone(),
        config_digest: String::new(),
        vars: ev
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
        warnings,
        prior_state: prior_state.unwrap_or(state),
        configuration: super::configuration::configuration(ev),
        relevant_attributes: super::configuration::relevant_attributes(ev),
    };
    (Some(plan), diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_attributes_expressions_read_are_kept_and_a_whole_read_keeps_all() {
        let (cfg, diags) = crate::config::load::load_str(&[(
            "main.tf",
            r#"
resource "alicloud_image" "a" {
  count       = 2
  image_name  = "a-${count.index}"
  snapshot_id = "s-1"
}
resource "alicloud_image" "b" {
  count       = 2
  image_name  = "b-${count.index}"
  description = alicloud_image.a[count.index].id
  snapshot_id = alicloud_image.a[0].snapshot_id
}
resource "alicloud_image" "c" {
  image_name = "c"
  snapshot_id = "s-1"
}
output "all" {
  value = [for x in alicloud_image.b : x.id]
}
output "splat" {
  value = alicloud_image.c[*].image_name
}
"#,
        )]);
        assert!(!diags.has_errors());
        let read = read_attributes(&cfg).expect("every file reads as HCL");
        let a = read[&ResourceId::managed("alicloud_image", "a")].clone();
        assert_eq!(
            a,
            Some(
                ["id", "snapshot_id"]
                    .map(String::from)
                    .into_iter()
                    .collect()
            )
        );
        assert_eq!(read[&ResourceId::managed("alicloud_image", "b")], None);
        assert_eq!(
            read[&ResourceId::managed("alicloud_image", "c")],
            Some(["image_name".to_string()].into_iter().collect())
        );
        // The value handed to the evaluator holds what is read, unset ones as null.
        let v = instance_value(
            schema(),
            &json!({"id": "m-1", "image_name": "a-0", "size": 40}),
            false,
            a.as_ref(),
        );
        assert_eq!(
            v,
            Value::Map(BTreeMap::from([
                ("id".to_string(), Value::String("m-1".into())),
                ("snapshot_id".to_string(), Value::Null),
            ]))
        );
    }

    fn schema() -> &'static Schema {
        crate::resource::managed("alicloud_image").expect("schema")
    }

    fn m(v: J) -> Map<String, J> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn diff_table() {
        let prior = json!({"id": "m-1", "image_name": "a", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}, "status": "Available"});
        let none = BTreeSet::new();
        // (config, unknown, expected action, replace paths)
        let cases: Vec<(J, Vec<&str>, Action, Vec<&str>)> = vec![
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec![],
                Action::NoOp,
                vec![],
            ),
            (
                json!({"image_name": "b", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec![],
                Action::Update,
                vec![],
            ),
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": "s-2", "tags": {"k": "v"}}),
                vec![],
                Action::DeleteThenCreate,
                vec!["snapshot_id"],
            ),
            (
                json!({"image_name": "a", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec![],
                Action::Update,
                vec![],
            ),
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": "s-1"}),
                vec![],
                Action::Update,
                vec![],
            ),
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": null, "tags": {"k": "v"}}),
                vec!["snapshot_id"],
                Action::DeleteThenCreate,
                vec!["snapshot_id"],
            ),
            (
                json!({"image_name": null, "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec!["image_name"],
                Action::Update,
                vec![],
            ),
        ];
        for (cfg, unk, want, paths) in cases {
            let unknown: BTreeSet<String> = unk.iter().map(|s| s.to_string()).collect();
            let c = m(cfg.clone());
            let d = diff(
                schema(),
                &c,
                if unknown.is_empty() { &none } else { &unknown },
                Some(&prior),
                &[],
            );
            assert_eq!(d.action, want, "{cfg}");
            assert_eq!(d.replace_paths, paths, "{cfg}");
        }
        let d = diff(schema(), &m(json!({"image_name": "x"})), &none, None, &[]);
        assert_eq!(d.action, Action::Create);
        assert_eq!(d.after_unknown["id"], true);
        let d = diff(
            schema(),
            &m(
                json!({"image_name": "b", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
            ),
            &none,
            Some(&prior),
            &["image_name".into()],
        );
        assert_eq!(d.action, Action::NoOp, "ignore_changes");
    }

    #[test]
    fn block_comparison_ignores_computed_sub_attributes() {
        let mapping = &schema().blocks[0];
        let cfg = json!([{"snapshot_id": "s-1", "disk_type": "system"}]);
        let prior = json!([{"snapshot_id": "s-1", "disk_type": "system", "progress": "100%"}]);
        assert!(!blocks_differ(mapping, &cfg, Some(&prior)));
        assert!(blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-2"}]),
            Some(&prior)
        ));
        assert!(blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-1"}, {"snapshot_id": "s-3"}]),
            Some(&prior)
        ));
        // A number written as a string is the same number.
        let sized = json!([{"snapshot_id": "s-1", "size": 40}]);
        assert!(!blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-1", "size": "40"}]),
            Some(&sized)
        ));
        assert!(blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-1", "size": "50"}]),
            Some(&sized)
        ));
    }

    #[test]
    fn one_equality_rule_by_the_schema_type() {
        // `"40"` and 40 are the same number, `"true"` and true the same bool: no change,
        // and the plan keeps the recorded value, so nothing downstream sees a difference.
        let schema = crate::resource::managed("alicloud_ecs_image_pipeline").expect("schema");
        let prior = json!({"id": "p-1", "name": "n", "base_image_type": "IMAGE", "system_disk_size": 40, "delete_instance_on_failure": true, "tags": {"n": "1"}});
        let none = BTreeSet::new();
        let cfg = m(
            json!({"name": "n", "base_image_type": "IMAGE", "system_disk_size": "40", "delete_instance_on_failure": "true", "tags": {"n": 1}}),
        );
        let d = diff(schema, &cfg, &none, Some(&prior), &[]);
        assert_eq!(d.action, Action::NoOp);
        assert!(d.changed.is_empty(), "{:?}", d.changed);
        assert_eq!(d.after["system_disk_size"], 40);
        let cfg = m(
            json!({"name": "n", "base_image_type": "IMAGE", "system_disk_size": "50", "delete_instance_on_failure": "true", "tags": {"n": "2"}}),
        );
        let d = diff(schema, &cfg, &none, Some(&prior), &[]);
        assert_eq!(d.action, Action::DeleteThenCreate);
        assert_eq!(d.changed, ["system_disk_size", "tags"]);
        assert_eq!(d.replace_paths, ["system_disk_size"]);
    }
}
