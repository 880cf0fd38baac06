//! The state for people: one resource as `state show` prints it.

use crate::state::{ResourceState, Status};

/// A resource as Terraform's `state show` prints it: attributes in name order with values
/// as HCL, nested blocks after them, sensitive values hidden, and a note when the row is
/// not ready.
pub fn resource(r: &ResourceState) -> String {
    use crate::render::value::hcl_step;
    let mut out = format!(
        "# {}:\nresource \"{}\" \"{}\" {{\n",
        r.addr, r.kind, r.addr.id.name
    );
    // As Terraform's `state show`: attributes in name order, values as HCL, nested blocks
    // (lists of objects) as blocks after them.
    let mut attrs: std::collections::BTreeMap<String, serde_json::Value> = r
        .attrs
        .value()
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(id) = &r.id {
        attrs.insert("id".into(), serde_json::json!(id));
    }
    let secret = crate::state::sensitive_attrs(r);
    let is_block = |v: &serde_json::Value| {
        v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.is_object()))
    };
    let w = attrs
        .iter()
        .filter(|(_, v)| !is_block(v))
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in attrs.iter().filter(|(_, v)| !is_block(v)) {
        let shown = if secret.contains(k) {
            "(sensitive value)".to_string()
        } else {
            hcl_step(v, 4, 4)
        };
        out.push_str(&format!(
            "    {k}{} = {shown}\n",
            " ".repeat(w - k.chars().count())
        ));
    }
    for (k, v) in attrs.iter().filter(|(_, v)| is_block(v)) {
        for b in v.as_array().into_iter().flatten() {
            out.push_str(&format!("\n    {k} {{\n"));
            let fields = b.as_object().cloned().unwrap_or_default();
            let bw = fields.keys().map(|x| x.chars().count()).max().unwrap_or(0);
            for (fk, fv) in &fields {
                out.push_str(&format!(
                    "        {fk}{} = {}\n",
                    " ".repeat(bw - fk.chars().count()),
                    hcl_step(fv, 8, 4)
                ));
            }
            out.push_str("    }\n");
        }
    }
    out.push_str("}\n");
    if r.status != Status::Ready {
        out.push_str(&format!(
            "# status: {} (the next apply {})\n",
            r.status.as_str(),
            if r.status == Status::Creating {
                "resumes it"
            } else {
                "replaces it"
            }
        ));
    }
    out
}
