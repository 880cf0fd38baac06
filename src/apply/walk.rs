//! The apply walk: builds the apply graph from the plan's changes (not from the
//! configuration), starts every node whose dependencies are done, bounds the API requests
//! in flight (`--parallelism`) but not the objects waiting for the cloud (the batched
//! pollers watch those), and records every transition in the state as it happens:
//! a `creating` row with its ClientToken before a create is sent, the cloud id the moment
//! the API returns it, the final attributes when the wait ends.

use super::create::{create, read};
use super::ctx::{put, remove, row, Ctx, Limiter};
use super::destroy::{delete, delete_deposed, deposed_of};
use super::ledger::Ledger;
use super::update::update;
use super::{Session, SharedStore};
use crate::addr::{Mode, ResourceAddr, ResourceId};
use crate::config::check::{self, Evaluated};
use crate::diag::Diagnostics;
use crate::events::{Event, EventSink, Verb};
use crate::graph::{ReadyWalk, WalkState};
use crate::plan::build::config_json;
use crate::plan::model::{Action, Change, Plan};
use crate::resource;
use crate::state::{OutputState, ResourceState, Status};
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::{json, Value as J};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument;

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
    /// Imported into the state.
    pub imported: usize,
    /// Removed from the state without being destroyed (`removed` blocks).
    pub forgotten: usize,
    /// Failed, with the reason.
    pub failed: Vec<(ResourceAddr, String)>,
    /// Not started, with the reason.
    pub skipped: Vec<(ResourceAddr, String)>,
    /// Outputs after the apply.
    pub outputs: BTreeMap<String, OutputState>,
    /// True when an interrupt stopped the walk.
    pub interrupted: bool,
    /// The first state write that failed: the state may not record everything done.
    pub state_error: Option<String>,
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

type NodeResult = Result<(usize, usize, usize), String>;

