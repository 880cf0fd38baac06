//! The local cloud: a simulated ECS region set that speaks the real ECS RPC protocol
//! (both signature schemes, the real parameter names, response shapes and error bodies),
//! with its own SQLite store, asynchronous life cycles driven by one simulated clock, and
//! faults on demand. `imgform cloud serve` runs it as a server; `--cloud local` starts it
//! in-process. Core modules never import it: they reach it over HTTP like Alibaba Cloud, or
//! (tests of the core) through the client's transport ([`inproc`]).

mod api;
pub mod inproc;
mod rules;
mod server;
pub mod store;
pub mod world;

pub use api::ApiErr;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use world::{ComponentRec, ExecutionRec, ImageRec, PipelineRec, Region, SimTime, TaskRec};

/// The default AccessKeyId.
pub const DEFAULT_KEY_ID: &str = "imgform-local";
/// The default AccessKeySecret.
pub const DEFAULT_SECRET: &str = "imgform-local-secret";

/// Faults to inject, as parsed from `--faults throttle=0.2,error500=0.05,...`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Probability of answering `Throttling.User`.
    pub throttle: f64,
    /// Probability of a 500 `InternalError`.
    pub error500: f64,
    /// Probability of dropping the connection without an answer, before the request runs.
    pub reset: f64,
    /// Probability that a request that changes the cloud runs and then loses its answer
    /// (the connection is reset after the operation was carried out).
    pub lost: f64,
    /// Probability that a request that changes the cloud runs and then answers a 500
    /// `InternalError` (ECS's ambiguous failure: the operation may have happened).
    pub error500_after: f64,
    /// Added to every request (real time).
    pub latency: Duration,
    /// Probability that a create ends in `CreateFailed`/`FAILED`.
    pub fail_create: f64,
    /// Seed of the fault generator.
    pub seed: u64,
    /// When not empty, faults strike only these actions (`only=CreateImage+ImportImage`).
    pub only: Vec<String>,
}

impl Faults {
    /// Parses a fault specification.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not KEY=VALUE"))?;
            let prob = || -> Result<f64, String> {
                let p: f64 = v
                    .parse()
                    .map_err(|_| format!("{k}: {v:?} is not a number"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(format!("{k}: {p} is not a probability between 0 and 1"))
                }
            };
            match k {
                "throttle" => f.throttle = prob()?,
                "error500" => f.error500 = prob()?,
                "reset" => f.reset = prob()?,
                "lost" => f.lost = prob()?,
                "error500_after" => f.error500_after = prob()?,
                "fail_create" => f.fail_create = prob()?,
                "only" => f.only = v.split('+').map(str::trim).filter(|a| !a.is_empty()).map(String::from).collect(),
                "seed" => f.seed = v.parse().map_err(|_| format!("seed: {v:?} is not a whole number"))?,
                "latency" => {
                    let ms = v.strip_suffix("ms").map(|x| x.parse::<u64>().map(Duration::from_millis));
                    let s = v.strip_suffix('s').map(|x| x.parse::<u64>().map(Duration::from_secs));
                    f.latency = match (ms, s) {
                        (Some(Ok(d)), _) => d,
                        (None, Some(Ok(d))) => d,
                        _ => return Err(format!("latency: {v:?} is not a duration such as 50ms")),
                    };
                }
                other => return Err(format!("unknown fault {other:?}; expected throttle, error500, reset, lost, error500_after, latency, fail_create, only or seed")),
            }
        }
        Ok(f)
    }
}

/// A small deterministic generator (splitmix64) for faults and ids.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Simulated time: runs `speed` times faster than real time, continues from where the
/// store left off, and can be advanced by hand (tests).
#[derive(Debug, Clone)]
pub struct Clock {
    base: SimTime,
    /// tokio's clock: real time, or the paused time of a test.
    start: tokio::time::Instant,
    speed: f64,
    offset: f64,
}

impl Clock {
    /// Simulated seconds since the epoch now.
    pub fn now(&self) -> SimTime {
        self.base + self.start.elapsed().as_secs_f64() * self.speed + self.offset
    }
}

