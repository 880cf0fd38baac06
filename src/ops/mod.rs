//! Every operation of imgform, as cargo's `ops`: each a function from typed options to a
//! typed result, printing nothing. A command of `cli` parses its flags, opens a [`Run`]
//! (or a state backend), calls one operation, hands the result to `render` and maps it to
//! an exit code.
//!
//! - [`Run`]: the run context of a plan or apply: the evaluated configuration, the state
//!   backend under its lock, the cloud session, the local cloud when asked for.
//! - [`plan`]: refresh, then the pure planner; the configuration digest of saved plans.
//! - [`apply`]: a saved plan checked against the plan made again, the refresh a plan
//!   keeps, the walk.
//! - [`adopt`]: adopting the objects a Terraform state manages.

pub mod adopt;
pub mod apply;
pub mod plan;

use crate::apply::{Connect, Session, SharedStore};
use crate::cloud::client::Scheme;
use crate::cloud::creds::Credentials;
use crate::config::check::Evaluated;
use crate::localcloud;
use crate::state::backend::{Backend, LockGuard};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to open a [`Run`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The configuration directory (the local cloud keeps its world under it).
    pub dir: PathBuf,
    /// Start the local cloud in-process and talk to it (`--cloud local`).
    pub local_cloud: bool,
    /// The signature scheme, when not the provider's.
    pub scheme: Option<Scheme>,
    /// What the lock says this run does (`plan`, `apply`, ...).
    pub operation: String,
    /// How long to wait for the state lock.
    pub lock_timeout: Duration,
    /// Take the state lock at all (`--lock=false` does not).
    pub lock: bool,
}

/// Everything a plan or apply needs.
pub struct Run {
    /// The tokio runtime.
    pub rt: tokio::runtime::Runtime,
    /// The evaluated configuration.
    pub ev: Arc<Evaluated>,
    /// The state store.
    pub store: SharedStore,
    /// The cloud session.
    pub sess: Arc<Session>,
    /// The local cloud, when asked for.
    pub local: Option<localcloud::Handle>,
    /// The configuration directory.
    pub dir: PathBuf,
    /// The state lock this run holds; released when the run is dropped, on every exit
    /// path (after the local cloud stops, the next run may take it).
    lock: Option<LockGuard>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(h) = self.local.take() {
            self.rt.block_on(h.stop());
        }
        drop(self.lock.take());
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Run {
    /// Takes the lock of `backend` for the operation (waiting up to its timeout), then
    /// starts the local cloud if asked (after the lock: a run that waited sees the world
    /// the previous run left), and connects to the cloud. The lock is held until the run
    /// is dropped.
    pub fn open(ev: Evaluated, backend: Box<dyn Backend>, o: &OpenOptions) -> anyhow::Result<Run> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let store: SharedStore = Arc::new(Mutex::new(backend));
        let lock = if o.lock {
            Some(LockGuard::take(
                store.clone(),
                &o.operation,
                o.lock_timeout,
            )?)
        } else {
            tracing::warn!(
                "running {} without the state lock (--lock=false)",
                o.operation
            );
            None
        };
        // The guard releases the lock if starting the cloud fails, and Run's Drop after.
        let (local, sess) = prepare_cloud(&rt, &ev, o)?;
        Ok(Run {
            rt,
            ev: Arc::new(ev),
            store,
            sess: Arc::new(sess),
            local,
            dir: o.dir.clone(),
            lock,
        })
    }
}

/// The local cloud (`IMGFORM_LOCAL_SPEED`, `IMGFORM_LOCAL_FAULTS`) when asked for, and the
/// session that reaches the cloud.
fn prepare_cloud(
    rt: &tokio::runtime::Runtime,
    ev: &Evaluated,
    o: &OpenOptions,
) -> anyhow::Result<(Option<localcloud::Handle>, Session)> {
    let mut how = Connect {
        speed: 1.0,
        scheme: o.scheme,
        ..Default::default()
    };
    let mut local = None;
    if o.local_cloud {
        let speed: f64 = match env("IMGFORM_LOCAL_SPEED") {
            Some(s) => s
                .parse()
                .map_err(|_| format!("{s:?} is not a number"))
                .and_then(localcloud::check_speed)
                .map_err(|e| anyhow::anyhow!("IMGFORM_LOCAL_SPEED: {e}"))?,
            None => 60.0,
        };
        let faults = match env("IMGFORM_LOCAL_FAULTS") {
            Some(f) => localcloud::Faults::parse(&f)
                .map_err(|e| anyhow::anyhow!("IMGFORM_LOCAL_FAULTS: {e}"))?,
            None => localcloud::Faults::default(),
        };
        let opts = localcloud::Options {
            data: Some(o.dir.join(".imgform").join("local-cloud")),
            speed,
            faults,
            ..Default::default()
        };
        let h = rt
            .block_on(localcloud::start(opts))
            .map_err(anyhow::Error::msg)?;
        how.endpoint = Some(h.endpoint());
        how.credentials = Some(Credentials {
            access_key_id: localcloud::DEFAULT_KEY_ID.into(),
            access_key_secret: localcloud::DEFAULT_SECRET.into(),
            security_token: None,
            source: "the local cloud".into(),
        });
        how.speed = speed;
        how.default_region = Some("cn-hangzhou".into());
        tracing::debug!(endpoint = %h.endpoint(), speed, "started the local cloud");
        local = Some(h);
    }
    let sess = match Session::connect(&ev.providers, &how, &env) {
        Ok(s) => s,
        Err(e) => {
            if let Some(h) = local {
                rt.block_on(h.stop());
            }
            anyhow::bail!("{e}");
        }
    };
    Ok((local, sess))
}
