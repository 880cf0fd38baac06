//! The human plan, in Terraform's vocabulary (`+ - ~ -/+ +/- <=`, `# forces replacement`,
//! `(known after apply)`, `(sensitive value)`, `Plan: X to add, Y to change, Z to destroy.`),
//! plus a summary of addresses by action, and the pull-request markdown rendering with its
//! byte budget. Renderers format what the planner computed; they compute no diffs.

use crate::plan::diff::same_loosely;
use crate::plan::model::{Action, Change, Counts, Drift, Plan};
use serde_json::Value as J;
use std::fmt::Write;

/// Terminal styling.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// `-show-sensitive`: print sensitive values instead of `(sensitive value)`, for a
    /// person at a terminal who means it. Never in markdown or JSON.
    pub reveal: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn marker(&self, m: &str) -> String {
        match m.trim() {
            "+" => self.paint("32", m),
            "-" => self.paint("31", m),
            "~" => self.paint("33", m),
            "-/+" | "+/-" => self.paint("35", m),
            "<=" => self.paint("36", m),
            _ => m.to_string(),
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn scalar(v: &J) -> String {
    match v {
        J::String(s) => quote(s),
        J::Null => "null".into(),
        J::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            format!("[{}]", a.iter().map(scalar).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

fn is_block_list(v: &J) -> bool {
    v.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.is_object()))
}

fn is_multiline(v: Option<&J>) -> bool {
    v.and_then(|x| x.as_str()).is_some_and(|s| s.contains('\n'))
}

struct Ctx<'a> {
    st: Style,
    unknown: &'a J,
    sensitive: &'a [String],
    replace: &'a [String],
    /// What the plan says changes at this level (`None` inside blocks and for drift, where
    /// the values themselves are compared).
    changed: Option<&'a [String]>,
}

impl Ctx<'_> {
    fn changes(&self, k: &str, b: Option<&J>, a: Option<&J>) -> bool {
        match self.changed {
            Some(c) => c.iter().any(|x| x == k),
            None => !same_loosely(b, a),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn attr_line(
    out: &mut String,
    ctx: &Ctx,
    indent: &str,
    marker: &str,
    key: &str,
    width: usize,
    before: Option<&J>,
    after: Option<&J>,
    forces: bool,
) {
    let unknown = ctx.unknown.get(key).is_some_and(|u| u == &J::Bool(true));
    let sensitive = !ctx.st.reveal && ctx.sensitive.iter().any(|s| s == key);
    let show = |v: Option<&J>| -> String {
        if sensitive {
            return "(sensitive value)".into();
        }
        match v {
            Some(v) => scalar(v),
            None => "null".into(),
        }
    };
    let pad = " ".repeat(width.saturating_sub(key.chars().count()));
    let suffix = if forces {
        format!(" {}", ctx.st.paint("31", "# forces replacement"))
    } else {
        String::new()
    };
    let m = ctx.st.marker(marker);
    // Long strings are shown as a line diff.
    if !sensitive && (is_multiline(before) || is_multiline(after)) {
        let a = before.and_then(|v| v.as_str()).unwrap_or("");
        let b = after.and_then(|v| v.as_str()).unwrap_or("");
        let _ = writeln!(out, "{indent}{m} {key}{pad} = <<-EOT{suffix}");
        let diff = similar::TextDiff::from_lines(a, b);
        for ch in diff.iter_all_changes() {
            let (mk, code) = match ch.tag() {
                similar::ChangeTag::Delete => ("-", "31"),
                similar::ChangeTag::Insert => ("+", "32"),
                similar::ChangeTag::Equal => (" ", ""),
            };
            let line = ch.value().trim_end_matches('\n');
            let mk = if code.is_empty() {
                mk.to_string()
            } else {
                ctx.st.paint(code, mk)
            };
            let _ = writeln!(out, "{indent}    {mk} {line}");
        }
        if unknown {
            let _ = writeln!(out, "{indent}      (known after apply)");
        }
        let _ = writeln!(out, "{indent}  EOT");
        return;
    }
    let value = match marker.trim() {
        "+" if unknown => "(known after apply)".to_string(),
        "+" => show(after),
        "-" => format!("{} -> null", show(before)),
        "~" if unknown => format!("{} -> (known after apply)", show(before)),
        "~" => format!("{} -> {}", show(before), show(after)),
        _ => show(after.or(before)),
    };
    // Maps are shown entry by entry.
    if !sensitive
        && !unknown
        && (before.is_some_and(|v| v.is_object()) || after.is_some_and(|v| v.is_object()))
    {
        let b = before.and_then(|v| v.as_object());
        let a = after.and_then(|v| v.as_object());
        let mut keys: Vec<&String> = b
            .into_iter()
            .flat_map(|m| m.keys())
            .chain(a.into_iter().flat_map(|m| m.keys()))
            .collect();
        keys.sort();
        keys.dedup();
        let _ = writeln!(out, "{indent}{m} {key}{pad} = {{{suffix}");
        // In an update, elements that stay as they are are hidden and counted, as
        // Terraform does; a create or destroy shows them all.
        let updating = marker.trim() == "~";
        let same = |k: &String| {
            let (bv, av) = (b.and_then(|m| m.get(k)), a.and_then(|m| m.get(k)));
            bv.is_some() && av.is_some() && same_loosely(bv, av)
        };
        let shown: Vec<&String> = keys
            .iter()
            .copied()
            .filter(|k| !(updating && same(k)))
            .collect();
        let hidden = keys.len() - shown.len();
        let w = shown
            .iter()
            .map(|k| quote(k).chars().count())
            .max()
            .unwrap_or(0);
        for k in shown {
            let (bv, av) = (b.and_then(|m| m.get(k)), a.and_then(|m| m.get(k)));
            let (mk, text) = match (bv, av) {
                (None, Some(v)) => ("+", scalar(v)),
                (Some(v), None) => ("-", format!("{} -> null", scalar(v))),
                (Some(x), Some(y)) if !same_loosely(Some(x), Some(y)) => {
                    ("~", format!("{} -> {}", scalar(x), scalar(y)))
                }
                (Some(x), Some(_)) => (" ", scalar(x)),
                (None, None) => continue,
            };
            let qk = quote(k);
            let p = " ".repeat(w.saturating_sub(qk.chars().count()));
            let _ = writeln!(out, "{indent}    {} {qk}{p} = {text}", ctx.st.marker(mk));
        }
        if hidden > 0 {
            let _ = writeln!(
                out,
                "{indent}        # ({hidden} unchanged element{} hidden)",
                if hidden == 1 { "" } else { "s" }
            );
        }
        let _ = writeln!(out, "{indent}  }}");
        return;
    }
    let _ = writeln!(out, "{indent}{m} {key}{pad} = {value}{suffix}");
}

/// Terraform's identifying attributes (`id`, `name`, `tags`, jsonformat's
/// `importantAttributes`): shown in an update although unchanged, so a reader knows which
/// object changes. Only at the resource's level, and only when set.
fn identifying(ctx: &Ctx, k: &str, before: Option<&J>) -> bool {
    ctx.changed.is_some()
        && matches!(k, "id" | "name" | "tags")
        && before.is_some_and(|v| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()))
}

/// Renders one object's attributes between `{` and `}`.
fn body(
    out: &mut String,
    ctx: &Ctx,
    indent: &str,
    action: Action,
    before: Option<&J>,
    after: Option<&J>,
) {
    let bo = before.and_then(|v| v.as_object());
    let ao = after.and_then(|v| v.as_object());
    let mut keys: Vec<String> = bo
        .into_iter()
        .flat_map(|m| m.keys().cloned())
        .chain(ao.into_iter().flat_map(|m| m.keys().cloned()))
        .chain(
            ctx.unknown
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys().cloned()),
        )
        .collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| !k.starts_with('_'));
    let (scalars, blocks): (Vec<String>, Vec<String>) = keys.into_iter().partition(|k| {
        !(is_block_list(bo.and_then(|m| m.get(k)).unwrap_or(&J::Null))
            || is_block_list(ao.and_then(|m| m.get(k)).unwrap_or(&J::Null)))
    });
    let shown = |k: &String| {
        let (b, a) = (bo.and_then(|m| m.get(k)), ao.and_then(|m| m.get(k)));
        let unknown = ctx.unknown.get(k).is_some_and(|u| u == &J::Bool(true));
        match action {
            Action::Create | Action::Resume | Action::Read => {
                unknown || a.is_some_and(|v| !v.is_null())
            }
            Action::Delete => true,
            // A forgotten object is identified, not diffed: Terraform shows its id.
            Action::Forget => k == "id",
            _ => unknown || ctx.changes(k, b, a) || identifying(ctx, k, b),
        }
    };
    let width = scalars
        .iter()
        .filter(|k| shown(k))
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut hidden = 0;
    for k in &scalars {
        let (b, a) = (bo.and_then(|m| m.get(k)), ao.and_then(|m| m.get(k)));
        let unknown = ctx.unknown.get(k).is_some_and(|u| u == &J::Bool(true));
        let forces = ctx.replace.iter().any(|r| r == k);
        let marker = match action {
            Action::Create | Action::Resume | Action::Read => "+",
            Action::Delete => "-",
            Action::Forget if k == "id" => " ",
            Action::Forget => {
                hidden += 1;
                continue;
            }
            _ => {
                if unknown || ctx.changes(k, b, a) {
                    match (b, a) {
                        (None, Some(_)) => "+",
                        (Some(_), None) if !unknown => "-",
                        _ => "~",
                    }
                } else if identifying(ctx, k, b) {
                    " "
                } else {
                    hidden += 1;
                    continue;
                }
            }
        };
        if marker == "+" && a.is_none() && !unknown {
            continue;
        }
        if marker == "+" && a.is_some_and(|v| v.is_null()) && !unknown {
            continue;
        }
        attr_line(out, ctx, indent, marker, k, width, b, a, forces);
    }
    for k in &blocks {
        let empty = vec![];
        let bl = bo
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_array())
            .unwrap_or(&empty);
        let al = ao
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_array())
            .unwrap_or(&empty);
        let forces = ctx.replace.iter().any(|r| r == k);
        let block_changes = ctx.changes(k, Some(&J::Null), Some(&J::Bool(true)));
        let n = bl.len().max(al.len());
        for i in 0..n {
            let (b, a) = (bl.get(i), al.get(i));
            if matches!(
                action,
                Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
            ) && (same_loosely(b, a) || !block_changes)
            {
                hidden += 1;
                continue;
            }
            let marker = match (action, b, a) {
                (Action::Delete, _, _) | (_, Some(_), None) => "-",
                (Action::Create | Action::Resume | Action::Read, _, _) | (_, None, Some(_)) => "+",
                _ => "~",
            };
            let suffix = if forces {
                format!(" {}", ctx.st.paint("31", "# forces replacement"))
            } else {
                String::new()
            };
            let _ = writeln!(out, "{indent}{} {k} {{{suffix}", ctx.st.marker(marker));
            let inner = Ctx {
                st: ctx.st,
                unknown: &J::Null,
                sensitive: &[],
                replace: &[],
                changed: None,
            };
            let sub_action = match marker {
                "+" => Action::Create,
                "-" => Action::Delete,
                _ => Action::Update,
            };
            body(out, &inner, &format!("{indent}    "), sub_action, b, a);
            let _ = writeln!(out, "{indent}  }}");
        }
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{indent}  # ({hidden} unchanged attribute{} hidden)",
            if hidden == 1 { "" } else { "s" }
        );
    }
}

