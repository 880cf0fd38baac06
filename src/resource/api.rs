//! Reading attribute documents (the provider's names, as stored in state) for the ECS API:
//! strings, numbers, booleans, tags and blocks as requests want them. Each kind's file maps
//! its own attributes to its requests and back.

use crate::cloud::ops;
use serde_json::Value as J;

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

/// One request tag (values that are not strings written as JSON).
pub fn tag(k: &str, v: &J) -> ops::Tag {
    ops::Tag {
        key: k.to_string(),
        value: v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string()),
    }
}

/// `tags` as request tags, sorted by key.
pub fn tags(o: &J, k: &str) -> Vec<ops::Tag> {
    o.get(k)
        .and_then(|t| t.as_object())
        .map(|m| {
            let mut v: Vec<ops::Tag> = m.iter().map(|(k, v)| tag(k, v)).collect();
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

/// A list of strings (numbers written as strings).
pub fn strings(o: &J, k: &str) -> Vec<String> {
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

/// The `features` block as the request's Features.
pub fn features(o: &J) -> Option<ops::Features> {
    let f = blocks(o, "features").first().copied()?;
    Some(ops::Features {
        nvme_support: s(f, "nvme_support"),
        imds_support: s(f, "imds_support"),
    })
}

/// Tags as the cloud reports them, as a map.
pub fn tag_map(t: &ops::Tags) -> J {
    J::Object(
        t.items
            .iter()
            .map(|t| (t.tag_key.clone(), J::String(t.tag_value.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use crate::resource::image::create_image;
    use crate::resource::image_import::import_image;
    use crate::resource::pipeline::create_pipeline;
    use serde_json::json;

    #[test]
    fn each_kind_maps_its_attributes_to_its_request() {
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
