//! The `imgform {}` and `terraform {}` blocks (state location, backends, required
//! versions and providers) and `provider` blocks.

use super::*;

pub(super) fn decode_settings(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(
        &b.body,
        "the imgform block",
        &["state_path", "allow_files_outside", "history_retention"],
        &["backend"],
        diags,
    );
    if let Some(a) = b.body.attr("history_retention") {
        let n = match &a.expr.edit {
            Expression::Number(n) => n.as_u64().filter(|n| (1..=100_000).contains(n)),
            _ => None,
        };
        match n {
            Some(n) => cfg.settings.history_retention = Some(n as usize),
            None => diags.push(
                Diagnostic::error(
                    "Invalid value",
                    "`history_retention` must be a whole number from 1 to 100000",
                    Some(a.expr.span.clone()),
                )
                .with_hint("the number of applies whose state the history keeps, for `imgform state pull --serial N`"),
            ),
        }
    }
    if let Some(a) = b.body.attr("allow_files_outside") {
        let items: Option<Vec<(String, Span)>> = match &a.expr.edit {
            Expression::Array(arr) => arr
                .iter()
                .map(|e| {
                    let ex = Expr {
                        span: Span::new(a.expr.span.file, hcl_edit::Span::span(e).unwrap_or(0..0)),
                        edit: e.clone(),
                    };
                    literal_str(&ex).map(|s| (s, ex.span))
                })
                .collect(),
            _ => None,
        };
        match items {
            Some(v) => cfg.settings.allow_files_outside = v,
            None => diags.push(Diagnostic::error(
                "Invalid value",
                "`allow_files_outside` must be a list of literal directory paths",
                Some(a.expr.span.clone()),
            )),
        }
    }
    if let Some(a) = b.body.attr("state_path") {
        if want_literal_str(a, diags).is_some() {
            cfg.settings.state_path = Some(a.clone());
        }
    }
    for bb in b.body.blocks.iter().filter(|x| x.ident == "backend") {
        if bb.labels.first().map(|l| l.0.as_str()) != Some("pg") || bb.labels.len() != 1 {
            diags.push(
                Diagnostic::error("Unsupported backend", "imgform keeps state in a local SQLite file, or in PostgreSQL with backend \"pg\"", Some(bb.span.clone()))
                    .with_hint("write backend \"pg\" { conn_str = \"postgres://...\" }"),
            );
            continue;
        }
        decode_pg_backend(cfg, bb, diags);
    }
}

pub(super) fn decode_pg_backend(cfg: &mut Config, bb: &Block, diags: &mut Diagnostics) {
    restrict(
        &bb.body,
        "the pg backend",
        &["conn_str", "schema_name"],
        &[],
        diags,
    );
    let conn_str = bb
        .body
        .attr("conn_str")
        .and_then(|a| want_literal_str(a, diags));
    let schema_name = bb
        .body
        .attr("schema_name")
        .and_then(|a| want_literal_str(a, diags))
        .unwrap_or_else(|| "imgform".into());
    cfg.settings.backend = Some(PgBackend {
        conn_str,
        schema_name,
    });
}

