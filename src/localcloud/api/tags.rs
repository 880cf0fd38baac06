//! Tags and resource groups: TagResources, UntagResources, ListTagResources,
//! JoinResourceGroup.

use super::*;

/// Applies `edit` to the tags of one image or image pipeline and stores the
/// object again; the shared half of TagResources and UntagResources.
pub(super) fn edit_tags(
    c: &mut Cloud,
    region: &str,
    rt: &str,
    id: &str,
    edit: &dyn Fn(&mut Tags) -> R<()>,
) -> R<()> {
    match rt {
        "image" => {
            let mut img = image_in(c, region, Some(id))?;
            edit(&mut img.tags)?;
            c.put_image(img);
        }
        "imagepipeline" => {
            let mut pl = pipeline_in(c, region, Some(id))?.clone();
            edit(&mut pl.tags)?;
            c.put_pipeline(pl);
        }
        "imagecomponent" => {
            let mut x = component_in(c, region, id)?;
            edit(&mut x.tags)?;
            c.put_component(x);
        }
        other => {
            return err(
                400,
                "InvalidResourceType.NotSupported",
                &format!("The specified ResourceType {other:?} is not supported."),
            )
        }
    }
    Ok(())
}

pub(super) fn tag_resources(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let rt = p.some("ResourceType").unwrap_or_default();
    let ids = resource_ids(p)?;
    let tags = p.tags("Tag");
    if tags.is_empty() {
        return err(400, "MissingParameter", "The input parameter \"Tag\" that is mandatory for processing this request is not supplied.");
    }
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    let merge = |have: &mut Tags| -> R<()> {
        for (k, v) in &tags {
            have.retain(|(tk, _)| tk != k);
            have.push((k.clone(), v.clone()));
        }
        if have.len() > 20 {
            return err(
                403,
                "QuotaExceed.Tags",
                "The number of tags on the resource would exceed 20.",
            );
        }
        Ok(())
    };
    for id in ids {
        edit_tags(c, &region, rt, &id, &merge)?;
    }
    Ok(json!({}))
}

pub(super) fn untag_resources(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let rt = p.some("ResourceType").unwrap_or_default();
    let ids = resource_ids(p)?;
    let keys = p.strings("TagKey");
    let all = p.bool("All")?.unwrap_or(false);
    if keys.len() > 20 {
        return err(
            400,
            "InvalidParameter",
            "At most 20 TagKey values may be given.",
        );
    }
    let drop = |tags: &mut Tags| -> R<()> {
        if keys.is_empty() {
            if all {
                tags.clear();
            }
        } else {
            tags.retain(|(k, _)| !keys.contains(k));
        }
        Ok(())
    };
    for id in ids {
        edit_tags(c, &region, rt, &id, &drop)?;
    }
    Ok(json!({}))
}

pub(super) fn join_resource_group(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let rt = p.some("ResourceType");
    if !matches!(rt, Some("image" | "imagecomponent")) {
        return err(
            400,
            "InvalidResourceType.NotSupported",
            "The specified ResourceType is not supported.",
        );
    }
    let Some(rg) = p.some("ResourceGroupId") else {
        return err(400, "MissingParameter", "The input parameter \"ResourceGroupId\" that is mandatory for processing this request is not supplied.");
    };
    check_resource_group(c, &region, p)?;
    if rt == Some("imagecomponent") {
        let mut x = component_in(c, &region, p.some("ResourceId").unwrap_or_default())?;
        x.resource_group_id = rg.into();
        c.put_component(x);
        return Ok(json!({}));
    }
    let mut img = image_in(c, &region, p.some("ResourceId"))?;
    img.resource_group_id = rg.into();
    c.put_image(img);
    Ok(json!({}))
}

/// ListTagResources: the tags of images, pipelines and components, by `ResourceId.N` (at
/// most 50) or `Tag.N`, token-paged.
pub(super) fn list_tag_resources(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let Some(rtype) = p.some("ResourceType") else {
        return err(400, "MissingParameter", "The input parameter \"ResourceType\" that is mandatory for processing this request is not supplied.");
    };
    let ids = p.strings("ResourceId");
    if ids.len() > 50 {
        return err(
            400,
            "InvalidParameter",
            "At most 50 ResourceId values are allowed.",
        );
    }
    let wanted = p.tags("Tag");
    let tagged: Vec<(String, Vec<(String, String)>)> = match rtype {
        "image" => c
            .images
            .values()
            .filter(|i| i.region == region && !i.deleted && i.owner_alias == "self")
            .map(|i| (i.id.clone(), i.tags.clone()))
            .collect(),
        "imagepipeline" => c
            .pipelines
            .values()
            .filter(|x| x.region == region && !x.deleted)
            .map(|x| (x.id.clone(), x.tags.clone()))
            .collect(),
        "imagecomponent" => c
            .components
            .values()
            .filter(|x| x.region == region && !x.deleted)
            .map(|x| (x.id.clone(), x.tags.clone()))
            .collect(),
        _ => {
            return err(
                400,
                "InvalidResourceType.NotFound",
                "The specified ResourceType is not supported.",
            )
        }
    };
    let mut rows = Vec::new();
    for (id, tags) in tagged {
        if !ids.is_empty() && !ids.contains(&id) {
            continue;
        }
        if !wanted.iter().all(|w| tags.contains(w)) {
            continue;
        }
        for (k, v) in tags {
            rows.push(json!({"ResourceId": id, "ResourceType": rtype, "TagKey": k, "TagValue": v}));
        }
    }
    let (start, max) = token_page(p)?;
    let total = rows.len();
    let page: Vec<serde_json::Value> = rows.into_iter().skip(start).take(max).collect();
    Ok(
        json!({ "TagResources": { "TagResource": page }, "NextToken": next_token(start, max, total) }),
    )
}
