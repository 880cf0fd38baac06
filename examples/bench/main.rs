//! imgform's benchmarks, against the built-in local cloud. Prints one table of figures.
//!
//!     cargo run --release --example bench -- [all|apply-wide|refresh|plan-large|plan-ref|validate-small|chain|crash|kill|soak]
//!     cargo run --release --example bench -- scale [images|imports|builds|plans] [N...]
//!
//! Simulated time runs `BENCH_SPEED` times faster (default 120): a 4-minute image takes 2 s,
//! so ratios keep real proportions while a run takes seconds. `crash` and `soak` drive the
//! release binary (`target/release/imgform`), so build it first. `scale` runs the release
//! binary against `imgform cloud serve` as separate processes (see `scale.rs`); its speed is
//! `SCALE_SPEED` (default 20: a 40 GiB image takes 12 s).

mod scale;

use imgform::apply::{walk, Connect, Session};
use imgform::cloud::client::{Client, ClientConfig, Scheme};
use imgform::cloud::creds::Credentials;
use imgform::cloud::ops;
use imgform::cloud::waiter::Stop;
use imgform::config::check::{load, Options};
use imgform::config::vars::VarOptions;
use imgform::localcloud::{self, Faults, Handle};
use imgform::plan::build::{plan, Input, NoReader};
use imgform::plan::model::Options as PlanOptions;
use imgform::state::store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn creds() -> Credentials {
    Credentials {
        access_key_id: localcloud::DEFAULT_KEY_ID.into(),
        access_key_secret: localcloud::DEFAULT_SECRET.into(),
        security_token: None,
        source: "bench".into(),
    }
}

