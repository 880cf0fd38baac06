//! The diff of one instance: each attribute and block of the configuration against the
//! recorded row, by the schema's equality rule (`resource::same_value`: `"40"` and 40 are
//! one number for a number attribute), deciding the action, the values after, what is
//! unknown, what forces a replacement and what changes. Computed once per change; the
//! renderers show what it decided.

use super::model::Action;
use crate::resource::{same_value, BlockSchema, Schema, Ty, Update};
use serde_json::{Map, Value as J};
use std::collections::BTreeSet;

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

/// The equality rule the renderers use inside an attribute, where no schema type is at
/// hand (a map's entries, a block's elements, drift): the plan's rule with scalars
/// compared as text (`"40"` and 40 are one value, as for a map of strings), objects and
/// lists element by element, and an absent value the same as null.
pub fn same_loosely(recorded: Option<&J>, configured: Option<&J>) -> bool {
    match (recorded, configured) {
        (None, None) => true,
        (Some(r), None) | (None, Some(r)) => r.is_null(),
        (Some(J::Object(r)), Some(J::Object(c))) => r
            .keys()
            .chain(c.keys())
            .all(|k| same_loosely(r.get(k), c.get(k))),
        (Some(J::Array(r)), Some(J::Array(c))) => {
            r.len() == c.len() && r.iter().zip(c).all(|(x, y)| same_loosely(Some(x), Some(y)))
        }
        (Some(r), Some(c)) => same_value(Ty::String, c, Some(r)),
    }
}

/// One instance's diff: its action, its values after, which are unknown, what forces a
/// replacement and what changes.
pub(super) struct Diffed {
    pub(super) action: Action,
    pub(super) after: J,
    pub(super) after_unknown: J,
    pub(super) replace_paths: Vec<String>,
    pub(super) changed: Vec<String>,
}

pub(super) fn diff(
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
            None if a.cleared.is_some() && a.update == Update::InPlace => {
                let empty = a.cleared.map(|c| c.value()).unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_renderers_rule_is_the_plans_with_text_for_scalars() {
        // (recorded, configured, same)
        let cases: Vec<(Option<J>, Option<J>, bool)> = vec![
            (Some(json!("40")), Some(json!(40)), true),
            (Some(json!(true)), Some(json!("true")), true),
            (Some(json!("a")), Some(json!("b")), false),
            (None, Some(json!(null)), true),
            (None, Some(json!("x")), false),
            (
                Some(json!({"size": 40, "device": "/dev/xvda"})),
                Some(json!({"size": "40", "device": "/dev/xvda"})),
                true,
            ),
            (Some(json!({"size": 40})), Some(json!({"size": 50})), false),
            // A tag removed is a difference, whichever side lacks it.
            (
                Some(json!({"a": "1", "b": "2"})),
                Some(json!({"a": "1"})),
                false,
            ),
            (
                Some(json!({"a": "1", "b": null})),
                Some(json!({"a": "1"})),
                true,
            ),
            (
                Some(json!([{"a": 1}, {"a": 2}])),
                Some(json!([{"a": 1}])),
                false,
            ),
            (Some(json!([{"a": 1}])), Some(json!([{"a": "1"}])), true),
        ];
        for (r, c, same) in cases {
            assert_eq!(same_loosely(r.as_ref(), c.as_ref()), same, "{r:?} vs {c:?}");
        }
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
