//! Talking to the cloud for plan and apply: the [`Session`] (one client per provider, the
//! batched pollers), the batched refresh, the reader planning uses for data sources and
//! imports, and the apply walk ([`walk`]).
//!
//! This module reaches the cloud only through `cloud::Client`; it never imports the local
//! cloud, which it sees as just another endpoint.

mod create;
mod ctx;
mod destroy;
mod eval;
mod ledger;
mod named;
mod poll;
mod update;
pub mod walk;

pub use ctx::Limiter;
pub use eval::known_from_state;

use crate::addr::ResourceAddr;
use crate::cloud::client::{Client, ClientConfig, Scheme};
use crate::cloud::creds::{self, Credentials};
use crate::plan::build::Reader;
use crate::plan::model::Drift;
use crate::resource::{self, kind::Lookup};
use crate::state::{State, Status};
use crate::value::Value;
use poll::Poller;
use serde_json::Value as J;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach the cloud, beyond what the provider blocks say.
#[derive(Clone, Default)]
pub struct Connect {
    /// Use this endpoint for every provider (the local cloud).
    pub endpoint: Option<String>,
    /// Use these credentials (the local cloud's).
    pub credentials: Option<Credentials>,
    /// Simulated time runs this many times faster (the local cloud): poll intervals and
    /// timeouts are divided by it so a simulated run keeps real proportions.
    pub speed: f64,
    /// `--signature v1`.
    pub scheme: Option<Scheme>,
    /// Region for providers that name none (the local cloud's `cn-hangzhou`).
    pub default_region: Option<String>,
    /// Carry every call through this instead of HTTPS (the in-process local cloud).
    pub transport: Option<Arc<dyn crate::cloud::client::Transport>>,
}

