//! `imgform cloud serve` and `imgform cloud seed`: the local cloud as a server, and adding
//! objects to its world.

use super::Cli;
use super::Ended;
use crate::localcloud::{self, Faults, Options};
use anyhow::Context as _;
use std::io::Write;
use std::path::PathBuf;

/// `cloud` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Run the local cloud as an HTTP server that speaks the ECS API.
    Serve(ServeArgs),
    /// Add instances, snapshots, OSS objects and images from a JSON file.
    Seed(SeedArgs),
}

/// Flags of `cloud serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8490")]
    pub listen: String,
    /// Data directory (default: .imgform/local-cloud in the working directory).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Faults, e.g. throttle=0.2,error500=0.05,reset=0.02,latency=50ms,fail_create=0.1,seed=7
    #[arg(long, default_value = "")]
    pub faults: String,
    /// AccessKeyId to accept.
    #[arg(long, default_value = localcloud::DEFAULT_KEY_ID)]
    pub access_key_id: String,
    /// AccessKeySecret to accept (the environment variable keeps it out of `ps`). It is
    /// never printed.
    #[arg(long, env = "IMGFORM_LOCAL_SECRET", hide_env_values = true, default_value = localcloud::DEFAULT_SECRET, hide_default_value = true)]
    pub access_key_secret: String,
}

/// Flags of `cloud seed`.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// The seed document.
    #[arg(long)]
    pub file: PathBuf,
    /// Data directory (default: .imgform/local-cloud in the working directory).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

fn data_dir(cli: &Cli, d: &Option<PathBuf>) -> PathBuf {
    d.clone()
        .unwrap_or_else(|| cli.chdir.join(".imgform").join("local-cloud"))
}

/// Runs a `cloud` subcommand.
pub fn exec(cli: &Cli, cmd: &Cmd) -> anyhow::Result<Ended> {
    match cmd {
        Cmd::Serve(a) => serve(cli, a),
        Cmd::Seed(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?;
            let doc: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", a.file.display()))?;
            let opts = Options {
                data: Some(data_dir(cli, &a.data)),
                ..Options::default()
            };
            let data = data_dir(cli, &a.data);
            let _lock = localcloud::DataLock::acquire(&data).map_err(anyhow::Error::msg)?;
            let mut cloud = localcloud::Cloud::open(&opts).map_err(anyhow::Error::msg)?;
            let added = cloud
                .seed_from(&doc)
                .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
            let added = if added.is_empty() {
                "no objects (region settings only)".to_string()
            } else {
                added
            };
            println!(
                "Added {added} to the local cloud in {}.",
                data_dir(cli, &a.data).display()
            );
            Ok(Ended::Success)
        }
    }
}

/// Where the secret the server accepts comes from, in words that never contain it.
fn secret_source(secret: &str) -> &'static str {
    if std::env::var("IMGFORM_LOCAL_SECRET").is_ok_and(|e| e == secret) {
        "from IMGFORM_LOCAL_SECRET"
    } else if secret == localcloud::DEFAULT_SECRET {
        "the built-in default (the README names it; set IMGFORM_LOCAL_SECRET to choose another)"
    } else {
        "from --access-key-secret"
    }
}

fn serve(cli: &Cli, a: &ServeArgs) -> anyhow::Result<Ended> {
    localcloud::check_speed(a.speed).map_err(|e| anyhow::anyhow!("--speed: {e}"))?;
    let faults = Faults::parse(&a.faults).map_err(|e| anyhow::anyhow!("invalid --faults: {e}"))?;
    let data = data_dir(cli, &a.data);
    let opts = Options {
        listen: a.listen.clone(),
        data: Some(data.clone()),
        speed: a.speed,
        faults,
        key_id: a.access_key_id.clone(),
        secret: a.access_key_secret.clone(),
        ..Options::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let h = localcloud::start(opts).await.map_err(anyhow::Error::msg)?;
        if !h.addr.ip().is_loopback() {
            eprintln!(
                "warning: the local cloud listens on {}, beyond this machine: anyone who can reach it and knows the credentials can use it; pass --listen 127.0.0.1:PORT to keep it local",
                h.addr
            );
        }
        let mut out = std::io::stdout();
        writeln!(out, "imgform local cloud listening on {}", h.endpoint())?;
        writeln!(
            out,
            "  credentials: AccessKeyId={}, AccessKeySecret {}",
            a.access_key_id,
            secret_source(&a.access_key_secret)
        )?;
        writeln!(
            out,
            "  data: {}  speed: {}x  regions: cn-hangzhou, cn-shanghai, cn-beijing",
            data.display(),
            a.speed
        )?;
        writeln!(
            out,
            "  stats: curl -u {}:SECRET {}/_imgform/stats   (Ctrl-C stops)",
            a.access_key_id,
            h.endpoint()
        )?;
        out.flush()?;
        tokio::signal::ctrl_c().await?;
        h.stop().await;
        Ok::<_, anyhow::Error>(Ended::Success)
    })
}
