//! The planner in named phases, as omicron's `do_plan`: each phase reads the prefetched
//! input (the evaluated configuration, the refreshed state, the options) and adds its part
//! of the plan.
//!
//! 1. `moves`: `moved` blocks rename state rows, whole modules before single resources.
//! 2. `imports`: `import` blocks read the objects not yet in the state.
//! 3. `Targets`: what `--target` keeps, with what it depends on.
//! 4. `Instances`: per instance, in dependency order, the diff against its row (the
//!    values of unchanged resources become known to their dependents); data sources are
//!    read here when their arguments are known.
//! 5. `orphans`: state rows the configuration no longer has are destroyed, or forgotten
//!    for `removed` blocks.
//! 6. `outputs`: output changes.
//! 7. `checks`: the objects the planned creates name are read from the cloud in batches
//!    and judged by the API pages' rules (`checks`).
//!
//! The diff of one instance is `build::diff`, by the schema's equality rule.

use super::build::{
    aggregate, config_json, data_deps, dep_names, instance_value, read_attributes, rename_rows,
    resource_deps, to_json, Input, Reader,
};
use super::checks::{span_at, Checker, Mention};
use super::diff::diff;
use super::model::*;
use crate::addr::{Mode, ResourceAddr, ResourceId};
use crate::config::check::{self, Evaluated, Instance, Node};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::resource::{same_value, Schema, Ty, Update};
use crate::state::{ResourceState, State, Status};
use crate::value::Value;
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Plans: the phases in order.
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
    let moved_from = moves(cfg, &mut state);
    let importing = imports(ev, &mut state, input.regions, opts, reader, &mut diags);
    let targets = Targets::new(ev, opts);
    let read_attrs = read_attributes(cfg);
    let phase = Instances {
        ev,
        opts,
        regions: input.regions,
        state: &state,
        importing: &importing,
        moved_from: &moved_from,
        read_attrs: read_attrs.as_ref(),
        targets: &targets,
    };
    // One change per configured instance (and per row to destroy), sized once: growing by
    // doubling would hold two copies of the list at its peak.
    let mut changes: Vec<Change> = Vec::with_capacity(ev.instances.len());
    // The state rows the configuration still has (the state's own keys, borrowed: a copy
    // of 50,000 addresses took 8 MB).
    let mut config_addrs: BTreeSet<&ResourceAddr> = BTreeSet::new();
    let mut known: BTreeMap<ResourceId, Value> = BTreeMap::new();
    let mut checker = Checker::new(&*reader, opts.no_refresh);
    let mut recheck: BTreeSet<String> = BTreeSet::new();
    let (_, output_values) = {
        let mut hook = |id: &ResourceId,
                        made: check::Made<'_>,
                        known: &mut BTreeMap<ResourceId, Value>,
                        diags: &mut Diagnostics| {
            phase.resource(
                id,
                made,
                known,
                &mut Sink {
                    changes: &mut changes,
                    config_addrs: &mut config_addrs,
                    reader: &mut *reader,
                    diags,
                    checker: &mut checker,
                    recheck: &mut recheck,
                },
            )
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
    let gone = orphans(ev, &state, &config_addrs, opts, &mut diags);
    drop(config_addrs);
    if !gone.is_empty() {
        let replaced: HashSet<&ResourceAddr> = gone.iter().map(|c| &c.addr).collect();
        changes.retain(|c| !replaced.contains(&c.addr));
        changes.extend(gone);
    }
    // Addresses are unique: an unstable sort orders them the same, without a buffer.
    changes.sort_unstable_by(|a, b| a.addr.cmp(&b.addr));
    let out_changes = outputs(cfg, &state, &output_values, opts);
    let not_ready = checker.finish(reader, opts.no_refresh, &mut diags);
    recheck.extend(not_ready.iter().map(|a| a.to_string()));
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
        recheck,
    };
    (Some(plan), diags)
}

/// Phase 1: `moved` blocks rename state rows, whole modules before single resources.
/// Returns each moved row's old address, by its new one.
fn moves(cfg: &Config, state: &mut State) -> BTreeMap<ResourceAddr, ResourceAddr> {
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
        rename_rows(state, pairs, &mut moved_from);
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
        rename_rows(state, pairs, &mut moved_from);
    }
    moved_from
}

