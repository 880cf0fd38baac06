//! Mapping between resource attributes (the provider's names, as stored in state) and the
//! ECS API: create requests for each kind, and the attributes read back from the cloud.

use crate::cloud::ops;
use serde_json::{json, Map, Value as J};

/// A string attribute (numbers and booleans are written as the API wants them).
pub fn s(o: &J, k: &str) -> Option<String> {
    match o.get(k)? {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A whole-number attribute.
pub fn int(o: &J, k: &str) -> Option<i64> {
    match o.get(k)? {
        J::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        J::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A boolean attribute.
pub fn boolean(o: &J, k: &str) -> Option<bool> {
    match o.get(k)? {
        J::Bool(b) => Some(*b),
        J::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `tags` as request tags, sorted by key.
pub fn tags(o: &J, k: &str) -> Vec<ops::Tag> {
    o.get(k)
        .and_then(|t| t.as_object())
        .map(|m| {
            let mut v: Vec<ops::Tag> = m
                .iter()
                .map(|(k, v)| ops::Tag {
                    key: k.clone(),
                    value: v
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string()),
                })
                .collect();
            v.sort_by(|a, b| a.key.cmp(&b.key));
            v
        })
        .unwrap_or_default()
}

/// The blocks named `k` (lists of objects).
pub fn blocks<'a>(o: &'a J, k: &str) -> Vec<&'a J> {
    o.get(k)
        .and_then(|b| b.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn strings(o: &J, k: &str) -> Vec<String> {
    o.get(k)
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    x.as_str()
                        .map(String::from)
                        .or_else(|| x.as_i64().map(|n| n.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn features(o: &J) -> Option<ops::Features> {
    let f = blocks(o, "features").first().copied()?;
    Some(ops::Features {
        nvme_support: s(f, "nvme_support"),
        imds_support: s(f, "imds_support"),
    })
}

/// CreateImage from `alicloud_image` attributes.
pub fn create_image(region: &str, a: &J, token: &str) -> ops::CreateImage {
    ops::CreateImage {
        region_id: region.into(),
        instance_id: s(a, "instance_id"),
        snapshot_id: s(a, "snapshot_id"),
        disk_device_mapping: blocks(a, "disk_device_mapping")
            .into_iter()
            .map(|m| ops::CreateImageDisk {
                snapshot_id: s(m, "snapshot_id"),
                size: int(m, "size"),
                device: s(m, "device"),
                disk_type: s(m, "disk_type"),
            })
            .collect(),
        image_name: s(a, "image_name").or_else(|| s(a, "name")),
        image_family: s(a, "image_family"),
        image_version: s(a, "image_version"),
        description: s(a, "description"),
        platform: s(a, "platform"),
        architecture: s(a, "architecture"),
        boot_mode: s(a, "boot_mode"),
        detection_strategy: s(a, "detection_strategy"),
        features: features(a)
            .filter(|f| f.imds_support.is_some())
            .map(|f| ops::Features {
                nvme_support: None,
                ..f
            }),
        resource_group_id: s(a, "resource_group_id"),
        tag: tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

/// ImportImage from `alicloud_image_import` attributes.
pub fn import_image(region: &str, a: &J, token: &str) -> ops::ImportImage {
    ops::ImportImage {
        region_id: region.into(),
        disk_device_mapping: blocks(a, "disk_device_mapping")
            .into_iter()
            .map(|m| ops::ImportDisk {
                oss_bucket: s(m, "oss_bucket").unwrap_or_default(),
                oss_object: s(m, "oss_object").unwrap_or_default(),
                format: s(m, "format").map(|f| f.to_uppercase()),
                disk_image_size: int(m, "disk_image_size"),
                device: s(m, "device"),
            })
            .collect(),
        image_name: s(a, "image_name"),
        description: s(a, "description"),
        architecture: s(a, "architecture"),
        os_type: s(a, "os_type"),
        platform: s(a, "platform"),
        boot_mode: s(a, "boot_mode"),
        license_type: s(a, "license_type"),
        role_name: s(a, "role_name"),
        detection_strategy: s(a, "detection_strategy"),
        features: features(a),
        resource_group_id: s(a, "resource_group_id"),
        tag: tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

/// CreateImagePipeline from `alicloud_ecs_image_pipeline` attributes.
pub fn create_pipeline(region: &str, a: &J, token: &str) -> ops::CreateImagePipeline {
    let image_options = blocks(a, "image_options")
        .first()
        .map(|o| ops::ImageOptions {
            image_name: s(o, "image_name"),
            image_family: s(o, "image_family"),
            description: s(o, "description"),
            image_features: blocks(o, "image_features")
                .first()
                .map(|f| ops::ImageFeatures {
                    nvme_support: s(f, "nvme_support"),
                }),
            image_tags: tags(o, "image_tags"),
        });
    let import_image_options =
        blocks(a, "import_image_options")
            .first()
            .map(|o| ops::ImportImageOptions {
                architecture: s(o, "architecture"),
                boot_mode: s(o, "boot_mode"),
                os_type: s(o, "os_type"),
                platform: s(o, "platform"),
                license_type: s(o, "license_type"),
                role_name: s(o, "role_name"),
                image_name: s(o, "image_name"),
                description: s(o, "description"),
                retain_imported_image: boolean(o, "retain_imported_image"),
                retention_strategy: s(o, "retention_strategy"),
                features: blocks(o, "features").first().map(|f| ops::Features {
                    nvme_support: s(f, "nvme_support"),
                    imds_support: s(f, "imds_support"),
                }),
                disk_device_mappings: blocks(o, "disk_device_mappings")
                    .into_iter()
                    .map(|m| ops::PipelineImportDisk {
                        oss_bucket: s(m, "oss_bucket").unwrap_or_default(),
                        oss_object: s(m, "oss_object").unwrap_or_default(),
                        format: s(m, "format").map(|f| f.to_uppercase()),
                        disk_image_size: int(m, "disk_image_size"),
                    })
                    .collect(),
                import_image_tags: tags(o, "import_image_tags"),
            });
    let advanced_options = blocks(a, "advanced_options")
        .first()
        .map(|o| ops::AdvancedOptions {
            image_name_suffix: s(o, "image_name_suffix"),
            retain_cloud_assistant: boolean(o, "retain_cloud_assistant"),
        });
    ops::CreateImagePipeline {
        region_id: region.into(),
        base_image_type: s(a, "base_image_type").unwrap_or_default(),
        base_image: s(a, "base_image"),
        name: s(a, "name"),
        description: s(a, "description"),
        image_name: s(a, "image_name"),
        image_family: s(a, "image_family"),
        nvme_support: s(a, "nvme_support"),
        build_content: s(a, "build_content"),
        test_content: s(a, "test_content"),
        add_account: strings(a, "add_account"),
        to_region_id: strings(a, "to_region_id"),
        instance_type: s(a, "instance_type"),
        vswitch_id: s(a, "vswitch_id"),
        system_disk_size: int(a, "system_disk_size"),
        internet_max_bandwidth_out: int(a, "internet_max_bandwidth_out"),
        delete_instance_on_failure: boolean(a, "delete_instance_on_failure"),
        repair_mode: s(a, "repair_mode"),
        resource_group_id: s(a, "resource_group_id"),
        image_options,
        import_image_options,
        advanced_options,
        tag: tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

/// StartImagePipelineExecution from `alicloud_ecs_image_pipeline_execution` attributes.
pub fn start_execution(region: &str, a: &J, token: &str) -> ops::StartImagePipelineExecution {
    ops::StartImagePipelineExecution {
        region_id: region.into(),
        image_pipeline_id: s(a, "image_pipeline_id").unwrap_or_default(),
        tag: tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

fn tag_map(t: &ops::Tags) -> J {
    J::Object(
        t.items
            .iter()
            .map(|t| (t.tag_key.clone(), J::String(t.tag_value.clone())))
            .collect(),
    )
}

/// Attributes of an image as the cloud reports them.
pub fn read_image(i: &ops::Image) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("id".into(), json!(i.image_id));
    m.insert("image_name".into(), json!(i.image_name));
    m.insert("description".into(), json!(i.description));
    m.insert("image_family".into(), json!(i.image_family));
    m.insert("boot_mode".into(), json!(i.boot_mode));
    m.insert("platform".into(), json!(i.platform));
    m.insert("architecture".into(), json!(i.architecture));
    m.insert("resource_group_id".into(), json!(i.resource_group_id));
    m.insert("tags".into(), tag_map(&i.tags));
    m.insert("status".into(), json!(i.status));
    m.insert("usable".into(), json!(i.usable));
    m.insert("progress".into(), json!(i.progress));
    m.insert("size".into(), json!(i.size));
    m.insert("create_time".into(), json!(i.creation_time));
    if !i.license_type.is_empty() {
        m.insert("license_type".into(), json!(i.license_type));
    }
    if let Some(sys) = i
        .disk_device_mappings
        .items
        .iter()
        .find(|d| d.disk_type == "system")
    {
        if !sys.snapshot_id.is_empty() {
            m.insert("snapshot_id".into(), json!(sys.snapshot_id));
        }
    }
    m
}

/// Attributes of a pipeline as the cloud reports them.
pub fn read_pipeline(p: &ops::Pipeline) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("id".into(), json!(p.image_pipeline_id));
    m.insert("name".into(), json!(p.name));
    m.insert("description".into(), json!(p.description));
    m.insert("base_image_type".into(), json!(p.base_image_type));
    m.insert("base_image".into(), json!(p.base_image));
    m.insert("tags".into(), tag_map(&p.tags));
    m.insert("create_time".into(), json!(p.creation_time));
    m.insert("build_content".into(), json!(p.build_content));
    m.insert("test_content".into(), json!(p.test_content));
    m.insert("instance_type".into(), json!(p.instance_type));
    m.insert(
        "internet_max_bandwidth_out".into(),
        json!(p.internet_max_bandwidth_out),
    );
    m.insert("system_disk_size".into(), json!(p.system_disk_size));
    m.insert(
        "delete_instance_on_failure".into(),
        json!(p.delete_instance_on_failure),
    );
    m.insert("vswitch_id".into(), json!(p.vswitch_id));
    m.insert("repair_mode".into(), json!(p.repair_mode));
    m.insert("resource_group_id".into(), json!(p.resource_group_id));
    m.insert("image_name".into(), json!(p.image_name));
    m.insert("image_family".into(), json!(p.image_family));
    m.insert("to_region_id".into(), json!(p.to_region_ids.items));
    m.insert("add_account".into(), json!(p.add_accounts.items));
    m.retain(|_, v| !(v.as_str() == Some("") || v.as_array().is_some_and(|a| a.is_empty())));
    m
}

/// Attributes of a build as the cloud reports them.
pub fn read_execution(e: &ops::Execution) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("id".into(), json!(e.execution_id));
    m.insert("image_pipeline_id".into(), json!(e.image_pipeline_id));
    m.insert("status".into(), json!(e.status));
    m.insert("image_id".into(), json!(e.image_id));
    m.insert("create_time".into(), json!(e.creation_time));
    m
}

/// Attributes a refresh compares to detect changes made outside imgform, per kind.
pub fn drift_attrs(kind: &str) -> &'static [&'static str] {
    match kind {
        "alicloud_image" => &[
            "image_name",
            "description",
            "image_family",
            "tags",
            "resource_group_id",
            "boot_mode",
        ],
        "alicloud_image_import" => &["image_name", "description", "tags"],
        "alicloud_ecs_image_pipeline" => &["tags"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_attributes_to_requests() {
        let a = json!({"image_name": "web", "snapshot_id": "s-1", "tags": {"b": "2", "a": "1"}, "disk_device_mapping": [{"snapshot_id": "s-2", "size": 40, "disk_type": "data"}], "features": [{"imds_support": "v2"}]});
        let r = create_image("cn-hangzhou", &a, "tok");
        assert_eq!(r.image_name.as_deref(), Some("web"));
        assert_eq!(
            r.tag.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(r.disk_device_mapping[0].size, Some(40));
        assert_eq!(
            r.features.and_then(|f| f.imds_support).as_deref(),
            Some("v2")
        );
        let p = create_pipeline(
            "r",
            &json!({"base_image_type": "IMAGE", "to_region_id": ["cn-beijing"], "add_account": [123]}),
            "t",
        );
        assert_eq!(p.to_region_id, ["cn-beijing"]);
        assert_eq!(p.add_account, ["123"]);
        let i = import_image(
            "r",
            &json!({"disk_device_mapping": [{"oss_bucket": "b", "oss_object": "o", "format": "qcow2"}]}),
            "t",
        );
        assert_eq!(i.disk_device_mapping[0].format.as_deref(), Some("QCOW2"));
    }
}
