//! Values during apply: what expressions see of the state, and the attributes an instance
//! is created or updated with, re-evaluated once the values its plan did not know are known.

use super::ctx::Ctx;
use crate::addr::{InstanceKey, ResourceAddr, ResourceId};
use crate::config::check::{self, Evaluated};
use crate::diag::Diagnostics;
use crate::plan::build::config_json;
use crate::plan::model::Change;
use crate::state::{ResourceState, State, Status};
use crate::value::Value;
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, BTreeSet};

/// Resource values known from state, as expressions see them.
pub fn known_from_state(ev: &Evaluated, st: &State) -> BTreeMap<ResourceId, Value> {
    known_from_state_where(ev, st, |_| true)
}

/// [`known_from_state`] for the resources `keep` admits only.
pub(super) fn known_from_state_where(
    ev: &Evaluated,
    st: &State,
    keep: impl Fn(&ResourceId) -> bool,
) -> BTreeMap<ResourceId, Value> {
    let mut k = BTreeMap::new();
    for r in st.resources.values().filter(|r| keep(&r.addr.id)) {
        put_known(ev, &mut k, r);
    }
    // A resource with count = 0 (or an empty for_each) is an empty list (map), known.
    for id in ev.config.resources.keys().filter(|id| keep(id)) {
        if let (None, Some(empty)) = (k.get(id), empty_known(ev, id)) {
            k.insert(id.clone(), empty);
        }
    }
    k
}

/// The value of a repeated resource none of whose instances is in the configuration: an
/// empty list (count) or map (for_each), known; `None` for anything else.
fn empty_known(ev: &Evaluated, id: &ResourceId) -> Option<Value> {
    let res = ev.config.resources.get(id)?;
    let none = ev
        .instances
        .range(id.instance(None)..)
        .next()
        .is_none_or(|(a, _)| a.id != *id);
    match (none, res.count.is_some(), res.for_each.is_some()) {
        (true, true, _) => Some(Value::List(vec![])),
        (true, false, true) => Some(Value::Map(BTreeMap::new())),
        _ => None,
    }
}

/// How many instances a counted resource has in the configuration: one past its highest
/// index.
fn configured_len(ev: &Evaluated, id: &ResourceId) -> usize {
    ev.instances
        .range(
            id.instance(Some(InstanceKey::Int(0)))..=id.instance(Some(InstanceKey::Int(u64::MAX))),
        )
        .next_back()
        .and_then(|(a, _)| match a.key {
            Some(InstanceKey::Int(i)) => Some(i as usize + 1),
            _ => None,
        })
        .unwrap_or(0)
}

/// The value expressions see of one row: its attributes, its id, and the schema's
/// defaults for what is unset.
fn row_value(r: &ResourceState) -> Value {
    let mut attrs = r.attrs.value();
    if let (Some(o), Some(id)) = (attrs.as_object_mut(), &r.id) {
        o.insert("id".into(), J::String(id.clone()));
        if let Some(schema) = check::schema_of(&r.addr.id) {
            schema.fill_unset(o);
        }
    }
    Value::from_json(&attrs)
}

/// Updates `known` for one row written: a ready row's instance becomes known, any other
/// row's instance unknown. O(log N), so the walk keeps one map up to date instead of
/// converting the state for every evaluation.
pub(super) fn put_known(
    ev: &Evaluated,
    known: &mut BTreeMap<ResourceId, Value>,
    r: &ResourceState,
) {
    if r.status == Status::Ready {
        set_known(ev, known, &r.addr, Some(row_value(r)));
    } else {
        set_known(ev, known, &r.addr, None);
    }
}

/// Updates `known` for one row removed.
pub(super) fn remove_known(
    ev: &Evaluated,
    known: &mut BTreeMap<ResourceId, Value>,
    a: &ResourceAddr,
) {
    set_known(ev, known, a, None);
}