/// Phase 2: `import` blocks read the objects not yet in the state, which join the working
/// state as ready rows. Returns the cloud id imported at each address.
fn imports(
    ev: &Evaluated,
    state: &mut State,
    regions: &BTreeMap<String, String>,
    opts: &Options,
    reader: &mut dyn Reader,
    diags: &mut Diagnostics,
) -> BTreeMap<ResourceAddr, String> {
    let mut importing: BTreeMap<ResourceAddr, String> = BTreeMap::new();
    for imp in &ev.config.imports {
        if state.resources.contains_key(&imp.to) || opts.destroy {
            continue;
        }
        let Some(inst) = ev.instances.get(&imp.to) else {
            continue;
        };
        let Some(id) = check::eval_simple(ev, &imp.id) else {
            continue;
        };
        let region = regions.get(&inst.provider).cloned().unwrap_or_default();
        match reader.import(&inst.provider, &imp.to.id.kind, &id) {
            Ok(Some(attrs)) => {
                state.resources.insert(
                    imp.to.clone(),
                    ResourceState::ready(
                        imp.to.clone(),
                        inst.provider.clone(),
                        region,
                        Some(id.clone()),
                        attrs,
                    ),
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
    importing
}

/// Phase 3: what `--target` keeps: the targeted resources and what they depend on.
struct Targets {
    /// None: no `--target`, everything is kept.
    kept: Option<(Vec<String>, BTreeSet<String>)>,
}

impl Targets {
    fn new(ev: &Evaluated, opts: &Options) -> Targets {
        if opts.targets.is_empty() {
            return Targets { kept: None };
        }
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for id in ev.config.resources.keys() {
            if Self::names(&opts.targets, id) {
                ids.insert(id.to_string());
                ids.extend(resource_deps(ev, id));
            }
        }
        Targets {
            kept: Some((opts.targets.clone(), ids)),
        }
    }

    fn names(targets: &[String], id: &ResourceId) -> bool {
        targets
            .iter()
            .any(|t| t == &id.to_string() || t.starts_with(&format!("{id}[")))
    }

    /// True when the plan changes `id`.
    fn contains(&self, id: &ResourceId) -> bool {
        match &self.kept {
            None => true,
            Some((targets, ids)) => ids.contains(&id.to_string()) || Self::names(targets, id),
        }
    }
}

/// Where phase 4 puts what it finds.
struct Sink<'s, 'a> {
    changes: &'s mut Vec<Change>,
    config_addrs: &'s mut BTreeSet<&'a ResourceAddr>,
    reader: &'s mut dyn Reader,
    diags: &'s mut Diagnostics,
    /// The objects the planned creates name, for the `checks` phase.
    checker: &'s mut Checker,
    /// The creates that name an object by a value unknown until apply.
    recheck: &'s mut BTreeSet<String>,
}

/// Phase 4: the diff of each instance against its row, in dependency order.
struct Instances<'a> {
    ev: &'a Evaluated,
    opts: &'a Options,
    regions: &'a BTreeMap<String, String>,
    state: &'a State,
    importing: &'a BTreeMap<ResourceAddr, String>,
    moved_from: &'a BTreeMap<ResourceAddr, ResourceAddr>,
    read_attrs: Option<&'a HashMap<ResourceId, Option<BTreeSet<String>>>>,
    targets: &'a Targets,
}

/// What every instance of one resource shares, worked out once.
struct Shared<'r> {
    r: &'r crate::config::Resource,
    deps: Vec<String>,
    ignore: Vec<String>,
    sensitive: Vec<String>,
    /// Something reads the resource's values.
    read: bool,
    /// ... and of those, only these attributes (None: all).
    read_attrs: Option<&'r BTreeSet<String>>,
}

impl<'a> Instances<'a> {
    /// Plans every instance of resource `id` and makes its value known to what reads it.
    fn resource(
        &self,
        id: &ResourceId,
        made: check::Made<'_>,
        known: &mut BTreeMap<ResourceId, Value>,
        out: &mut Sink<'_, 'a>,
    ) {
        let Some(r) = self.ev.config.resources.get(id) else {
            return;
        };
        let schema = check::schema_of(id);
        let shared = Shared {
            r,
            deps: resource_deps(self.ev, id),
            ignore: r
                .lifecycle
                .ignore_changes
                .iter()
                .map(|x| x.0.clone())
                .collect(),
            // Attributes marked sensitive by the schema, or set from a sensitive value
            // (propagated through locals, templates, functions and other resources), are
            // shown as `(sensitive value)`.
            sensitive: self
                .ev
                .sensitive
                .attrs
                .get(id)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
            // Values only something reads are kept: a plan of 50,000 images that nothing
            // refers to does not convert each of them for the evaluator.
            read: !self
                .ev
                .graph
                .dependents(&Node::Resource(id.clone()))
                .is_empty(),
            read_attrs: self
                .read_attrs
                .and_then(|m| m.get(id))
                .and_then(|a| a.as_ref()),
        };
        let mut values = Vec::new();
        for inst in made.into_each() {
            let inst = &*inst;
            if let Some((a, _)) = self.state.resources.get_key_value(&inst.addr) {
                out.config_addrs.insert(a);
            }
            let Some(schema) = schema else { continue };
            let v = if id.mode == Mode::Data {
                self.data_instance(id, inst, &shared, out)
            } else {
                self.managed_instance(id, inst, schema, &shared, out)
            };
            values.push((inst.addr.key.clone(), v));
        }
        known.insert(id.clone(), aggregate(r, values));
    }

    /// A data source's instance: read now when its arguments are known and nothing it
    /// depends on changes in this plan; otherwise read during apply (`<=`). Returns its
    /// value for what reads it.
    fn data_instance(
        &self,
        id: &ResourceId,
        inst: &Instance,
        sh: &Shared<'_>,
        out: &mut Sink<'_, 'a>,
    ) -> Value {
        let (cfg_json, unknown) = self.normalized(inst);
        // With depends_on naming something that changes in this plan, the read waits for
        // apply, as in Terraform.
        let pending = data_deps(&self.ev.config, sh.r).iter().any(|t| {
            out.changes.iter().any(|c| {
                !matches!(c.action, Action::NoOp | Action::Read) && dep_names(t, &c.addr.id)
            })
        });
        if unknown.is_empty() && !self.opts.destroy && !pending {
            return match out
                .reader
                .read_data(&inst.provider, &id.kind, &J::Object(cfg_json))
            {
                Ok(v) => Value::from_json(&v),
                Err(e) => {
                    out.diags.push(Diagnostic::error(
                        format!("Cannot read {}", inst.addr),
                        e,
                        Some(sh.r.span.clone()),
                    ));
                    Value::Unknown
                }
            };
        }
        if !self.opts.destroy {
            out.changes.push(Change {
                addr: inst.addr.clone(),
                prev_addr: None,
                kind: id.kind.clone(),
                provider: inst.provider.clone(),
                region: self.region_of(inst),
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
                deps: sh.deps.clone(),
                unchanged: false,
            });
        }
        Value::Unknown
    }

    /// The instance's evaluated body as the schema normalizes it, and its unknown paths.
    fn normalized(&self, inst: &Instance) -> (Map<String, J>, BTreeSet<String>) {
        let (mut cfg_json, unknown) = config_json(&inst.body);
        if let Some(schema) = check::schema_of(&inst.addr.id) {
            schema.normalize(&mut cfg_json);
        }
        (cfg_json, unknown)
    }

    /// Records the objects a planned create names, for the `checks` phase; one named by a
    /// value unknown until apply is checked by apply, just before the create.
    fn mention(
        &self,
        id: &ResourceId,
        inst: &Instance,
        after: &J,
        unknown: &BTreeSet<String>,
        out: &mut Sink<'_, 'a>,
    ) {
        let Ok(kind) = crate::resource::kind(&id.kind) else {
            return;
        };
        if kind.naming().iter().any(|n| unknown.contains(*n)) {
            out.recheck.insert(inst.addr.to_string());
        }
        let own = self.region_of(inst);
        for r in kind.references(after) {
            let region = r.region.clone().unwrap_or_else(|| own.clone());
            let m = Mention {
                addr: inst.addr.clone(),
                provider: inst.provider.clone(),
                region,
                span: span_at(&inst.body, &r.path),
                reference: r,
            };
            out.checker.add(m, &mut *out.reader);
        }
    }

    fn region_of(&self, inst: &Instance) -> String {
        self.regions
            .get(&inst.provider)
            .cloned()
            .unwrap_or_default()
    }

    /// A managed instance: its diff against its row, with the action its row's status,
    /// `--replace`, the lifecycle and the options make of it. Returns its value for what
    /// reads it.
    fn managed_instance(
        &self,
        id: &ResourceId,
        inst: &Instance,
        schema: &Schema,
        sh: &Shared<'_>,
        out: &mut Sink<'_, 'a>,
    ) -> Value {
        let (cfg_json, unknown) = self.normalized(inst);
        let prior = self.state.resources.get(&inst.addr);
        let prior_attrs = prior.map(|p| self.prior_attrs(p, inst, &cfg_json));
        let mut d = diff(
            schema,
            &cfg_json,
            &unknown,
            prior_attrs
                .as_ref()
                .filter(|_| prior.is_some_and(|p| p.status != Status::Creating)),
            &sh.ignore,
        );
        let reason = self.action_of(
            &mut d,
            schema,
            prior,
            prior_attrs.as_ref(),
            inst,
            sh,
            out.diags,
        );
        let unknown_value = matches!(
            d.action,
            Action::Create | Action::Resume | Action::DeleteThenCreate | Action::CreateThenDelete
        ) || !unknown.is_empty();
        if self.opts.destroy || !self.targets.contains(id) || self.opts.refresh_only {
            d.action = Action::NoOp;
        }
        if matches!(
            d.action,
            Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
        ) {
            self.mention(id, inst, &d.after, &unknown, out);
        }
        let value = if sh.read {
            instance_value(schema, &d.after, unknown_value, sh.read_attrs)
        } else {
            Value::Unknown
        };
        // A no-op that is exactly its row in the prior state (not moved, not imported)
        // keeps neither copy: the prior state has it.
        let unchanged = d.action == Action::NoOp
            && !self.moved_from.contains_key(&inst.addr)
            && !self.importing.contains_key(&inst.addr)
            && prior.is_some_and(|p| p.status == Status::Ready)
            && prior_attrs.as_ref() == Some(&d.after);
        out.changes.push(Change {
            addr: inst.addr.clone(),
            prev_addr: self.moved_from.get(&inst.addr).cloned().map(Box::new),
            kind: id.kind.clone(),
            provider: inst.provider.clone(),
            region: prior
                .map(|p| p.region.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| self.region_of(inst)),
            action: d.action,
            reason,
            before: prior_attrs.filter(|_| !unchanged).map(Box::new),
            after: (!unchanged).then(|| Box::new(d.after)),
            after_unknown: d.after_unknown,
            replace_paths: d.replace_paths,
            changed: d.changed,
            sensitive: sh.sensitive.clone(),
            importing: self.importing.get(&inst.addr).cloned(),
            deps: sh.deps.clone(),
            unchanged,
        });
        value
    }

    /// The row's attributes as the diff reads them: parsed for this instance only, with
    /// its id among them.
    fn prior_attrs(&self, p: &ResourceState, inst: &Instance, cfg_json: &Map<String, J>) -> J {
        let mut a = p.attrs.value();
        if let (Some(o), Some(id)) = (a.as_object_mut(), &p.id) {
            o.insert("id".into(), J::String(id.clone()));
        }
        if self.importing.contains_key(&inst.addr) {
            // An imported object adopts configured values the cloud cannot report
            // (instance_id, build inputs) instead of being replaced for them.
            if let Some(o) = a.as_object_mut() {
                for (k, v) in cfg_json {
                    o.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        a
    }

    /// Turns the diff's action into the plan's: a pending create resumes, a tainted or
    /// half-destroyed object is replaced, `--replace` replaces, a replacement honours
    /// `create_before_destroy` and `prevent_destroy`. Returns Terraform's reason.
    #[allow(clippy::too_many_arguments)]
    fn action_of(
        &self,
        d: &mut super::diff::Diffed,
        schema: &Schema,
        prior: Option<&ResourceState>,
        prior_attrs: Option<&J>,
        inst: &Instance,
        sh: &Shared<'_>,
        diags: &mut Diagnostics,
    ) -> Option<String> {
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
                    d.after = prior_attrs.cloned().unwrap_or_default();
                    // What the cloud has yet to say: the id when none was recorded, and
                    // every attribute the schema says the cloud computes.
                    let mut unk = Map::new();
                    unk.insert("id".into(), J::Bool(p.id.is_none()));
                    for a in schema.attrs.iter().filter(|a| a.update == Update::Computed) {
                        unk.insert(a.name.into(), J::Bool(true));
                    }
                    d.after_unknown = J::Object(unk);
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
            && self
                .opts
                .replace
                .iter()
                .any(|x| *x == inst.addr.to_string())
            && matches!(d.action, Action::NoOp | Action::Update)
        {
            d.action = Action::DeleteThenCreate;
            reason = Some("replace_by_request".into());
        }
        if d.action.is_replace() {
            if reason.is_none() {
                reason = Some("replace_because_cannot_update".into());
            }
            if sh.r.lifecycle.create_before_destroy {
                d.action = Action::CreateThenDelete;
            }
            if sh.r.lifecycle.prevent_destroy {
                diags.push(Diagnostic::error("Instance cannot be destroyed", format!("{} has lifecycle.prevent_destroy set, but the plan calls for it to be replaced (because of {})", inst.addr, d.replace_paths.join(", ")), Some(sh.r.span.clone())).with_hint("remove prevent_destroy, or change the configuration so no replacement is needed"));
            }
        }
        reason
    }
}

/// Phase 5: state rows without configuration (or every row, for a destroy plan) are
/// destroyed, or forgotten for `removed` blocks. They replace whatever phase 4 planned at
/// their address.
fn orphans(
    ev: &Evaluated,
    state: &State,
    config_addrs: &BTreeSet<&ResourceAddr>,
    opts: &Options,
    diags: &mut Diagnostics,
) -> Vec<Change> {
    let cfg = &ev.config;
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
            reason: Some(delete_reason(cfg, addr, opts, removed.is_some())),
            // With its id, as every other change's before: Terraform's JSON has it, and the
            // apply's `Destroying... [id=…]` line reads it.
            before: Some(Box::new({
                let mut a = r.attrs.value();
                if let (Some(o), Some(id)) = (a.as_object_mut(), &r.id) {
                    o.insert("id".into(), J::String(id.clone()));
                }
                a
            })),
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
    gone
}

/// Terraform's reason for destroying (or forgetting) a row.
fn delete_reason(cfg: &Config, addr: &ResourceAddr, opts: &Options, removed: bool) -> String {
    if opts.destroy {
        return "delete_because_destroy".into();
    }
    // A `removed` block's object has no configuration: Terraform's reason, whether it is
    // forgotten or destroyed.
    let Some(res) = cfg.resources.get(&addr.id).filter(|_| !removed) else {
        return "delete_because_no_resource_config".into();
    };
    // Terraform's reasons for an instance whose block still exists.
    match (&addr.key, res.count.is_some(), res.for_each.is_some()) {
        (Some(crate::addr::InstanceKey::Int(_)), true, _) => "delete_because_count_index",
        (Some(crate::addr::InstanceKey::Str(_)), _, true) => "delete_because_each_key",
        (None, true, _) | (None, _, true) => "delete_because_no_repetition",
        _ => "delete_because_wrong_repetition",
    }
    .into()
}

/// Phase 6: the change of every output, and the deletion of outputs no longer declared.
fn outputs(
    cfg: &Config,
    state: &State,
    values: &BTreeMap<String, Value>,
    opts: &Options,
) -> BTreeMap<String, OutputChange> {
    let mut out_changes = BTreeMap::new();
    for (name, o) in &cfg.outputs {
        let v = values.get(name).cloned().unwrap_or(Value::Unknown);
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
    out_changes
}
