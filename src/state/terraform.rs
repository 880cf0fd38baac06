//! Adopting images Terraform already manages: a Terraform state (format version 4, as
//! `terraform state pull` prints it) is read, and every instance of a kind imgform manages
//! becomes a `ready` row at the same address with the same id and attributes — no create,
//! no delete, modules' resources at their module addresses (`module.img[0].alicloud_image.this`).
//! Kinds imgform does not manage are listed as skipped with the reason.

use super::{ResourceState, Status};
use crate::addr::ResourceAddr;
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
    for r in doc["resources"].as_array().into_iter().flatten() {
        let kind = r["type"].as_str().unwrap_or_default();
        let name = r["name"].as_str().unwrap_or_default();
        let mode = r["mode"].as_str().unwrap_or_default();
        let prefix = match r.get("module").and_then(|m| m.as_str()) {
            Some(m) => format!("{m}."),
            None => String::new(),
        };
        let data = if mode == "data" { "data." } else { "" };
        let tf_addr = format!("{prefix}{data}{kind}.{name}");
        if mode != "managed" {
            out.skipped
                .push((tf_addr, "data sources are read again, not adopted".into()));
            continue;
        }
        let Ok(k) = crate::resource::kind(kind) else {
            out.skipped
                .push((tf_addr, "imgform does not manage this kind".into()));
            continue;
        };
        let provider = provider_key(r["provider"].as_str().unwrap_or_default());
        let Some(region) = regions.get(&provider) else {
            return Err(format!(
                "{tf_addr} uses the provider {provider}, which the configuration does not declare; add its provider block first"
            ));
        };
        let schema = k.schema();
        for inst in r["instances"].as_array().into_iter().flatten() {
            let key = match inst.get("index_key") {
                Some(J::Number(n)) => format!("[{n}]"),
                Some(J::String(s)) => format!("[{}]", J::String(s.clone())),
                _ => String::new(),
            };
            let addr: ResourceAddr = format!("{prefix}{kind}.{name}{key}")
                .parse()
                .map_err(|e| format!("{tf_addr}{key}: {e}"))?;
            let attrs = &inst["attributes"];
            let Some(id) = attrs["id"].as_str().filter(|s| !s.is_empty()) else {
                out.skipped
                    .push((addr.to_string(), "the instance has no id".into()));
                continue;
            };
            if inst.get("status").and_then(|s| s.as_str()) == Some("tainted") {
                out.skipped.push((addr.to_string(), "Terraform marked it tainted: replace it with Terraform first, or import it by id".into()));
                continue;
            }
            // The schema's attributes only, as the provider recorded them; empty ones
            // (the provider writes "" and [] for unset) are left out.
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
            out.take.push(ResourceState {
                addr,
                kind: kind.to_string(),
                provider: provider.clone(),
                region: k.region(region, attrs),
                id: Some(id.to_string()),
                status: Status::Ready,
                client_token: None,
                generation: 1,
                attrs: J::Object(kept).into(),
                deps: vec![],
                pending: None,
            });
        }
    }
    Ok(out)
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
}