/// Applies a plan.
pub async fn apply(
    sess: Arc<Session>,
    store: SharedStore,
    ev: Arc<Evaluated>,
    plan: &Plan,
    opts: &Options,
    sink: Arc<dyn EventSink>,
    stop: crate::cloud::waiter::Stop,
) -> Outcome {
    let mut out = Outcome::default();
    if let Err(failed) = state_only_changes(&store, plan, &mut out) {
        out.failed.push(*failed);
        return out;
    }
    let ledger = match Ledger::open(store.clone(), Some(ev.clone())) {
        Ok(l) => l,
        Err(e) => {
            out.failed
                .push(("imgform.state".parse().expect("valid address"), e));
            return out;
        }
    };
    let ctx = Arc::new(Ctx {
        sess,
        store: store.clone(),
        ledger,
        ev: ev.clone(),
        api: Limiter::new(opts.parallelism),
        in_progress: opts.max_in_progress.map(Semaphore::new),
        sink,
        stop: stop.clone(),
        recheck: plan.recheck.clone(),
    });
    // Data sources are recorded in state so dependents re-evaluated during apply see them.
    if !plan.options.destroy {
        record_data_sources(&ctx).await;
    }
    walk(&ctx, plan, &stop, &mut out).await;
    out.outputs = record_outputs(&ctx, plan.options.destroy);
    ctx.ledger.close();
    out.state_error = ctx.ledger.failed_write();
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

/// State-only changes, before anything reaches the cloud: moves, imports, forgets. Each
/// is one state transaction. The error names the change that failed.
fn state_only_changes(
    store: &SharedStore,
    plan: &Plan,
    out: &mut Outcome,
) -> Result<(), Box<(ResourceAddr, String)>> {
    for c in plan
        .changes
        .iter()
        .filter(|c| c.prev_addr.is_some() || c.importing.is_some() || c.action == Action::Forget)
    {
        // Single rows by key: a plan of many moves costs each move its own rows.
        let get = |a: &ResourceAddr| {
            store
                .lock()
                .expect("the state lock is never poisoned")
                .get(a)
                .map_err(|e| Box::new((c.addr.clone(), e.to_string())))
        };
        if let Some(prev) = &c.prev_addr {
            if let Some(mut r) = get(prev)? {
                r.addr = c.addr.clone();
                // One transaction: the object is at one address before and after, never two.
                store
                    .lock()
                    .expect("the state lock is never poisoned")
                    .edit(&[r], std::slice::from_ref(prev))
                    .map_err(|e| {
                        Box::new((c.addr.clone(), format!("moving {prev} to {}: {e}", c.addr)))
                    })?;
            }
        }
        if let (Some(id), None) = (&c.importing, get(&c.addr)?) {
            let mut r = ResourceState::ready(
                c.addr.clone(),
                c.provider.clone(),
                c.region.clone(),
                Some(id.clone()),
                c.before.as_deref().cloned().unwrap_or(json!({})),
            );
            r.deps = c.deps.clone();
            store
                .lock()
                .expect("the state lock is never poisoned")
                .put(&r)
                .map_err(|e| Box::new((c.addr.clone(), format!("importing {id}: {e}"))))?;
            out.imported += 1;
        }
        if c.action == Action::Forget {
            store
                .lock()
                .expect("the state lock is never poisoned")
                .remove(&c.addr)
                .map_err(|e| Box::new((c.addr.clone(), format!("forgetting: {e}"))))?;
            out.forgotten += 1;
        }
    }
    Ok(())
}

/// The walk nodes of a plan. A destroy-then-create replacement is two nodes, as in
/// Terraform: its destroy half runs in destroy order (after the destroy of everything that
/// depends on it) and its create half in create order. So a build is destroyed before the
/// pipeline it was built from is replaced, while that pipeline still exists.
fn walk_nodes(plan: &Plan) -> Vec<(&Change, Phase)> {
    let mut nodes = Vec::new();
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
    nodes
}

/// Runs every node once its dependencies are done; a failure skips its dependents; a stop
/// request starts nothing new and lets what runs finish.
async fn walk(ctx: &Arc<Ctx>, plan: &Plan, stop: &crate::cloud::waiter::Stop, out: &mut Outcome) {
    let nodes = walk_nodes(plan);
    let mut walk = ReadyWalk::over(&apply_graph(&nodes));
    let mut set = tokio::task::JoinSet::new();
    loop {
        if !stop.is_set() {
            while let Some(i) = walk.next_ready() {
                if i >= nodes.len() {
                    // A barrier (see `apply_graph`): nothing to run.
                    walk.done(i);
                    continue;
                }
                let (c, phase) = (nodes[i].0.clone(), nodes[i].1);
                let ctx = ctx.clone();
                // The node's logs carry its address (a span entered across awaits would
                // leak into whatever task the worker polls next).
                let span = tracing::info_span!("resource", addr = %c.addr);
                set.spawn(async move { (i, run_node(&ctx, &c, phase).await) }.instrument(span));
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
                // A barrier is skipped for the node it waited on; what waited on the
                // barrier is skipped because of that node.
                let mut through: HashMap<usize, usize> = HashMap::new();
                for (skipped, because) in walk.failed(i) {
                    let because = if because < nodes.len() {
                        because
                    } else {
                        through.get(&because).copied().unwrap_or(i)
                    };
                    if skipped >= nodes.len() {
                        through.insert(skipped, because);
                        continue;
                    }
                    let reason = format!("{} did not complete", nodes[because].0.addr);
                    ctx.sink.emit(Event::Skipped {
                        addr: nodes[skipped].0.addr.clone(),
                        reason: reason.clone(),
                    });
                    out.skipped.push((nodes[skipped].0.addr.clone(), reason));
                }
            }
        }
    }
    if stop.is_set() {
        out.interrupted = true;
        for (i, n) in nodes.iter().enumerate() {
            if walk.state(i) == WalkState::Waiting {
                out.skipped
                    .push((n.0.addr.clone(), "the apply was interrupted".into()));
            }
        }
    }
}

/// Outputs, from the state as it is now, recorded in it.
fn record_outputs(ctx: &Ctx, destroy: bool) -> BTreeMap<String, OutputState> {
    let mut known = ctx.ledger.known();
    let mut diags = Diagnostics::default();
    // Outputs read resources from the known values: no resource is evaluated.
    let (_, outputs) = check::walk_expanding(
        &ctx.ev.config,
        &ctx.ev,
        check::Expand::Nothing,
        &mut known,
        &mut diags,
        &mut |_, _, _, _| {},
    );
    let mut stored = BTreeMap::new();
    if !destroy {
        for (name, v) in outputs {
            if v.has_unknown() {
                continue;
            }
            let sensitive = ctx
                .ev
                .config
                .outputs
                .get(&name)
                .is_some_and(|o| o.sensitive);
            stored.insert(
                name,
                OutputState {
                    value: v.to_json(),
                    sensitive,
                },
            );
        }
    }
    let _ = ctx
        .store
        .lock()
        .expect("the state lock is never poisoned")
        .set_outputs(&stored);
    stored
}

async fn record_data_sources(ctx: &Arc<Ctx>) {
    let mut known = ctx.ledger.known();
    let mut diags = Diagnostics::default();
    let mut reads = Vec::new();
    check::walk_expanding(
        &ctx.ev.config,
        &ctx.ev,
        check::Expand::Reading,
        &mut known,
        &mut diags,
        &mut |id, made, _, _| {
            if id.mode == Mode::Data {
                for i in made.iter() {
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
    let gone: Vec<ResourceAddr> = ctx.ledger.with_state(|st| {
        st.resources
            .values()
            .filter(|r| r.addr.id.mode == Mode::Data && !configured.contains(&r.addr.id))
            .map(|r| r.addr.clone())
            .collect()
    });
    for a in &gone {
        let _ = remove(ctx, a).await;
    }
    for (addr, provider, args) in reads {
        let region = ctx.sess.regions.get(&provider).cloned().unwrap_or_default();
        let Ok(kind) = resource::data_kind(&addr.id.kind) else {
            continue;
        };
        if let Ok(c) = ctx.sess.client(&provider, &region) {
            if let Ok(v) = kind.read(&c, &J::Object(args)).await {
                let id = v["id"].as_str().map(String::from);
                let r = ResourceState::ready(addr.clone(), provider, region, id, v);
                let _ = put(ctx, &r).await;
            }
        }
    }
}

/// The apply graph: one node per walk node (the graph's node `i` is walk node `i`), an
/// edge from each dependency to its dependent, found through a map from resource to nodes
/// (no pairwise comparison): a create waits for the creates of what it refers to, a
/// destroy for the destroys of what refers to it, and the create half of a replacement for
/// its destroy half (the node just before it).
///
/// Every instance of `b` waits for every instance of `a` it refers to, as in Terraform.
/// Written as edges between instances that is N×M edges (25,000 builds of 25,000 pipelines
/// would be 625 million), so each such wait goes through a barrier node instead (indices
/// from `nodes.len()` on, done as soon as they are ready): N+M edges.
fn apply_graph(nodes: &[(&Change, Phase)]) -> DiGraph<ResourceAddr, ()> {
    let destroying =
        |(c, p): &(&Change, Phase)| c.action == Action::Delete || *p == Phase::DestroyHalf;
    let creating = |(c, p): &(&Change, Phase)| create_ish(c.action) && *p != Phase::DestroyHalf;
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    let mut g = DiGraph::with_capacity(nodes.len(), nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        by_id.entry(n.0.addr.id.to_string()).or_default().push(i);
        g.add_node(n.0.addr.clone());
    }
    let ix = NodeIndex::new;
    // The barriers of a resource: after its creates, and after its dependents' destroys.
    let mut created: HashMap<&str, NodeIndex> = HashMap::new();
    let mut released: HashMap<&str, NodeIndex> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let own = n.0.addr.id.to_string();
        for d in &n.0.deps {
            if *d == own {
                continue;
            }
            let Some(of_d) = by_id.get(d) else { continue };
            // n refers to d: n's create waits for d's creates, and d's destroys for n's.
            if creating(n) {
                let b = *created.entry(d.as_str()).or_insert_with(|| {
                    let b = g.add_node(nodes[of_d[0]].0.addr.id.instance(None));
                    for &j in of_d.iter().filter(|&&j| creating(&nodes[j])) {
                        g.add_edge(ix(j), b, ());
                    }
                    b
                });
                g.add_edge(b, ix(i), ());
            }
            if destroying(n) {
                let b = *released.entry(d.as_str()).or_insert_with(|| {
                    let b = g.add_node(nodes[of_d[0]].0.addr.id.instance(None));
                    for &j in of_d.iter().filter(|&&j| destroying(&nodes[j])) {
                        g.add_edge(b, ix(j), ());
                    }
                    b
                });
                g.add_edge(ix(i), b, ());
            }
        }
        if n.1 == Phase::CreateHalf {
            debug_assert!(nodes[i - 1].1 == Phase::DestroyHalf && nodes[i - 1].0.addr == n.0.addr);
            g.add_edge(ix(i - 1), ix(i), ());
        }
    }
    g
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
    // Inside a block of its own, so that a failure (`?`) still reaches the Errored event.
    let r: NodeResult = async {
        match c.action {
            Action::Create | Action::Resume => {
                create(ctx, c, start, 0).await?;
                // A resumed create_before_destroy still owes the deletion of what it replaces.
                if let Some(now) = row(ctx, &c.addr)? {
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
                let old = row(ctx, &c.addr)?;
                create(ctx, c, start, 0).await?;
                let now = row(ctx, &c.addr)?.ok_or("state row vanished")?;
                delete_deposed(ctx, &now, old.as_ref(), start).await?;
                Ok((1, 0, 1))
            }
            Action::Read => read(ctx, c).await.map(|_| (0, 0, 0)),
            Action::NoOp | Action::Forget => Ok((0, 0, 0)),
        }
    }
    .await;
    match &r {
        Ok(_) => {
            let id = row(ctx, &c.addr).ok().flatten().and_then(|r| r.id);
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

/// Deletes objects left behind by an interrupted `create_before_destroy` replacement.
pub async fn clean_deposed(
    sess: Arc<Session>,
    store: SharedStore,
    ev: Arc<Evaluated>,
    sink: Arc<dyn EventSink>,
) -> Result<(), String> {
    let ledger = Ledger::open(store.clone(), Some(ev.clone()))?;
    let st = ledger.with_state(|st| st.clone());
    let ctx = Arc::new(Ctx {
        sess,
        store: store.clone(),
        ledger,
        ev,
        api: Limiter::new(4),
        in_progress: None,
        sink,
        stop: crate::cloud::waiter::Stop::new(),
        recheck: Default::default(),
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
    use serde_json::json;

    fn change(addr: &str, action: Action, deps: &[&str]) -> Change {
        let addr: ResourceAddr = addr.parse().expect("address");
        Change {
            kind: addr.id.kind.clone(),
            addr,
            prev_addr: None,
            provider: "alicloud".into(),
            region: "cn-hangzhou".into(),
            action,
            reason: None,
            before: None,
            after: Some(Box::new(json!({}))),
            after_unknown: json!({}),
            replace_paths: vec![],
            changed: vec![],
            sensitive: vec![],
            importing: None,
            deps: deps.iter().map(|d| d.to_string()).collect(),
            unchanged: false,
        }
    }

    #[test]
    fn instances_wait_for_every_instance_they_refer_to_through_one_barrier() {
        let n = 50;
        let mut changes: Vec<Change> = (0..n)
            .map(|i| change(&format!("alicloud_image.a[{i}]"), Action::Create, &[]))
            .collect();
        changes.extend((0..n).map(|i| {
            change(
                &format!("alicloud_image.b[{i}]"),
                Action::Create,
                &["alicloud_image.a"],
            )
        }));
        let nodes: Vec<(&Change, Phase)> = changes.iter().map(|c| (c, Phase::Whole)).collect();
        let g = apply_graph(&nodes);
        // N + M edges through one barrier, not N x M.
        assert_eq!(g.node_count(), 2 * n + 1);
        assert_eq!(g.edge_count(), 2 * n);
        let mut walk = ReadyWalk::over(&g);
        let mut order = Vec::new();
        while let Some(i) = walk.next_ready() {
            if i < nodes.len() {
                order.push(i);
            }
            walk.done(i);
        }
        assert_eq!(order.len(), 2 * n, "every node runs once");
        let last_a = order.iter().rposition(|&i| i < n).expect("a ran");
        let first_b = order.iter().position(|&i| i >= n).expect("b ran");
        assert!(last_a < first_b, "every a before any b: {order:?}");
    }

    #[test]
    fn destroys_wait_for_the_destroys_of_what_refers_to_them() {
        let changes = [
            change("alicloud_image.a[0]", Action::Delete, &[]),
            change("alicloud_image.a[1]", Action::Delete, &[]),
            change("alicloud_image.b[0]", Action::Delete, &["alicloud_image.a"]),
        ];
        let nodes: Vec<(&Change, Phase)> = changes.iter().map(|c| (c, Phase::Whole)).collect();
        let mut walk = ReadyWalk::over(&apply_graph(&nodes));
        assert_eq!(walk.next_ready(), Some(2), "b first");
        assert_eq!(walk.next_ready(), None);
        // b fails: both a are skipped (through the barrier).
        let skipped: Vec<usize> = walk.failed(2).into_iter().map(|x| x.0).collect();
        assert_eq!(skipped.iter().filter(|&&i| i < 2).count(), 2, "{skipped:?}");
    }
}