fn header(c: &Change) -> String {
    let a = &c.addr;
    let mut h = match c.action {
        Action::Create => format!("# {a} will be created"),
        Action::Resume => format!(
            "# {a} will be created (resuming an interrupted create: {})",
            if c.reason.as_deref() == Some("resume_wait") {
                "the object exists, waiting for it to finish"
            } else {
                "re-sending the create with its ClientToken"
            }
        ),
        Action::Update => format!("# {a} will be updated in-place"),
        Action::Delete => format!("# {a} will be destroyed"),
        Action::DeleteThenCreate | Action::CreateThenDelete => match c.reason.as_deref() {
            Some("replace_because_tainted") => format!("# {a} is tainted, so must be replaced"),
            Some("replace_by_request") => format!("# {a} will be replaced, as requested"),
            Some("replace_because_delete_interrupted") => {
                format!("# {a} must be replaced (an earlier destroy was interrupted)")
            }
            _ => format!("# {a} must be replaced"),
        },
        Action::Read => match c.reason.as_deref() {
            Some("read_because_dependency_pending") => format!(
                "# {a} will be read during apply\n  # (depends on a resource or a module with changes pending)"
            ),
            _ => format!("# {a} will be read during apply\n  # (config refers to values not yet known)"),
        },
        Action::Forget => format!(
            "# {a} will no longer be managed by imgform, but will not be destroyed\n # (destroy = false is set in the configuration)"
        ),
        Action::NoOp => {
            if let Some(p) = &c.prev_addr {
                format!("# {p} has moved to {a}")
            } else if c.importing.is_some() {
                format!("# {a} will be imported")
            } else {
                format!("# {a}")
            }
        }
    };
    if c.action != Action::NoOp {
        if let Some(p) = &c.prev_addr {
            h.push_str(&format!(" (moved from {p})"));
        }
        if c.importing.is_some() {
            h = format!("{h}, after it is imported");
        }
    }
    h
}

