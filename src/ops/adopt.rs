//! Adopting images Terraform already manages: a Terraform state (format version 4, as
//! `terraform state pull` prints it) is read, and every instance of a kind imgform manages
//! becomes a `ready` row at the same address with the same id and attributes — no create,
//! no delete, modules' resources at their module addresses (`module.img[0].alicloud_image.this`).
//! Kinds imgform does not manage are listed as skipped with the reason. It lives among the
//! operations, not in `state`, because it asks the kinds (`resource`) for their schemas:
//! the state knows rows, never kinds.

use crate::addr::ResourceAddr;
use crate::state::backend::Backend;
use crate::state::ResourceState;
use serde_json::Value as J;
use std::collections::BTreeMap;

/// What a Terraform state yields.
#[derive(Debug, Default)]
pub struct Adoption {
    /// Rows to write.
    pub take: Vec<ResourceState>,
    /// Terraform addresses left out, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// The provider key of a Terraform provider reference:
/// `provider["registry.terraform.io/aliyun/alicloud"].sh` is `alicloud.sh`.
fn provider_key(p: &str) -> String {
    match p.rsplit_once("\"].") {
        Some((_, alias)) if !alias.is_empty() => format!("alicloud.{alias}"),
        _ => "alicloud".into(),
    }
}

/// `state import-terraform`: reads the Terraform state `doc` and writes its rows in one
/// transaction under the lock (none with `dry_run`). Refused whole when any entry is
/// malformed, two objects share an address, or a row is already in imgform's state.
pub fn adopt_terraform(
    store: &mut Box<dyn Backend>,
    doc: &J,
    regions: &BTreeMap<String, String>,
    dry_run: bool,
) -> anyhow::Result<Adoption> {
    let a = adopt(doc, regions).map_err(anyhow::Error::msg)?;
    crate::state::edit::adopt(store, &a.take, dry_run)?;
    Ok(a)
}

/// Reads a Terraform state document. `regions` maps provider keys to their regions (the
/// configuration's provider blocks): an object is recorded in its provider's region.
pub fn adopt(doc: &J, regions: &BTreeMap<String, String>) -> Result<Adoption, String> {
    match doc.get("version").and_then(|v| v.as_u64()) {
        Some(4) => {}
        Some(v) => {
            return Err(format!(
                "this is a Terraform state of format version {v}; imgform reads version 4 (Terraform 0.12 and later)"
            ))
        }
        None => return Err("this is not a Terraform state: it has no \"version\"".into()),
    }
    let mut out = Adoption::default();
    // Every entry is checked, every problem reported at once; an entry that is well formed
    // but not adopted is listed with the reason it was not.
    let mut problems: Vec<String> = Vec::new();
    let resources = match doc.get("resources") {
        Some(J::Array(a)) => a.as_slice(),
        None | Some(J::Null) => &[],
        Some(other) => return Err(format!("\"resources\" must be a list, not {other}")),
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, r) in resources.iter().enumerate() {
        let Some(o) = r.as_object() else {
            problems.push(format!("resources[{i}] must be an object, not {r}"));
            continue;
        };
        let field = |k: &str, problems: &mut Vec<String>| -> Option<String> {
            match o.get(k) {
                Some(J::String(x)) if !x.is_empty() => Some(x.clone()),
                None | Some(J::Null) => None,
                Some(other) => {
                    problems.push(format!(
                        "resources[{i}]: \"{k}\" must be a non-empty string, not {other}"
                    ));
                    None
                }
            }
        };
        let (Some(kind), Some(name), Some(mode)) = (
            field("type", &mut problems),
            field("name", &mut problems),
            field("mode", &mut problems),
        ) else {
            problems.push(format!(
                "resources[{i}] needs \"mode\", \"type\" and \"name\""
            ));
            continue;
        };
        let prefix = match field("module", &mut problems) {
            Some(m) => format!("{m}."),
            None => String::new(),
        };
        let data = if mode == "data" { "data." } else { "" };
        let tf_addr = format!("{prefix}{data}{kind}.{name}");
        match mode.as_str() {
            "managed" => {}
            "data" => {
                out.skipped.push((
                    tf_addr,
                    "a data source: imgform reads it again from the configuration, nothing to adopt".into(),
                ));
                continue;
            }
            other => {
                problems.push(format!(
                    "{tf_addr}: unknown mode {other:?} (Terraform writes \"managed\" or \"data\")"
                ));
                continue;
            }
        }
        let instances = match o.get("instances") {
            Some(J::Array(a)) => a.as_slice(),
            other => {
                problems.push(format!(
                    "{tf_addr}: \"instances\" must be a list, not {}",
                    other.cloned().unwrap_or(J::Null)
                ));
                continue;
            }
        };
        let Ok(k) = crate::resource::kind(&kind) else {
            out.skipped.push((
                tf_addr,
                format!(
                    "imgform does not manage {kind} ({} instance(s) left to Terraform)",
                    instances.len()
                ),
            ));
            continue;
        };
        if instances.is_empty() {
            out.skipped
                .push((tf_addr, "Terraform records no instance of it".into()));
            continue;
        }
        let provider = provider_key(
            field("provider", &mut problems)
                .as_deref()
                .unwrap_or_default(),
        );
        let Some(region) = regions.get(&provider) else {
            problems.push(format!(
                "{tf_addr} uses the provider {provider}, which the configuration does not declare; add its provider block first"
            ));
            continue;
        };
        let schema = k.schema();
        for (j, inst) in instances.iter().enumerate() {
            let Some(io) = inst.as_object() else {
                problems.push(format!(
                    "{tf_addr}: instances[{j}] must be an object, not {inst}"
                ));
                continue;
            };
            let key = match io.get("index_key") {
                None | Some(J::Null) => String::new(),
                Some(J::Number(n)) if n.as_u64().is_some() => format!("[{n}]"),
                Some(J::String(s)) => format!("[{}]", J::String(s.clone())),
                Some(other) => {
                    problems.push(format!("{tf_addr}: instances[{j}].index_key must be a whole number or a string, not {other}"));
                    continue;
                }
            };
            let addr: ResourceAddr = match format!("{prefix}{kind}.{name}{key}").parse() {
                Ok(a) => a,
                Err(e) => {
                    problems.push(format!("{tf_addr}{key}: {e}"));
                    continue;
                }
            };
            if let Some(first) = seen.get(&addr.to_string()) {
                problems.push(format!("{addr} appears twice ({first}, and {tf_addr} instances[{j}]): two objects cannot share one address"));
                continue;
            }
            seen.insert(addr.to_string(), format!("{tf_addr} instances[{j}]"));
            if let Some(deposed) = io.get("deposed").filter(|d| !d.is_null()) {
                out.skipped.push((addr.to_string(), format!("a deposed object ({deposed}) Terraform has not yet destroyed: finish or undo its replacement with Terraform first")));
                continue;
            }
            let attrs = match io.get("attributes") {
                Some(a @ J::Object(_)) => a,
                other => {
                    problems.push(format!(
                        "{addr}: \"attributes\" must be an object, not {}",
                        other.cloned().unwrap_or(J::Null)
                    ));
                    continue;
                }
            };
            let id = match attrs.get("id") {
                Some(J::String(id)) if !id.is_empty() => id.clone(),
                None | Some(J::Null) | Some(J::String(_)) => {
                    out.skipped
                        .push((addr.to_string(), "the instance has no id".into()));
                    continue;
                }
                Some(other) => {
                    problems.push(format!("{addr}: its id must be a string, not {other}"));
                    continue;
                }
            };
            match io.get("status") {
                None | Some(J::Null) => {}
                Some(J::String(t)) if t == "tainted" => {
                    out.skipped.push((addr.to_string(), "Terraform marked it tainted: replace it with Terraform first, or import it by id".into()));
                    continue;
                }
                Some(other) => {
                    problems.push(format!(
                        "{addr}: unknown status {other} (Terraform writes only \"tainted\")"
                    ));
                    continue;
                }
            }
            if let Some(other) = out
                .take
                .iter()
                .find(|r| r.id.as_deref() == Some(id.as_str()))
            {
                problems.push(format!("{addr} and {} hold the same object {id}: one object must not have two addresses", other.addr));
                continue;
            }
            let kept = kept_attrs(schema, attrs);
            out.take.push(ResourceState::ready(
                addr,
                provider.clone(),
                k.region(region, attrs),
                Some(id),
                J::Object(kept),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "the Terraform state cannot be adopted; nothing was written ({} problem{}):\n  {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        ));
    }
    Ok(out)
}

/// The schema's attributes only, as the provider recorded them; empty ones (the provider
/// writes "" and [] for unset) are left out.
fn kept_attrs(schema: &crate::resource::Schema, attrs: &J) -> serde_json::Map<String, J> {
    let mut kept = serde_json::Map::new();
    for a in schema.attrs {
        if let Some(v) = attrs.get(a.name).filter(|v| {
            !(v.is_null()
                || v.as_str() == Some("")
                || v.as_array().is_some_and(|x| x.is_empty())
                || v.as_object()
                    .is_some_and(|x| x.is_empty() && a.name != "tags"))
        }) {
            kept.insert(a.name.to_string(), v.clone());
        }
    }
    for b in schema.blocks {
        if let Some(v) = attrs
            .get(b.name)
            .filter(|v| v.as_array().is_some_and(|x| !x.is_empty()))
        {
            kept.insert(b.name.to_string(), v.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_terraform_state_yields_rows_for_the_kinds_imgform_manages() {
        let doc = json!({
            "version": 4, "terraform_version": "1.9.8", "serial": 7, "lineage": "x",
            "resources": [
                {"mode": "managed", "type": "alicloud_image", "name": "web",
                 "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
                 "instances": [{"index_key": 0, "schema_version": 0, "attributes": {
                    "id": "m-1", "image_name": "web", "snapshot_id": "s-1", "description": "",
                    "disk_device_mapping": [], "tags": {"team": "a"}, "timeouts": null}}]},
                {"mode": "managed", "type": "alicloud_image_copy", "name": "sh",
                 "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"].sh",
                 "instances": [{"attributes": {"id": "m-2", "source_image_id": "m-1", "source_region_id": "cn-hangzhou"}}]},
                {"mode": "managed", "type": "alicloud_instance", "name": "vm",
                 "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
                 "instances": [{"attributes": {"id": "i-1"}}]},
                {"mode": "data", "type": "alicloud_images", "name": "u", "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]", "instances": []},
                {"module": "module.images", "mode": "managed", "type": "alicloud_image", "name": "m",
                 "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
                 "instances": [{"attributes": {"id": "m-3"}}]}
            ]
        });
        let regions: BTreeMap<String, String> = [
            ("alicloud".to_string(), "cn-hangzhou".to_string()),
            ("alicloud.sh".to_string(), "cn-shanghai".to_string()),
        ]
        .into();
        let a = adopt(&doc, &regions).expect("adopted");
        let addrs: Vec<String> = a.take.iter().map(|r| r.addr.to_string()).collect();
        assert_eq!(
            addrs,
            [
                "alicloud_image.web[0]",
                "alicloud_image_copy.sh",
                "module.images.alicloud_image.m"
            ]
        );
        assert_eq!(
            a.take[0].attrs,
            json!({"image_name": "web", "snapshot_id": "s-1", "tags": {"team": "a"}})
        );
        assert_eq!(a.take[1].region, "cn-shanghai");
        assert_eq!(a.take[1].provider, "alicloud.sh");
        let skipped: Vec<&str> = a.skipped.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(skipped, ["alicloud_instance.vm", "data.alicloud_images.u"]);
        assert!(adopt(&json!({"version": 3}), &regions).is_err());
    }

    #[test]
    fn issue_28_duplicates_and_wrong_types_are_errors_and_every_skip_has_its_reason() {
        let regions: BTreeMap<String, String> =
            [("alicloud".to_string(), "cn-hangzhou".to_string())].into();
        let p = "provider[\"registry.terraform.io/aliyun/alicloud\"]";
        // Two instances at one address: an error naming both, never one row of two.
        let doc = json!({"version": 4, "resources": [
            {"mode": "managed", "type": "alicloud_image", "name": "a", "provider": p,
             "instances": [{"attributes": {"id": "m-1"}}, {"attributes": {"id": "m-2"}}]}]});
        let e = adopt(&doc, &regions).expect_err("duplicate");
        assert!(e.contains("alicloud_image.a appears twice"), "{e}");
        // Wrong types: each reported with its place, all at once.
        let doc = json!({"version": 4, "resources": [
            {"mode": 5, "type": "alicloud_image", "name": "a", "provider": p, "instances": []},
            {"mode": "managed", "type": "alicloud_image", "name": "b", "provider": p, "instances": {"x": 1}},
            {"mode": "managed", "type": "alicloud_image", "name": "c", "provider": p,
             "instances": [{"index_key": true, "attributes": {"id": "m-3"}}, {"attributes": "m-4"}]},
            "not an object"]});
        let e = adopt(&doc, &regions).expect_err("wrong types");
        for want in [
            "resources[0]: \"mode\" must be a non-empty string, not 5",
            "alicloud_image.b: \"instances\" must be a list",
            "instances[0].index_key must be a whole number or a string, not true",
            "alicloud_image.c: \"attributes\" must be an object",
            "resources[3] must be an object",
        ] {
            assert!(e.contains(want), "{want} in {e}");
        }
        assert!(!e.contains("data sources"), "{e}");
        // Well formed but not taken: each with its true reason.
        let doc = json!({"version": 4, "resources": [
            {"mode": "data", "type": "alicloud_images", "name": "u", "provider": p, "instances": []},
            {"mode": "managed", "type": "alicloud_vpc", "name": "v", "provider": p, "instances": [{"attributes": {"id": "vpc-1"}}]},
            {"mode": "managed", "type": "alicloud_image", "name": "e", "provider": p, "instances": []},
            {"mode": "managed", "type": "alicloud_image", "name": "t", "provider": p, "instances": [{"status": "tainted", "attributes": {"id": "m-5"}}]},
            {"mode": "managed", "type": "alicloud_image", "name": "d", "provider": p, "instances": [{"deposed": "00000001", "attributes": {"id": "m-6"}}]}]});
        let a = adopt(&doc, &regions).expect("adopts");
        assert!(a.take.is_empty());
        let why: Vec<String> = a.skipped.iter().map(|(a, w)| format!("{a}: {w}")).collect();
        assert_eq!(why.len(), 5, "{why:#?}");
        assert!(why[0].starts_with("data.alicloud_images.u: a data source"));
        assert!(why[1].contains("imgform does not manage alicloud_vpc (1 instance(s)"));
        assert!(why[2].contains("records no instance"));
        assert!(why[3].contains("tainted"));
        assert!(why[4].contains("deposed"));
    }
}
