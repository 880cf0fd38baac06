//! The ECS RPC client: builds each request (parameters in the query, `POST /`), signs it
//! afresh on every attempt (new nonce and timestamp), sends it, turns the answer into a
//! typed response or an [`Error`], and retries transient failures with capped exponential
//! backoff and full jitter. Time, sleeping and randomness are injected so tests take no
//! wall time.

use super::creds::Credentials;
use super::error::{ApiError, Error};
use super::ops;
use super::retry::{self, Decision};
use super::sign::{self, acs3, rpc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn, Instrument};

/// The ECS API version.
pub const API_VERSION: &str = "2014-05-26";

/// Which signature scheme to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ACS3-HMAC-SHA256 (default of the current SDKs).
    V3,
    /// RPC HMAC-SHA1, signature version 1.0.
    V1,
}

pub use super::waiter::Sleeper;
use super::waiter::{Acceptance, WaitError, Waiter};
/// Returns a uniform random number in `[0, 1)`.
pub type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;
/// Returns the current UTC time.
pub type Now = Arc<dyn Fn() -> time::OffsetDateTime + Send + Sync>;

/// How to build a [`Client`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Region id (`cn-hangzhou`).
    pub region: String,
    /// Endpoint override (provider `endpoint` or `ALIBABA_CLOUD_ENDPOINT_ECS`).
    pub endpoint: Option<String>,
    /// Credentials.
    pub credentials: Credentials,
    /// Signature scheme.
    pub scheme: Scheme,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

/// The default endpoint of a region: `ecs.<region>.aliyuncs.com`, `ecs.aliyuncs.com` for
/// cn-hangzhou (as the provider does). An override without a scheme gets `https://`;
/// `http://` is allowed only for loopback hosts (the local cloud).
pub fn endpoint_for(region: &str, over: Option<&str>) -> Result<String, Error> {
    let url = match over.filter(|s| !s.is_empty()) {
        Some(e) if e.starts_with("http://") || e.starts_with("https://") => {
            e.trim_end_matches('/').to_string()
        }
        Some(e) => format!("https://{}", e.trim_end_matches('/')),
        None if region == "cn-hangzhou" => "https://ecs.aliyuncs.com".to_string(),
        None => format!("https://ecs.{region}.aliyuncs.com"),
    };
    if url.starts_with("http://") && !super::is_loopback_url(&url) {
        return Err(Error::Config(format!(
            "refusing plain HTTP to {url}: credentials would cross the network unencrypted; use https:// (http:// is allowed for 127.0.0.1/localhost only)"
        )));
    }
    Ok(url)
}

/// A client for one region.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    host: String,
    region: String,
    creds: Credentials,
    scheme: Scheme,
    max_retries: u32,
    sleeper: Sleeper,
    jitter: Jitter,
    now: Now,
    throttles: Arc<std::sync::atomic::AtomicU64>,
    endpoint_override: bool,
    transport: Option<Arc<dyn Transport>>,
    /// The run's stop request: retries of a call end at their next pause.
    stop: crate::cloud::waiter::Stop,
}

/// One answer as it came back: HTTP status, `x-acs-request-id`, `x-acs-retry-after`, body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The request id header.
    pub request_id: String,
    /// The server's retry delay.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

/// What carries one attempt to the cloud and back. The client sends over HTTPS, signed;
/// a transport replaces that (the local cloud in the same process, for tests of the core
/// with paused time). Retries, error classification and decoding stay the client's.
pub trait Transport: Send + Sync {
    /// Sends `action` with `params` to `region`; an error is a transport failure (no
    /// answer), as a dropped connection is.
    fn send<'a>(
        &'a self,
        region: &'a str,
        action: &'a str,
        params: &'a [(String, String)],
    ) -> futures_util::future::BoxFuture<'a, Result<Answer, Error>>;
}