/// One change, Terraform-style.
pub fn change(c: &Change, st: Style) -> String {
    let mut out = String::new();
    // Terraform indents a forget's comment and mark by one space, not two
    // (jsonformat/plan.go: "[bold] # %s[reset] will no longer be managed...").
    let indent = if c.action == Action::Forget {
        " "
    } else {
        "  "
    };
    let _ = writeln!(out, "{indent}{}", st.bold(&header(c)));
    if c.action == Action::Delete {
        let key = c
            .addr
            .key
            .as_ref()
            .map(|k| k.to_string())
            .unwrap_or_default();
        let why = match c.reason.as_deref() {
            Some("delete_because_no_resource_config") => {
                Some(format!("{} is not in configuration", c.addr.id))
            }
            Some("delete_because_count_index") => {
                Some(format!("index {key} is out of range for count"))
            }
            Some("delete_because_each_key") => Some(format!("key {key} is not in for_each map")),
            Some("delete_because_no_repetition") => {
                Some("the resource now uses count or for_each".to_string())
            }
            Some("delete_because_wrong_repetition") => {
                Some("the repetition argument changed".to_string())
            }
            _ => None,
        };
        if let Some(why) = why {
            let _ = writeln!(out, "  # (because {why})");
        }
    }
    if let Some(id) = &c.importing {
        let _ = writeln!(out, "  # (import id {})", quote(id));
    }
    let kw = if c.addr.id.mode == crate::addr::Mode::Data {
        "data"
    } else {
        "resource"
    };
    let sym = match c.action {
        Action::NoOp => " ".to_string(),
        // Terraform's mark for an object that leaves the state and stays in the cloud.
        Action::Forget => ".".to_string(),
        a => a.symbol().to_string(),
    };
    let sym_pad = if c.action == Action::Forget {
        format!(" {sym}")
    } else {
        format!("{sym:>3}")
    };
    let _ = writeln!(
        out,
        "{} {kw} {} {} {{",
        st.marker(&sym_pad),
        quote(&c.addr.id.kind),
        quote(&c.addr.id.name)
    );
    let ctx = Ctx {
        st,
        unknown: &c.after_unknown,
        sensitive: &c.sensitive,
        replace: &c.replace_paths,
        changed: Some(&c.changed),
    };
    let after = if c.action == Action::Delete {
        None
    } else {
        c.after.as_deref()
    };
    body(
        &mut out,
        &ctx,
        "      ",
        c.action,
        c.before.as_deref(),
        after,
    );
    let _ = writeln!(out, "    }}");
    out
}

