//! The plan model: one [`Change`] per resource instance with Terraform's actions, drift
//! found by refresh, output changes, and what a saved plan needs to detect staleness
//! (lineage, serial, configuration digest).

use crate::addr::ResourceAddr;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    /// Nothing.
    NoOp,
    /// Create.
    Create,
    /// Finish a create interrupted by a crash: resume the wait, or re-send the create with
    /// its recorded ClientToken (never a second object).
    Resume,
    /// Update in place.
    Update,
    /// Destroy, then create the replacement (`-/+`).
    DeleteThenCreate,
    /// Create the replacement, then destroy (`+/-`, `create_before_destroy`).
    CreateThenDelete,
    /// Destroy.
    Delete,
    /// Read a data source during apply (`<=`).
    Read,
    /// Forget: remove from state without destroying (`removed` blocks).
    Forget,
}

impl Action {
    /// True for both replace orders.
    pub fn is_replace(&self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// Terraform's `actions` array.
    pub fn terraform_actions(&self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create | Action::Resume => vec!["create"],
            Action::Update => vec!["update"],
            Action::DeleteThenCreate => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
            Action::Delete => vec!["delete"],
            Action::Read => vec!["read"],
            Action::Forget => vec!["forget"],
        }
    }

    /// The plan symbol.
    pub fn symbol(&self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create | Action::Resume => "+",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
            Action::Read => "<=",
            Action::Forget => ".",
        }
    }
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The address.
    pub addr: ResourceAddr,
    /// The old address when a `moved` block renamed it.
    pub prev_addr: Option<Box<ResourceAddr>>,
    /// Resource type.
    pub kind: String,
    /// Provider key.
    pub provider: String,
    /// Region.
    pub region: String,
    /// What happens.
    pub action: Action,
    /// Why (Terraform's `action_reason`), e.g. `replace_because_tainted`.
    pub reason: Option<String>,
    /// Attributes before (from state).
    pub before: Option<Box<serde_json::Value>>,
    /// Attributes after; unknown values are `null` here and `true` in `after_unknown`.
    pub after: Option<Box<serde_json::Value>>,
    /// Which attributes of `after` are known only after apply.
    pub after_unknown: serde_json::Value,
    /// Attributes that force the replacement.
    pub replace_paths: Vec<String>,
    /// The top-level attributes and blocks this change changes, decided once by the plan
    /// (with the schema's equality rule); renderers show these and hide the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// Attributes to show as `(sensitive value)`.
    pub sensitive: Vec<String>,
    /// The cloud id being imported.
    pub importing: Option<String>,
    /// Resource blocks this one depends on (apply order).
    pub deps: Vec<String>,
    /// A no-op whose object is exactly its row in the prior state: `before` and `after`
    /// are not stored (a plan of 50,000 unchanged images would hold every one three
    /// times); [`Plan::before_after`] reads them from the prior state.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unchanged: bool,
}

/// An object changed outside imgform, found by refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The address.
    pub addr: ResourceAddr,
    /// Resource type.
    pub kind: String,
    /// True when the object is gone.
    pub deleted: bool,
    /// Recorded attributes.
    pub before: serde_json::Value,
    /// Attributes in the cloud (null when deleted).
    pub after: serde_json::Value,
}

/// A change of an output value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    /// create, update, delete or no-op.
    pub action: String,
    /// Old value.
    pub before: serde_json::Value,
    /// New value (null when unknown).
    pub after: serde_json::Value,
    /// Known only after apply.
    pub after_unknown: bool,
    /// Sensitive.
    pub sensitive: bool,
}

/// Planning options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Plan to destroy everything.
    pub destroy: bool,
    /// Only reconcile state with the cloud.
    pub refresh_only: bool,
    /// Skip the refresh.
    pub no_refresh: bool,
    /// Limit to these addresses (and what they depend on).
    pub targets: Vec<String>,
    /// Force replacement of these addresses.
    pub replace: Vec<String>,
}

/// A whole plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Lineage of the state it was made against.
    pub lineage: String,
    /// Serial of the state it was made against.
    pub serial: u64,
    /// Changes, in address order.
    pub changes: Vec<Change>,
    /// Drift found by refresh.
    pub drift: Vec<Drift>,
    /// Output changes.
    pub outputs: BTreeMap<String, OutputChange>,
    /// The options it was made with.
    pub options: Options,
    /// SHA-256 of the configuration files and variable values.
    pub config_digest: String,
    /// Variable values (sensitive ones included, as Terraform's plan files do).
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Warnings to show with the plan.
    pub warnings: Vec<String>,
    /// The state after refresh (Terraform's `prior_state`), stored in plan files as
    /// `state pull` JSON.
    #[serde(with = "crate::state::as_json")]
    pub prior_state: crate::state::State,
    /// Terraform's `configuration`: the configuration's expressions and references.
    #[serde(default)]
    pub configuration: serde_json::Value,
    /// Terraform's `relevant_attributes`.
    #[serde(default)]
    pub relevant_attributes: serde_json::Value,
    /// The creates whose named objects apply checks again just before sending them: an id
    /// unknown until apply, or an object not yet usable at plan time (`plan::checks`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub recheck: std::collections::BTreeSet<String>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// To import.
    pub import: usize,
    /// To add (creates and replacements).
    pub add: usize,
    /// To change in place.
    pub change: usize,
    /// To destroy (deletes and replacements).
    pub destroy: usize,
    /// To forget.
    pub forget: usize,
    /// To move.
    pub moved: usize,
}

impl Plan {
    /// A change's attributes before and after: as stored, or for an [`Change::unchanged`]
    /// no-op both its row in the prior state, with its id.
    pub fn before_after<'a>(
        &'a self,
        c: &'a Change,
    ) -> (
        Option<std::borrow::Cow<'a, serde_json::Value>>,
        Option<std::borrow::Cow<'a, serde_json::Value>>,
    ) {
        use std::borrow::Cow;
        if !c.unchanged {
            return (
                c.before.as_deref().map(Cow::Borrowed),
                c.after.as_deref().map(Cow::Borrowed),
            );
        }
        let v = self.prior_state.resources.get(&c.addr).map(|r| {
            let mut a = r.attrs.value();
            if let (Some(o), Some(id)) = (a.as_object_mut(), &r.id) {
                o.insert("id".into(), serde_json::Value::String(id.clone()));
            }
            a
        });
        (v.clone().map(Cow::Owned), v.map(Cow::Owned))
    }

    /// The changes that do something.
    pub fn actions(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.action != Action::NoOp || c.prev_addr.is_some() || c.importing.is_some())
    }

    /// Counts for `Plan: X to add, Y to change, Z to destroy.`
    pub fn counts(&self) -> Counts {
        let mut n = Counts::default();
        for c in &self.changes {
            if c.importing.is_some() {
                n.import += 1;
            }
            if c.prev_addr.is_some() {
                n.moved += 1;
            }
            match c.action {
                Action::Create | Action::Resume => n.add += 1,
                Action::Update => n.change += 1,
                Action::Delete => n.destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    n.add += 1;
                    n.destroy += 1
                }
                Action::Forget => n.forget += 1,
                Action::NoOp | Action::Read => {}
            }
        }
        n
    }

    /// True when applying would change anything (including imports, moves, forgets and
    /// outputs) — what `--detailed-exitcode` reports as 2.
    pub fn has_changes(&self) -> bool {
        self.actions().next().is_some()
            || self.outputs.values().any(|o| o.action != "no-op")
            || (self.options.refresh_only && !self.drift.is_empty())
    }
}
