//! The apply walk: builds the apply graph from the plan's changes (not from the
//! configuration), starts every node whose dependencies are done, bounds the API requests
//! in flight (`--parallelism`) but not the objects waiting for the cloud (the batched
//! pollers watch those), and records every transition in the state as it happens:
//! a `creating` row with its ClientToken before a create is sent, the cloud id the moment
//! the API returns it, the final attributes when the wait ends.

use super::poll::Observation;
use super::{Session, SharedStore};
use crate::addr::{InstanceKey, Mode, ResourceAddr, ResourceId};
use crate::cloud::client::Client;
use crate::cloud::ops;
use crate::config::check::{self, Evaluated};
use crate::diag::Diagnostics;
use crate::events::{Event, EventSink, Verb};
use crate::graph::{ReadyWalk, WalkState};
use crate::plan::build::config_json;
use crate::plan::model::{Action, Change, Plan};
use crate::resource::api;
use crate::state::{client_token, OutputState, ResourceState, State, Status};
use crate::value::Value;
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Walk options.
#[derive(Debug, Clone)]
pub struct Options {
    /// API requests in flight at most.
    pub parallelism: usize,
    /// Objects being created at once at most (none: unbounded).
    pub max_in_progress: Option<usize>,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Created.
    pub added: usize,
    /// Updated in place.
    pub changed: usize,
    /// Destroyed.
    pub destroyed: usize,
    /// Failed, with the reason.
    pub failed: Vec<(ResourceAddr, String)>,
    /// Not started, with the reason.
    pub skipped: Vec<(ResourceAddr, String)>,
    /// Outputs after the apply.
    pub outputs: BTreeMap<String, OutputState>,
    /// True when an interrupt stopped the walk.
    pub interrupted: bool,
}

struct Ctx {
    sess: Arc<Session>,
    store: SharedStore,
    ev: Arc<Evaluated>,
    lineage: String,
    api: Limiter,
    in_progress: Option<Semaphore>,
    sink: Arc<dyn EventSink>,
}

type NodeResult = Result<(usize, usize, usize), String>;

/// Bounds the API requests in flight. The limit starts at `--parallelism`, halves when the
/// cloud throttles or refuses for a concurrency quota, and grows back by one per success,
/// so a throttled account is probed gently instead of hammered.
pub struct Limiter {
    max: usize,
    state: std::sync::Mutex<(usize, usize)>,
    notify: tokio::sync::Notify,
}

/// A slot of the limiter, released on drop.
pub struct Slot<'a>(&'a Limiter);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0
            .state
            .lock()
            .expect("the limiter lock is never poisoned")
            .1 -= 1;
        // One slot freed, one waiter woken (a permit is kept if none is waiting yet, and
        // a woken waiter that is dropped passes it on): waking all of them would cost every
        // waiting request a lock round per release, O(N^2) for N queued requests.
        self.0.notify.notify_one();
    }
}

impl Limiter {
    /// A limiter allowing `max` requests at once.
    pub fn new(max: usize) -> Limiter {
        Limiter {
            max: max.max(1),
            state: std::sync::Mutex::new((max.max(1), 0)),
            notify: tokio::sync::Notify::new(),
        }
    }

    /// Waits for a slot.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let notified = self.notify.notified();
            {
                let mut g = self
                    .state
                    .lock()
                    .expect("the limiter lock is never poisoned");
                if g.1 < g.0 {
                    g.1 += 1;
                    return Slot(self);
                }
            }
            notified.await;
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state
            .lock()
            .expect("the limiter lock is never poisoned")
            .0
    }

    /// A request succeeded without throttling: grow by one.
    pub fn success(&self) {
        let mut g = self
            .state
            .lock()
            .expect("the limiter lock is never poisoned");
        if g.0 < self.max {
            g.0 += 1;
            drop(g);
            self.notify.notify_one();
        }
    }

    /// The cloud pushed back: halve.
    pub fn throttled(&self) {
        let mut g = self
            .state
            .lock()
            .expect("the limiter lock is never poisoned");
        let before = g.0;
        g.0 = (g.0 / 2).max(1);
        tracing::warn!(
            from = before,
            to = g.0,
            "the cloud is throttling: fewer requests in flight"
        );
    }
}

/// Concurrency-quota answers: not failures, a signal to slow down and try again.
fn is_concurrency_quota(code: &str) -> bool {
    matches!(
        code,
        "QuotaExceed.ConcurrentSnapshotQuota"
            | "TooManySnapshot.Unfinished"
            | "IncorrectDiskStatus.CreatingSnapshot"
    )
}

fn crash_point(at: &str) {
    crate::crash::at(at);
}

fn state_of(store: &SharedStore) -> Result<State, String> {
    store
        .lock()
        .expect("the state lock is never poisoned")
        .load()
        .map_err(|e| e.to_string())
}

fn row(store: &SharedStore, a: &ResourceAddr) -> Result<Option<ResourceState>, String> {
    store
        .lock()
        .expect("the state lock is never poisoned")
        .get(a)
        .map_err(|e| e.to_string())
}