fn drift_block(d: &Drift, st: Style) -> String {
    let mut out = String::new();
    let verb = if d.deleted {
        "has been deleted"
    } else {
        "has changed"
    };
    let _ = writeln!(out, "  {}", st.bold(&format!("# {} {verb}", d.addr)));
    let (sym, action) = if d.deleted {
        ("  -", Action::Delete)
    } else {
        ("  ~", Action::Update)
    };
    let _ = writeln!(
        out,
        "{} resource {} {} {{",
        st.marker(sym),
        quote(&d.kind),
        quote(&d.addr.id.name)
    );
    let ctx = Ctx {
        st,
        unknown: &J::Null,
        sensitive: &[],
        replace: &[],
        changed: None,
    };
    body(
        &mut out,
        &ctx,
        "      ",
        action,
        Some(&d.before),
        if d.deleted { None } else { Some(&d.after) },
    );
    let _ = writeln!(out, "    }}");
    out
}

/// `Plan: X to add, Y to change, Z to destroy.`, with `N to import, ` before and
/// `, N to forget` after when there are any, exactly as Terraform words it (the regexes of
/// Atlantis and tfcmt read this line). Moves are shown in the plan body, not counted here,
/// as in Terraform.
pub fn summary_line(n: &Counts) -> String {
    let mut s = String::from("Plan: ");
    if n.import > 0 {
        let _ = write!(s, "{} to import, ", n.import);
    }
    let _ = write!(
        s,
        "{} to add, {} to change, {} to destroy",
        n.add, n.change, n.destroy
    );
    if n.forget > 0 {
        let _ = write!(s, ", {} to forget", n.forget);
    }
    s.push('.');
    s
}

