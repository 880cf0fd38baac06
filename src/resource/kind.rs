//! The kind trait: everything the core needs to know about one managed resource kind, in
//! the kind's own file, after Terraform's provider interface (core passes the type name as
//! data and calls into the provider; it never matches on it).
//!
//! A kind says how to build its create request and read the id from the answer, what to
//! wait for and which statuses end the wait, its in-place update calls, how to read it
//! back for refresh and import and which attributes count as drift, how to delete it, and
//! which region it lives in. The apply walk, refresh and import are generic over it.

use super::api;
use super::{Schema, Update};
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::cloud::ops;
use crate::cloud::waiter::Waiter;
pub use crate::state::Attrs;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value as J};
use std::collections::{BTreeMap, HashMap};

/// An object found: its id and attributes to record with it.
pub type Found = (String, Map<String, J>);

/// An object an attribute names by id, which the create needs (`resource::objects`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Where it is named: an attribute (`snapshot_id`) or one in a block
    /// (`disk_device_mapping.1.snapshot_id`, the block's index among its kind).
    pub path: String,
    /// What it is and what the create needs of it.
    pub sort: &'static super::objects::Sort,
    /// Its id.
    pub id: String,
    /// The region it lives in when it is not the object's own (a copy's source image).
    pub region: Option<String>,
}

impl Reference {
    /// A reference in the object's own region.
    pub fn new(path: impl Into<String>, sort: &'static super::objects::Sort, id: &str) -> Self {
        Reference {
            path: path.into(),
            sort,
            id: id.to_string(),
            region: None,
        }
    }

    /// The same, in `region`.
    pub fn in_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }
}

/// A flattened API request: the action and its parameters.
pub type Request = (&'static str, Vec<(String, String)>);

/// Reads many objects of one sort in one batch (DescribeImages with 100 ids, ...): the
/// batched poller and refresh call it with every key in flight in a region.
pub type Fetch = fn(Client, Vec<String>) -> BoxFuture<'static, Result<HashMap<String, J>, Error>>;

/// A batched read of the cloud: one poller per region and lookup, one refresh batch per
/// region and lookup. Keys are what the kind says ([`Kind::read_key`]).
#[derive(Debug)]
pub struct Lookup {
    /// Name, for logs and benchmark figures (`images`, `tasks`, `builds`, `pipelines`).
    pub name: &'static str,
    /// The read.
    pub fetch: Fetch,
    /// How many keys a refresh hands one fetch: as many as one call reads (100 images or
    /// tasks, 20 pipelines or components), so that the refresh's calls in flight are its
    /// fetches in flight. A fetch that makes one call per group of keys reads them one
    /// after another (shares: one image's accounts per call) or gets one key (builds).
    pub batch: usize,
}

impl PartialEq for Lookup {
    fn eq(&self, other: &Lookup) -> bool {
        self.name == other.name
    }
}

/// One wait after a create: a key to watch through a lookup.
#[derive(Debug, Clone)]
pub struct Stage {
    /// The lookup that reads it.
    pub lookup: &'static Lookup,
    /// Its key in that lookup.
    pub key: String,
    /// What it is, for messages (`image`, `import task`, `build`).
    pub what: &'static str,
}

/// What a kind makes of one observation of a stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Done: attributes learned, and a warning to show.
    Done(Map<String, J>, Option<String>),
    /// Ended in failure: the reason, and attributes learned (a failed build's image).
    Failed(String, Option<Map<String, J>>),
    /// Still going: its status and percent done.
    Pending(String, Option<u8>),
}

/// The object a procedure works on.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    /// Its id.
    pub id: &'a str,
    /// The region it lives in.
    pub region: &'a str,
    /// Its attributes as recorded.
    pub attrs: &'a J,
}

/// What a kind's procedures may use of the run: calls through the run's limiter, a waiter
/// bounded by the operation's timeout, progress reports, and other objects' attributes.
pub trait Cx: Send + Sync {
    /// Calls `action` in `region`.
    fn call<'a>(
        &'a self,
        region: &'a str,
        action: &'a str,
        params: Vec<(String, String)>,
    ) -> BoxFuture<'a, Result<J, Error>>;
    /// A waiter bounded by the operation's deadline, polling at the run's interval.
    fn waiter(&self) -> Waiter;
    /// Reports a status while waiting.
    fn progress(&self, status: &str);
    /// An attribute of another managed object, by its id (a build's pipeline).
    fn attr_of(&self, id: &str, attr: &str) -> Option<J>;
}

/// Default timeouts of a kind, seconds (a `timeouts` block overrides them).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Creating, including the wait for a terminal status.
    pub create: u64,
    /// Deleting, including waiting out a create in progress.
    pub delete: u64,
}