/// Sets (or, with `None`, forgets) one instance's value. A list keeps each instance at
/// its index and is as long as the configuration's (or its highest known index), with
/// unknown in the gaps; a resource with no known instance left is unknown (or empty, when
/// the configuration has none of it).
fn set_known(
    ev: &Evaluated,
    known: &mut BTreeMap<ResourceId, Value>,
    a: &ResourceAddr,
    v: Option<Value>,
) {
    let Some(res) = ev.config.resources.get(&a.id) else {
        return;
    };
    let id = &a.id;
    let emptied = if res.count.is_some() {
        let Some(InstanceKey::Int(i)) = a.key else {
            return;
        };
        let i = i as usize;
        let entry = known
            .entry(id.clone())
            .or_insert_with(|| Value::List(vec![]));
        if !matches!(entry, Value::List(_)) {
            *entry = Value::List(vec![]);
        }
        let Value::List(l) = entry else {
            unreachable!("made a list above")
        };
        // As long as the configuration's list: `b[count.index]` reading `a[count.index]`
        // for an instance of `a` not made yet finds it unknown (and picks it), rather than
        // out of range (which evaluates the whole list to say so).
        let configured = configured_len(ev, id);
        match v {
            Some(v) => {
                if l.len() <= i {
                    l.resize(i + 1, Value::Unknown);
                }
                l[i] = v;
            }
            None => {
                if i < l.len() {
                    l[i] = Value::Unknown;
                }
                while l.len() > configured && matches!(l.last(), Some(Value::Unknown)) {
                    l.pop();
                }
            }
        }
        if l.len() < configured {
            l.resize(configured, Value::Unknown);
        }
        l.iter().all(|v| matches!(v, Value::Unknown))
    } else if res.for_each.is_some() {
        let Some(InstanceKey::Str(k)) = &a.key else {
            return;
        };
        let entry = known
            .entry(id.clone())
            .or_insert_with(|| Value::Map(BTreeMap::new()));
        if !matches!(entry, Value::Map(_)) {
            *entry = Value::Map(BTreeMap::new());
        }
        let Value::Map(m) = entry else {
            unreachable!("made a map above")
        };
        match v {
            Some(v) => {
                m.insert(k.clone(), v);
            }
            None => {
                m.remove(k);
            }
        }
        m.is_empty()
    } else {
        if a.key.is_some() {
            return;
        }
        match v {
            Some(v) => {
                known.insert(id.clone(), v);
                false
            }
            None => true,
        }
    };
    if emptied {
        match empty_known(ev, id) {
            Some(e) => known.insert(id.clone(), e),
            None => known.remove(id),
        };
    }
}