/// What an apply did, in Terraform's words: `Apply complete! Resources: [N imported, ]X
/// added, Y changed, Z destroyed[, N forgotten].` or `Destroy complete! Resources: Z
/// destroyed.`
pub fn apply_summary(destroy: bool, o: &crate::apply::walk::Outcome) -> String {
    if destroy {
        return format!("Destroy complete! Resources: {} destroyed.", o.destroyed);
    }
    let mut s = String::from("Apply complete! Resources: ");
    if o.imported > 0 {
        let _ = write!(s, "{} imported, ", o.imported);
    }
    let _ = write!(
        s,
        "{} added, {} changed, {} destroyed",
        o.added, o.changed, o.destroyed
    );
    if o.forgotten > 0 {
        let _ = write!(s, ", {} forgotten", o.forgotten);
    }
    s.push('.');
    s
}

/// How many addresses a line of the human "Summary by action" names (a plan of 10,000
/// creates would otherwise print one line of 300 KB).
const SUMMARY_NAMES: usize = 20;

/// The first `max` of `names`, then how many more there are.
fn first_of(names: impl Iterator<Item = String>, total: usize, max: usize) -> String {
    let mut s = names.take(max).collect::<Vec<_>>().join(", ");
    if total > max {
        let _ = write!(s, ", ... and {} more", total - max);
    }
    s
}

/// The addresses by action, destroys first.
pub fn address_summary(plan: &Plan) -> Vec<(String, Vec<String>)> {
    type Pick = fn(&Change) -> bool;
    let groups: [(&str, Pick); 9] = [
        ("destroy", |c| c.action == Action::Delete),
        ("replace", |c| c.action.is_replace()),
        ("create", |c| c.action == Action::Create),
        ("resume", |c| c.action == Action::Resume),
        ("update", |c| c.action == Action::Update),
        ("read", |c| c.action == Action::Read),
        ("import", |c| c.importing.is_some()),
        ("move", |c| c.prev_addr.is_some()),
        ("forget", |c| c.action == Action::Forget),
    ];
    let mut out = Vec::new();
    for (name, f) in groups {
        let v: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| f(c))
            .map(|c| match &c.prev_addr {
                Some(p) if name == "move" => format!("{p} => {}", c.addr),
                _ => c.addr.to_string(),
            })
            .collect();
        if !v.is_empty() {
            out.push((name.to_string(), v));
        }
    }
    out
}

fn output_value(v: &J, unknown: bool, sensitive: bool) -> String {
    if sensitive {
        "(sensitive value)".into()
    } else if unknown {
        "(known after apply)".into()
    } else {
        scalar(v)
    }
}

/// The lines of the human plan that tools reading Terraform's text look for (tfcmt starts
/// the diff at "Terraform will perform the following actions:" and the drift at "Note:
/// Objects have changed outside of Terraform"; dflook's actions and Atlantis likewise), in
/// imgform's words and in Terraform's.
const ANCHORS: &[(&str, &str)] = &[
    (
        "imgform will perform the following actions:",
        "Terraform will perform the following actions:",
    ),
    (
        "imgform used the selected providers to generate the following execution plan.",
        "Terraform used the selected providers to generate the following execution plan.",
    ),
    (
        "Note: Objects have changed outside of imgform",
        "Note: Objects have changed outside of Terraform",
    ),
    (
        "imgform detected the following changes made outside of imgform since the last \"imgform apply\"",
        "Terraform detected the following changes made outside of Terraform since the last \"terraform apply\"",
    ),
];

/// The human plan with Terraform's anchor lines (`IMGFORM_TEXT=terraform`): what lets
/// tfcmt, dflook's actions and Atlantis find the diff in imgform's plan as in
/// Terraform's. Only those lines change; colour codes around them stay.
pub fn as_terraform(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match ANCHORS.iter().find(|(ours, _)| line.contains(ours)) {
            Some((ours, theirs)) => out.push_str(&line.replacen(ours, theirs, 1)),
            None => out.push_str(line),
        }
    }
    out
}

