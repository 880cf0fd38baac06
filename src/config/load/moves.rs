//! `import`, `moved` and `removed` blocks.

use super::*;

pub(super) fn decode_import(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(
        &b.body,
        "an import block",
        &["to", "id", "provider"],
        &[],
        diags,
    );
    let to = b.body.attr("to");
    let id = b.body.attr("id");
    if to.is_none() {
        missing("an import block", "to", &b.span, diags);
    }
    if id.is_none() {
        missing("an import block", "id", &b.span, diags);
    }
    let (Some(to), Some(id)) = (to, id) else {
        return;
    };
    if let Some(addr) = want_addr(cfg, to, diags) {
        if addr.id.mode == Mode::Data {
            diags.push(Diagnostic::error(
                "Invalid import address",
                "only managed resources can be imported, not data sources",
                Some(to.expr.span.clone()),
            ));
            return;
        }
        cfg.imports.push(Import {
            to: addr,
            to_span: to.expr.span.clone(),
            id: id.expr.clone(),
            span: b.span.clone(),
        });
    }
}

pub(super) fn decode_moved(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(&b.body, "a moved block", &["from", "to"], &[], diags);
    let from = b.body.attr("from");
    let to = b.body.attr("to");
    if from.is_none() {
        missing("a moved block", "from", &b.span, diags);
    }
    if to.is_none() {
        missing("a moved block", "to", &b.span, diags);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return;
    };
    // `from = module.old`, `to = module.new[0]`: a whole module instance moves.
    let module_path = |a: &Attr| {
        let text = traversal_text(cfg, &a.expr)?;
        let path = crate::addr::parse_module_path(&text).ok()?;
        let here = cfg.sources.module_of(a.expr.span.file);
        Some(if here.is_empty() {
            path
        } else {
            format!("{here}.{path}")
        })
    };
    if let (Some(f), Some(t)) = (module_path(from), module_path(to)) {
        cfg.moved_modules.push(MovedModule {
            from: f,
            to: t,
            span: b.span.clone(),
        });
        return;
    }
    if let (Some(f), Some(t)) = (want_addr(cfg, from, diags), want_addr(cfg, to, diags)) {
        if f.id.kind != t.id.kind {
            diags.push(Diagnostic::error(
                "Resource type mismatch",
                format!(
                    "a moved block cannot change the resource type ({} to {})",
                    f.id.kind, t.id.kind
                ),
                Some(b.span.clone()),
            ));
            return;
        }
        cfg.moved.push(Moved {
            from: f,
            to: t,
            span: b.span.clone(),
        });
    }
}

pub(super) fn decode_removed(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(&b.body, "a removed block", &["from"], &["lifecycle"], diags);
    let Some(from) = b.body.attr("from") else {
        missing("a removed block", "from", &b.span, diags);
        return;
    };
    let mut destroy = false;
    for lb in b.body.blocks.iter().filter(|x| x.ident == "lifecycle") {
        restrict(
            &lb.body,
            "the lifecycle block of removed",
            &["destroy"],
            &[],
            diags,
        );
        if let Some(a) = lb.body.attr("destroy") {
            destroy = literal_bool(a, diags);
        }
    }
    if let Some(addr) = want_addr(cfg, from, diags) {
        cfg.removed.push(Removed {
            from: addr,
            destroy,
            span: b.span.clone(),
        });
    }
}