/// Clients and pollers for one run.
pub struct Session {
    clients: BTreeMap<String, Client>,
    /// Region of each provider key.
    pub regions: BTreeMap<String, String>,
    /// First poll interval.
    pub poll_min: Duration,
    /// Largest poll interval.
    pub poll_max: Duration,
    /// Divides resource timeouts (1 against Alibaba Cloud).
    pub speed: f64,
    pollers: Mutex<HashMap<(String, &'static str), Poller>>,
    /// Bounds the batched reads of the objects a plan checks: as many in flight as one
    /// lookup's reads ([`crate::cloud::client::READ_PARALLELISM`]), so that 100 batches
    /// neither hold 100 answers at once nor open 100 connections.
    checks_in_flight: Arc<tokio::sync::Semaphore>,
    /// The run's stop request (the first interrupt): every wait and retry ends on it.
    stop: crate::cloud::waiter::Stop,
}

fn attr_str(m: &BTreeMap<String, Value>, k: &str) -> Option<String> {
    m.get(k)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn duration_of(m: &BTreeMap<String, Value>, k: &str, default: Duration) -> Duration {
    attr_str(m, k)
        .and_then(|s| crate::config::load::parse_go_duration(&s))
        .filter(|d| !d.is_zero())
        .unwrap_or(default)
}

impl Session {
    /// Builds clients from the evaluated provider blocks (`alicloud` is implied when none is
    /// written). Errors name what is missing (region, credentials).
    pub fn connect(
        providers: &BTreeMap<String, BTreeMap<String, Value>>,
        how: &Connect,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Session, String> {
        let mut providers = providers.clone();
        providers.entry("alicloud".into()).or_default();
        let speed = if how.speed > 0.0 { how.speed } else { 1.0 };
        let mut clients = BTreeMap::new();
        let mut regions = BTreeMap::new();
        let mut poll_min = Duration::from_secs(2);
        let mut poll_max = Duration::from_secs(15);
        let stop = crate::cloud::waiter::Stop::new();
        for (key, attrs) in &providers {
            let region = attr_str(attrs, "region").or_else(|| env("ALIBABA_CLOUD_REGION_ID")).or_else(|| env("ALICLOUD_REGION")).or_else(|| how.default_region.clone()).ok_or_else(|| {
                format!("provider {key} has no region: set `region` in its provider block, or ALIBABA_CLOUD_REGION_ID")
            })?;
            let credentials = match &how.credentials {
                Some(c) => c.clone(),
                None => {
                    let literal =
                        match (attr_str(attrs, "access_key"), attr_str(attrs, "secret_key")) {
                            (Some(a), Some(s)) => Some((a, s, attr_str(attrs, "security_token"))),
                            _ => None,
                        };
                    creds::resolve(&creds::Lookup {
                        env,
                        home: env("HOME").map(Into::into),
                        profile: attr_str(attrs, "profile"),
                        literal,
                    })
                    .map_err(|e| e.to_string())?
                }
            };
            let endpoint = how
                .endpoint
                .clone()
                .or_else(|| attr_str(attrs, "endpoint"))
                .or_else(|| env("ALIBABA_CLOUD_ENDPOINT_ECS"));
            let scheme =
                how.scheme
                    .unwrap_or(match attr_str(attrs, "signature_version").as_deref() {
                        Some("v1") => Scheme::V1,
                        _ => Scheme::V3,
                    });
            let max_retries = attrs
                .get("max_retries")
                .and_then(|v| v.as_f64())
                .map(|n| n as u32)
                .unwrap_or(crate::cloud::retry::DEFAULT_MAX_RETRIES);
            poll_min = duration_of(attrs, "poll_interval", poll_min);
            poll_max = duration_of(attrs, "max_poll_interval", poll_max).max(poll_min);
            let client = Client::new(ClientConfig {
                region: region.clone(),
                endpoint,
                credentials,
                scheme,
                max_retries,
                timeout: Duration::from_secs(30),
            })
            .map_err(|e| e.to_string())?;
            let client = match &how.transport {
                Some(t) => client.with_transport(t.clone()),
                None => client,
            }
            .with_stop(stop.clone());
            clients.insert(key.clone(), client);
            regions.insert(key.clone(), region);
        }
        Ok(Session {
            clients,
            regions,
            poll_min: poll_min.div_f64(speed),
            poll_max: poll_max.div_f64(speed),
            speed,
            pollers: Mutex::new(HashMap::new()),
            checks_in_flight: Arc::new(tokio::sync::Semaphore::new(
                crate::cloud::client::READ_PARALLELISM,
            )),
            stop,
        })
    }

    /// The run's stop request: triggering it ends every wait and retry of this session at
    /// its next pause (requests under way answer first).
    pub fn stop(&self) -> &crate::cloud::waiter::Stop {
        &self.stop
    }

    /// The client of a provider key in `region` (the provider's own region when empty): the
    /// provider's account reaches every region. Objects whose provider block was removed
    /// are reached through any provider of their region.
    pub fn client(&self, provider: &str, region: &str) -> Result<Client, String> {
        if let Some(c) = self.clients.get(provider) {
            if region.is_empty() || c.region() == region {
                return Ok(c.clone());
            }
            return c.with_region(region).map_err(|e| e.to_string());
        }
        if region.is_empty() {
            return Err(format!("the provider {provider} is not configured: add its provider block (provider \"alicloud\" {{ alias = ... }})"));
        }
        if let Some(c) = self.clients.values().find(|c| c.region() == region) {
            return Ok(c.clone());
        }
        Err(format!("no provider is configured for region {region} (needed by objects of provider {provider}); add a provider block for it"))
    }

    /// The batched poller for (region, lookup).
    pub fn poller(&self, client: &Client, lookup: &'static Lookup) -> Poller {
        let mut g = self
            .pollers
            .lock()
            .expect("the pollers lock is never poisoned");
        g.entry((
            format!("{}|{}", client.endpoint(), client.region()),
            lookup.name,
        ))
        .or_insert_with(|| Poller::new(client.clone(), lookup.fetch, self.poll_min, self.poll_max))
        .clone()
    }

    /// (ticks, read calls, largest batch) of every poller, for benchmarks.
    pub fn poll_stats(&self) -> BTreeMap<String, (u64, u64, u64)> {
        self.pollers
            .lock()
            .expect("the pollers lock is never poisoned")
            .iter()
            .map(|((r, k), p)| (format!("{k}@{r}"), p.stats()))
            .collect()
    }

    /// A resource timeout scaled to the cloud's speed.
    pub fn scaled(&self, secs: u64) -> Duration {
        Duration::from_secs(secs).div_f64(self.speed)
    }
}

/// Reads every object in state from the cloud, batched per region and lookup (one
/// DescribeImages call per 100 images, one DescribeImagePipelines per 20 pipelines, builds
/// per pipeline). Objects gone from the cloud are removed from the returned state and
/// reported as drift, as are attributes changed outside imgform; computed attributes are
/// updated silently. Which lookup reads an object and which attributes count as drift are
/// its kind's.
pub async fn refresh(sess: &Session, state: State) -> Result<(State, Vec<Drift>), String> {
    refresh_with(sess, state, &crate::events::Discard).await
}

/// [`refresh`], telling `sink` which object it reads (`RefreshStart`) and which it has
/// read (`RefreshComplete`), for Terraform's `refresh_start`/`refresh_complete` lines.
pub async fn refresh_with(
    sess: &Session,
    mut state: State,
    sink: &dyn crate::events::EventSink,
) -> Result<(State, Vec<Drift>), String> {
    use crate::events::Event;
    type Batch = (String, &'static str);
    let mut batches: BTreeMap<Batch, (Client, &'static Lookup, Vec<String>)> = BTreeMap::new();
    // Which rows each key read answers, per batch.
    let mut rows: HashMap<Batch, HashMap<String, Vec<ResourceAddr>>> = HashMap::new();
    for r in state.resources.values() {
        let Some(id) = &r.id else { continue };
        if r.addr.id.mode == crate::addr::Mode::Data {
            continue;
        }
        let kind = resource::kind(&r.kind)?;
        let c = sess.client(&r.provider, &r.region)?;
        let (lookup, key) = kind.read_key(id, &r.attrs);
        let batch = (format!("{}|{}", c.endpoint(), c.region()), lookup.name);
        let keys = rows.entry(batch.clone()).or_default();
        if !keys.contains_key(&key) {
            batches
                .entry(batch)
                .or_insert_with(|| (c, lookup, vec![]))
                .2
                .push(key.clone());
        }
        keys.entry(key).or_default().push(r.addr.clone());
        sink.emit(Event::RefreshStart {
            addr: r.addr.clone(),
            id: id.clone(),
        });
    }
    // Each batch is read in fetches of what one call reads, READ_PARALLELISM in flight,
    // each on its own task: the answers are decoded on every core while this task takes
    // them into the state as they arrive, and then drops them. The decoded answers for
    // 50,000 images never sit in memory together, and the state is updated in place, so
    // a plan holds one copy of it.
    use futures_util::stream::{self, StreamExt};
    let fetches = batches
        .into_iter()
        .flat_map(|(batch, (c, lookup, ids))| {
            ids.chunks(lookup.batch.max(1))
                .map(|keys| (batch.clone(), c.clone(), lookup, keys.to_vec()))
                .collect::<Vec<_>>()
        })
        .map(|(batch, c, lookup, keys)| async move {
            let found = match tokio::spawn((lookup.fetch)(c, keys)).await {
                Ok(r) => r.map_err(|e| format!("refresh failed: {e}")),
                Err(e) => Err(format!("refresh failed: {e}")),
            };
            (batch, found)
        });
    let mut answers =
        stream::iter(fetches).buffer_unordered(crate::cloud::client::READ_PARALLELISM);
    let mut drift = Vec::new();
    let mut gone = Vec::new();
    while let Some((batch, found)) = answers.next().await {
        let found = found?;
        let Some(keys) = rows.get_mut(&batch) else {
            continue;
        };
        for (key, item) in found {
            for addr in keys.remove(&key).unwrap_or_default() {
                let Some(r) = state.resources.get_mut(&addr) else {
                    continue;
                };
                let kind = resource::kind(&r.kind)?;
                match kind.read_back(&item) {
                    None => {
                        // The cloud reports it in a form that means gone.
                        keys.entry(key.clone()).or_default().push(addr);
                    }
                    Some(cloud) => {
                        if let Some(id) = &r.id {
                            sink.emit(Event::RefreshComplete {
                                addr: addr.clone(),
                                id: id.clone(),
                            });
                        }
                        // Parsed once, and written back only when the cloud changed it.
                        let mut attrs = r.attrs.value();
                        let drifted = drifted(kind, &attrs, &cloud);
                        let before = drifted.then(|| attrs.clone());
                        if merge_refreshed(kind, &mut attrs, &cloud) {
                            r.attrs = crate::state::Attrs::new(&attrs);
                        }
                        if let (Some(before), Status::Ready) = (before, r.status) {
                            drift.push(Drift {
                                kind: r.kind.clone(),
                                deleted: false,
                                before,
                                after: attrs,
                                addr,
                            });
                        }
                    }
                }
            }
        }
    }
    drop(answers);
    // What no answer reported is gone from the cloud.
    for addr in rows.into_values().flat_map(|k| k.into_values()).flatten() {
        let Some(r) = state.resources.get(&addr) else {
            continue;
        };
        // Read, and found gone (Terraform's hook says complete, with the old id).
        if let Some(id) = &r.id {
            sink.emit(Event::RefreshComplete {
                addr: addr.clone(),
                id: id.clone(),
            });
        }
        if r.status == Status::Ready || r.status == Status::Tainted {
            drift.push(Drift {
                addr: addr.clone(),
                kind: r.kind.clone(),
                deleted: true,
                before: r.attrs.value(),
                after: J::Null,
            });
        }
        if r.status != Status::Creating {
            gone.push(addr);
        }
    }
    for a in gone {
        state.resources.remove(&a);
    }
    drift.sort_by(|a, b| a.addr.cmp(&b.addr));
    Ok((state, drift))
}

/// Values of the kind's drift attributes differ between the recorded attributes and the
/// cloud's.
fn drifted(kind: &dyn resource::Kind, attrs: &J, cloud: &serde_json::Map<String, J>) -> bool {
    kind.drift()
        .iter()
        .any(|k| match (attrs.get(*k), cloud.get(*k)) {
            (Some(old), Some(new)) => differs(old, new),
            _ => false,
        })
}

/// A recorded value and the cloud's differ (an empty value and a missing one are the same).
fn differs(old: &J, new: &J) -> bool {
    let empty = |v: &J| {
        v.is_null() || v.as_str() == Some("") || v.as_object().is_some_and(|m| m.is_empty())
    };
    old != new && !(empty(old) && empty(new))
}

/// Takes what the cloud reports into recorded attributes: the kind's drift attributes that
/// differ ([`drifted`] reports them) and its computed attributes (silently). True when
/// something changed.
fn merge_refreshed(
    kind: &dyn resource::Kind,
    attrs: &mut J,
    cloud: &serde_json::Map<String, J>,
) -> bool {
    let Some(attrs) = attrs.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    for k in kind.drift() {
        if let Some(new) = cloud.get(k) {
            if attrs.get(k).is_some_and(|old| differs(old, new)) {
                attrs.insert(k.to_string(), new.clone());
                changed = true;
            }
        }
    }
    for k in kind.refreshed() {
        if let Some(v) = cloud.get(*k) {
            if attrs.get(*k) != Some(v) {
                attrs.insert(k.to_string(), v.clone());
                changed = true;
            }
        }
    }
    changed
}

/// Reads data sources and import targets during planning.
pub struct CloudReader<'a> {
    /// The session.
    pub sess: &'a Session,
    /// The runtime to block on (planning is synchronous).
    pub rt: tokio::runtime::Handle,
    /// Calls made, for logs.
    pub reads: usize,
}

impl CloudReader<'_> {
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        tokio::task::block_in_place(|| self.rt.block_on(f))
    }
}

/// Reads one object by kind and id, through its kind's lookup.
pub async fn read_object(c: &Client, kind: &str, id: &str) -> Result<Option<J>, String> {
    let kind = resource::kind(kind)?;
    let (lookup, key) = kind.read_key(id, &crate::state::Attrs::empty());
    let found = (lookup.fetch)(c.clone(), vec![key.clone()])
        .await
        .map_err(|e| e.to_string())?;
    Ok(found
        .get(&key)
        .and_then(|i| kind.read_back(i))
        .map(J::Object))
}

impl Reader for CloudReader<'_> {
    fn read_data(&mut self, provider: &str, kind: &str, args: &J) -> Result<J, String> {
        let kind = resource::data_kind(kind)?;
        let region = self.sess.regions.get(provider).cloned().unwrap_or_default();
        let c = self.sess.client(provider, &region)?;
        self.reads += 1;
        self.block(kind.read(&c, args))
    }

    fn import(&mut self, provider: &str, kind: &str, id: &str) -> Result<Option<J>, String> {
        let region = self.sess.regions.get(provider).cloned().unwrap_or_default();
        let c = self.sess.client(provider, &region)?;
        self.reads += 1;
        self.block(read_object(&c, kind, id))
    }

    fn start(&mut self, b: &crate::plan::build::Batch) -> Option<crate::plan::build::Started> {
        self.reads += 1;
        let read = self.sess.client(&b.provider, &b.region).map(|c| {
            let (sort, ids) = (b.sort, b.ids.clone());
            let slots = self.sess.checks_in_flight.clone();
            // Judged where the answer arrives: what waits for the rest of the plan is
            // one small verdict per id, not the cloud's items.
            self.rt.spawn(async move {
                let _slot = slots.acquire().await;
                let items = (sort.lookup.fetch)(c, ids.clone()).await?;
                Ok::<_, crate::cloud::error::Error>(
                    ids.into_iter()
                        .map(|id| {
                            let f = crate::resource::objects::judge(sort, items.get(&id));
                            (id, f)
                        })
                        .collect(),
                )
            })
        });
        Some(Box::pin(async move {
            match read {
                Ok(task) => match task.await {
                    Ok(answer) => answer.map_err(|e| e.to_string()),
                    Err(e) => Err(format!("the read ended abnormally: {e}")),
                },
                Err(e) => Err(e),
            }
        }))
    }

    fn wait(
        &mut self,
        started: Vec<crate::plan::build::Started>,
    ) -> Vec<Result<HashMap<String, crate::resource::objects::Finding>, String>> {
        self.block(futures_util::future::join_all(started))
    }
}

/// `import`: reads the object `id` from the cloud through its kind and records it at
/// `addr`. Refuses an address already managed and an object already managed elsewhere
/// (one object must never have two addresses).
pub async fn import(
    sess: &Session,
    store: &SharedStore,
    addr: &ResourceAddr,
    provider: &str,
    id: &str,
) -> Result<(), String> {
    let st = store
        .lock()
        .expect("the state lock is never poisoned")
        .load()
        .map_err(|e| e.to_string())?;
    if let Some(r) = st.resources.get(addr) {
        return Err(format!("{addr} is already managed by imgform (id {:?}); remove it with `imgform state rm` first", r.id));
    }
    if let Some(other) = st.resources.values().find(|r| r.id.as_deref() == Some(id)) {
        return Err(format!(
            "{id} is already managed at {}: one object must not be imported to two addresses",
            other.addr
        ));
    }
    let region = sess.regions.get(provider).cloned().unwrap_or_default();
    let client = sess.client(provider, &region)?;
    let Some(mut attrs) = read_object(&client, &addr.id.kind, id).await? else {
        return Err(format!(
            "Cannot import non-existent remote object: {} {id} does not exist in {region}",
            addr.id.kind
        ));
    };
    if let Some(o) = attrs.as_object_mut() {
        o.remove("id");
    }
    store
        .lock()
        .expect("the state lock is never poisoned")
        .put(&crate::state::ResourceState::ready(
            addr.clone(),
            provider.to_string(),
            region,
            Some(id.to_string()),
            attrs,
        ))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A handle shared by the walk's tasks.
pub type SharedStore = Arc<Mutex<Box<dyn crate::state::backend::Backend>>>;