/// The whole human plan.
pub fn human(plan: &Plan, st: Style) -> String {
    let mut out = String::new();
    // As Terraform (jsonformat/plan.go): drift is shown in a refresh-only plan, and in
    // another plan only when that plan changes something.
    let show_drift = !plan.drift.is_empty() && (plan.options.refresh_only || plan.has_changes());
    if show_drift {
        let _ = writeln!(
            out,
            "\n{}\n",
            st.bold("Note: Objects have changed outside of imgform")
        );
        let _ = writeln!(out, "imgform detected the following changes made outside of imgform since the last \"imgform apply\" which may have affected this plan:\n");
        for d in &plan.drift {
            out.push_str(&drift_block(d, st));
            out.push('\n');
        }
        if plan.options.refresh_only {
            let _ = writeln!(out, "\nThis is a refresh-only plan, so imgform will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the imgform state without changing any remote objects.");
            return out;
        }
        let _ = writeln!(out, "Unless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.\n");
        let _ = writeln!(out, "{}", "─".repeat(77));
    }
    if plan.options.refresh_only {
        let _ = writeln!(
            out,
            "\n{}\n\nimgform has checked that the real remote objects still match the result of your most recent changes, and found no differences.",
            st.bold("No changes. Your infrastructure still matches the configuration.")
        );
        return out;
    }
    if !plan.has_changes() && plan.options.destroy {
        let _ = writeln!(
            out,
            "\n{}\n\nEither you have not created any objects yet or the existing objects were already deleted outside of imgform.",
            st.bold("No changes. No objects need to be destroyed.")
        );
        return out;
    }
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "\n{}",
            st.bold("No changes. Your infrastructure matches the configuration.")
        );
        let _ = writeln!(out, "\nimgform has compared your real infrastructure against your configuration and found no differences, so no changes are needed.");
        return out;
    }
    if plan.actions().next().is_none() {
        // Only outputs change (a destroy with nothing to destroy says so instead), as
        // Terraform prints it.
        if plan.options.destroy {
            let _ = writeln!(
                out,
                "\n{}\n\nEither you have not created any objects yet or the existing objects were already deleted outside of imgform.",
                st.bold("No changes. No objects need to be destroyed.")
            );
        }
        output_changes(&mut out, plan, st);
        if !plan.options.destroy {
            let _ = writeln!(out, "\nYou can apply this plan to save these new output values to the imgform state, without changing any real infrastructure.");
        }
        return out;
    }
    let used: std::collections::BTreeSet<Action> = plan.actions().map(|c| c.action).collect();
    if used
        .iter()
        .any(|a| *a != Action::NoOp && *a != Action::Forget)
    {
        let _ = writeln!(out, "\nimgform used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:");
        for (a, label) in [
            (Action::Create, "create"),
            (Action::Update, "update in-place"),
            (Action::Delete, "destroy"),
            (
                Action::DeleteThenCreate,
                "destroy and then create replacement",
            ),
            (
                Action::CreateThenDelete,
                "create replacement and then destroy",
            ),
            (Action::Read, "read (data resources)"),
        ] {
            let present =
                used.contains(&a) || (a == Action::Create && used.contains(&Action::Resume));
            if present {
                let _ = writeln!(out, "{} {label}", st.marker(&format!("{:>3}", a.symbol())));
            }
        }
    }
    let _ = writeln!(out, "\nimgform will perform the following actions:\n");
    for c in plan.actions() {
        out.push_str(&change(c, st));
        out.push('\n');
    }
    let _ = writeln!(out, "{}", st.bold(&summary_line(&plan.counts())));
    let n = plan.counts();
    if n.add + n.change + n.destroy == 0 && n.import + n.moved + n.forget > 0 {
        let _ = writeln!(out, "\nThis plan only imports, moves or forgets objects; no object in the cloud changes. It still changes the state, so `plan --detailed-exitcode` returns 2.");
    }
    output_changes(&mut out, plan, st);
    let groups = address_summary(plan);
    if !groups.is_empty() {
        let _ = writeln!(out, "\nSummary by action:");
        for (name, addrs) in groups {
            let _ = writeln!(
                out,
                "  {name} ({}): {}",
                addrs.len(),
                first_of(
                    addrs.iter().map(|a| a.to_string()),
                    addrs.len(),
                    SUMMARY_NAMES
                )
            );
        }
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "\n{} {w}", st.paint("33", "Warning:"));
    }
    if let Some((summary, detail)) = forget_warning(plan) {
        let _ = writeln!(
            out,
            "\n{} {summary}\n\n{detail}",
            st.paint("33", "Warning:")
        );
    }
    out
}

