//! Talking to the cloud for plan and apply: the [`Session`] (one client per provider, the
//! batched pollers), the batched refresh, the reader planning uses for data sources and
//! imports, and the apply walk ([`walk`]).
//!
//! This module reaches the cloud only through `cloud::Client`; it never imports the local
//! cloud, which it sees as just another endpoint.

pub mod poll;
pub mod walk;

use crate::cloud::client::{Client, ClientConfig, Scheme};
use crate::cloud::creds::{self, Credentials};
use crate::cloud::ops;
use crate::plan::build::Reader;
use crate::plan::model::Drift;
use crate::resource::api;
use crate::state::{State, Status};
use crate::value::Value;
use poll::Poller;
use serde_json::{json, Value as J};
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
        })
    }

    /// The client of a provider key, or of any provider in `region` (objects whose provider
    /// block was removed).
    pub fn client(&self, provider: &str, region: &str) -> Result<Client, String> {
        if let Some(c) = self.clients.get(provider) {
            if region.is_empty() || c.region() == region {
                return Ok(c.clone());
            }
        }
        if let Some(c) = self.clients.values().find(|c| c.region() == region) {
            return Ok(c.clone());
        }
        let any = self
            .clients
            .values()
            .next()
            .ok_or("no provider is configured")?;
        // Same credentials and endpoint, another region.
        let _ = any;
        Err(format!("no provider is configured for region {region} (needed by objects of provider {provider}); add a provider block for it"))
    }

    /// The batched poller for (provider, kind).
    pub fn poller(&self, client: &Client, kind: &'static str) -> Poller {
        let mut g = self
            .pollers
            .lock()
            .expect("the pollers lock is never poisoned");
        g.entry((format!("{}|{}", client.endpoint(), client.region()), kind))
            .or_insert_with(|| match kind {
                "tasks" => Poller::tasks(client.clone(), self.poll_min, self.poll_max),
                "executions" => Poller::executions(client.clone(), self.poll_min, self.poll_max),
                _ => Poller::images(client.clone(), self.poll_min, self.poll_max),
            })
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

/// Reads every object in state from the cloud, batched per region: one DescribeImages call
/// per 100 images, one DescribeImagePipelines per 20 pipelines, builds per pipeline. Objects
/// gone from the cloud are removed from the returned state and reported as drift, as are
/// attributes changed outside imgform; computed attributes are updated silently.
pub async fn refresh(sess: &Session, state: &State) -> Result<(State, Vec<Drift>), String> {
    let mut out = state.clone();
    let mut drift = Vec::new();
    // Group by (client, class).
    let mut images: BTreeMap<String, (Client, Vec<String>)> = BTreeMap::new();
    let mut pipes: BTreeMap<String, (Client, Vec<String>)> = BTreeMap::new();
    let mut execs: BTreeMap<String, (Client, Vec<String>)> = BTreeMap::new();
    for r in state.resources.values() {
        let Some(id) = &r.id else { continue };
        if r.addr.id.mode == crate::addr::Mode::Data {
            continue;
        }
        let c = sess.client(&r.provider, &r.region)?;
        let key = format!("{}|{}", c.endpoint(), c.region());
        match r.kind.as_str() {
            "alicloud_image" | "alicloud_image_import" => images
                .entry(key)
                .or_insert_with(|| (c, vec![]))
                .1
                .push(id.clone()),
            "alicloud_ecs_image_pipeline" => pipes
                .entry(key)
                .or_insert_with(|| (c, vec![]))
                .1
                .push(id.clone()),
            "alicloud_ecs_image_pipeline_execution" => {
                let p = api::s(&r.attrs, "image_pipeline_id").unwrap_or_default();
                execs
                    .entry(key)
                    .or_insert_with(|| (c, vec![]))
                    .1
                    .push(format!("{p}/{id}"));
            }
            _ => {}
        }
    }
    let img_f = futures_util::future::join_all(images.into_values().map(|(c, ids)| async move {
        c.describe_images_by_ids(&ids).await.map(|v| {
            v.into_iter()
                .map(|i| (i.image_id.clone(), J::Object(api::read_image(&i))))
                .collect::<Vec<_>>()
        })
    }));
    let pipe_f = futures_util::future::join_all(pipes.into_values().map(|(c, ids)| async move {
        c.describe_pipelines_by_ids(&ids).await.map(|v| {
            v.into_iter()
                .map(|p| {
                    (
                        p.image_pipeline_id.clone(),
                        J::Object(api::read_pipeline(&p)),
                    )
                })
                .collect::<Vec<_>>()
        })
    }));
    let exec_f = futures_util::future::join_all(execs.into_values().map(|(c, keys)| async move {
        let mut pids: Vec<String> = keys
            .iter()
            .filter_map(|k| k.split_once('/').map(|x| x.0.to_string()))
            .collect();
        pids.sort();
        pids.dedup();
        let mut found = Vec::new();
        for p in pids {
            let Some(builds) = c.describe_executions_of(&p).await? else {
                continue;
            };
            found.extend(
                builds
                    .iter()
                    .map(|e| (e.execution_id.clone(), J::Object(api::read_execution(e)))),
            );
        }
        Ok(found)
    }));
    let (imgs, ps, es) = tokio::join!(img_f, pipe_f, exec_f);
    let mut seen: HashMap<String, J> = HashMap::new();
    for r in imgs.into_iter().chain(ps).chain(es) {
        for (id, attrs) in r.map_err(|e| format!("refresh failed: {e}"))? {
            seen.insert(id, attrs);
        }
    }
    for (addr, r) in state.resources.iter() {
        let Some(id) = &r.id else { continue };
        if addr.id.mode == crate::addr::Mode::Data {
            continue;
        }
        match seen.get(id) {
            None => {
                if r.status == Status::Ready || r.status == Status::Tainted {
                    drift.push(Drift {
                        addr: addr.clone(),
                        kind: r.kind.clone(),
                        deleted: true,
                        before: r.attrs.clone(),
                        after: J::Null,
                    });
                }
                if r.status != Status::Creating {
                    out.resources.remove(addr);
                }
            }
            Some(cloud) => {
                let Some(o) = out.resources.get_mut(addr) else {
                    continue;
                };
                let mut changed = false;
                let before = o.attrs.clone();
                if let (Some(attrs), Some(c)) = (o.attrs.as_object_mut(), cloud.as_object()) {
                    for k in api::drift_attrs(&r.kind) {
                        if let (Some(old), Some(new)) = (attrs.get(*k).cloned(), c.get(*k)) {
                            let empty = |v: &J| {
                                v.is_null()
                                    || v.as_str() == Some("")
                                    || v.as_object().is_some_and(|m| m.is_empty())
                            };
                            if old != *new && !(empty(&old) && empty(new)) {
                                attrs.insert(k.to_string(), new.clone());
                                changed = true;
                            }
                        }
                    }
                    for k in [
                        "status",
                        "usable",
                        "progress",
                        "size",
                        "create_time",
                        "image_id",
                    ] {
                        if let Some(v) = c.get(k) {
                            attrs.insert(k.into(), v.clone());
                        }
                    }
                }
                if changed && r.status == Status::Ready {
                    drift.push(Drift {
                        addr: addr.clone(),
                        kind: r.kind.clone(),
                        deleted: false,
                        before,
                        after: o.attrs.clone(),
                    });
                }
            }
        }
    }
    Ok((out, drift))
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

/// Runs the `alicloud_images` data source.
pub async fn read_images(c: &Client, args: &J) -> Result<J, String> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let req = ops::DescribeImages {
            region_id: c.region().into(),
            image_owner_alias: api::s(args, "owners"),
            image_family: api::s(args, "image_family"),
            image_name: api::s(args, "image_name"),
            architecture: api::s(args, "architecture"),
            os_type: api::s(args, "os_type"),
            status: api::s(args, "status").or_else(|| Some("Available".into())),
            tag: api::tags(args, "tags"),
            page_number: Some(page),
            page_size: Some(100),
            ..Default::default()
        };
        let r: ops::DescribeImagesResponse = c
            .call("DescribeImages", &req)
            .await
            .map_err(|e| e.to_string())?;
        let n = r.images.items.len() as i64;
        all.extend(r.images.items);
        if n == 0 || page * 100 >= r.total_count || page >= 50 {
            break;
        }
        page += 1;
    }
    if let Some(re) = api::s(args, "name_regex") {
        let re = regex::Regex::new(&re).map_err(|e| format!("invalid name_regex: {e}"))?;
        all.retain(|i| re.is_match(&i.image_name) || re.is_match(&i.image_id));
    }
    all.sort_by(|a, b| {
        b.creation_time
            .cmp(&a.creation_time)
            .then(a.image_id.cmp(&b.image_id))
    });
    if api::boolean(args, "most_recent") == Some(true) {
        all.truncate(1);
    }
    let images: Vec<J> = all
        .iter()
        .map(|i| json!({"id": i.image_id, "image_id": i.image_id, "name": i.image_name, "image_name": i.image_name, "image_family": i.image_family, "os_type": i.os_type, "platform": i.platform, "architecture": i.architecture, "status": i.status, "creation_time": i.creation_time, "owner_alias": i.image_owner_alias, "size": i.size, "boot_mode": i.boot_mode}))
        .collect();
    let mut out = args.as_object().cloned().unwrap_or_default();
    out.insert(
        "ids".into(),
        json!(all.iter().map(|i| i.image_id.clone()).collect::<Vec<_>>()),
    );
    out.insert("images".into(), J::Array(images));
    out.insert("id".into(), json!(format!("{}", all.len())));
    Ok(J::Object(out))
}