fn put(store: &SharedStore, r: &ResourceState) -> Result<(), String> {
    store
        .lock()
        .expect("the state lock is never poisoned")
        .put(r)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn remove(store: &SharedStore, a: &ResourceAddr) -> Result<(), String> {
    store
        .lock()
        .expect("the state lock is never poisoned")
        .remove(a)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Resource values known from state, as expressions see them.
pub fn known_from_state(ev: &Evaluated, st: &State) -> BTreeMap<ResourceId, Value> {
    known_from_state_where(ev, st, |_| true)
}

/// [`known_from_state`] for the resources `keep` admits only.
fn known_from_state_where(
    ev: &Evaluated,
    st: &State,
    keep: impl Fn(&ResourceId) -> bool,
) -> BTreeMap<ResourceId, Value> {
    let mut groups: BTreeMap<ResourceId, Vec<(&Option<InstanceKey>, Value)>> = BTreeMap::new();
    for r in st.resources.values() {
        if r.status != Status::Ready || !keep(&r.addr.id) {
            continue;
        }
        let mut attrs = r.attrs.clone();
        if let (Some(o), Some(id)) = (attrs.as_object_mut(), &r.id) {
            o.insert("id".into(), J::String(id.clone()));
        }
        groups
            .entry(r.addr.id.clone())
            .or_default()
            .push((&r.addr.key, Value::from_json(&attrs)));
    }
    let mut out = BTreeMap::new();
    for (id, vals) in groups {
        let Some(res) = ev.config.resources.get(&id) else {
            continue;
        };
        let v = if res.count.is_some() {
            Value::List(vals.into_iter().map(|x| x.1).collect())
        } else if res.for_each.is_some() {
            Value::Map(
                vals.into_iter()
                    .filter_map(|(k, v)| match k {
                        Some(InstanceKey::Str(s)) => Some((s.clone(), v)),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            vals.into_iter()
                .next()
                .map(|x| x.1)
                .unwrap_or(Value::Unknown)
        };
        out.insert(id, v);
    }
    out
}

/// Re-evaluates one instance with the values its dependencies have now; fails when a value
/// is still unknown or a rule of the API is broken.
fn evaluate_instance(
    ev: &Evaluated,
    st: &State,
    addr: &ResourceAddr,
) -> Result<Map<String, J>, String> {
    // Only what the instance depends on is evaluated, not the whole configuration: a
    // build re-evaluated during apply costs its own dependencies, whatever the size of the
    // configuration.
    let needed = check::closure(ev, &check::Node::Resource(addr.id.clone()));
    let ids: BTreeSet<&ResourceId> = needed
        .iter()
        .filter_map(|n| match n {
            check::Node::Resource(id) => Some(id),
            _ => None,
        })
        .collect();
    let mut known = known_from_state_where(ev, st, |id| ids.contains(id));
    let mut diags = Diagnostics::default();
    let mut found = None;
    let mut hook = |id: &ResourceId,
                    made: Vec<check::Instance>,
                    _: &mut BTreeMap<ResourceId, Value>,
                    _: &mut Diagnostics| {
        if *id == addr.id {
            found = made.into_iter().find(|i| i.addr == *addr);
        }
    };
    // Locals are evaluated; resources the instance depends on come from the state; of the
    // instance's own resource, only that instance is expanded.
    let nodes = needed.iter().filter(|n| match n {
        check::Node::Local(_) => true,
        check::Node::Resource(id) => *id == addr.id,
        _ => false,
    });
    check::walk_nodes(
        &ev.config,
        ev,
        nodes,
        Some(addr),
        &mut known,
        &mut diags,
        &mut hook,
    );
    let inst = found.ok_or_else(|| format!("{addr} is no longer in the configuration"))?;
    let schema = check::schema_of(&addr.id).ok_or("unknown resource type")?;
    let mut vd = Diagnostics::default();
    schema.validate(&inst.body, &mut vd);
    if vd.has_errors() {
        let msgs: Vec<String> =
            vd.0.iter()
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .collect();
        return Err(format!(
            "now that its inputs are known, the configuration breaks a rule of the API: {}",
            msgs.join("; ")
        ));
    }
    let (cfg, unknown) = config_json(&inst.body);
    if !unknown.is_empty() {
        return Err(format!(
            "values still unknown after their dependencies were applied: {}",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(cfg)
}

fn create_ish(a: Action) -> bool {
    matches!(
        a,
        Action::Create
            | Action::Resume
            | Action::Update
            | Action::DeleteThenCreate
            | Action::CreateThenDelete
            | Action::Read
    )
}

/// Applies a plan.
pub async fn apply(
    sess: Arc<Session>,
    store: SharedStore,
    ev: Arc<Evaluated>,
    plan: &Plan,
    opts: &Options,
    sink: Arc<dyn EventSink>,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let mut out = Outcome::default();
    let lineage = match state_of(&store) {
        Ok(s) => s.lineage,
        Err(e) => {
            out.failed
                .push(("imgform.state".parse().expect("valid address"), e));
            return out;
        }
    };
    // State-only changes first: moves, imports, forgets.
    for c in plan
        .changes
        .iter()
        .filter(|c| c.prev_addr.is_some() || c.importing.is_some() || c.action == Action::Forget)
    {
        let st = match state_of(&store) {
            Ok(s) => s,
            Err(e) => {
                out.failed.push((c.addr.clone(), e));
                return out;
            }
        };
        if let Some(prev) = &c.prev_addr {
            if let Some(mut r) = st.resources.get(prev).cloned() {
                r.addr = c.addr.clone();
                // One transaction: the object is at one address before and after, never two.
                let moved = store
                    .lock()
                    .expect("the state lock is never poisoned")
                    .edit(&[r], std::slice::from_ref(prev))
                    .map_err(|e| e.to_string());
                if let Err(e) = moved {
                    out.failed
                        .push((c.addr.clone(), format!("moving {prev} to {}: {e}", c.addr)));
                    return out;
                }
            }
        }
        if let (Some(id), None) = (&c.importing, st.resources.get(&c.addr)) {
            let r = ResourceState {
                addr: c.addr.clone(),
                kind: c.kind.clone(),
                provider: c.provider.clone(),
                region: c.region.clone(),
                id: Some(id.clone()),
                status: Status::Ready,
                client_token: None,
                generation: 1,
                attrs: c.before.clone().unwrap_or(json!({})),
                deps: c.deps.clone(),
                pending: None,
            };
            if let Err(e) = put(&store, &r) {
                out.failed
                    .push((c.addr.clone(), format!("importing {id}: {e}")));
                return out;
            }
        }
        if c.action == Action::Forget {
            if let Err(e) = remove(&store, &c.addr) {
                out.failed
                    .push((c.addr.clone(), format!("forgetting: {e}")));
                return out;
            }
        }
    }
    // Data sources are recorded in state so dependents re-evaluated during apply see them.
    let ctx = Arc::new(Ctx {
        sess: sess.clone(),
        store: store.clone(),
        ev: ev.clone(),
        lineage,
        api: Limiter::new(opts.parallelism),
        in_progress: opts.max_in_progress.map(Semaphore::new),
        sink: sink.clone(),
    });
    if !plan.options.destroy {
        record_data_sources(&ctx).await;
    }
    // A destroy-then-create replacement is two nodes, as in Terraform: its destroy half
    // runs in destroy order (after the destroy of everything that depends on it) and its
    // create half in create order. So a build is destroyed before the pipeline it was
    // built from is replaced, while that pipeline still exists.
    let mut nodes: Vec<(&Change, Phase)> = Vec::new();
    for c in plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Forget))
    {
        if c.action == Action::DeleteThenCreate {
            nodes.push((c, Phase::DestroyHalf));
            nodes.push((c, Phase::CreateHalf));
        } else {
            nodes.push((c, Phase::Whole));
        }
    }
    let deps = walk_dependencies(&nodes);
    let mut walk = ReadyWalk::new(&deps);
    let mut set = tokio::task::JoinSet::new();
    loop {
        if !stop.load(Ordering::SeqCst) {
            while let Some(i) = walk.next_ready() {
                let (c, phase) = (nodes[i].0.clone(), nodes[i].1);
                let ctx = ctx.clone();
                set.spawn(async move { (i, run_node(&ctx, &c, phase).await) });
            }
        }
        let Some(done) = set.join_next().await else {
            break;
        };
        let (i, r) = match done {
            Ok(x) => x,
            Err(e) => {
                out.failed.push((
                    "imgform.walk".parse().expect("valid address"),
                    format!("internal error: {e}"),
                ));
                continue;
            }
        };
        match r {
            Ok((a, c, d)) => {
                walk.done(i);
                out.added += a;
                out.changed += c;
                out.destroyed += d;
            }
            Err(e) => {
                out.failed.push((nodes[i].0.addr.clone(), e));
                for (skipped, because) in walk.failed(i) {
                    let reason = format!("{} did not complete", nodes[because].0.addr);
                    sink.emit(Event::Skipped {
                        addr: nodes[skipped].0.addr.clone(),
                        reason: reason.clone(),
                    });
                    out.skipped.push((nodes[skipped].0.addr.clone(), reason));
                }
            }
        }
    }
    if stop.load(Ordering::SeqCst) {
        out.interrupted = true;
        for (i, n) in nodes.iter().enumerate() {
            if walk.state(i) == WalkState::Waiting {
                out.skipped
                    .push((n.0.addr.clone(), "the apply was interrupted".into()));
            }
        }
    }
    // Outputs, from the state as it is now.
    if let Ok(st) = state_of(&store) {
        let mut known = known_from_state(&ev, &st);
        let mut diags = Diagnostics::default();
        let (_, outputs) = check::walk(
            &ev.config,
            &ev,
            &mut known,
            &mut diags,
            &mut |_, _, _, _| {},
        );
        let mut stored = BTreeMap::new();
        if !plan.options.destroy {
            for (name, v) in outputs {
                if v.has_unknown() {
                    continue;
                }
                let sensitive = ev.config.outputs.get(&name).is_some_and(|o| o.sensitive);
                stored.insert(
                    name,
                    OutputState {
                        value: v.to_json(),
                        sensitive,
                    },
                );
            }
        }
        let _ = store
            .lock()
            .expect("the state lock is never poisoned")
            .set_outputs(&stored);
        out.outputs = stored;
    }
    let summary = format!(
        "{} added, {} changed, {} destroyed, {} failed",
        out.added,
        out.changed,
        out.destroyed,
        out.failed.len()
    );
    let _ = store
        .lock()
        .expect("the state lock is never poisoned")
        .record_history(
            &summary,
            ev.config
                .settings
                .history_retention
                .unwrap_or(crate::state::backend::DEFAULT_HISTORY_RETENTION),
        );
    out
}

async fn record_data_sources(ctx: &Arc<Ctx>) {
    let st = match state_of(&ctx.store) {
        Ok(s) => s,
        Err(_) => return,
    };
    let mut known = known_from_state(&ctx.ev, &st);
    let mut diags = Diagnostics::default();
    let mut reads = Vec::new();
    check::walk(
        &ctx.ev.config,
        &ctx.ev,
        &mut known,
        &mut diags,
        &mut |id, made, _, _| {
            if id.mode == Mode::Data {
                for i in made {
                    let (cfg, unknown) = config_json(&i.body);
                    if unknown.is_empty() {
                        reads.push((i.addr.clone(), i.provider.clone(), cfg));
                    }
                }
            }
        },
    );
    // Data sources no longer in the configuration leave the state.
    let configured: BTreeSet<ResourceId> = ctx
        .ev
        .config
        .resources
        .keys()
        .filter(|id| id.mode == Mode::Data)
        .cloned()
        .collect();
    for r in st
        .resources
        .values()
        .filter(|r| r.addr.id.mode == Mode::Data && !configured.contains(&r.addr.id))
    {
        let _ = remove(&ctx.store, &r.addr);
    }
    for (addr, provider, args) in reads {
        let region = ctx.sess.regions.get(&provider).cloned().unwrap_or_default();
        if let Ok(c) = ctx.sess.client(&provider, &region) {
            if let Ok(v) = super::read_images(&c, &J::Object(args)).await {
                let r = ResourceState {
                    addr: addr.clone(),
                    kind: addr.id.kind.clone(),
                    provider,
                    region,
                    id: v["id"].as_str().map(String::from),
                    status: Status::Ready,
                    client_token: None,
                    generation: 1,
                    attrs: v,
                    deps: vec![],
                    pending: None,
                };
                let _ = put(&ctx.store, &r);
            }
        }
    }
}

/// The dependencies of each walk node, found through a map from resource to nodes (no
/// pairwise comparison): a create waits for the creates of what it refers to, a destroy for
/// the destroys of what refers to it, and the create half of a replacement for its destroy
/// half (the node just before it).
fn walk_dependencies(nodes: &[(&Change, Phase)]) -> Vec<Vec<usize>> {
    let destroying =
        |(c, p): &(&Change, Phase)| c.action == Action::Delete || *p == Phase::DestroyHalf;
    let creating = |(c, p): &(&Change, Phase)| create_ish(c.action) && *p != Phase::DestroyHalf;
    let mut by_id: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_id.entry(n.0.addr.id.to_string()).or_default().push(i);
    }
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for d in &n.0.deps {
            for &j in by_id.get(d).map(Vec::as_slice).unwrap_or_default() {
                if i == j {
                    continue;
                }
                // n refers to m: n's create waits for m's, and m's destroy for n's.
                if creating(n) && creating(&nodes[j]) {
                    deps[i].push(j);
                }
                if destroying(n) && destroying(&nodes[j]) {
                    deps[j].push(i);
                }
            }
        }
        if n.1 == Phase::CreateHalf {
            debug_assert!(nodes[i - 1].1 == Phase::DestroyHalf && nodes[i - 1].0.addr == n.0.addr);
            deps[i].push(i - 1);
        }
    }
    deps
}

/// Which part of a change a walk node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// All of it.
    Whole,
    /// The destroy half of a destroy-then-create replacement.
    DestroyHalf,
    /// The create half of a destroy-then-create replacement.
    CreateHalf,
}

fn verb_of(a: Action, phase: Phase) -> Verb {
    match (a, phase) {
        (_, Phase::DestroyHalf) | (Action::Delete, _) => Verb::Delete,
        (Action::Update, _) => Verb::Update,
        (Action::Read, _) => Verb::Read,
        _ => Verb::Create,
    }
}

async fn run_node(ctx: &Arc<Ctx>, c: &Change, phase: Phase) -> NodeResult {
    let start = Instant::now();
    let verb = verb_of(c.action, phase);
    let prior_id = c
        .before
        .as_ref()
        .and_then(|b| b.get("id"))
        .and_then(|v| v.as_str())
        .map(String::from)
        .filter(|_| phase != Phase::CreateHalf);
    ctx.sink.emit(Event::Start {
        addr: c.addr.clone(),
        verb,
        id: prior_id,
    });
    let span = tracing::info_span!("resource", addr = %c.addr);
    let _g = span.enter();
    let r = match c.action {
        Action::Create | Action::Resume => {
            create(ctx, c, start, 0).await?;
            // A resumed create_before_destroy still owes the deletion of what it replaces.
            if let Some(now) = row(&ctx.store, &c.addr)? {
                delete_deposed(ctx, &now, None, start).await?;
            }
            Ok((1, 0, 0))
        }
        Action::Update => update(ctx, c).await.map(|_| (0, 1, 0)),
        Action::Delete => delete(ctx, c, start).await.map(|_| (0, 0, 1)),
        // The replacement is a new generation (the state's generations never go back), so
        // its ClientToken differs from the one that made the object being replaced.
        Action::DeleteThenCreate if phase == Phase::DestroyHalf => {
            delete(ctx, c, start).await.map(|_| (0, 0, 1))
        }
        Action::DeleteThenCreate => create(ctx, c, start, 0).await.map(|_| (1, 0, 0)),
        Action::CreateThenDelete => {
            let old = row(&ctx.store, &c.addr)?;
            create(ctx, c, start, 0).await?;
            let now = row(&ctx.store, &c.addr)?.ok_or("state row vanished")?;
            delete_deposed(ctx, &now, old.as_ref(), start).await?;
            Ok((1, 0, 1))
        }
        Action::Read => read(ctx, c).await.map(|_| (0, 0, 0)),
        Action::NoOp | Action::Forget => Ok((0, 0, 0)),
    };
    match &r {
        Ok(_) => {
            let id = row(&ctx.store, &c.addr).ok().flatten().and_then(|r| r.id);
            ctx.sink.emit(Event::Complete {
                addr: c.addr.clone(),
                verb,
                elapsed: start.elapsed(),
                id: if verb == Verb::Delete { None } else { id },
            });
        }
        Err(e) => ctx.sink.emit(Event::Errored {
            addr: c.addr.clone(),
            verb,
            elapsed: start.elapsed(),
            error: e.clone(),
        }),
    }
    r
}

async fn read(ctx: &Arc<Ctx>, c: &Change) -> Result<(), String> {
    let st = state_of(&ctx.store)?;
    let args = evaluate_instance(&ctx.ev, &st, &c.addr)?;
    let client = ctx.sess.client(&c.provider, &c.region)?;
    let v = super::read_images(&client, &J::Object(args)).await?;
    put(
        &ctx.store,
        &ResourceState {
            addr: c.addr.clone(),
            kind: c.kind.clone(),
            provider: c.provider.clone(),
            region: client.region().into(),
            id: v["id"].as_str().map(String::from),
            status: Status::Ready,
            client_token: None,
            generation: 1,
            attrs: v,
            deps: vec![],
            pending: None,
        },
    )
}

fn timeout_of(ctx: &Ctx, c: &Change, delete: bool) -> Duration {
    let res = ctx.ev.config.resources.get(&c.addr.id);
    let t = res.map(|r| &r.timeouts);
    let default = match c.kind.as_str() {
        "alicloud_image_import" => 120 * 60,
        "alicloud_ecs_image_pipeline_execution" => 180 * 60,
        _ => 60 * 60,
    };
    let secs = if delete {
        t.and_then(|t| t.delete)
    } else {
        t.and_then(|t| t.create)
    }
    .unwrap_or(default);
    ctx.sess.scaled(secs)
}

/// The attributes to create with: the plan's, or re-evaluated when the plan had unknowns.
fn desired(ctx: &Ctx, c: &Change) -> Result<J, String> {
    let after = c.after.clone().unwrap_or(json!({}));
    let schema = check::schema_of(&c.addr.id).ok_or("unknown resource type")?;
    let computed: BTreeSet<&str> = schema
        .attrs
        .iter()
        .filter(|a| a.update == crate::resource::Update::Computed)
        .map(|a| a.name)
        .chain(["id"])
        .collect();
    let needs_eval = c.after_unknown.as_object().is_some_and(|o| {
        o.iter()
            .any(|(k, v)| v == &J::Bool(true) && !computed.contains(k.as_str()))
    });
    if !needs_eval {
        let mut a = after;
        if let Some(o) = a.as_object_mut() {
            for k in &computed {
                o.remove(*k);
            }
        }
        return Ok(a);
    }
    let st = state_of(&ctx.store)?;
    Ok(J::Object(evaluate_instance(&ctx.ev, &st, &c.addr)?))
}

/// A failed call that changes the cloud, with its outcome: refused (the cloud said no, so
/// nothing changed) or unknown (no usable answer, so the cloud may have acted).
#[derive(Debug)]
struct CallError {
    message: String,
    may_have_acted: bool,
}

impl From<CallError> for String {
    fn from(e: CallError) -> String {
        e.message
    }
}

async fn api_call<R: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    client: &Client,
    action: &str,
    params: Vec<(String, String)>,
) -> Result<R, CallError> {
    let mut attempt = 0u32;
    loop {
        let slot = ctx.api.acquire().await;
        let throttles = client.throttled_attempts();
        let r = client.call_raw(action, params.clone(), None).await;
        drop(slot);
        if client.throttled_attempts() > throttles {
            ctx.api.throttled();
        }
        match r {
            Ok(j) => {
                ctx.api.success();
                return serde_json::from_value(j).map_err(|e| CallError {
                    message: format!("{action}: unexpected answer: {e}"),
                    may_have_acted: true,
                });
            }
            Err(e) if e.code().is_some_and(is_concurrency_quota) && attempt < 10 => {
                ctx.api.throttled();
                let wait = crate::cloud::retry::backoff(attempt + 2, 0.5 + attempt as f64 / 40.0)
                    .max(ctx.sess.poll_min);
                tracing::warn!(
                    attempt = attempt + 1,
                    delay_ms = wait.as_millis() as u64,
                    code = e.code().unwrap_or(""),
                    "concurrency quota reached; retrying {action}"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(CallError {
                    message: e.to_string(),
                    may_have_acted: e.may_have_acted(),
                })
            }
        }
    }
}

async fn create(
    ctx: &Arc<Ctx>,
    c: &Change,
    start: Instant,
    replaced_generation: u64,
) -> Result<(), String> {
    let client = ctx.sess.client(&c.provider, &c.region)?;
    let existing = row(&ctx.store, &c.addr)?;
    let resuming = existing
        .as_ref()
        .is_some_and(|r| r.status == Status::Creating);
    let mut row = if resuming {
        existing.clone().expect("checked above")
    } else {
        let attrs = desired(ctx, c)?;
        let generation = ctx
            .store
            .lock()
            .expect("the state lock is never poisoned")
            .next_generation(&c.addr, replaced_generation)
            .map_err(|e| e.to_string())?;
        let token = client_token(&ctx.lineage, &c.addr, generation);
        let region = client.region().to_string();
        let pending = match c.kind.as_str() {
            "alicloud_image" => ops::flatten(&api::create_image(&region, &attrs, &token)),
            "alicloud_image_import" => ops::flatten(&api::import_image(&region, &attrs, &token)),
            "alicloud_ecs_image_pipeline" => {
                ops::flatten(&api::create_pipeline(&region, &attrs, &token))
            }
            "alicloud_ecs_image_pipeline_execution" => {
                ops::flatten(&api::start_execution(&region, &attrs, &token))
            }
            other => return Err(format!("imgform cannot create {other}")),
        };
        let mut attrs = attrs;
        if let Some(old) = existing
            .as_ref()
            .filter(|_| c.action == Action::CreateThenDelete)
        {
            // The objects this create replaces, recorded with it so that no crash or
            // failure can forget them: the live one and any it had not yet deleted.
            let mut deposed = deposed_of(old);
            if let Some(id) = &old.id {
                deposed.insert(0, (id.clone(), old.region.clone()));
            }
            set_deposed(&mut attrs, &deposed);
        }
        if let Some(o) = attrs.as_object_mut().filter(|_| !c.sensitive.is_empty()) {
            o.insert("_sensitive".into(), json!(c.sensitive));
        }
        let row = ResourceState {
            addr: c.addr.clone(),
            kind: c.kind.clone(),
            provider: c.provider.clone(),
            region,
            id: None,
            status: Status::Creating,
            client_token: Some(token),
            generation,
            attrs,
            deps: c.deps.clone(),
            pending: Some(json!(pending)),
        };
        // The pending row with its ClientToken is committed before the create is sent.
        put(&ctx.store, &row)?;
        crash_point("before_send");
        row
    };
    let _slot = match &ctx.in_progress {
        Some(s) => Some(s.acquire().await.map_err(|e| e.to_string())?),
        None => None,
    };
    if row.id.is_none() {
        let params: Vec<(String, String)> = row
            .pending
            .as_ref()
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .ok_or("the pending create request is missing from state")?;
        let action = match c.kind.as_str() {
            "alicloud_image" => "CreateImage",
            "alicloud_image_import" => "ImportImage",
            "alicloud_ecs_image_pipeline" => "CreateImagePipeline",
            _ => "StartImagePipelineExecution",
        };
        let answer: J = match api_call(ctx, &client, action, params).await {
            Ok(a) => a,
            Err(e) if e.may_have_acted => {
                // The cloud may have made the object: keep the row and its ClientToken, so
                // the next run sends the identical request and learns the object's id.
                return Err(format!(
                    "{}\n  the outcome of {action} is unknown: the request and its ClientToken stay in the state, and the next `imgform apply` sends it again (the cloud answers with the object it made, if it made one)",
                    e.message
                ));
            }
            Err(e) => {
                forget_refused(ctx, &c.addr, existing.as_ref())?;
                return Err(e.message);
            }
        };
        crash_point("after_send");
        let id = ["ImageId", "ImagePipelineId", "ExecutionId"]
            .iter()
            .find_map(|k| answer.get(*k).and_then(|v| v.as_str()))
            .ok_or_else(|| format!("{action} returned no id"))?;
        row.id = Some(id.to_string());
        if let (Some(o), Some(t)) = (
            row.attrs.as_object_mut(),
            answer.get("TaskId").and_then(|v| v.as_str()),
        ) {
            o.insert("task_id".into(), J::String(t.into()));
        }
        // The id is committed the moment the API returns it.
        put(&ctx.store, &row)?;
        crash_point("after_id");
    }
    let final_attrs = wait_created(ctx, c, &client, &row, start).await;
    let final_attrs = match final_attrs {
        Ok(a) => a,
        Err(WaitError::Failed(e, learned)) => {
            // What the failure left behind (a failed build's image) is recorded, so that
            // replacing or destroying the tainted object cleans it up.
            if let (Some(o), Some(J::Object(l))) = (row.attrs.as_object_mut(), learned) {
                for (k, v) in l {
                    o.insert(k, v);
                }
            }
            row.status = Status::Tainted;
            row.pending = None;
            put(&ctx.store, &row)?;
            return Err(e);
        }
        Err(WaitError::Timeout(e)) => return Err(e),
    };
    if let (Some(o), Some(f)) = (row.attrs.as_object_mut(), final_attrs.as_object()) {
        for (k, v) in f {
            if k != "id" {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    row.status = Status::Ready;
    row.pending = None;
    put(&ctx.store, &row)
}

/// After the cloud refused a create: nothing was made, so the pending row goes. When the
/// row replaced the row of a live object (create_before_destroy, or a replacement of an
/// interrupted destroy), that row comes back: the old object stays managed.
fn forget_refused(
    ctx: &Ctx,
    addr: &ResourceAddr,
    before: Option<&ResourceState>,
) -> Result<(), String> {
    match before.filter(|r| r.status != Status::Creating || r.id.is_some()) {
        Some(live) => put(&ctx.store, live),
        None => match row(&ctx.store, addr)? {
            Some(r) if r.status == Status::Creating && r.id.is_none() => remove(&ctx.store, addr),
            _ => Ok(()),
        },
    }
}

enum WaitError {
    /// The object ended in failure; the attributes learned about it.
    Failed(String, Option<J>),
    Timeout(String),
}

fn fmt_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

async fn next_obs(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Observation>,
    deadline: tokio::time::Instant,
) -> Option<Option<Observation>> {
    tokio::select! {
        o = rx.recv() => Some(o),
        _ = tokio::time::sleep_until(deadline) => None,
    }
}

async fn wait_created(
    ctx: &Arc<Ctx>,
    c: &Change,
    client: &Client,
    row: &ResourceState,
    start: Instant,
) -> Result<J, WaitError> {
    let id = row.id.clone().unwrap_or_default();
    let timeout = timeout_of(ctx, c, false);
    let deadline = tokio::time::Instant::now() + timeout;
    let timed_out = |what: &str, which: &str| {
        WaitError::Timeout(format!("timed out after {} waiting for {what} {which}; it is still recorded as creating, so the next `imgform apply` resumes the wait", fmt_elapsed(timeout)))
    };
    let progress = |status: &str, pct: Option<u8>| {
        ctx.sink.emit(Event::Progress {
            addr: c.addr.clone(),
            verb: Verb::Create,
            elapsed: start.elapsed(),
            percent: pct,
            status: status.to_string(),
        })
    };
    match c.kind.as_str() {
        "alicloud_ecs_image_pipeline" => Ok(json!({})),
        "alicloud_ecs_image_pipeline_execution" => {
            let pid = api::s(&row.attrs, "image_pipeline_id").unwrap_or_default();
            let mut rx = ctx
                .sess
                .poller(client, "executions")
                .watch(&format!("{pid}/{id}"));
            loop {
                let Some(obs) = next_obs(&mut rx, deadline).await else {
                    return Err(timed_out("build", &id));
                };
                let Some(Ok(Some(e))) = obs else { continue };
                let status = e["Status"].as_str().unwrap_or_default().to_string();
                progress(&status, None);
                match status.as_str() {
                    "SUCCESS" | "PARTITION_SUCCESS" => {
                        if status == "PARTITION_SUCCESS" {
                            ctx.sink.emit(Event::Warning(format!(
                                "{}: the build succeeded but some distribution steps failed: {}",
                                c.addr,
                                e["Message"].as_str().unwrap_or("")
                            )));
                        }
                        return Ok(json!({
                            "status": status,
                            "image_id": e["ImageId"],
                            "create_time": e["CreationTime"],
                            "_copy_regions": copy_regions(ctx, &row.attrs),
                        }));
                    }
                    "FAILED" | "TEST_FAILED" | "CANCELLED" => {
                        return Err(WaitError::Failed(
                            format!(
                                "build {id} ended {status}: {}",
                                e["Message"].as_str().unwrap_or("no reason given")
                            ),
                            Some(json!({
                                "status": status,
                                "image_id": e["ImageId"],
                                "_copy_regions": copy_regions(ctx, &row.attrs),
                            })),
                        ));
                    }
                    _ => {}
                }
            }
        }
        kind => {
            if kind == "alicloud_image_import" {
                if let Some(task) = api::s(&row.attrs, "task_id") {
                    let mut rx = ctx.sess.poller(client, "tasks").watch(&task);
                    loop {
                        let Some(obs) = next_obs(&mut rx, deadline).await else {
                            return Err(timed_out("import task", &task));
                        };
                        let Some(Ok(Some(t))) = obs else { continue };
                        let status = t["TaskStatus"].as_str().unwrap_or_default();
                        progress(status, None);
                        match status {
                            "Finished" => break,
                            "Failed" | "Cancelled" | "Deleted" => {
                                let reason = task_failure(client, &task).await;
                                return Err(WaitError::Failed(
                                    format!("import task {task} {status}: {reason}"),
                                    None,
                                ));
                            }
                            _ => {}
                        }
                    }
                }
            }
            let mut rx = ctx.sess.poller(client, "images").watch(&id);
            loop {
                let Some(obs) = next_obs(&mut rx, deadline).await else {
                    return Err(timed_out("image", &id));
                };
                let Some(Ok(Some(img))) = obs else { continue };
                crash_point("waiting");
                let status = img["Status"].as_str().unwrap_or_default();
                let pct = ops::parse_progress(img["Progress"].as_str().unwrap_or(""));
                progress(status, Some(pct));
                match status {
                    "Available" if img.get("Usable").is_none_or(|u| u.as_bool() != Some(false)) => {
                        let i: ops::Image = serde_json::from_value(img)
                            .map_err(|e| WaitError::Failed(e.to_string(), None))?;
                        return Ok(J::Object(api::read_image(&i)));
                    }
                    "CreateFailed" | "UnAvailable" => {
                        return Err(WaitError::Failed(
                            format!("image {id} ended {status}"),
                            None,
                        ))
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The regions a build distributes its image to (its pipeline's `to_region_id`), recorded
/// with the build so that deleting it never depends on the pipeline's row, which may have
/// been replaced or removed by then.
fn copy_regions(ctx: &Ctx, build: &J) -> J {
    let pipeline = api::s(build, "image_pipeline_id").unwrap_or_default();
    state_of(&ctx.store)
        .ok()
        .and_then(|st| {
            st.resources
                .values()
                .find(|r| r.id.as_deref() == Some(pipeline.as_str()))
                .and_then(|r| r.attrs.get("to_region_id").cloned())
        })
        .unwrap_or_else(|| json!([]))
}

async fn task_failure(client: &Client, task: &str) -> String {
    let req = ops::DescribeTaskAttribute {
        region_id: client.region().into(),
        task_id: task.into(),
    };
    match client
        .call::<_, ops::DescribeTaskAttributeResponse>("DescribeTaskAttribute", &req)
        .await
    {
        Ok(r) => r
            .operation_progress_set
            .items
            .iter()
            .map(|o| format!("{} {}", o.error_code, o.error_msg))
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => format!("(the reason could not be read: {e})"),
    }
}

async fn update(ctx: &Arc<Ctx>, c: &Change) -> Result<(), String> {
    let mut row = row(&ctx.store, &c.addr)?.ok_or("the object is not in state")?;
    let id = row.id.clone().ok_or("the object has no id")?;
    let client = ctx.sess.client(&c.provider, &row.region)?;
    let after = desired(ctx, c)?;
    let before = c.before.clone().unwrap_or(json!({}));
    let changed = |k: &str| after.get(k).is_some() && after.get(k) != before.get(k);
    let region = client.region().to_string();
    if matches!(c.kind.as_str(), "alicloud_image" | "alicloud_image_import") {
        let mut m = ops::ModifyImageAttribute {
            region_id: region.clone(),
            image_id: id.clone(),
            ..Default::default()
        };
        let mut any = false;
        for (k, slot) in [
            ("image_name", &mut m.image_name),
            ("description", &mut m.description),
            ("image_family", &mut m.image_family),
            ("boot_mode", &mut m.boot_mode),
            ("license_type", &mut m.license_type),
        ] {
            if changed(k) {
                *slot = api::s(&after, k);
                any = true;
            }
        }
        if changed("name") {
            m.image_name = api::s(&after, "name");
            any = true;
        }
        if any {
            let _: ops::Empty =
                api_call(ctx, &client, "ModifyImageAttribute", ops::flatten(&m)).await?;
        }
        if changed("resource_group_id") {
            let j = ops::JoinResourceGroup {
                region_id: region.clone(),
                resource_id: id.clone(),
                resource_group_id: api::s(&after, "resource_group_id").unwrap_or_default(),
                resource_type: "image".into(),
            };
            let _: ops::Empty =
                api_call(ctx, &client, "JoinResourceGroup", ops::flatten(&j)).await?;
        }
    }
    if changed("tags") {
        let rtype = if c.kind == "alicloud_ecs_image_pipeline" {
            "imagepipeline"
        } else {
            "image"
        };
        let old: BTreeMap<String, J> = before
            .get("tags")
            .and_then(|t| t.as_object())
            .map(|m| m.clone().into_iter().collect())
            .unwrap_or_default();
        let new: BTreeMap<String, J> = after
            .get("tags")
            .and_then(|t| t.as_object())
            .map(|m| m.clone().into_iter().collect())
            .unwrap_or_default();
        let gone: Vec<String> = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        if !gone.is_empty() {
            let u = ops::UntagResources {
                region_id: region.clone(),
                resource_type: rtype.into(),
                resource_id: vec![id.clone()],
                tag_key: gone,
                all: None,
            };
            let _: ops::Empty = api_call(ctx, &client, "UntagResources", ops::flatten(&u)).await?;
        }
        let set: Vec<ops::Tag> = new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(v))
            .map(|(k, v)| ops::Tag {
                key: k.clone(),
                value: v
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string()),
            })
            .collect();
        if !set.is_empty() {
            let t = ops::TagResources {
                region_id: region.clone(),
                resource_type: rtype.into(),
                resource_id: vec![id.clone()],
                tag: set,
            };
            let _: ops::Empty = api_call(ctx, &client, "TagResources", ops::flatten(&t)).await?;
        }
    }
    if let (Some(o), Some(a)) = (row.attrs.as_object_mut(), after.as_object()) {
        for (k, v) in a {
            o.insert(k.clone(), v.clone());
        }
        if c.sensitive.is_empty() {
            o.remove("_sensitive");
        } else {
            o.insert("_sensitive".into(), json!(c.sensitive));
        }
    }
    put(&ctx.store, &row)
}

async fn delete(ctx: &Arc<Ctx>, c: &Change, start: Instant) -> Result<(), String> {
    let Some(row) = row(&ctx.store, &c.addr)? else {
        return Ok(());
    };
    // Objects an earlier create_before_destroy replaced but did not delete go first: the
    // row that remembers them is about to go.
    delete_deposed(ctx, &row, None, start).await?;
    let row = self::row(&ctx.store, &c.addr)?.unwrap_or(row);
    delete_object(ctx, &row, start, true).await?;
    remove(&ctx.store, &c.addr)
}

/// The objects a row replaced and has yet to delete: `(id, region)`. Older states kept
/// one id as a string.
fn deposed_of(r: &ResourceState) -> Vec<(String, String)> {
    match r.attrs.get("_deposed") {
        Some(J::String(id)) => vec![(id.clone(), r.region.clone())],
        Some(J::Array(items)) => items
            .iter()
            .filter_map(|d| {
                let id = d.get("id")?.as_str()?.to_string();
                let region = d
                    .get("region")
                    .and_then(|x| x.as_str())
                    .unwrap_or(&r.region)
                    .to_string();
                Some((id, region))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn set_deposed(attrs: &mut J, deposed: &[(String, String)]) {
    let Some(o) = attrs.as_object_mut() else {
        return;
    };
    if deposed.is_empty() {
        o.remove("_deposed");
    } else {
        o.insert(
            "_deposed".into(),
            J::Array(
                deposed
                    .iter()
                    .map(|(id, region)| json!({"id": id, "region": region}))
                    .collect(),
            ),
        );
    }
}

/// Deletes the objects `row` replaced, one by one, recording each deletion in the row.
/// `old` is the replaced row as it was, when known: its attributes say how to delete it.
async fn delete_deposed(
    ctx: &Arc<Ctx>,
    row: &ResourceState,
    old: Option<&ResourceState>,
    start: Instant,
) -> Result<(), String> {
    let mut left = deposed_of(row);
    while let Some((id, region)) = left.first().cloned() {
        let mut ghost = old
            .filter(|o| o.id.as_deref() == Some(id.as_str()))
            .cloned()
            .unwrap_or_else(|| row.clone());
        ghost.id = Some(id);
        ghost.region = region;
        ghost.status = Status::Ready;
        delete_object(ctx, &ghost, start, false).await?;
        left.remove(0);
        let mut now = self::row(&ctx.store, &row.addr)?.unwrap_or_else(|| row.clone());
        set_deposed(&mut now.attrs, &left);
        put(&ctx.store, &now)?;
    }
    Ok(())
}

fn not_found(code: &str) -> bool {
    code.ends_with(".NotFound") || code == "InvalidImageId.NotFound"
}

async fn delete_object(
    ctx: &Arc<Ctx>,
    row: &ResourceState,
    start: Instant,
    mark: bool,
) -> Result<(), String> {
    let client = ctx.sess.client(&row.provider, &row.region)?;
    let region = client.region().to_string();
    let id = match row.id.clone() {
        Some(id) => id,
        None => {
            // A create interrupted before its id was recorded may still have made the
            // object: re-send it with the same ClientToken to learn the id, then delete.
            let Some(params) = row
                .pending
                .as_ref()
                .and_then(|p| serde_json::from_value::<Vec<(String, String)>>(p.clone()).ok())
            else {
                return Ok(());
            };
            let action = match row.kind.as_str() {
                "alicloud_image" => "CreateImage",
                "alicloud_image_import" => "ImportImage",
                "alicloud_ecs_image_pipeline" => "CreateImagePipeline",
                _ => "StartImagePipelineExecution",
            };
            let answer: J = match api_call(ctx, &client, action, params).await {
                Ok(a) => a,
                // Refused now, so the interrupted create made nothing: nothing to delete.
                Err(e) if !e.may_have_acted => return Ok(()),
                Err(e) => return Err(e.message),
            };
            let id = ["ImageId", "ImagePipelineId", "ExecutionId"]
                .iter()
                .find_map(|k| answer.get(*k).and_then(|v| v.as_str()))
                .ok_or("no id")?
                .to_string();
            let mut with_id = row.clone();
            with_id.id = Some(id.clone());
            if let (Some(o), Some(t)) = (
                with_id.attrs.as_object_mut(),
                answer.get("TaskId").and_then(|v| v.as_str()),
            ) {
                o.insert("task_id".into(), J::String(t.into()));
            }
            if mark {
                put(&ctx.store, &with_id)?;
            }
            return Box::pin(delete_object(ctx, &with_id, start, mark)).await;
        }
    };
    if mark {
        let mut marked = row.clone();
        marked.status = Status::Deleting;
        put(&ctx.store, &marked)?;
    }
    let c = Change {
        addr: row.addr.clone(),
        prev_addr: None,
        kind: row.kind.clone(),
        provider: row.provider.clone(),
        region: region.clone(),
        action: Action::Delete,
        reason: None,
        before: None,
        after: None,
        after_unknown: json!({}),
        replace_paths: vec![],
        sensitive: vec![],
        importing: None,
        deps: vec![],
    };
    let deadline = tokio::time::Instant::now() + timeout_of(ctx, &c, true);
    let pause = ctx.sess.poll_min;
    let progress = |status: &str| {
        ctx.sink.emit(Event::Progress {
            addr: row.addr.clone(),
            verb: Verb::Delete,
            elapsed: start.elapsed(),
            percent: None,
            status: status.into(),
        })
    };
    match row.kind.as_str() {
        "alicloud_image" | "alicloud_image_import" => {
            let mut cancelled = false;
            loop {
                let req = ops::DeleteImage {
                    region_id: region.clone(),
                    image_id: id.clone(),
                    force: api::boolean(&row.attrs, "force"),
                };
                let _permit = ctx.api.acquire().await;
                match client.call::<_, ops::Empty>("DeleteImage", &req).await {
                    Ok(_) => return Ok(()),
                    Err(e) if e.code().is_some_and(not_found) => return Ok(()),
                    Err(e)
                        if matches!(
                            e.code(),
                            Some("ImageIsImporting") | Some("ImageIsCreating")
                        ) =>
                    {
                        if !cancelled {
                            if let Some(task) = api::s(&row.attrs, "task_id") {
                                let r = client
                                    .call::<_, ops::Empty>(
                                        "CancelTask",
                                        &ops::CancelTask {
                                            region_id: region.clone(),
                                            task_id: task,
                                        },
                                    )
                                    .await;
                                tracing::debug!(?r, "cancelled the import before deleting");
                            }
                            cancelled = true;
                        }
                        progress(e.code().unwrap_or(""));
                    }
                    Err(e) => return Err(e.to_string()),
                }
                drop(_permit);
                if tokio::time::Instant::now() >= deadline {
                    return Err(format!(
                        "timed out deleting image {id}: it is still being created"
                    ));
                }
                tokio::time::sleep(pause).await;
            }
        }
        "alicloud_ecs_image_pipeline" => loop {
            let req = ops::DeleteImagePipeline {
                region_id: region.clone(),
                image_pipeline_id: id.clone(),
            };
            match client
                .call::<_, ops::Empty>("DeleteImagePipeline", &req)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code().is_some_and(not_found) => return Ok(()),
                Err(e)
                    if e.api()
                        .is_some_and(|a| a.status == 403 && a.code.contains("Running")) =>
                {
                    progress("waiting for the running build")
                }
                Err(e) => return Err(e.to_string()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "timed out waiting for the builds of pipeline {id} to end"
                ));
            }
            tokio::time::sleep(pause).await;
        },
        "alicloud_ecs_image_pipeline_execution" => {
            loop {
                let req = ops::DescribeImagePipelineExecutions {
                    region_id: region.clone(),
                    execution_id: Some(id.clone()),
                    ..Default::default()
                };
                let r: ops::DescribeImagePipelineExecutionsResponse =
                    match client.call("DescribeImagePipelineExecutions", &req).await {
                        Ok(r) => r,
                        Err(e) if e.code().is_some_and(not_found) => break,
                        Err(e) => return Err(e.to_string()),
                    };
                let Some(e) = r.image_pipeline_execution.items.first() else {
                    break;
                };
                match e.status.as_str() {
                    "SUCCESS" | "FAILED" | "TEST_FAILED" | "CANCELLED" | "PARTITION_SUCCESS" => {
                        break
                    }
                    "PREPARING" | "REPAIRING" | "BUILDING" => {
                        let _ = client
                            .call::<_, ops::Empty>(
                                "CancelImagePipelineExecution",
                                &ops::CancelImagePipelineExecution {
                                    region_id: region.clone(),
                                    execution_id: id.clone(),
                                },
                            )
                            .await;
                    }
                    s => progress(s),
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(format!("timed out waiting for build {id} to end"));
                }
                tokio::time::sleep(pause).await;
            }
            // A failed or cancelled build's image is unusable: it goes with the build, so
            // that replacing a failed build leaves nothing behind.
            let failed = matches!(
                api::s(&row.attrs, "status").as_deref(),
                Some("FAILED" | "TEST_FAILED" | "CANCELLED")
            );
            if failed || api::boolean(&row.attrs, "delete_image_on_destroy") == Some(true) {
                if let Some(img) = api::s(&row.attrs, "image_id").filter(|s| !s.is_empty()) {
                    // Copies the build distributed to other regions carry the built image's
                    // name; delete them too, so a destroy leaves nothing behind.
                    let name = client
                        .describe_images_by_ids(std::slice::from_ref(&img))
                        .await
                        .ok()
                        .and_then(|v| v.first().map(|i| i.image_name.clone()));
                    let recorded = row.attrs.get("_copy_regions").cloned();
                    let regions: Vec<String> = recorded
                        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                        .unwrap_or_else(|| copy_regions(ctx, &row.attrs))
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .filter(|r| *r != region)
                        .collect();
                    if let Some(name) = name.filter(|n| !n.is_empty()) {
                        for r in regions {
                            let other = client.with_region(&r).map_err(|e| e.to_string())?;
                            let req = ops::DescribeImages {
                                region_id: r.clone(),
                                image_name: Some(name.clone()),
                                image_owner_alias: Some("self".into()),
                                status: Some(ops::ALL_IMAGE_STATUSES.into()),
                                page_size: Some(100),
                                ..Default::default()
                            };
                            let found: ops::DescribeImagesResponse = other
                                .call("DescribeImages", &req)
                                .await
                                .map_err(|e| e.to_string())?;
                            for copy in found
                                .images
                                .items
                                .into_iter()
                                .filter(|i| i.image_name == name)
                            {
                                match other
                                    .call::<_, ops::Empty>(
                                        "DeleteImage",
                                        &ops::DeleteImage {
                                            region_id: r.clone(),
                                            image_id: copy.image_id.clone(),
                                            force: Some(true),
                                        },
                                    )
                                    .await
                                {
                                    Ok(_) => {}
                                    Err(e) if e.code().is_some_and(not_found) => {}
                                    Err(e) => {
                                        return Err(format!(
                                            "deleting the copy {} in {r}: {e}",
                                            copy.image_id
                                        ))
                                    }
                                }
                            }
                        }
                    }
                    match client
                        .call::<_, ops::Empty>(
                            "DeleteImage",
                            &ops::DeleteImage {
                                region_id: region.clone(),
                                image_id: img,
                                force: Some(true),
                            },
                        )
                        .await
                    {
                        Ok(_) => {}
                        Err(e) if e.code().is_some_and(not_found) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            Ok(())
        }
        other => Err(format!("imgform cannot delete {other}")),
    }
}

/// Deletes objects left behind by an interrupted `create_before_destroy` replacement.
pub async fn clean_deposed(
    sess: Arc<Session>,
    store: SharedStore,
    ev: Arc<Evaluated>,
    sink: Arc<dyn EventSink>,
) -> Result<(), String> {
    let st = state_of(&store)?;
    let ctx = Arc::new(Ctx {
        sess,
        store: store.clone(),
        ev,
        lineage: st.lineage.clone(),
        api: Limiter::new(4),
        in_progress: None,
        sink,
    });
    for r in st.resources.values() {
        if r.status != Status::Ready || deposed_of(r).is_empty() {
            continue;
        }
        delete_deposed(&ctx, r, None, Instant::now()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_released_slot_wakes_a_waiter_and_no_wakeup_is_lost() {
        // 500 requests through 3 slots: each release wakes one waiter, and every request
        // gets its turn (a lost wakeup would hang here).
        let l = Arc::new(Limiter::new(3));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let (l, done) = (l.clone(), done.clone());
            set.spawn(async move {
                let _slot = l.acquire().await;
                tokio::task::yield_now().await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        let all = tokio::time::timeout(Duration::from_secs(10), async {
            while set.join_next().await.is_some() {}
        })
        .await;
        assert!(all.is_ok(), "every waiter got a slot");
        assert_eq!(done.load(Ordering::SeqCst), 500);
    }

    #[tokio::test]
    async fn limiter_halves_on_throttling_and_grows_back_by_one() {
        let l = Limiter::new(10);
        assert_eq!(l.limit(), 10);
        l.throttled();
        assert_eq!(l.limit(), 5);
        l.throttled();
        l.throttled();
        l.throttled();
        assert_eq!(l.limit(), 1, "never below one");
        l.success();
        assert_eq!(l.limit(), 2);
        for _ in 0..20 {
            l.success();
        }
        assert_eq!(l.limit(), 10, "never above the maximum");
        // Slots are bounded by the current limit.
        l.throttled();
        l.throttled();
        let a = l.acquire().await;
        let b = l.acquire().await;
        let blocked = tokio::time::timeout(Duration::from_millis(20), l.acquire()).await;
        assert!(blocked.is_err(), "a third slot waits while the limit is 2");
        drop(a);
        let c = tokio::time::timeout(Duration::from_millis(200), l.acquire()).await;
        assert!(c.is_ok(), "a released slot is reused");
        drop(b);
        assert!(
            is_concurrency_quota("QuotaExceed.ConcurrentSnapshotQuota")
                && is_concurrency_quota("TooManySnapshot.Unfinished")
        );
    }
}