/// Terraform's warning for a plan that forgets objects (`removed` blocks with
/// `destroy = false`): its summary and detail, for the text and the `-json` stream alike.
pub fn forget_warning(plan: &Plan) -> Option<(String, String)> {
    let forgotten: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Forget)
        .map(|c| format!(" - {}", c.addr))
        .collect();
    if forgotten.is_empty() {
        return None;
    }
    Some((
        "Some objects will no longer be managed by imgform".into(),
        format!(
            "If you apply this plan, imgform will discard its tracking information for the following objects, but it will not delete them:\n{}\n\nAfter applying this plan, imgform will no longer manage these objects. You will need to import them into imgform to manage them again.",
            forgotten.join("\n")
        ),
    ))
}

/// `Changes to Outputs:` and each output that changes.
fn output_changes(out: &mut String, plan: &Plan, st: Style) {
    let changed_outputs: Vec<(&String, &crate::plan::model::OutputChange)> = plan
        .outputs
        .iter()
        .filter(|(_, o)| o.action != "no-op")
        .collect();
    if !changed_outputs.is_empty() {
        let _ = writeln!(out, "\nChanges to Outputs:");
        let w = changed_outputs
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, o) in changed_outputs {
            let pad = " ".repeat(w - k.chars().count());
            let (m, text) = match o.action.as_str() {
                "create" => (
                    "+",
                    output_value(&o.after, o.after_unknown, o.sensitive && !st.reveal),
                ),
                "delete" => (
                    "-",
                    format!(
                        "{} -> null",
                        output_value(&o.before, false, o.sensitive && !st.reveal)
                    ),
                ),
                // A sensitive output that changes is one `(sensitive value)`, as
                // Terraform shows it: two would say nothing more, and hint at a change.
                _ if o.sensitive && !st.reveal => ("~", "(sensitive value)".to_string()),
                _ => (
                    "~",
                    format!(
                        "{} -> {}",
                        output_value(&o.before, false, false),
                        output_value(&o.after, o.after_unknown, false)
                    ),
                ),
            };
            let _ = writeln!(out, "  {} {k}{pad} = {text}", st.marker(m));
        }
    }
}