/// Reads one object by kind and id.
pub async fn read_object(c: &Client, kind: &str, id: &str) -> Result<Option<J>, String> {
    match kind {
        "alicloud_image" | "alicloud_image_import" => Ok(c
            .describe_images_by_ids(&[id.to_string()])
            .await
            .map_err(|e| e.to_string())?
            .first()
            .map(|i| J::Object(api::read_image(i)))),
        "alicloud_ecs_image_pipeline" => Ok(c
            .describe_pipelines_by_ids(&[id.to_string()])
            .await
            .map_err(|e| e.to_string())?
            .first()
            .map(|p| J::Object(api::read_pipeline(p)))),
        "alicloud_ecs_image_pipeline_execution" => {
            let req = ops::DescribeImagePipelineExecutions {
                region_id: c.region().into(),
                execution_id: Some(id.into()),
                ..Default::default()
            };
            let r: ops::DescribeImagePipelineExecutionsResponse = c
                .call("DescribeImagePipelineExecutions", &req)
                .await
                .map_err(|e| e.to_string())?;
            Ok(r.image_pipeline_execution
                .items
                .first()
                .map(|e| J::Object(api::read_execution(e))))
        }
        other => Err(format!("imgform cannot import {other}")),
    }
}

impl Reader for CloudReader<'_> {
    fn read_data(&mut self, provider: &str, kind: &str, args: &J) -> Result<J, String> {
        if kind != "alicloud_images" {
            return Err(format!("unknown data source {kind}"));
        }
        let region = self.sess.regions.get(provider).cloned().unwrap_or_default();
        let c = self.sess.client(provider, &region)?;
        self.reads += 1;
        self.block(read_images(&c, args))
    }

    fn import(&mut self, provider: &str, kind: &str, id: &str) -> Result<Option<J>, String> {
        let region = self.sess.regions.get(provider).cloned().unwrap_or_default();
        let c = self.sess.client(provider, &region)?;
        self.reads += 1;
        self.block(read_object(&c, kind, id))
    }
}

/// A handle shared by the walk's tasks.
pub type SharedStore = Arc<Mutex<Box<dyn crate::state::backend::Backend>>>;