/// A managed resource kind.
pub trait Kind: Send + Sync + 'static {
    /// Its schema (attributes, force-new / in-place / computed, rules, timeouts).
    fn schema(&self) -> &'static Schema;

    /// Its name, `alicloud_image`.
    fn name(&self) -> &'static str {
        self.schema().kind
    }

    /// The create request, with the ClientToken that makes re-sending it safe.
    fn create(&self, region: &str, attrs: &J, token: &str) -> Request;

    /// Adds what the create must record beyond the configuration, before the pending row
    /// is written (a build records the regions its pipeline copies to).
    fn prepare(&self, _cx: &dyn Cx, _attrs: &mut J) {}

    /// The id of the created object and attributes to record with it, from the answer
    /// (and the attributes it was created with).
    fn created(&self, answer: &J, attrs: &J) -> Option<(String, Map<String, J>)>;

    /// The region the create request goes to: the provider's, unless the kind says
    /// otherwise (a copy is requested in its source region).
    fn call_region(&self, provider_region: &str, _attrs: &J) -> String {
        provider_region.to_string()
    }

    /// True when sending the create request again is safe (it carries a ClientToken, or
    /// repeating it changes nothing). Otherwise an interrupted create is found with
    /// [`Kind::adopt`] before anything is sent again.
    fn idempotent(&self) -> bool {
        true
    }

    /// The object an interrupted create made (found by the token it was tagged with, or by
    /// what it acted on), for kinds whose create is not idempotent.
    fn adopt<'a>(
        &'a self,
        _cx: &'a dyn Cx,
        _region: &'a str,
        _token: &'a str,
        _attrs: &'a J,
    ) -> BoxFuture<'a, Result<Option<Found>, String>> {
        Box::pin(async { Ok(None) })
    }

    /// What to wait for after the create, in order (none: done when the id is known).
    fn stages(&self, id: &str, attrs: &J) -> Vec<Stage>;

    /// Judges one observation of `stage` (the lookup's item for its key).
    fn judge(&self, stage: &Stage, item: &J, attrs: &J) -> Verdict;

    /// The calls that change `before` into `after` in place, in order.
    fn update(&self, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
        match self.tag_type() {
            Some(t) => tag_calls(t, region, id, before, after),
            None => vec![],
        }
    }

    /// Its resource type for TagResources/UntagResources (none: its tags force a new one).
    fn tag_type(&self) -> Option<&'static str>;

    /// The lookup and key that read it back (refresh, import), from its id and, for the
    /// kinds whose reads need more, its row's attributes (read without parsing the row
    /// for the kinds that do not).
    fn read_key(&self, id: &str, attrs: &Attrs) -> (&'static Lookup, String);

    /// Its attributes from a lookup's item.
    fn read_back(&self, item: &J) -> Option<Map<String, J>>;

    /// Attributes a refresh compares to detect changes made outside imgform: those the
    /// schema says change in place (and that the cloud reports).
    fn drift(&self) -> Vec<&'static str> {
        self.schema()
            .attrs
            .iter()
            .filter(|a| a.update == Update::InPlace)
            .map(|a| a.name)
            .collect()
    }

    /// Computed attributes a refresh copies silently.
    fn refreshed(&self) -> &'static [&'static str] {
        &["status", "create_time"]
    }

    /// Deletes the object; an object already gone is deleted.
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>>;

    /// The objects the attributes name by id and the create needs (the snapshot of an
    /// image, a pipeline's `COMPONENT ic-…` lines): the plan checks each in the cloud.
    fn references(&self, _attrs: &J) -> Vec<Reference> {
        vec![]
    }

    /// The attributes [`Kind::references`] reads: one unknown at plan time makes apply
    /// check the references just before the create.
    fn naming(&self) -> &'static [&'static str] {
        &[]
    }

    /// The region the object lives in: its provider's, unless the kind says otherwise.
    fn region(&self, provider_region: &str, _attrs: &J) -> String {
        provider_region.to_string()
    }
}

/// A data source kind.
pub trait DataKind: Send + Sync + 'static {
    /// Its schema.
    fn schema(&self) -> &'static Schema;
    /// Reads it with the evaluated arguments; returns its attributes (with `id`).
    fn read<'a>(&'a self, client: &'a Client, args: &'a J) -> BoxFuture<'a, Result<J, String>>;
}

/// Tags as a map of strings.
fn tag_map(v: Option<&J>) -> BTreeMap<String, J> {
    v.and_then(|t| t.as_object())
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default()
}

/// UntagResources for the keys gone, TagResources for the keys added or changed.
pub fn tag_calls(rtype: &str, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
    if after.get("tags").is_none() || after.get("tags") == before.get("tags") {
        return vec![];
    }
    let old = tag_map(before.get("tags"));
    let new = tag_map(after.get("tags"));
    let mut calls = Vec::new();
    let gone: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if !gone.is_empty() {
        let u = ops::UntagResources {
            region_id: region.into(),
            resource_type: rtype.into(),
            resource_id: vec![id.into()],
            tag_key: gone,
            all: None,
        };
        calls.push(("UntagResources", ops::flatten(&u)));
    }
    let set: Vec<ops::Tag> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| api::tag(k, v))
        .collect();
    if !set.is_empty() {
        let t = ops::TagResources {
            region_id: region.into(),
            resource_type: rtype.into(),
            resource_id: vec![id.into()],
            tag: set,
        };
        calls.push(("TagResources", ops::flatten(&t)));
    }
    calls
}

/// True for the codes that say an object is already gone.
pub fn not_found(e: &Error) -> bool {
    e.code()
        .is_some_and(|c| c.ends_with(".NotFound") || c == "InvalidImageId.NotFound")
}

/// The id at `key` of a create answer, with the import task's id when there is one.
pub fn id_in(answer: &J, key: &str) -> Option<(String, Map<String, J>)> {
    let id = answer.get(key)?.as_str()?.to_string();
    let mut m = Map::new();
    if let Some(t) = answer.get("TaskId").and_then(|v| v.as_str()) {
        m.insert("task_id".into(), J::String(t.into()));
    }
    Some((id, m))
}

/// A string attribute.
pub fn s(o: &J, k: &str) -> Option<String> {
    api::s(o, k)
}