/// The budget of the markdown rendering: GitHub rejects comments over 65,536 characters.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// The plan as markdown for a pull-request comment: a title with the summary line, a table
/// of counts, a warning banner when anything is destroyed or replaced, one collapsible
/// `<details>` per resource with a `diff` block, cut to `budget` characters without ever
/// cutting the summary.
pub fn markdown(plan: &Plan, budget: usize) -> String {
    let st = Style {
        color: false,
        reveal: false,
    };
    let n = plan.counts();
    let mut head = String::new();
    if !plan.has_changes() {
        let _ = writeln!(head, "## imgform plan: no changes\n\nNo changes. Your infrastructure matches the configuration.");
        return head;
    }
    let _ = writeln!(
        head,
        "## imgform plan: {}\n",
        summary_line(&n).trim_start_matches("Plan: ")
    );
    let _ = writeln!(head, "| Action | Count |\n| --- | ---: |");
    for (label, count) in [
        ("Import", n.import),
        ("Add", n.add),
        ("Change", n.change),
        ("Destroy", n.destroy),
        ("Forget", n.forget),
        ("Move", n.moved),
    ] {
        if count > 0 || matches!(label, "Add" | "Change" | "Destroy") {
            let _ = writeln!(head, "| {label} | {count} |");
        }
    }
    let destroyed: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete || c.action.is_replace())
        .map(|c| format!("`{}`", c.addr))
        .collect();
    if !destroyed.is_empty() {
        let shown: Vec<String> = destroyed.iter().take(50).cloned().collect();
        let more = if destroyed.len() > 50 {
            format!(" and {} more", destroyed.len() - 50)
        } else {
            String::new()
        };
        let _ = writeln!(
            head,
            "\n> [!WARNING]\n> **This plan destroys or replaces {} resource(s):** {}{more}",
            destroyed.len(),
            shown.join(", ")
        );
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(
            head,
            "\n> [!NOTE]\n> {} object(s) changed outside of imgform: {}",
            plan.drift.len(),
            plan.drift
                .iter()
                .map(|d| format!("`{}`", d.addr))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let groups = address_summary(plan);
    if groups.is_empty() {
        let _ = writeln!(head, "\nOnly output values change: applying this plan saves them to the imgform state, without changing any real infrastructure.");
    }
    let mut summary = String::from("\n<details><summary>Summary by action</summary>\n\n");
    for (name, addrs) in groups.iter() {
        let _ = writeln!(
            summary,
            "- **{name}** ({}): {}",
            addrs.len(),
            first_of(addrs.iter().map(|a| format!("`{a}`")), addrs.len(), 200)
        );
    }
    summary.push_str("\n</details>\n");
    if groups.is_empty() {
        summary.clear();
    }
    let mut details = Vec::new();
    for c in plan.actions() {
        let text = change(c, st);
        let mut diff = String::new();
        for line in text.lines() {
            // Markers move to column 0 so GitHub colours the diff; `~` becomes `!`.
            let indent = line.len() - line.trim_start().len();
            let t = line.trim_start();
            let found = ["-/+", "+/-", "<=", "+", "-", "~"]
                .iter()
                .find(|m| t.strip_prefix(**m).is_some_and(|r| r.starts_with(' ')));
            match found {
                Some(m) => {
                    let col0 = match *m {
                        "+" => "+",
                        "-" => "-",
                        _ => "!",
                    };
                    let _ = writeln!(
                        diff,
                        "{col0}{}{}",
                        " ".repeat(indent + m.len() - 1),
                        &t[m.len()..]
                    );
                }
                None => {
                    let _ = writeln!(diff, " {line}");
                }
            }
        }
        let sym = c.action.symbol();
        details.push(format!("<details><summary><code>{sym} {}</code></summary>\n\n```diff\n{diff}```\n\n</details>\n", c.addr));
    }
    // Outputs that change, as Terraform's "Changes to Outputs:" (sensitive ones never
    // shown: the comment is public), within the same budget as the resources.
    let mut outputs = String::new();
    output_changes(&mut outputs, plan, st);
    if !outputs.is_empty() {
        let mut diff = String::new();
        for line in outputs
            .lines()
            .skip_while(|l| !l.starts_with("Changes to Outputs:"))
            .skip(1)
        {
            let t = line.trim_start();
            let col0 = match t.chars().next() {
                Some('+') => "+",
                Some('-') => "-",
                _ => "!",
            };
            let _ = writeln!(diff, "{col0} {}", &t[1..].trim_start());
        }
        details.push(format!(
            "<details><summary>Changes to Outputs</summary>\n\n```diff\n{diff}```\n\n</details>\n"
        ));
    }
    let mut out = head.clone();
    let tail_reserve = 400;
    let mut cut = 0;
    let mut body_out = String::new();
    for d in &details {
        if out.len() + summary.len() + body_out.len() + d.len() + tail_reserve > budget {
            cut += 1;
            continue;
        }
        body_out.push_str(d);
    }
    if out.len() + summary.len() + tail_reserve <= budget {
        out.push_str(&summary);
    }
    out.push('\n');
    out.push_str(&body_out);
    if cut > 0 {
        let _ = writeln!(out, "\n> [!NOTE]\n> The details of {cut} resource(s) were left out to stay within the comment size limit ({budget} characters). The summary above is complete; run `imgform show PLANFILE` for every detail.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::first_of;

    #[test]
    fn a_long_summary_names_the_first_addresses_and_counts_the_rest() {
        let names = (0..25).map(|i| format!("alicloud_image.wide[{i}]"));
        let s = first_of(names, 25, 20);
        assert!(s.starts_with("alicloud_image.wide[0], alicloud_image.wide[1]"));
        assert!(s.contains("alicloud_image.wide[19], ... and 5 more"), "{s}");
        assert!(!s.contains("wide[20]"));
        let all = first_of(["a".to_string(), "b".to_string()].into_iter(), 2, 20);
        assert_eq!(all, "a, b");
    }
}
