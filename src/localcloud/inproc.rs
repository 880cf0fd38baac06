//! The local cloud in the same process, behind the client's [`Transport`]: the same
//! operations, life cycles, faults and answers as `cloud serve`, without HTTP or signing,
//! on tokio's clock, so tests of the core can pause time and run hours of simulated
//! waiting in milliseconds. A script can answer chosen calls instead (an image that never
//! leaves `Creating`, a refusal at a chosen moment).

use super::api::ApiErr;
use super::api::Doc;
use super::server::{error_body, request_id, roll_faults, run, Served};
use super::{Cloud, Options};
use crate::cloud::client::{Answer, Transport};
use crate::cloud::error::Error;
use futures_util::future::BoxFuture;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Answers a call instead of the cloud (`None`: the cloud answers).
pub type Script =
    Box<dyn Fn(&str, &BTreeMap<String, String>) -> Option<Result<J, ApiErr>> + Send + Sync>;

/// An in-process local cloud.
pub struct InProcess {
    cloud: Mutex<Cloud>,
    script: Mutex<Option<Script>>,
}

impl InProcess {
    /// Opens a cloud (in memory unless `opts.data` is set).
    pub fn open(opts: &Options) -> Result<Arc<InProcess>, String> {
        Ok(Arc::new(InProcess {
            cloud: Mutex::new(Cloud::open(opts)?),
            script: Mutex::new(None),
        }))
    }

    /// Answers calls with `s` first.
    pub fn script(&self, s: Script) {
        *self.script.lock().expect("never poisoned") = Some(s);
    }

    /// Runs `f` on the cloud (to inspect or change it).
    pub fn with<R>(&self, f: impl FnOnce(&mut Cloud) -> R) -> R {
        f(&mut self.cloud.lock().expect("never poisoned"))
    }

    /// Calls of `action` so far.
    pub fn calls(&self, action: &str) -> u64 {
        self.with(|c| c.calls.get(action).copied().unwrap_or(0))
    }
}

impl Transport for InProcess {
    fn send<'a>(
        &'a self,
        _region: &'a str,
        action: &'a str,
        params: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<Answer, Error>> {
        Box::pin(async move {
            let params: BTreeMap<String, String> = params.iter().cloned().collect();
            let region = params.get("RegionId").cloned().unwrap_or_default();
            let rid = request_id();
            let scripted = self
                .script
                .lock()
                .expect("never poisoned")
                .as_ref()
                .and_then(|s| s(action, &params));
            let served = {
                let mut g = self.cloud.lock().expect("never poisoned");
                *g.calls.entry(action.to_string()).or_default() += 1;
                match scripted {
                    Some(r) => Served::Answer(r.map(Doc::Json)),
                    None => {
                        let faults = roll_faults(&mut g, action);
                        match faults.before() {
                            Some(s) => s,
                            None => run(&mut g, action, &params, &faults),
                        }
                    }
                }
            };
            match served {
                Served::Reset => Err(Error::Transport {
                    action: action.into(),
                    endpoint: "in-process local cloud".into(),
                    message: "the connection was reset".into(),
                }),
                Served::Answer(Ok(v)) => Ok(Answer {
                    status: 200,
                    request_id: rid.clone(),
                    retry_after: None,
                    body: v.with_request_id(&rid).into_bytes(),
                }),
                Served::Answer(Err(e)) => Ok(Answer {
                    status: e.status,
                    request_id: rid.clone(),
                    retry_after: e.retry_after_ms.map(std::time::Duration::from_millis),
                    body: error_body(&e, &rid, &region).to_string().into_bytes(),
                }),
            }
        })
    }
}