/// How to run a local cloud.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen (`127.0.0.1:0` for an ephemeral port).
    pub listen: String,
    /// Data directory; `None` keeps everything in memory.
    pub data: Option<PathBuf>,
    /// Simulated time runs this many times faster than real time.
    pub speed: f64,
    /// Faults to inject.
    pub faults: Faults,
    /// Accepted AccessKeyId.
    pub key_id: String,
    /// Its secret.
    pub secret: String,
    /// How long a connection may take to send a request's headers, and may stay idle
    /// between requests, before it is closed (half-sent requests are not kept forever).
    pub header_timeout: Duration,
}

/// The speeds the local cloud accepts: slower would overflow the scaled durations, faster
/// would make every life cycle instantaneous.
pub const SPEEDS: std::ops::RangeInclusive<f64> = 0.001..=1_000_000.0;

/// Checks a simulated-time speed (`--speed`, `IMGFORM_LOCAL_SPEED`).
pub fn check_speed(v: f64) -> Result<f64, String> {
    if v.is_finite() && SPEEDS.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "the speed must be a number from {} to {}, got {v}",
            SPEEDS.start(),
            SPEEDS.end()
        ))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: "127.0.0.1:0".into(),
            data: None,
            speed: 1.0,
            faults: Faults::default(),
            key_id: DEFAULT_KEY_ID.into(),
            secret: DEFAULT_SECRET.into(),
            header_timeout: Duration::from_secs(30),
        }
    }
}

/// The whole simulated cloud.
pub struct Cloud {
    pub(crate) regions: BTreeMap<String, Region>,
    pub(crate) images: BTreeMap<String, ImageRec>,
    pub(crate) tasks: BTreeMap<String, TaskRec>,
    pub(crate) pipelines: BTreeMap<String, PipelineRec>,
    pub(crate) executions: BTreeMap<String, ExecutionRec>,
    pub(crate) components: BTreeMap<String, ComponentRec>,
    pub(crate) tokens: HashMap<String, (String, serde_json::Value)>,
    pub(crate) calls: BTreeMap<String, u64>,
    /// Requests being served now, and the most ever served at once (`stats`).
    pub(crate) in_flight: (u64, u64),
    pub(crate) store: store::Store,
    pub(crate) clock: Clock,
    pub(crate) rng: Rng,
    pub(crate) fault_rng: Option<Rng>,
    pub(crate) faults: Faults,
    pub(crate) key_id: String,
    pub(crate) secret: String,
    /// Signature nonces seen in the last 30 minutes (replays are refused), and the order
    /// they arrived in, so that forgetting the expired ones costs only them.
    pub(crate) nonces: HashSet<String>,
    pub(crate) nonce_order: VecDeque<(Instant, String)>,
    /// Live custom images by region and name, so that the name and quota checks of a
    /// create do not scan every image (derived from `images`, never stored).
    /// Per region: how many, and how many of each name.
    custom_names: HashMap<String, (usize, HashMap<String, usize>)>,
    pending: Vec<(&'static str, String, String)>,
    pending_tokens: Vec<(String, String, String)>,
    clock_saved: Instant,
}

fn load<T: serde::de::DeserializeOwned>(store: &store::Store, kind: &str) -> Vec<T> {
    store
        .all(kind)
        .iter()
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect()
}

impl Cloud {
    /// Opens (and on first start seeds) a cloud.
    pub fn open(opts: &Options) -> Result<Cloud, String> {
        let store = store::Store::open(opts.data.as_deref())
            .map_err(|e| format!("cannot open the local cloud's database: {e}"))?;
        let wall = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
        let base = store
            .meta("sim_now")
            .and_then(|s| s.parse().ok())
            .unwrap_or(wall);
        let mut c = Cloud {
            regions: BTreeMap::new(),
            images: BTreeMap::new(),
            tasks: BTreeMap::new(),
            pipelines: BTreeMap::new(),
            executions: BTreeMap::new(),
            components: BTreeMap::new(),
            tokens: HashMap::new(),
            calls: BTreeMap::new(),
            in_flight: (0, 0),
            clock: Clock {
                base,
                start: tokio::time::Instant::now(),
                speed: opts.speed.max(0.001),
                offset: 0.0,
            },
            rng: Rng::new(opts.faults.seed),
            fault_rng: None,
            faults: opts.faults.clone(),
            key_id: opts.key_id.clone(),
            secret: opts.secret.clone(),
            nonces: HashSet::new(),
            nonce_order: VecDeque::new(),
            custom_names: HashMap::new(),
            store,
            pending: Vec::new(),
            pending_tokens: Vec::new(),
            clock_saved: Instant::now(),
        };
        if c.store.meta("seeded").is_none() {
            let (regions, images) = world::seed(c.now());
            for r in regions {
                c.put_region(r);
            }
            for i in images {
                c.put_image(i);
            }
            c.flush();
            c.store.set_meta("seeded", "1");
        } else {
            for r in load::<Region>(&c.store, "region") {
                c.regions.insert(r.id.clone(), r);
            }
            for i in load::<ImageRec>(&c.store, "image") {
                c.index_image(&i, 1);
                c.images.insert(Self::image_key(&i), i);
            }
            for t in load::<TaskRec>(&c.store, "task") {
                c.tasks.insert(t.id.clone(), t);
            }
            for p in load::<PipelineRec>(&c.store, "pipeline") {
                c.pipelines.insert(p.id.clone(), p);
            }
            for e in load::<ExecutionRec>(&c.store, "execution") {
                c.executions.insert(e.id.clone(), e);
            }
            for x in load::<ComponentRec>(&c.store, "component") {
                c.components.insert(x.id.clone(), x);
            }
            for (k, f, r) in c.store.tokens() {
                if let Ok(v) = serde_json::from_str(&r) {
                    c.tokens.insert(k, (f, v));
                }
            }
        }
        // Ids must not repeat across restarts: mix the wall clock into the id generator.
        c.rng = Rng::new(opts.faults.seed ^ (wall as u64).rotate_left(17) ^ c.images.len() as u64);
        c.fault_rng_reset(opts.faults.seed);
        Ok(c)
    }