/// Terraform's `terraform {}` block: `required_version` is accepted (imgform is not
/// Terraform: the constraint is not checked), `required_providers` may name the alicloud
/// provider under any source and version, `backend "pg"` is imgform's PostgreSQL backend.
pub(super) fn decode_terraform(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(
        &b.body,
        "the terraform block",
        &["required_version", "experiments"],
        &["required_providers", "backend", "cloud"],
        diags,
    );
    for rp in b
        .body
        .blocks
        .iter()
        .filter(|x| x.ident == "required_providers")
    {
        for a in &rp.body.attrs {
            let source = match &a.expr.edit {
                Expression::Object(o) => o.iter().find_map(|(k, v)| {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
                            s.value().clone()
                        }
                        _ => return None,
                    };
                    match (key.as_str(), v.expr()) {
                        ("source", Expression::String(s)) => Some(s.value().clone()),
                        _ => None,
                    }
                }),
                _ => None,
            };
            let alicloud = a.name == "alicloud"
                && source
                    .as_deref()
                    .is_none_or(|s| s.to_ascii_lowercase().rsplit('/').next() == Some("alicloud"));
            if !alicloud {
                diags.push(
                    Diagnostic::error(
                        "Unsupported provider",
                        format!(
                            "imgform manages Alibaba Cloud images with its built-in alicloud provider; `{}`{} is not one it has",
                            a.name,
                            source.map(|s| format!(" ({s})")).unwrap_or_default()
                        ),
                        Some(a.key_span.clone()),
                    )
                    .with_hint("keep the images in their own configuration, and the rest with Terraform"),
                );
            }
        }
    }
    let child = !cfg.sources.module_of(b.span.file).is_empty();
    for bb in b.body.blocks.iter().filter(|x| x.ident == "backend") {
        if child {
            diags.push(
                Diagnostic::warning(
                    "Backend configuration ignored",
                    "a backend block in a child module has no effect: the state's backend is the root module's",
                    Some(bb.span.clone()),
                )
                .with_hint("remove the backend block from the module"),
            );
            continue;
        }
        match bb.labels.first().map(|l| l.0.as_str()) {
            Some("pg") if bb.labels.len() == 1 => decode_pg_backend(cfg, bb, diags),
            other => diags.push(
                Diagnostic::error(
                    "Unsupported backend",
                    format!(
                        "imgform keeps its state in a local SQLite file, or in PostgreSQL with backend \"pg\"; backend {} is not supported",
                        other.map(|o| format!("{o:?}")).unwrap_or_default()
                    ),
                    Some(bb.span.clone()),
                )
                .with_hint("remove the backend block to keep the state in a local file, or use backend \"pg\" { conn_str = \"postgres://...\" } for a team; then adopt the images Terraform manages with `imgform import`"),
            ),
        }
    }
    for c in b.body.blocks.iter().filter(|x| x.ident == "cloud") {
        diags.push(
            Diagnostic::error(
                "Unsupported backend",
                "imgform does not keep state in HCP Terraform (a `cloud` block)",
                Some(c.span.clone()),
            )
            .with_hint("remove the cloud block to keep the state in a local file, or use backend \"pg\" for a team"),
        );
    }
}

pub(super) fn decode_provider(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"alicloud\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if name != "alicloud" {
        let mut d = Diagnostic::error(
            "Unsupported provider",
            format!("imgform manages Alibaba Cloud only; provider {name:?} is not supported"),
            Some(lspan.clone()),
        );
        if did_you_mean(name, ["alicloud"]).is_some() {
            d = d.with_hint("did you mean \"alicloud\"?");
        }
        diags.push(d);
        return;
    }
    restrict(&b.body, "a provider block", PROVIDER_ATTRS, &[], diags);
    let alias = b
        .body
        .attr("alias")
        .and_then(|a| want_literal_str(a, diags));
    for secret in ["access_key", "secret_key", "security_token"] {
        if let Some(a) = b.body.attr(secret) {
            diags.push(
                Diagnostic::warning(
                    "Credentials in configuration",
                    format!("`{secret}` is set in the provider block; credentials in files end up in version control"),
                    Some(a.key_span.clone()),
                )
                .with_hint("use ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET or an aliyun CLI profile instead"),
            );
        }
    }
    let p = Provider {
        alias,
        body: Body {
            attrs: b
                .body
                .attrs
                .iter()
                .filter(|a| a.name != "alias")
                .cloned()
                .collect(),
            blocks: vec![],
        },
        span: b.span.clone(),
    };
    let key = p.key();
    if let Some(prev) = cfg.providers.get(&key) {
        diags.push(
            Diagnostic::error(
                "Duplicate provider configuration",
                format!(
                    "provider {key} is already configured at {}",
                    cfg.sources.location(&prev.span)
                ),
                Some(b.span.clone()),
            )
            .with_hint("give each extra provider block a distinct `alias`"),
        );
        return;
    }
    cfg.providers.insert(key, p);
}