/// Re-evaluates one instance with the values its dependencies have now; fails when a value
/// is still unknown or a rule of the API is broken.
///
/// `known` is the walk's map of known values, kept up to date as rows are committed
/// (see [`put_known`]); only what the instance depends on is evaluated, and
/// `x[count.index]` reads one instance of `x`, so a re-evaluation costs its own
/// dependencies, whatever the size of the configuration or the state.
pub(super) fn evaluate_instance(
    ev: &Evaluated,
    known: &mut BTreeMap<ResourceId, Value>,
    addr: &ResourceAddr,
) -> Result<Map<String, J>, String> {
    let needed = check::closure(ev, &check::Node::Resource(addr.id.clone()));
    let mut diags = Diagnostics::default();
    let mut found = None;
    let mut hook = |id: &ResourceId,
                    made: check::Made<'_>,
                    _: &mut BTreeMap<ResourceId, Value>,
                    _: &mut Diagnostics| {
        if *id == addr.id {
            found = made.into_owned().into_iter().find(|i| i.addr == *addr);
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
        known,
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
    let after = c.after.as_deref().cloned().unwrap_or(json!({}));
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
    Ok(J::Object(ctx.ledger.evaluate(&c.addr)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check::{load, Options};

    fn config(text: &str) -> (tempfile::TempDir, Evaluated) {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("main.tf"), text).expect("write");
        let (ev, diags) = load(&Options {
            dir: dir.path().into(),
            ..Default::default()
        });
        let ev = ev.unwrap_or_else(|| panic!("valid configuration: {diags:?}"));
        (dir, ev)
    }

    fn row(addr: &str, id: Option<&str>, status: Status) -> ResourceState {
        let mut r = ResourceState::for_test(addr, id, status);
        r.attrs = json!({"image_name": "x"}).into();
        r
    }

    const PAIRS: &str = r#"
resource "alicloud_image" "a" {
  count       = 3
  snapshot_id = "s-1"
  image_name  = "a-${count.index}"
}
resource "alicloud_image" "b" {
  count       = 3
  snapshot_id = "s-2"
  image_name  = "b-${alicloud_image.a[count.index].id}"
}
resource "alicloud_image" "c" {
  count       = 0
  snapshot_id = "s-3"
}
"#;

    #[test]
    fn known_values_kept_up_to_date_row_by_row_equal_those_converted_from_the_whole_state() {
        let (_d, ev) = config(PAIRS);
        let mut st = State::default();
        let mut k = known_from_state(&ev, &st);
        // Nothing applied: `a` is unknown, the empty `c` is a known empty list.
        assert!(!k.contains_key(&ResourceId::managed("alicloud_image", "a")));
        assert_eq!(
            k.get(&ResourceId::managed("alicloud_image", "c")),
            Some(&Value::List(vec![]))
        );
        let steps = [
            row("alicloud_image.a[1]", Some("m-1"), Status::Ready),
            row("alicloud_image.a[2]", None, Status::Creating),
            row("alicloud_image.a[2]", Some("m-2"), Status::Ready),
            row("alicloud_image.a[2]", Some("m-2"), Status::Tainted),
            row("alicloud_image.a[0]", Some("m-0"), Status::Ready),
        ];
        for r in steps {
            put_known(&ev, &mut k, &r);
            st.resources.insert(r.addr.clone(), r);
            assert_eq!(k, known_from_state(&ev, &st));
        }
        let a0: ResourceAddr = "alicloud_image.a[0]".parse().expect("address");
        remove_known(&ev, &mut k, &a0);
        st.resources.remove(&a0);
        assert_eq!(k, known_from_state(&ev, &st));
        // A gap is unknown, never the next instance moved down, and the list is as long
        // as the configuration's (a[2], not made yet, is unknown, not out of range).
        let Some(Value::List(l)) = k.get(&ResourceId::managed("alicloud_image", "a")) else {
            panic!("a is a list: {k:?}")
        };
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], Value::Unknown);
        assert!(matches!(l[1], Value::Map(_)));
        assert_eq!(l[2], Value::Unknown);
        let a1: ResourceAddr = "alicloud_image.a[1]".parse().expect("address");
        remove_known(&ev, &mut k, &a1);
        assert!(!k.contains_key(&ResourceId::managed("alicloud_image", "a")));
    }

    #[test]
    fn an_instance_is_evaluated_with_the_one_instance_it_reads() {
        let (_d, ev) = config(PAIRS);
        let mut k = known_from_state(&ev, &State::default());
        put_known(
            &ev,
            &mut k,
            &row("alicloud_image.a[1]", Some("m-1"), Status::Ready),
        );
        let b1: ResourceAddr = "alicloud_image.b[1]".parse().expect("address");
        let got = evaluate_instance(&ev, &mut k, &b1).expect("b[1] is known");
        assert_eq!(got["image_name"], json!("b-m-1"));
        // b[0] reads a[0], which is not applied: still unknown, not a[1]'s value.
        let b0: ResourceAddr = "alicloud_image.b[0]".parse().expect("address");
        let err = evaluate_instance(&ev, &mut k, &b0).expect_err("a[0] is unknown");
        assert!(err.contains("image_name"), "{err}");
    }
}