    fn fault_rng_reset(&mut self, seed: u64) {
        self.fault_rng = Some(Rng::new(seed));
    }

    /// Simulated now.
    pub fn now(&self) -> SimTime {
        self.clock.now()
    }

    /// Runs one action as a request would, without a signature or faults: what a test
    /// does to change the world in the middle of an apply (delete a snapshot under a
    /// create). The answer is the document the API returns, or its error.
    pub fn act(
        &mut self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<serde_json::Value, ApiErr> {
        let params: std::collections::BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let doc = api::answer(self, action, &params)?;
        self.flush();
        Ok(serde_json::from_str(&doc.with_request_id("")).expect("the cloud writes JSON"))
    }

    /// A custom image's record (tests change it to stage a situation).
    pub fn image_record(&self, id: &str) -> Option<ImageRec> {
        self.images.get(id).cloned()
    }

    /// Replaces an image's record, as if the cloud had changed it (tests).
    pub fn replace_image(&mut self, i: ImageRec) {
        self.put_image(i);
        self.flush();
    }

    /// The OSS objects of a region: (bucket, object).
    pub fn oss_objects(&self, region: &str) -> Vec<(String, String)> {
        self.regions
            .get(region)
            .map(|r| {
                r.oss
                    .iter()
                    .map(|o| (o.bucket.clone(), o.object.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forgets a task, as ECS does with old ones (tests).
    pub fn forget_task(&mut self, id: &str) {
        self.tasks.remove(id);
        self.store.delete("task", id);
    }

    /// Export tasks: (task id, image id).
    pub fn export_tasks(&self) -> Vec<(String, String)> {
        self.tasks
            .values()
            .filter(|t| t.action == "ExportImage")
            .map(|t| (t.id.clone(), t.image_id.clone()))
            .collect()
    }

    /// Components that exist: (id, name).
    pub fn live_components(&self) -> Vec<(String, String)> {
        self.components
            .values()
            .filter(|x| !x.deleted)
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect()
    }

    /// Replaces the faults to inject (tests).
    pub fn set_faults(&mut self, f: Faults) {
        self.faults = f;
        self.fault_rng = None;
    }

    /// Moves simulated time forward (tests).
    pub fn advance(&mut self, d: Duration) {
        self.clock.offset += d.as_secs_f64();
        self.save_clock();
    }

    /// Persists simulated time, so a restart continues from here.
    pub fn save_clock(&mut self) {
        let now = self.now();
        self.store.set_meta("sim_now", &now.to_string());
        self.clock_saved = Instant::now();
    }

    pub(crate) fn put_region(&mut self, r: Region) {
        self.pending.push((
            "region",
            r.id.clone(),
            serde_json::to_string(&r).expect("serialisable"),
        ));
        self.regions.insert(r.id.clone(), r);
    }

    /// Public images have the same id in every region, as on ECS; custom image ids are
    /// unique. The map key tells them apart.
    pub(crate) fn image_key(i: &ImageRec) -> String {
        if i.owner_alias == "system" {
            format!("{}/{}", i.region, i.id)
        } else {
            i.id.clone()
        }
    }

    /// The image `id` as seen from `region`.
    pub(crate) fn image(&self, region: &str, id: &str) -> Option<&ImageRec> {
        self.images
            .get(id)
            .filter(|i| i.region == region)
            .or_else(|| self.images.get(&format!("{region}/{id}")))
    }

    pub(crate) fn put_image(&mut self, i: ImageRec) {
        let key = Self::image_key(&i);
        self.pending.push((
            "image",
            key.clone(),
            serde_json::to_string(&i).expect("serialisable"),
        ));
        self.index_image(&i, 1);
        if let Some(old) = self.images.insert(key, i) {
            self.index_image(&old, -1);
        }
    }

    /// Counts a live custom image in (`+1`) or out of (`-1`) the name index.
    fn index_image(&mut self, i: &ImageRec, by: isize) {
        if i.owner_alias != "self" || i.deleted {
            return;
        }
        let (count, names) = self.custom_names.entry(i.region.clone()).or_default();
        *count = count.saturating_add_signed(by);
        let n = names.entry(i.name.clone()).or_default();
        *n = n.saturating_add_signed(by);
        if *n == 0 {
            names.remove(&i.name);
        }
    }

    /// How many live custom images `region` holds.
    pub(crate) fn custom_images_in(&self, region: &str) -> usize {
        self.custom_names.get(region).map_or(0, |(count, _)| *count)
    }

    /// Whether a live custom image in `region` is called `name`.
    pub(crate) fn name_taken(&self, region: &str, name: &str) -> bool {
        self.custom_names
            .get(region)
            .is_some_and(|(_, names)| names.contains_key(name))
    }

    pub(crate) fn put_task(&mut self, t: TaskRec) {
        self.pending.push((
            "task",
            t.id.clone(),
            serde_json::to_string(&t).expect("serialisable"),
        ));
        self.tasks.insert(t.id.clone(), t);
    }

    pub(crate) fn put_pipeline(&mut self, p: PipelineRec) {
        self.pending.push((
            "pipeline",
            p.id.clone(),
            serde_json::to_string(&p).expect("serialisable"),
        ));
        self.pipelines.insert(p.id.clone(), p);
    }

    pub(crate) fn put_execution(&mut self, e: ExecutionRec) {
        self.pending.push((
            "execution",
            e.id.clone(),
            serde_json::to_string(&e).expect("serialisable"),
        ));
        self.executions.insert(e.id.clone(), e);
    }

    pub(crate) fn put_component(&mut self, x: ComponentRec) {
        self.pending.push((
            "component",
            x.id.clone(),
            serde_json::to_string(&x).expect("serialisable"),
        ));
        self.components.insert(x.id.clone(), x);
    }

    /// Records an idempotency token, written with the objects of the same request.
    pub(crate) fn put_token(
        &mut self,
        key: String,
        fingerprint: String,
        response: serde_json::Value,
    ) {
        self.pending_tokens
            .push((key.clone(), fingerprint.clone(), response.to_string()));
        self.tokens.insert(key, (fingerprint, response));
    }

    pub(crate) fn flush(&mut self) {
        if self.pending.is_empty() && self.pending_tokens.is_empty() {
            if self.clock_saved.elapsed() > Duration::from_secs(1) {
                self.save_clock();
            }
            return;
        }
        self.clock_saved = Instant::now();
        let items: Vec<(&str, String, String)> = std::mem::take(&mut self.pending);
        let tokens = std::mem::take(&mut self.pending_tokens);
        let now = self.now();
        self.store.put_many(&items, &tokens, now);
    }

    /// A new id: `prefix` + 20 lower-case alphanumerics, like ECS ids.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut s = String::from(prefix);
        for _ in 0..20 {
            s.push(CHARS[(self.rng.next_u64() % CHARS.len() as u64) as usize] as char);
        }
        s
    }

    /// Custom images that exist (any status but deleted): (id, name).
    pub fn custom_images(&self) -> Vec<(String, String)> {
        self.images
            .values()
            .filter(|i| i.owner_alias == "self" && !i.deleted)
            .map(|i| (i.id.clone(), i.name.clone()))
            .collect()
    }

    /// Every custom image the region ever held, deleted ones included: (id, deleted).
    /// What a test checks to prove that nothing was created or deleted.
    pub fn custom_images_ever(&self) -> Vec<(String, bool)> {
        self.images
            .values()
            .filter(|i| i.owner_alias == "self")
            .map(|i| (i.id.clone(), i.deleted))
            .collect()
    }

    /// Pipelines that exist: (id, name).
    pub fn live_pipelines(&self) -> Vec<(String, String)> {
        self.pipelines
            .values()
            .filter(|p| !p.deleted)
            .map(|p| {
                (
                    p.id.clone(),
                    p.params.get("Name").cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Every build ever started: (execution id, pipeline id).
    pub fn builds(&self) -> Vec<(String, String)> {
        self.executions
            .values()
            .map(|e| (e.id.clone(), e.pipeline_id.clone()))
            .collect()
    }

    /// `{"calls": {...}, "objects": {...}}`.
    pub fn stats(&self) -> serde_json::Value {
        let now = self.now();
        let _ = now;
        serde_json::json!({
            "calls": self.calls,
            "in_flight_peak": self.in_flight.1,
            "objects": {
                "images": self.images.values().filter(|i| i.owner_alias != "system" && !i.deleted).count(),
                "tasks": self.tasks.len(),
                "pipelines": self.pipelines.values().filter(|p| !p.deleted).count(),
                "executions": self.executions.len(),
                "components": self.components.values().filter(|x| !x.deleted).count(),
                "shares": self.images.values().filter(|i| !i.deleted).map(|i| i.shared_with.len()).sum::<usize>(),
            }
        })
    }

    /// Adds objects from a seed document (see `imgform cloud seed`).
    pub fn seed_from(&mut self, doc: &serde_json::Value) -> Result<String, String> {
        let regions = doc
            .get("regions")
            .and_then(|r| r.as_object())
            .ok_or("the seed file needs a top-level \"regions\" object")?;
        let mut counts = BTreeMap::<&str, usize>::new();
        for (rid, body) in regions {
            let mut r = self.regions.get(rid).cloned().unwrap_or_else(|| Region {
                id: rid.clone(),
                image_quota: 1000,
                pipeline_quota: 100,
                resource_groups: vec!["rg-default".into()],
                oss_role_authorized: true,
                instance_types: vec!["ecs.g6.large".into()],
                ..Default::default()
            });
            if !rules::region_id(rid) {
                return Err(format!("{rid:?} is not a region id"));
            }
            for i in body
                .get("instances")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let inst: world::Instance = serde_json::from_value(i.clone())
                    .map_err(|e| format!("{rid}: instance: {e}"))?;
                r.instances.insert(inst.id.clone(), inst);
                *counts.entry("instances").or_default() += 1;
            }
            for s in body
                .get("snapshots")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let mut s = s.clone();
                if s.get("status").is_none() {
                    s["status"] = "accomplished".into();
                }
                if s.get("created").is_none() {
                    s["created"] = "2025-01-01".into();
                }
                let snap: world::Snapshot =
                    serde_json::from_value(s).map_err(|e| format!("{rid}: snapshot: {e}"))?;
                r.snapshots.insert(snap.id.clone(), snap);
                *counts.entry("snapshots").or_default() += 1;
            }
            for d in body
                .get("disks")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let disk: world::Disk =
                    serde_json::from_value(d.clone()).map_err(|e| format!("{rid}: disk: {e}"))?;
                r.disks.insert(disk.id.clone(), disk);
                *counts.entry("disks").or_default() += 1;
            }
            for o in body
                .get("oss")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let obj: world::OssObject =
                    serde_json::from_value(o.clone()).map_err(|e| format!("{rid}: oss: {e}"))?;
                r.oss
                    .retain(|x| !(x.bucket == obj.bucket && x.object == obj.object));
                r.oss.push(obj);
                *counts.entry("oss objects").or_default() += 1;
            }
            if let Some(q) = body.get("image_quota").and_then(|v| v.as_u64()) {
                r.image_quota = q as usize;
            }
            if let Some(q) = body.get("pipeline_quota").and_then(|v| v.as_u64()) {
                r.pipeline_quota = q as usize;
            }
            if let Some(a) = body.get("oss_role_authorized").and_then(|v| v.as_bool()) {
                r.oss_role_authorized = a;
            }
            let strings = |k: &str| -> Vec<String> {
                body.get(k)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            };
            for g in strings("resource_groups") {
                if !g.starts_with("rg-") {
                    return Err(format!("{rid}: {g:?} is not a resource group id (rg-...)"));
                }
                if !r.resource_groups.contains(&g) {
                    r.resource_groups.push(g);
                    *counts.entry("resource groups").or_default() += 1;
                }
            }
            for a in strings("accounts") {
                if a.is_empty() || !a.chars().all(|c| c.is_ascii_digit()) {
                    return Err(format!("{rid}: {a:?} is not an account id (digits)"));
                }
                if !r.accounts.contains(&a) {
                    r.accounts.push(a);
                    *counts.entry("accounts").or_default() += 1;
                }
            }
            let comps: Vec<serde_json::Value> = body
                .get("components")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            let imgs: Vec<serde_json::Value> = body
                .get("images")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            self.put_region(r);
            for i in imgs {
                let s =
                    |k: &str, d: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or(d).to_string();
                let id = s("id", "");
                if id.is_empty() {
                    return Err(format!("{rid}: every image needs an id"));
                }
                let mut rec = world_image(rid, &id, &s("name", &id), &s("owner_alias", "self"));
                rec.family = s("family", "");
                rec.os_type = s("os_type", "linux");
                rec.platform = s("platform", "Ubuntu");
                rec.architecture = s("architecture", "x86_64");
                self.put_image(rec);
                *counts.entry("images").or_default() += 1;
            }
            for x in comps {
                let s =
                    |k: &str, d: &str| x.get(k).and_then(|v| v.as_str()).unwrap_or(d).to_string();
                let id = match s("id", "") {
                    id if id.is_empty() => self.new_id("ic-"),
                    id if id.starts_with("ic-") => id,
                    id => return Err(format!("{rid}: {id:?} is not a component id (ic-...)")),
                };
                let name = s("name", &id);
                let now = self.now();
                self.put_component(ComponentRec {
                    id,
                    region: rid.clone(),
                    name,
                    content: s("content", "RUN echo seeded"),
                    component_type: s("component_type", "Build"),
                    system_type: s("system_type", "Linux"),
                    version: s("version", "1.0.0"),
                    description: s("description", ""),
                    resource_group_id: s("resource_group_id", "rg-default"),
                    tags: vec![],
                    created_at: api_iso(now),
                    deleted: false,
                });
                *counts.entry("components").or_default() += 1;
            }
        }
        self.flush();
        Ok(counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", "))
    }
}

fn api_iso(t: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t as i64)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn world_image(region: &str, id: &str, name: &str, owner: &str) -> ImageRec {
    ImageRec {
        id: id.into(),
        region: region.into(),
        name: name.into(),
        description: String::new(),
        family: String::new(),
        version: String::new(),
        owner_alias: owner.into(),
        os_type: "linux".into(),
        platform: "Ubuntu".into(),
        architecture: "x86_64".into(),
        boot_mode: "UEFI-Preferred".into(),
        license_type: String::new(),
        size: 20,
        resource_group_id: String::new(),
        tags: vec![],
        disks: vec![],
        nvme_support: String::new(),
        imds_support: String::new(),
        started: 0.0,
        wait_secs: 0.0,
        create_secs: 0.0,
        will_fail: false,
        deleted: false,
        cancelled: false,
        deprecated: false,
        task_id: String::new(),
        execution_id: String::new(),
        created_at: "2025-01-01T00:00:00Z".into(),
        copied_from: String::new(),
        shared_with: Vec::new(),
    }
}

/// A running local cloud.
pub struct Handle {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// The shared state (tests advance time and read stats through it).
    pub cloud: Arc<Mutex<Cloud>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The data directory's lock, released when the server stops.
    _lock: Option<DataLock>,
}

/// Exclusive use of a data directory by one writer. A served cloud keeps its objects in
/// memory and writes them through, so another writer on the same data (a `cloud seed`
/// while `cloud serve` runs, or a second server) would have its writes overwritten, or
/// overwrite the server's. Servers and seeds take it; reading a cloud's data does not.
pub struct DataLock {
    /// Locked while open; closing it (on drop, or when the process dies) frees the data.
    _file: std::fs::File,
}

impl DataLock {
    /// Takes `dir`'s lock (creating the directory), or says who may hold it.
    pub fn acquire(dir: &std::path::Path) -> Result<DataLock, String> {
        let _ = std::fs::create_dir_all(dir);
        let path = dir.join("cloud.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(DataLock { _file: f }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "the local cloud's data in {} is in use by another process (an `imgform cloud serve`, or an imgform command run with `--cloud local`); stop it first: a running cloud keeps its objects in memory and would overwrite what another process writes there",
                dir.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}

impl Handle {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Moves simulated time forward.
    pub fn advance(&self, d: Duration) {
        self.cloud
            .lock()
            .expect("the local cloud lock is never poisoned")
            .advance(d);
    }

    /// The stats document.
    pub fn stats(&self) -> serde_json::Value {
        self.cloud
            .lock()
            .expect("the local cloud lock is never poisoned")
            .stats()
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Ok(mut c) = self.cloud.lock() {
            c.flush();
            c.save_clock();
        }
    }
}

/// Starts a local cloud server on the current tokio runtime.
pub async fn start(opts: Options) -> Result<Handle, String> {
    check_speed(opts.speed)?;
    let lock = opts.data.as_deref().map(DataLock::acquire).transpose()?;
    let cloud = Arc::new(Mutex::new(Cloud::open(&opts)?));
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let app = server::router(cloud.clone());
    let header_timeout = opts.header_timeout;
    // hyper directly rather than axum::serve, which sets no header-read timeout: a client
    // that sends half a request, or keeps a connection idle, is cut off as a real endpoint
    // would.
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = &mut rx => break,
                acc = listener.accept() => match acc {
                    Ok((s, _)) => s,
                    Err(_) => continue,
                },
            };
            let svc = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Handle {
        addr,
        cloud,
        shutdown: Some(tx),
        task: Some(task),
        _lock: lock,
    })
}