fn calls(h: &Handle, action: &str) -> u64 {
    h.stats()["calls"][action].as_u64().unwrap_or(0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub(crate) struct Row(pub(crate) String, pub(crate) String);

fn write_config(dir: &Path, body: &str) {
    std::fs::write(
        dir.join("main.hcl"),
        format!("provider \"alicloud\" {{\n  region = \"cn-hangzhou\"\n}}\n{body}"),
    )
    .expect("write config");
}

/// Plans and applies `dir` against the cloud at `h`; returns (wall, session).
async fn apply_dir(
    dir: &Path,
    h: &Handle,
    speed: f64,
    parallelism: usize,
) -> (Duration, Arc<Session>, walk::Outcome) {
    let (ev, diags) = load(&Options {
        dir: dir.to_path_buf(),
        vars: VarOptions::default(),
        ..Default::default()
    });
    let ev = ev.unwrap_or_else(|| panic!("invalid config: {diags:?}"));
    let sess = Arc::new(
        Session::connect(
            &ev.providers,
            &Connect {
                endpoint: Some(h.endpoint()),
                credentials: Some(creds()),
                speed,
                scheme: None,
                default_region: None,
                transport: None,
            },
            &|_| None,
        )
        .expect("connect"),
    );
    let backend: Box<dyn imgform::state::backend::Backend> =
        Box::new(Store::open(&dir.join("imgform.state.db")).expect("state"));
    let store = Arc::new(Mutex::new(backend));
    let state = store.lock().expect("lock").load().expect("load");
    let regions = sess.regions.clone();
    let opts = PlanOptions::default();
    let (p, diags) = plan(
        Input {
            ev: &ev,
            state: state.clone(),
            drift: vec![],
            regions: &regions,
            options: &opts,
        },
        &mut NoReader,
    );
    let p = p.unwrap_or_else(|| panic!("plan failed: {diags:?}"));
    let t = Instant::now();
    let out = walk::apply(
        sess.clone(),
        store,
        Arc::new(ev),
        &p,
        &walk::Options {
            parallelism,
            max_in_progress: None,
        },
        Arc::new(imgform::events::Discard),
        Stop::new(),
    )
    .await;
    assert!(out.failed.is_empty(), "apply failed: {:?}", out.failed);
    (t.elapsed(), sess, out)
}

async fn apply_wide(speed: f64, n: usize) -> Vec<Row> {
    let h = localcloud::start(localcloud::Options {
        speed,
        ..Default::default()
    })
    .await
    .expect("cloud");
    let dir = tempfile::tempdir().expect("tmp");
    write_config(dir.path(), &format!("resource \"alicloud_image\" \"wide\" {{\n  count       = {n}\n  image_name  = \"wide-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n"));
    let before = h.stats()["calls"].clone();
    // When did the last create reach the cloud?
    let cloud = h.cloud.clone();
    let watcher = tokio::spawn(async move {
        let t = Instant::now();
        loop {
            let n = cloud.lock().expect("lock").stats()["calls"]["CreateImage"]
                .as_u64()
                .unwrap_or(0);
            if n >= 200 {
                return t.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let (wall, sess, _) = apply_dir(dir.path(), &h, speed, 10).await;
    let sent = watcher.await.expect("watcher");
    let after = h.stats()["calls"].clone();
    let api_calls: u64 = after
        .as_object()
        .expect("calls")
        .iter()
        .map(|(k, v)| v.as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0))
        .sum();
    // Every image is a 40 GiB snapshot: 120 s + 3 s/GiB = 240 simulated seconds.
    let longest = Duration::from_secs_f64(240.0 / speed);
    let tick = sess.poll_max;
    let (ticks, describe, batch) = sess
        .poll_stats()
        .values()
        .fold((0, 0, 0), |a, s| (a.0 + s.0, a.1 + s.1, a.2.max(s.2)));
    // Naive baseline: each image created and polled on its own, ten at a time (Terraform's
    // default parallelism with a per-resource waiter).
    let client = Client::new(ClientConfig {
        region: "cn-hangzhou".into(),
        endpoint: Some(h.endpoint()),
        credentials: creds(),
        scheme: Scheme::V3,
        max_retries: 8,
        timeout: Duration::from_secs(30),
    })
    .expect("client");
    let naive_before = h.stats()["calls"].clone();
    let t = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(10));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (c, sem, tick) = (client.clone(), sem.clone(), sess.poll_min);
        set.spawn(async move {
            let _p = sem.acquire().await.expect("semaphore");
            let r: ops::CreateImageResponse = c
                .call(
                    "CreateImage",
                    &ops::CreateImage {
                        region_id: "cn-hangzhou".into(),
                        snapshot_id: Some("s-bp1system0001".into()),
                        image_name: Some(format!("naive-{i}")),
                        ..Default::default()
                    },
                )
                .await
                .expect("create");
            loop {
                tokio::time::sleep(tick).await;
                let imgs = c
                    .describe_images_by_ids(std::slice::from_ref(&r.image_id))
                    .await
                    .expect("describe");
                if imgs.first().is_some_and(|x| x.status == "Available") {
                    break;
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let naive_wall = t.elapsed();
    let naive_after = h.stats()["calls"].clone();
    let naive_calls: u64 = naive_after
        .as_object()
        .expect("calls")
        .iter()
        .map(|(k, v)| v.as_u64().unwrap_or(0) - naive_before[k].as_u64().unwrap_or(0))
        .sum();
    h.stop().await;
    let ratio = wall.as_secs_f64() / (longest + tick).as_secs_f64();
    vec![
        Row(
            format!("apply-wide: {n} images, wall"),
            format!(
                "{:.2} s (the last create reached the cloud after {:.2} s)",
                wall.as_secs_f64(),
                sent.as_secs_f64()
            ),
        ),
        Row(
            "apply-wide: longest single operation".into(),
            format!(
                "{:.2} s (240 simulated s / speed {speed})",
                longest.as_secs_f64()
            ),
        ),
        Row(
            "apply-wide: wall / (longest + one tick)".into(),
            format!(
                "{ratio:.2} (target <= 1.2; tick {:.3} s)",
                tick.as_secs_f64()
            ),
        ),
        Row(
            "apply-wide: DescribeImages calls per tick".into(),
            format!(
                "{:.2} ({describe} calls in {ticks} ticks, up to {batch} images per tick)",
                describe as f64 / ticks.max(1) as f64
            ),
        ),
        Row(
            "apply-wide: API calls, imgform".into(),
            format!("{api_calls}"),
        ),
        Row(
            "apply-wide: naive per-resource baseline, wall".into(),
            format!(
                "{:.2} s ({:.1}x imgform)",
                naive_wall.as_secs_f64(),
                naive_wall.as_secs_f64() / wall.as_secs_f64()
            ),
        ),
        Row(
            "apply-wide: API calls, naive baseline".into(),
            format!(
                "{naive_calls} ({:.1}x imgform)",
                naive_calls as f64 / api_calls.max(1) as f64
            ),
        ),
    ]
}

async fn refresh_bench(n: usize) -> Vec<Row> {
    let h = localcloud::start(localcloud::Options::default())
        .await
        .expect("cloud");
    let images: Vec<serde_json::Value> = (0..n).map(|i| serde_json::json!({"id": format!("m-bench{i:06}"), "name": format!("bench-{i}"), "owner_alias": "self"})).collect();
    h.cloud
        .lock()
        .expect("lock")
        .seed_from(&serde_json::json!({"regions": {"cn-hangzhou": {"images": images}}}))
        .expect("seed");
    let dir = tempfile::tempdir().expect("tmp");
    write_config(dir.path(), &format!("resource \"alicloud_image\" \"many\" {{\n  count       = {n}\n  image_name  = \"bench-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n"));
    {
        let mut store = Store::open(&dir.path().join("imgform.state.db")).expect("state");
        let mut st = imgform::state::State::default();
        for i in 0..n {
            let addr: imgform::addr::ResourceAddr =
                format!("alicloud_image.many[{i}]").parse().expect("addr");
            st.resources.insert(addr.clone(), imgform::state::ResourceState { addr, kind: "alicloud_image".into(), provider: "alicloud".into(), region: "cn-hangzhou".into(), id: Some(format!("m-bench{i:06}")), status: imgform::state::Status::Ready, client_token: None, generation: 1, attrs: serde_json::json!({"image_name": format!("bench-{i}"), "snapshot_id": "s-bp1system0001"}).into(), deps: vec![], pending: None });
        }
        st.lineage = store.load().expect("load").lineage;
        st.serial = 1;
        store.replace_all(&st).expect("write state");
    }
    let before = calls(&h, "DescribeImages");
    let t = Instant::now();
    let (ev, _) = load(&Options {
        dir: dir.path().to_path_buf(),
        vars: VarOptions::default(),
        ..Default::default()
    });
    let ev = ev.expect("config");
    let sess = Session::connect(
        &ev.providers,
        &Connect {
            endpoint: Some(h.endpoint()),
            credentials: Some(creds()),
            speed: 1.0,
            scheme: None,
            default_region: None,
            transport: None,
        },
        &|_| None,
    )
    .expect("connect");
    let state = Store::open(&dir.path().join("imgform.state.db"))
        .expect("state")
        .load()
        .expect("load");
    let (refreshed, drift) = imgform::apply::refresh(&sess, state)
        .await
        .expect("refresh");
    let regions = sess.regions.clone();
    let opts = PlanOptions::default();
    let (p, _) = plan(
        Input {
            ev: &ev,
            state: refreshed,
            drift,
            regions: &regions,
            options: &opts,
        },
        &mut NoReader,
    );
    let wall = t.elapsed();
    let p = p.expect("plan");
    let reads = calls(&h, "DescribeImages") - before;
    h.stop().await;
    vec![
        Row(
            format!("refresh: plan with {n} images in state, wall"),
            format!(
                "{:.2} s (target < 2 s); plan has changes: {}",
                wall.as_secs_f64(),
                p.has_changes()
            ),
        ),
        Row(
            "refresh: read calls".into(),
            format!("{reads} (target <= {})", n.div_ceil(100)),
        ),
    ]
}

fn plan_large(n: usize) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut body = String::new();
    for i in 0..n {
        body.push_str(&format!("resource \"alicloud_image\" \"img_{i}\" {{\n  image_name  = \"img-{i}\"\n  description = \"image number {i}\"\n  snapshot_id = \"s-bp1system0001\"\n  tags = {{\n    index = \"{i}\"\n  }}\n}}\n"));
    }
    write_config(dir.path(), &body);
    let t = Instant::now();
    let (ev, diags) = load(&Options {
        dir: dir.path().to_path_buf(),
        vars: VarOptions::default(),
        ..Default::default()
    });
    let parsed = t.elapsed();
    let ev = ev.unwrap_or_else(|| panic!("{diags:?}"));
    let state = imgform::state::State::default();
    let regions = [("alicloud".to_string(), "cn-hangzhou".to_string())]
        .into_iter()
        .collect();
    let opts = PlanOptions::default();
    let (p, _) = plan(
        Input {
            ev: &ev,
            state: state.clone(),
            drift: vec![],
            regions: &regions,
            options: &opts,
        },
        &mut NoReader,
    );
    let total = t.elapsed();
    vec![
        Row(
            format!("plan-large: parse + validate + graph of {n} resources"),
            format!("{:.3} s", parsed.as_secs_f64()),
        ),
        Row(
            format!(
                "plan-large: ... + diff ({} changes)",
                p.map(|p| p.changes.len()).unwrap_or(0)
            ),
            format!("{:.3} s (target < 1 s)", total.as_secs_f64()),
        ),
        Row(
            "plan-large: peak memory of the process".into(),
            format!("{:.0} MB (target < 200 MB)", peak_rss_mb()),
        ),
    ]
}

/// A plan of 2N applied images where `b[i]` reads `a[count.index].id` (the pattern of
/// pipelines and their builds): what one indexed reference costs as N grows.
fn plan_ref(n: usize) -> Vec<Row> {
    use imgform::state::{ResourceState, State, Status};
    let dir = tempfile::tempdir().expect("tmp");
    write_config(
        dir.path(),
        &format!("resource \"alicloud_image\" \"a\" {{\n  count       = {n}\n  image_name  = \"a-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n\nresource \"alicloud_image\" \"b\" {{\n  count       = {n}\n  image_name  = \"b-${{count.index}}\"\n  description = alicloud_image.a[count.index].id\n  snapshot_id = \"s-bp1system0001\"\n}}\n"),
    );
    let (ev, diags) = load(&Options {
        dir: dir.path().to_path_buf(),
        vars: VarOptions::default(),
        ..Default::default()
    });
    let ev = ev.unwrap_or_else(|| panic!("{diags:?}"));
    let mut state = State::default();
    for i in 0..n {
        for (name, desc) in [("a", None), ("b", Some(format!("m-a{i:016}")))] {
            let addr: imgform::addr::ResourceAddr = format!("alicloud_image.{name}[{i}]")
                .parse()
                .expect("address");
            let mut attrs = serde_json::json!({"image_name": format!("{name}-{i}"), "snapshot_id": "s-bp1system0001"});
            if let Some(d) = desc {
                attrs["description"] = serde_json::json!(d);
            }
            state.resources.insert(
                addr.clone(),
                ResourceState {
                    addr,
                    kind: "alicloud_image".into(),
                    provider: "alicloud".into(),
                    region: "cn-hangzhou".into(),
                    id: Some(format!("m-{name}{i:016}")),
                    status: Status::Ready,
                    client_token: None,
                    generation: 1,
                    attrs: attrs.into(),
                    deps: vec![],
                    pending: None,
                },
            );
        }
    }
    let regions = [("alicloud".to_string(), "cn-hangzhou".to_string())]
        .into_iter()
        .collect();
    let opts = PlanOptions::default();
    let t = Instant::now();
    let (p, diags) = plan(
        Input {
            ev: &ev,
            state: state.clone(),
            drift: vec![],
            regions: &regions,
            options: &opts,
        },
        &mut NoReader,
    );
    let took = t.elapsed();
    let p = p.unwrap_or_else(|| panic!("{diags:?}"));
    assert!(!p.has_changes(), "the state matches the configuration");
    vec![Row(
        format!(
            "plan-ref: {} applied images, b[i] reads a[count.index].id",
            2 * n
        ),
        format!("{:.3} s", took.as_secs_f64()),
    )]
}

fn validate_small() -> Vec<Row> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    let runs = 50;
    let t = Instant::now();
    for _ in 0..runs {
        let (ev, _) = load(&Options {
            dir: dir.clone(),
            vars: VarOptions::default(),
            ..Default::default()
        });
        assert!(ev.is_some());
    }
    let per = t.elapsed() / runs;
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/imgform");
    let mut rows = vec![Row(
        "validate-small: quickstart, in-process, per run".into(),
        format!("{:.2} ms (target < 50 ms)", per.as_secs_f64() * 1000.0),
    )];
    if bin.exists() {
        let t = Instant::now();
        for _ in 0..10 {
            let o = std::process::Command::new(&bin)
                .args(["-C", dir.to_str().expect("utf-8"), "validate"])
                .output()
                .expect("runs");
            assert!(o.status.success());
        }
        rows.push(Row(
            "validate-small: `imgform validate` process, per run".into(),
            format!("{:.2} ms", t.elapsed().as_secs_f64() * 100.0),
        ));
    }
    rows
}

async fn chain(speed: f64, depth: usize) -> Vec<Row> {
    let h = localcloud::start(localcloud::Options {
        speed,
        ..Default::default()
    })
    .await
    .expect("cloud");
    let dir = tempfile::tempdir().expect("tmp");
    let mut body = String::from("resource \"alicloud_image\" \"c0\" {\n  image_name  = \"chain-0\"\n  snapshot_id = \"s-bp1system0001\"\n}\n");
    for i in 1..depth {
        body.push_str(&format!("resource \"alicloud_image\" \"c{i}\" {{\n  image_name  = \"chain-{i}\"\n  description = \"after ${{alicloud_image.c{}.id}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n", i - 1));
    }
    write_config(dir.path(), &body);
    let (wall, sess, _) = apply_dir(dir.path(), &h, speed, 10).await;
    h.stop().await;
    let op = 240.0 / speed;
    let sum = op * depth as f64;
    vec![
        Row(format!("chain: {depth}-deep dependency chain, wall"), format!("{:.2} s", wall.as_secs_f64())),
        Row("chain: sum of its operations".into(), format!("{sum:.2} s; wall/sum {:.2} (overhead is the first poll tick per link, {:.3}-{:.3} s)", wall.as_secs_f64() / sum, sess.poll_min.as_secs_f64(), sess.poll_max.as_secs_f64())),
    ]
}

pub(crate) fn release_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/imgform");
    assert!(
        bin.exists(),
        "build the release binary first: cargo build --release"
    );
    bin
}

fn images_in(dir: &Path) -> Vec<String> {
    let c = localcloud::Cloud::open(&localcloud::Options {
        data: Some(dir.join(".imgform/local-cloud")),
        ..Default::default()
    })
    .expect("cloud");
    c.custom_images().into_iter().map(|x| x.1).collect()
}

fn dup_orphans(names: &[String], want: &[String]) -> (usize, usize) {
    let mut dups = 0;
    for w in want {
        let n = names.iter().filter(|x| *x == w).count();
        if n > 1 {
            dups += n - 1;
        }
    }
    let orphans = names.iter().filter(|x| !want.contains(x)).count();
    (dups, orphans)
}

fn crash(rounds: usize, seed: u64) -> Vec<Row> {
    let bin = release_bin();
    let dir = tempfile::tempdir().expect("tmp");
    let n = 10;
    write_config(dir.path(), &format!("resource \"alicloud_image\" \"c\" {{\n  count       = {n}\n  image_name  = \"crash-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\nresource \"alicloud_image_import\" \"i\" {{\n  image_name = \"crash-import\"\n  disk_device_mapping {{\n    oss_bucket = \"imgform-quickstart\"\n    oss_object = \"images/ubuntu-22.04.qcow2\"\n  }}\n}}\n"));
    let want: Vec<String> = (0..n)
        .map(|i| format!("crash-{i}"))
        .chain(["crash-import".to_string()])
        .collect();
    let mut rng = localcloud::Rng::new(seed);
    let mut points = Vec::new();
    for r in 0..rounds {
        let delay = Duration::from_millis(20 + rng.next_u64() % 900);
        points.push(delay.as_millis());
        let mut child = std::process::Command::new(&bin)
            .current_dir(dir.path())
            .env("IMGFORM_LOCAL_SPEED", "300")
            .args(["--cloud", "local", "apply", "--auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        // Every fifth round destroys half-way too, so kills hit deletes.
        if r % 5 == 4 {
            let mut child = std::process::Command::new(&bin)
                .current_dir(dir.path())
                .env("IMGFORM_LOCAL_SPEED", "300")
                .args(["--cloud", "local", "destroy", "--auto-approve"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            std::thread::sleep(Duration::from_millis(rng.next_u64() % 300));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let mut converged = false;
    for _ in 0..3 {
        let o = std::process::Command::new(&bin)
            .current_dir(dir.path())
            .env("IMGFORM_LOCAL_SPEED", "300")
            .args(["--cloud", "local", "apply", "--auto-approve"])
            .output()
            .expect("apply");
        let p = std::process::Command::new(&bin)
            .current_dir(dir.path())
            .env("IMGFORM_LOCAL_SPEED", "300")
            .args(["--cloud", "local", "plan", "--detailed-exitcode"])
            .output()
            .expect("plan");
        if o.status.success() && p.status.code() == Some(0) {
            converged = true;
            break;
        }
    }
    let names = images_in(dir.path());
    let (dups, orphans) = dup_orphans(&names, &want);
    points.sort();
    vec![
        Row(
            format!("crash: {rounds} SIGKILL rounds (seed {seed})"),
            format!(
                "kill points {}..{} ms after start, median {} ms",
                points.first().copied().unwrap_or(0),
                points.last().copied().unwrap_or(0),
                points.get(points.len() / 2).copied().unwrap_or(0)
            ),
        ),
        Row(
            "crash: converged, duplicates, orphans".into(),
            format!(
                "{converged}, {dups}, {orphans} (targets: true, 0, 0); {} images for {} configured",
                names.len(),
                want.len()
            ),
        ),
    ]
}

#[path = "../../tests/it/killharness.rs"]
mod killharness;

/// The kill harness: every kind through create, replacement and destroy, killed at each of
/// the first `n` state writes and at each of the first `n` API requests of each phase.
fn kill(n: usize) -> Vec<Row> {
    let bin = release_bin();
    let points: Vec<String> = (1..=n)
        .map(|i| format!("state_write:{i}"))
        .chain((1..=n).map(|i| format!("request:{i}")))
        .collect();
    let t = Instant::now();
    let r = killharness::run(
        &|d: &Path| {
            let mut c = std::process::Command::new(&bin);
            c.current_dir(d).env("IMGFORM_LOG", "imgform=error");
            c
        },
        "1200",
        &points,
    );
    for f in &r.failures {
        eprintln!("kill harness: {f}");
    }
    vec![
        Row(
            format!(
                "kill: {} rounds (3 phases x {} points)",
                r.rounds,
                points.len()
            ),
            format!(
                "{} killed at their point, the rest finished first; {:.0} s",
                r.kills,
                t.elapsed().as_secs_f64()
            ),
        ),
        Row(
            "kill: duplicates, orphans, rows without object, hangs (each round also pushes a rewound state and restores an old backup)".into(),
            format!(
                "{}, {}, {}, {} (targets 0, 0, 0, 0); {} round(s) did not converge",
                r.duplicates,
                r.orphans,
                r.rows_without_object,
                r.hangs,
                r.failures.len()
            ),
        ),
    ]
}

fn soak(n: usize) -> Vec<Row> {
    let bin = release_bin();
    let dir = tempfile::tempdir().expect("tmp");
    write_config(dir.path(), &format!("resource \"alicloud_image\" \"s\" {{\n  count       = {n}\n  image_name  = \"soak-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n"));
    let faults = "throttle=0.2,error500=0.05,reset=0.02,lost=0.05,error500_after=0.05,fail_create=0.05,seed=5";
    let run = |args: &[&str]| {
        std::process::Command::new(&bin)
            .current_dir(dir.path())
            .env("IMGFORM_LOCAL_SPEED", "600")
            .env("IMGFORM_LOCAL_FAULTS", faults)
            .env("IMGFORM_LOG", "imgform=warn")
            .args(["--cloud", "local"])
            .args(args)
            .output()
            .expect("runs")
    };
    let mut retries = 0;
    let mut failures = 0;
    let mut applies = 0;
    for _ in 0..6 {
        applies += 1;
        let o = run(&["apply", "--auto-approve"]);
        let err = String::from_utf8_lossy(&o.stderr);
        retries += err.matches("retrying").count();
        failures += err.matches("\nError: ").count();
        if o.status.success() {
            break;
        }
    }
    let names = images_in(dir.path());
    let want: Vec<String> = (0..n).map(|i| format!("soak-{i}")).collect();
    let (dups, orphans) = dup_orphans(&names, &want);
    let d = run(&["destroy", "--auto-approve"]);
    let left = images_in(dir.path()).len();
    vec![
        Row(format!("soak: apply {n} images with {faults}"), format!("{applies} apply run(s), {retries} retries logged, {failures} failures surfaced (failed creates are tainted and replaced)")),
        Row("soak: duplicates, orphans after apply".into(), format!("{dups}, {orphans} (targets 0, 0); {} images", names.len())),
        Row("soak: destroy".into(), format!("exit {:?}, {left} images left", d.status.code())),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().cloned().unwrap_or_else(|| "all".into());
    let speed: f64 = std::env::var("BENCH_SPEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    let all = which == "all";
    if which == "scale" {
        let speed: f64 = std::env::var("SCALE_SPEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20.0);
        let what = args.get(1).map(String::as_str).unwrap_or("all");
        let sizes: Vec<usize> = args.iter().skip(2).filter_map(|a| a.parse().ok()).collect();
        let or = |d: &[usize]| {
            if sizes.is_empty() {
                d.to_vec()
            } else {
                sizes.clone()
            }
        };
        if what == "all" || what == "images" {
            rows.extend(scale::images(speed, &or(&[1, 1000, 3000, 10_000])));
        }
        if what == "all" || what == "imports" {
            rows.extend(scale::imports(speed, &or(&[1, 100, 500])));
        }
        if what == "all" || what == "builds" {
            rows.extend(scale::builds(speed, &or(&[1, 100, 500])));
        }
        if what == "all" || what == "plans" {
            rows.extend(scale::plans(600.0, &or(&[1000, 2000, 8000]), true));
        }
        if what == "all" || what == "checks" {
            rows.extend(scale::checks(&or(&[1000, 10_000]), 3));
        }
        if what == "all" || what == "plans-plain" {
            rows.extend(scale::plans(600.0, &or(&[10_000, 50_000]), false));
        }
    }
    if all || which == "plan-large" {
        rows.extend(plan_large(10_000));
    }
    if all || which == "plan-ref" {
        for n in [500, 1000, 2000] {
            rows.extend(plan_ref(n));
        }
    }
    if all || which == "validate-small" {
        rows.extend(validate_small());
    }
    if all || which == "apply-wide" {
        rows.extend(rt.block_on(apply_wide(speed, 200)));
    }
    if all || which == "refresh" {
        rows.extend(rt.block_on(refresh_bench(5000)));
    }
    if all || which == "chain" {
        rows.extend(rt.block_on(chain(speed, 20)));
    }
    if all || which == "crash" {
        let rounds = std::env::var("CRASH_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(30);
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(42);
        rows.extend(crash(rounds, seed));
    }
    if all || which == "kill" {
        let n = std::env::var("KILL_POINTS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(17);
        rows.extend(kill(n));
    }
    if all || which == "soak" {
        rows.extend(soak(100));
    }
    let _ = Faults::default();
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    println!("{:<w$}  figure", "scenario");
    println!("{}  {}", "-".repeat(w), "-".repeat(40));
    for Row(k, v) in rows {
        println!("{k:<w$}  {v}");
    }
}