fn random01() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Client {
    /// A client with real time, sleep and randomness.
    pub fn new(cfg: ClientConfig) -> Result<Client, Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = endpoint_for(&cfg.region, cfg.endpoint.as_deref())?;
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error::Config(format!("invalid endpoint {base}: {e}")))?;
        let host = match parsed.port() {
            Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_string(),
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(format!(
                "imgform/{} ({}; {})",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH
            ))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            host,
            region: cfg.region,
            creds: cfg.credentials,
            scheme: cfg.scheme,
            max_retries: cfg.max_retries,
            sleeper: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
            jitter: Arc::new(random01),
            now: Arc::new(time::OffsetDateTime::now_utc),
            throttles: Arc::default(),
            endpoint_override: cfg.endpoint.as_deref().is_some_and(|e| !e.is_empty()),
            stop: Default::default(),
            transport: None,
        })
    }

    /// The same account and settings in another region (objects a build distributed
    /// there). An overridden endpoint (the local cloud) serves every region.
    pub fn with_region(&self, region: &str) -> Result<Client, Error> {
        let mut c = self.clone();
        c.region = region.to_string();
        if !self.endpoint_override {
            c.base = endpoint_for(region, None)?;
            let parsed = reqwest::Url::parse(&c.base).map_err(|e| Error::Config(e.to_string()))?;
            c.host = parsed.host_str().unwrap_or_default().to_string();
        }
        Ok(c)
    }

    /// Ends the retries of every call at their next pause once `stop` is asked for (the
    /// request under way answers first, so its outcome is known).
    pub fn with_stop(mut self, stop: crate::cloud::waiter::Stop) -> Client {
        self.stop = stop;
        self
    }

    /// Sends every attempt through `t` instead of HTTPS.
    pub fn with_transport(mut self, t: Arc<dyn Transport>) -> Client {
        self.transport = Some(t);
        self
    }

    /// Replaces sleep, randomness and the clock (tests).
    pub fn with_hooks(mut self, sleeper: Sleeper, jitter: Jitter, now: Now) -> Client {
        self.sleeper = sleeper;
        self.jitter = jitter;
        self.now = now;
        self
    }

    /// How many attempts were throttled so far (callers adapt their concurrency to it).
    pub fn throttled_attempts(&self) -> u64 {
        self.throttles.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The region this client talks to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.base
    }

    fn timestamp(&self) -> String {
        let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        (self.now)()
            .format(&f)
            .expect("the timestamp format is valid")
    }

    fn build(&self, action: &str, params: &[(String, String)]) -> reqwest::RequestBuilder {
        let ts = self.timestamp();
        let n = nonce();
        match self.scheme {
            Scheme::V3 => {
                let payload = acs3::hashed_payload(b"");
                let mut headers: Vec<(String, String)> = vec![
                    ("host".into(), self.host.clone()),
                    ("x-acs-action".into(), action.into()),
                    ("x-acs-version".into(), API_VERSION.into()),
                    ("x-acs-date".into(), ts),
                    ("x-acs-signature-nonce".into(), n),
                    ("x-acs-content-sha256".into(), payload.clone()),
                ];
                if let Some(t) = &self.creds.security_token {
                    headers.push(("x-acs-security-token".into(), t.clone()));
                    headers.push((
                        "x-acs-accesskey-id".into(),
                        self.creds.access_key_id.clone(),
                    ));
                }
                let signed: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
                let cr = acs3::canonical_request("POST", "/", params, &headers, &signed, &payload)
                    .expect("every signed header is present");
                let sig =
                    acs3::signature(&acs3::string_to_sign(&cr), &self.creds.access_key_secret);
                let (_, sh) = acs3::canonical_headers(&headers, &signed).expect("headers present");
                let auth = acs3::authorization(&self.creds.access_key_id, &sh, &sig);
                let url = format!("{}/?{}", self.base, sign::form_encode(params));
                let mut rb = self
                    .http
                    .post(url)
                    .header("accept", "application/json")
                    .header("authorization", auth);
                for (k, v) in headers.into_iter().filter(|(k, _)| k != "host") {
                    rb = rb.header(k, v);
                }
                rb
            }
            Scheme::V1 => {
                let mut all: Vec<(String, String)> = vec![
                    ("Action".into(), action.into()),
                    ("Version".into(), API_VERSION.into()),
                    ("Format".into(), "JSON".into()),
                    ("Timestamp".into(), ts),
                    ("SignatureMethod".into(), "HMAC-SHA1".into()),
                    ("SignatureVersion".into(), "1.0".into()),
                    ("SignatureNonce".into(), n),
                    ("AccessKeyId".into(), self.creds.access_key_id.clone()),
                ];
                if let Some(t) = &self.creds.security_token {
                    all.push(("SecurityToken".into(), t.clone()));
                }
                all.extend(params.iter().cloned());
                let sig = rpc::signature("POST", &all, &self.creds.access_key_secret);
                all.push(("Signature".into(), sig));
                let url = format!("{}/?{}", self.base, sign::form_encode(&all));
                self.http
                    .post(url)
                    .header("accept", "application/json")
                    .header("x-acs-action", action)
                    .header("x-acs-version", API_VERSION)
            }
        }
    }

    /// Sends one attempt over HTTP and reads the whole answer.
    async fn send_http(&self, action: &str, params: &[(String, String)]) -> Result<Answer, Error> {
        let resp = self
            .build(action, params)
            .send()
            .await
            .map_err(|e| Error::Transport {
                action: action.into(),
                endpoint: self.base.clone(),
                message: if e.is_timeout() {
                    "the request timed out".into()
                } else {
                    error_chain(&e)
                },
            })?;
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let request_id = header("x-acs-request-id").unwrap_or_default();
        let retry_after = header("x-acs-retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|v| *v > 0)
            .map(Duration::from_millis);
        let body = resp.bytes().await.map_err(|e| Error::Transport {
            action: action.into(),
            endpoint: self.base.clone(),
            message: format!(
                "the connection broke while reading the answer: {}",
                error_chain(&e)
            ),
        })?;
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body: body.to_vec(),
        })
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> Result<T, Error> {
        let answer = match &self.transport {
            Some(t) => t.send(&self.region, action, params).await?,
            None => self.send_http(action, params).await?,
        };
        crate::crash::request();
        interpret(action, answer)
    }

    /// Calls `action` with flattened parameters, retrying transient failures until
    /// `max_retries` or `deadline`.
    pub async fn call_raw(
        &self,
        action: &str,
        params: Vec<(String, String)>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<serde_json::Value, Error> {
        self.call_raw_replaying(action, params, deadline, true)
            .await
    }

    /// Like [`Client::call_raw`]; with `replay` false, a request whose outcome is unknown
    /// (no answer, a 5xx) is not sent again — only refusals such as throttling are retried —
    /// because sending it again could make a second object.
    pub async fn call_raw_replaying(
        &self,
        action: &str,
        params: Vec<(String, String)>,
        deadline: Option<tokio::time::Instant>,
        replay: bool,
    ) -> Result<serde_json::Value, Error> {
        self.call_as(action, params, deadline, replay).await
    }

    /// Calls `action`, retrying as [`Client::call_raw_replaying`] does, and decodes the
    /// answer as `T` straight from its text.
    async fn call_as<T: DeserializeOwned>(
        &self,
        action: &str,
        params: Vec<(String, String)>,
        deadline: Option<tokio::time::Instant>,
        replay: bool,
    ) -> Result<T, Error> {
        let span = tracing::debug_span!("ecs_call", action, region = %self.region);
        let waiter = Waiter::unbounded()
            .with_deadline(deadline)
            .with_max_attempts(self.max_retries.saturating_add(1))
            .with_sleeper(self.sleeper.clone())
            .with_stop(self.stop.clone());
        async move {
            let r = waiter
                .wait(|attempt| {
                    let params = &params;
                    async move {
                        debug!(attempt, params = %redact(params), "sending");
                        let err = match self.attempt::<T>(action, params).await {
                            Ok(v) => return Acceptance::Success(v),
                            Err(e) => e,
                        };
                        let decision = retry::classify(&err);
                        if matches!(decision, Decision::Throttled(_)) {
                            self.throttles
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        if decision == Decision::Fatal
                            || (!replay && matches!(decision, Decision::Retry(_)))
                        {
                            return Acceptance::Failure(err);
                        }
                        let wait = retry::delay(&decision, attempt, (self.jitter)());
                        if attempt < self.max_retries {
                            let reason = match &decision {
                                Decision::Retry(r) => r.to_string(),
                                Decision::Throttled(_) => {
                                    format!("throttled ({})", err.code().unwrap_or("Throttling"))
                                }
                                Decision::Fatal => unreachable!("fatal errors return above"),
                            };
                            warn!(attempt = attempt + 1, delay_ms = wait.as_millis() as u64, %reason, "retrying {action}");
                        }
                        Acceptance::RetryIn((err, attempt), wait)
                    }
                })
                .await;
            match r {
                Ok(v) => Ok(v),
                Err(WaitError::Failed(e))
                | Err(WaitError::Exhausted((e, _)))
                | Err(WaitError::Interrupted { last: Some((e, _)) }) => Err(e),
                Err(WaitError::Interrupted { last: None }) => Err(Error::Interrupted {
                    action: action.into(),
                }),
                Err(WaitError::TimedOut { last: Some((e, attempt)), .. }) => Err(Error::Deadline {
                    action: action.into(),
                    attempts: attempt + 1,
                    last: Box::new(e),
                }),
                Err(WaitError::TimedOut { last: None, .. }) => Err(Error::Transport {
                    action: action.into(),
                    endpoint: self.base.clone(),
                    message: "the deadline passed before an answer came".into(),
                }),
            }
        }
        .instrument(span)
        .await
    }

    /// Calls `action` with a typed request and decodes the typed response. The answer is
    /// decoded from its text into `Resp` directly, never through a JSON document: a
    /// DescribeImages page of 100 images costs a fraction of building one.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        action: &str,
        req: &Req,
    ) -> Result<Resp, Error> {
        self.call_as(action, ops::flatten(req), None, true).await
    }

    /// Reads images by id, 100 per call, paging, always with the full Status list. The
    /// calls run [`READ_PARALLELISM`] at a time, so a tick over 10,000 images costs the
    /// time of 100 calls divided by that, not 100 round trips end to end.
    pub async fn describe_images_by_ids(&self, ids: &[String]) -> Result<Vec<ops::Image>, Error> {
        in_parallel(
            ids.chunks(100)
                .map(|chunk| Box::pin(self.images_page_set(chunk)) as Read<'_, _>)
                .collect(),
        )
        .await
    }

    /// Every page of one DescribeImages query by up to 100 ids.
    async fn images_page_set(&self, chunk: &[String]) -> Result<Vec<ops::Image>, Error> {
        {
            let mut out = Vec::new();
            let mut page = 1;
            loop {
                let req = ops::DescribeImages {
                    region_id: self.region.clone(),
                    image_id: Some(chunk.join(",")),
                    status: Some(ops::ALL_IMAGE_STATUSES.into()),
                    page_number: Some(page),
                    page_size: Some(100),
                    ..Default::default()
                };
                let r: ops::DescribeImagesResponse = self.call("DescribeImages", &req).await?;
                let n = r.images.items.len() as i64;
                out.extend(r.images.items);
                if n == 0 || page * 100 >= r.total_count {
                    break;
                }
                page += 1;
            }
            Ok(out)
        }
    }

    /// Reads import tasks by id, 100 per call, [`READ_PARALLELISM`] calls at a time.
    pub async fn describe_tasks_by_ids(&self, ids: &[String]) -> Result<Vec<ops::Task>, Error> {
        in_parallel(
            ids.chunks(100)
                .map(|chunk| -> Read<'_, _> {
                    Box::pin(async move {
                        let req = ops::DescribeTasks {
                            region_id: self.region.clone(),
                            task_ids: Some(chunk.join(",")),
                            page_size: Some(100),
                            ..Default::default()
                        };
                        let r: ops::DescribeTasksResponse =
                            self.call("DescribeTasks", &req).await?;
                        Ok(r.task_set.items)
                    })
                })
                .collect(),
        )
        .await
    }

    /// Every build of a pipeline, following `NextToken` to the last page (500 a page).
    /// `Ok(None)` when the pipeline does not exist.
    pub async fn describe_executions_of(
        &self,
        pipeline_id: &str,
    ) -> Result<Option<Vec<ops::Execution>>, Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..10_000 {
            let req = ops::DescribeImagePipelineExecutions {
                region_id: self.region.clone(),
                image_pipeline_id: Some(pipeline_id.to_string()),
                max_results: Some(500),
                next_token: token.take(),
                ..Default::default()
            };
            let r: ops::DescribeImagePipelineExecutionsResponse =
                match self.call("DescribeImagePipelineExecutions", &req).await {
                    Ok(r) => r,
                    Err(e) if e.api().is_some_and(|a| a.status == 404) => return Ok(None),
                    Err(e) => return Err(e),
                };
            let n = r.image_pipeline_execution.items.len();
            out.extend(r.image_pipeline_execution.items);
            if r.next_token.is_empty() || n == 0 {
                return Ok(Some(out));
            }
            token = Some(r.next_token);
        }
        Ok(Some(out))
    }

    /// Reads snapshots by id, 100 per call (`SnapshotIds`, a JSON array), paging.
    pub async fn describe_snapshots_by_ids(
        &self,
        ids: &[String],
    ) -> Result<Vec<ops::Snapshot>, Error> {
        self.by_ids(ids, |chunk, page| async move {
            let req = ops::DescribeSnapshots {
                region_id: self.region.clone(),
                snapshot_ids: Some(json_ids(chunk)),
                page_number: Some(page),
                page_size: Some(100),
            };
            let r: ops::DescribeSnapshotsResponse = self.call("DescribeSnapshots", &req).await?;
            Ok((r.total_count, r.snapshots.items))
        })
        .await
    }

    /// Reads instances by id, 100 per call (`InstanceIds`, a JSON array), paging.
    pub async fn describe_instances_by_ids(
        &self,
        ids: &[String],
    ) -> Result<Vec<ops::Instance>, Error> {
        self.by_ids(ids, |chunk, page| async move {
            let req = ops::DescribeInstances {
                region_id: self.region.clone(),
                instance_ids: Some(json_ids(chunk)),
                page_number: Some(page),
                page_size: Some(100),
            };
            let r: ops::DescribeInstancesResponse = self.call("DescribeInstances", &req).await?;
            Ok((r.total_count, r.instances.items))
        })
        .await
    }

    /// Reads disks by id, 100 per call (`DiskIds`, a JSON array), paging.
    pub async fn describe_disks_by_ids(&self, ids: &[String]) -> Result<Vec<ops::Disk>, Error> {
        self.by_ids(ids, |chunk, page| async move {
            let req = ops::DescribeDisks {
                region_id: self.region.clone(),
                disk_ids: Some(json_ids(chunk)),
                page_number: Some(page),
                page_size: Some(100),
            };
            let r: ops::DescribeDisksResponse = self.call("DescribeDisks", &req).await?;
            Ok((r.total_count, r.disks.items))
        })
        .await
    }

    /// Reads `ids` 100 per call, [`READ_PARALLELISM`] calls at a time, each call's pages in
    /// turn: `page(chunk, n)` answers the total count and the items of page `n`.
    async fn by_ids<'s, T, F, Fut>(&'s self, ids: &'s [String], page: F) -> Result<Vec<T>, Error>
    where
        T: Send + 's,
        F: Fn(&'s [String], i64) -> Fut + Copy + Send + Sync + 's,
        Fut: std::future::Future<Output = Result<(i64, Vec<T>), Error>> + Send + 's,
    {
        in_parallel(
            ids.chunks(100)
                .map(|chunk| -> Read<'s, T> {
                    Box::pin(async move {
                        let mut out = Vec::new();
                        for n in 1.. {
                            let (total, items) = page(chunk, n).await?;
                            let got = items.len() as i64;
                            out.extend(items);
                            if got == 0 || n * 100 >= total {
                                break;
                            }
                        }
                        Ok(out)
                    })
                })
                .collect(),
        )
        .await
    }

    /// Reads pipelines by id, 20 per call, [`READ_PARALLELISM`] calls at a time.
    pub async fn describe_pipelines_by_ids(
        &self,
        ids: &[String],
    ) -> Result<Vec<ops::Pipeline>, Error> {
        in_parallel(
            ids.chunks(20)
                .map(|chunk| -> Read<'_, _> {
                    Box::pin(async move {
                        let req = ops::DescribeImagePipelines {
                            region_id: self.region.clone(),
                            image_pipeline_id: chunk.to_vec(),
                            max_results: Some(20),
                            ..Default::default()
                        };
                        let r: ops::DescribeImagePipelinesResponse =
                            self.call("DescribeImagePipelines", &req).await?;
                        Ok(r.image_pipeline.items)
                    })
                })
                .collect(),
        )
        .await
    }
}

