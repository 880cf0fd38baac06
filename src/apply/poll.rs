//! One batched poller per region and kind: every object in flight in a region is read by one
//! DescribeImages call per tick (100 ids per call), import tasks by one DescribeTasks call,
//! builds by one DescribeImagePipelineExecutions call per pipeline. Waiting therefore costs
//! `ceil(N/100)` calls per tick whatever N is.
//!
//! Ticks start at the provider's `poll_interval` (2 s) and grow by half each tick up to
//! `max_poll_interval` (15 s) while nothing new arrives; a new object resets them. Each
//! registered waiter receives every observation of its object and decides for itself when
//! it is done (the acceptor), so unknown statuses are simply "not done yet".

use crate::cloud::client::Client;
use crate::resource::kind::Fetch;
use serde_json::Value as J;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// What a tick saw of one object: its attributes, `None` when the cloud does not have it,
/// or the error of the read.
pub type Observation = Result<Option<J>, String>;

struct Inner {
    waiters: HashMap<String, Vec<mpsc::UnboundedSender<Observation>>>,
    running: bool,
    reset: bool,
}

/// A poller for one (region, kind).
#[derive(Clone)]
pub struct Poller {
    client: Client,
    fetch: Fetch,
    min: Duration,
    max: Duration,
    inner: Arc<Mutex<Inner>>,
    ticks: Arc<AtomicU64>,
    calls: Arc<AtomicU64>,
    max_batch: Arc<AtomicU64>,
}

impl Poller {
    /// A poller reading its keys with `fetch` (a kind's lookup).
    pub fn new(client: Client, fetch: Fetch, min: Duration, max: Duration) -> Poller {
        Poller {
            client,
            fetch,
            min,
            max,
            inner: Arc::new(Mutex::new(Inner {
                waiters: HashMap::new(),
                running: false,
                reset: false,
            })),
            ticks: Arc::default(),
            calls: Arc::default(),
            max_batch: Arc::default(),
        }
    }

    /// (ticks, read calls, most objects in one tick) so far, for benchmarks.
    pub fn stats(&self) -> (u64, u64, u64) {
        (
            self.ticks.load(Ordering::Relaxed),
            self.calls.load(Ordering::Relaxed),
            self.max_batch.load(Ordering::Relaxed),
        )
    }

    /// Watches `id`; observations arrive on the returned channel until it is dropped.
    pub fn watch(&self, id: &str) -> mpsc::UnboundedReceiver<Observation> {
        let (tx, rx) = mpsc::unbounded_channel();
        let start = {
            let mut g = self
                .inner
                .lock()
                .expect("the poller lock is never poisoned");
            g.waiters.entry(id.to_string()).or_default().push(tx);
            g.reset = true;
            let start = !g.running;
            g.running = true;
            start
        };
        if start {
            let me = self.clone();
            tokio::spawn(async move { me.run().await });
        }
        rx
    }

    async fn run(self) {
        let mut interval = self.min;
        loop {
            tokio::time::sleep(interval).await;
            let ids: Vec<String> = {
                let mut g = self
                    .inner
                    .lock()
                    .expect("the poller lock is never poisoned");
                g.waiters.retain(|_, v| {
                    v.retain(|tx| !tx.is_closed());
                    !v.is_empty()
                });
                if g.waiters.is_empty() {
                    g.running = false;
                    return;
                }
                if g.reset {
                    g.reset = false;
                    interval = self.min;
                }
                let mut ids: Vec<String> = g.waiters.keys().cloned().collect();
                ids.sort();
                ids
            };
            self.ticks.fetch_add(1, Ordering::Relaxed);
            self.calls
                .fetch_add(ids.len().div_ceil(100) as u64, Ordering::Relaxed);
            self.max_batch
                .fetch_max(ids.len() as u64, Ordering::Relaxed);
            tracing::debug!(
                objects = ids.len(),
                interval_ms = interval.as_millis() as u64,
                "poll tick"
            );
            let t = std::time::Instant::now();
            let mut result = (self.fetch)(self.client.clone(), ids.clone()).await;
            let fetched = t.elapsed();
            {
                let g = self
                    .inner
                    .lock()
                    .expect("the poller lock is never poisoned");
                // Each observation is moved to its (usually only) waiter: a tick over
                // 10,000 images used to copy every one of them twice.
                for id in &ids {
                    let obs: Observation = match &mut result {
                        Ok(m) => Ok(m.remove(id)),
                        Err(e) => Err(e.to_string()),
                    };
                    if let Some((last, others)) = g.waiters.get(id).and_then(|v| v.split_last()) {
                        for tx in others {
                            let _ = tx.send(obs.clone());
                        }
                        let _ = last.send(obs);
                    }
                }
            }
            tracing::debug!(
                objects = ids.len(),
                read_ms = fetched.as_millis() as u64,
                handed_ms = (t.elapsed() - fetched).as_millis() as u64,
                "poll read done"
            );
            interval = interval.mul_f64(1.5).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::client::{ClientConfig, Scheme};
    use crate::cloud::creds::Credentials;
    use crate::cloud::error::Error;
    use futures_util::future::BoxFuture;

    fn fetch(_: Client, ids: Vec<String>) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
        Box::pin(async move {
            Ok(ids
                .into_iter()
                .filter(|i| i != "gone")
                .map(|i| {
                    (
                        i.clone(),
                        serde_json::json!({ "Status": "Available", "ImageId": i }),
                    )
                })
                .collect())
        })
    }

    #[tokio::test(start_paused = true)]
    async fn every_waiter_of_an_object_gets_its_observation_each_tick() {
        let client = Client::new(ClientConfig {
            region: "cn-hangzhou".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            credentials: Credentials {
                access_key_id: "k".into(),
                access_key_secret: "s".into(),
                security_token: None,
                source: "test".into(),
            },
            scheme: Scheme::V3,
            max_retries: 0,
            timeout: Duration::from_secs(1),
        })
        .expect("a client");
        let p = Poller::new(
            client,
            fetch,
            Duration::from_millis(50),
            Duration::from_millis(50),
        );
        let mut first = p.watch("m-1");
        let mut second = p.watch("m-1");
        let mut other = p.watch("m-2");
        let mut gone = p.watch("gone");
        for rx in [&mut first, &mut second] {
            let obs = rx.recv().await.expect("an observation").expect("read");
            assert_eq!(obs.expect("found")["ImageId"], "m-1");
        }
        let obs = other.recv().await.expect("an observation").expect("read");
        assert_eq!(obs.expect("found")["ImageId"], "m-2");
        assert_eq!(
            gone.recv().await.expect("an observation").expect("read"),
            None
        );
        // The next tick reaches both waiters again: nothing was moved away from one.
        for rx in [&mut first, &mut second] {
            assert!(rx
                .recv()
                .await
                .expect("a second tick")
                .expect("read")
                .is_some());
        }
        let (ticks, calls, most) = p.stats();
        assert!(ticks >= 2, "{ticks}");
        assert_eq!((calls, most), (ticks, 3));
    }
}
