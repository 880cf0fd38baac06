//! Values during apply: what expressions see of the state, and the attributes an instance
//! is created or updated with, re-evaluated once the values its plan did not know are known.

use super::ctx::Ctx;
use crate::addr::{InstanceKey, ResourceAddr, ResourceId};
use crate::config::check::{self, Evaluated};
use crate::diag::Diagnostics;
use crate::plan::build::config_json;
use crate::plan::model::Change;
use crate::state::{State, Status};
use crate::value::Value;
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, BTreeSet};

/// Resource values known from state, as expressions see them.
pub fn known_from_state(ev: &Evaluated, st: &State) -> BTreeMap<ResourceId, Value> {
    known_from_state_where(ev, st, |_| true)
}

/// [`known_from_state`] for the resources `keep` admits only.
fn known_from_state_where(
    ev: &Evaluated,
    st: &State,
    keep: impl Fn(&ResourceId) -> bool,
) -> BTreeMap<ResourceId, Value> {
    let mut groups: BTreeMap<ResourceId, Vec<(&Option<InstanceKey>, Value)>> = BTreeMap::new();
    for r in st.resources.values() {
        if r.status != Status::Ready || !keep(&r.addr.id) {
            continue;
        }
        let mut attrs = r.attrs.clone();
        if let (Some(o), Some(id)) = (attrs.as_object_mut(), &r.id) {
            o.insert("id".into(), J::String(id.clone()));
            if let Some(schema) = check::schema_of(&r.addr.id) {
                schema.fill_unset(o);
            }
        }
        groups
            .entry(r.addr.id.clone())
            .or_default()
            .push((&r.addr.key, Value::from_json(&attrs)));
    }
    let mut out = BTreeMap::new();
    // A resource with count = 0 (or an empty for_each) is an empty list (map), known.
    for (id, res) in &ev.config.resources {
        let repeated = res.count.is_some() || res.for_each.is_some();
        let none = ev
            .instances
            .range(id.instance(None)..)
            .next()
            .is_none_or(|(a, _)| a.id != *id);
        if repeated && none && keep(id) {
            let empty = if res.count.is_some() {
                Value::List(vec![])
            } else {
                Value::Map(BTreeMap::new())
            };
            out.insert(id.clone(), empty);
        }
    }
    for (id, vals) in groups {
        let Some(res) = ev.config.resources.get(&id) else {
            continue;
        };
        let v = if res.count.is_some() {
            Value::List(vals.into_iter().map(|x| x.1).collect())
        } else if res.for_each.is_some() {
            Value::Map(
                vals.into_iter()
                    .filter_map(|(k, v)| match k {
                        Some(InstanceKey::Str(s)) => Some((s.clone(), v)),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            vals.into_iter()
                .next()
                .map(|x| x.1)
                .unwrap_or(Value::Unknown)
        };
        out.insert(id, v);
    }
    out
}

/// Re-evaluates one instance with the values its dependencies have now; fails when a value
/// is still unknown or a rule of the API is broken.
pub(super) fn evaluate_instance(
    ev: &Evaluated,
    st: &State,
    addr: &ResourceAddr,
) -> Result<Map<String, J>, String> {
    // Only what the instance depends on is evaluated, not the whole configuration: a
    // build re-evaluated during apply costs its own dependencies, whatever the size of the
    // configuration.
    let needed = check::closure(ev, &check::Node::Resource(addr.id.clone()));
    let ids: BTreeSet<&ResourceId> = needed
        .iter()
        .filter_map(|n| match n {
            check::Node::Resource(id) => Some(id),
            _ => None,
        })
        .collect();
    let mut known = known_from_state_where(ev, st, |id| ids.contains(id));
    let mut diags = Diagnostics::default();
    let mut found = None;
    let mut hook = |id: &ResourceId,
                    made: Vec<check::Instance>,
                    _: &mut BTreeMap<ResourceId, Value>,
                    _: &mut Diagnostics| {
        if *id == addr.id {
            found = made.into_iter().find(|i| i.addr == *addr);
        }
    };
    // Locals and module values are evaluated; resources the instance depends on come from the state; of the
    // instance's own resource, only that instance is expanded.
    let nodes = needed.iter().filter(|n| match n {
        check::Node::Resource(id) => *id == addr.id,
        check::Node::Var(_) | check::Node::Output(_) => false,
        // Locals, and module variables, outputs and calls.
        _ => true,
    });
    check::walk_nodes(
        &ev.config,
        ev,
        nodes,
        Some(addr),
        &mut known,
        &mut diags,
        &mut hook,
    );
    let inst = found.ok_or_else(|| format!("{addr} is no longer in the configuration"))?;
    let schema = check::schema_of(&addr.id).ok_or("unknown resource type")?;
    let mut vd = Diagnostics::default();
    schema.validate(&inst.body, &mut vd);
    if vd.has_errors() {
        let msgs: Vec<String> =
            vd.0.iter()
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .collect();
        return Err(format!(
            "now that its inputs are known, the configuration breaks a rule of the API: {}",
            msgs.join("; ")
        ));
    }
    let (cfg, unknown) = config_json(&inst.body);
    if !unknown.is_empty() {
        return Err(format!(
            "values still unknown after their dependencies were applied: {}",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(cfg)
}

/// The attributes to create with: the plan's, or re-evaluated when the plan had unknowns.
pub(super) fn desired(ctx: &Ctx, c: &Change) -> Result<J, String> {
    let after = c.after.clone().unwrap_or(json!({}));
    let schema = check::schema_of(&c.addr.id).ok_or("unknown resource type")?;
    let computed: BTreeSet<&str> = schema
        .attrs
        .iter()
        .filter(|a| a.update == crate::resource::Update::Computed)
        .map(|a| a.name)
        .chain(["id"])
        .collect();
    let needs_eval = c.after_unknown.as_object().is_some_and(|o| {
        o.iter()
            .any(|(k, v)| v == &J::Bool(true) && !computed.contains(k.as_str()))
    });
    if !needs_eval {
        let mut a = after;
        if let Some(o) = a.as_object_mut() {
            for k in &computed {
                o.remove(*k);
            }
        }
        return Ok(a);
    }
    Ok(J::Object(ctx.ledger.with_state(|st| {
        evaluate_instance(&ctx.ev, st, &c.addr)
    })?))
}