/// Ids as the JSON array the `*Ids` parameters of DescribeSnapshots, DescribeInstances and
/// DescribeDisks take.
fn json_ids(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("strings serialize")
}

/// How many batched reads of one lookup are in flight at once: enough to hide the round
/// trips of a tick over thousands of objects, few enough to stay well inside ECS's rate
/// limits for Describe* calls (a throttled read is retried by the client).
pub const READ_PARALLELISM: usize = 8;

/// One batched read (boxed: a plain closure over chunks trips the compiler's higher-ranked
/// lifetime check for `Send` futures).
pub type Read<'a, T> = futures_util::future::BoxFuture<'a, Result<Vec<T>, Error>>;

/// Runs the `reads`, [`READ_PARALLELISM`] at a time, and joins their results in order;
/// the first error wins.
pub async fn in_parallel<T>(reads: Vec<Read<'_, T>>) -> Result<Vec<T>, Error> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let parts: Vec<Vec<T>> = stream::iter(reads)
        .buffered(READ_PARALLELISM)
        .try_collect()
        .await?;
    Ok(parts.into_iter().flatten().collect())
}

fn interpret<T: DeserializeOwned>(action: &str, answer: Answer) -> Result<T, Error> {
    let Answer {
        status,
        request_id,
        retry_after,
        body,
    } = answer;
    let snippet = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let json = || serde_json::from_slice::<serde_json::Value>(&body);
    let api_error = |j: &serde_json::Value| {
        let s = |k: &str| {
            j.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let rid = s("RequestId");
        ApiError {
            action: action.into(),
            status,
            code: s("Code"),
            message: s("Message"),
            request_id: if rid.is_empty() {
                request_id.clone()
            } else {
                rid
            },
            recommend: s("Recommend"),
            retry_after,
        }
    };
    if !(200..300).contains(&status) {
        return Err(match json() {
            Ok(j) if j.get("Code").is_some() => Error::Api(Box::new(api_error(&j))),
            _ => Error::Api(Box::new(ApiError {
                action: action.into(),
                status,
                code: if status >= 500 {
                    "InternalError".into()
                } else {
                    format!("HTTP{status}")
                },
                message: format!(
                    "the cloud answered HTTP {status} without an error document: {}",
                    snippet()
                ),
                request_id: request_id.clone(),
                recommend: String::new(),
                retry_after,
            })),
        });
    }
    let not_a_document = |json: Result<serde_json::Value, serde_json::Error>| match json {
        Err(e) => Error::Decode {
            action: action.into(),
            reason: format!("not JSON ({e})"),
            request_id: request_id.clone(),
            snippet: snippet(),
        },
        Ok(_) => Error::Decode {
            action: action.into(),
            reason: "the answer is not a JSON object".into(),
            request_id: request_id.clone(),
            snippet: snippet(),
        },
    };
    // A 2xx answer may still be an error document: its Code and RequestId are read
    // first, skipping the rest, and the answer is then decoded once, as `T`.
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "Code")]
        code: Option<serde_json::Value>,
        #[serde(rename = "RequestId")]
        request_id: Option<serde_json::Value>,
    }
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let head = match serde_json::from_slice::<Head>(&body) {
        Ok(h) if object => h,
        _ => return Err(not_a_document(json())),
    };
    if head
        .code
        .as_ref()
        .and_then(|c| c.as_str())
        .is_some_and(|c| !c.is_empty() && c != "0" && c != "200")
    {
        return Err(match json() {
            Ok(j) => Error::Api(Box::new(api_error(&j))),
            Err(e) => not_a_document(Err(e)),
        });
    }
    serde_json::from_slice::<T>(&body).map_err(|e| Error::Decode {
        action: action.into(),
        reason: format!("unexpected shape: {e}"),
        request_id: head
            .request_id
            .as_ref()
            .and_then(|r| r.as_str())
            .map(String::from)
            .unwrap_or_else(|| request_id.clone()),
        snippet: snippet(),
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The parameters whose values logs show: ids, regions, paging and the request's own
/// fields. Every other value (a name, a description, a tag, a build's content, a
/// signature or token) may come from a sensitive variable, and logs at any verbosity
/// never show one.
const LOGGED: &[&str] = &[
    "RegionId",
    "DestinationRegionId",
    "ImageId",
    "SourceImageId",
    "SnapshotId",
    "InstanceId",
    "TaskId",
    "TaskIds",
    "ImagePipelineId",
    "ExecutionId",
    "ImageComponentId",
    "ResourceGroupId",
    "ClientToken",
    "PageNumber",
    "PageSize",
    "MaxResults",
    "NextToken",
    "Status",
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "AccessKeyId",
];

/// Parameters for logs: names always, values only of [`LOGGED`] parameters (`ImageId.3`
/// counts as `ImageId`).
pub fn redact(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            let base = k.split('.').next().unwrap_or(k);
            if LOGGED.contains(&base) {
                format!("{k}={v}")
            } else {
                format!("{k}=<redacted>")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint_for("cn-hangzhou", None).expect("ok"),
            "https://ecs.aliyuncs.com"
        );
        assert_eq!(
            endpoint_for("cn-shanghai", None).expect("ok"),
            "https://ecs.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            endpoint_for("x", Some("ecs.example.com")).expect("ok"),
            "https://ecs.example.com"
        );
        assert_eq!(
            endpoint_for("x", Some("http://127.0.0.1:8080/")).expect("ok"),
            "http://127.0.0.1:8080"
        );
        assert!(endpoint_for("x", Some("http://ecs.example.com")).is_err());
    }

    fn answered(status: u16, body: &str) -> Answer {
        Answer {
            status,
            request_id: "R-header".into(),
            retry_after: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_decode_from_their_text_and_errors_keep_their_code_and_request_id() {
        let r: ops::DescribeImagesResponse = interpret(
            "DescribeImages",
            answered(
                200,
                r#"{"RequestId":"R-1","TotalCount":1,"PageNumber":1,"PageSize":100,"Images":{"Image":[{"ImageId":"m-1","Status":"Available"}]}}"#,
            ),
        )
        .expect("decoded");
        assert_eq!(r.images.items[0].image_id, "m-1");
        // A 2xx answer carrying an error code is the error.
        let e = interpret::<serde_json::Value>(
            "DescribeImages",
            answered(
                200,
                r#"{"RequestId":"R-2","Code":"Throttling","Message":"slow down"}"#,
            ),
        )
        .expect_err("an error document");
        assert_eq!(e.code(), Some("Throttling"));
        assert!(e.to_string().contains("R-2"), "{e}");
        // Wrongly shaped: the request id of the body is kept.
        let e = interpret::<ops::DescribeImagesResponse>(
            "DescribeImages",
            answered(200, r#"{"RequestId":"R-3","Images":7}"#),
        )
        .expect_err("wrong shape");
        assert!(
            matches!(&e, Error::Decode { request_id, reason, .. } if request_id == "R-3" && reason.starts_with("unexpected shape")),
            "{e:?}"
        );
        for (body, reason) in [
            ("[1, 2]", "the answer is not a JSON object"),
            ("<xml/>", "not JSON"),
        ] {
            let e = interpret::<serde_json::Value>("X", answered(200, body)).expect_err(body);
            assert!(
                matches!(&e, Error::Decode { reason: r, request_id, .. } if r.starts_with(reason) && request_id == "R-header"),
                "{body}: {e:?}"
            );
        }
        let e = interpret::<serde_json::Value>(
            "X",
            answered(
                404,
                r#"{"RequestId":"R-4","Code":"InvalidImageId.NotFound","Message":"gone"}"#,
            ),
        )
        .expect_err("404");
        assert_eq!(e.code(), Some("InvalidImageId.NotFound"));
    }

    #[test]
    fn logs_show_ids_and_never_a_value_that_could_be_sensitive() {
        let s = redact(&[
            ("Signature".into(), "abc".into()),
            ("SecurityToken".into(), "tok".into()),
            ("RegionId".into(), "r".into()),
            ("ImageId.2".into(), "m-2".into()),
            ("Description".into(), "built with hunter2".into()),
            ("Tag.1.Value".into(), "HUNTER2".into()),
            ("BuildContent".into(), "RUN echo hunter2".into()),
        ]);
        assert_eq!(
            s,
            "Signature=<redacted>&SecurityToken=<redacted>&RegionId=r&ImageId.2=m-2&Description=<redacted>&Tag.1.Value=<redacted>&BuildContent=<redacted>"
        );
    }
}
