//! Scale through processes: the release binary applies and plans against `imgform cloud
//! serve`, a separate process, as a user's CI job would against ECS. Each figure is a ratio
//! to its physical limit: the longest single operation plus one poll tick.
//!
//! Simulated time runs `speed` times faster, and the poll tick is scaled the same way (the
//! provider's 15-second `max_poll_interval` becomes `15 s / speed`), so every ratio keeps
//! real proportions. The operations' simulated durations are the local cloud's:
//! - an image from the 40 GiB snapshot `s-bp1system0001`: 120 s + 3 s per GiB = 240 s;
//! - an import of the 3 GiB `images/ubuntu-22.04.qcow2`: a 60 s queue, 300 s + 20 s per
//!   GiB of processing, Available 5 s later = 425 s;
//! - a pipeline build: 20 phase units of 30 s = 600 s (creating the pipeline is immediate).

use super::{release_bin, Row};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "imgform-local";
const SECRET: &str = "imgform-local-secret";

/// A `cloud serve` process with its own data directory, on a free port.
struct Served {
    child: Child,
    addr: String,
    _data: tempfile::TempDir,
}

impl Served {
    fn start(speed: f64) -> Served {
        Served::start_with(
            speed,
            r#"{"regions":{"cn-hangzhou":{"image_quota":1000000,"pipeline_quota":100000}}}"#,
        )
    }

    /// A cloud seeded with the `seed` document (`imgform cloud seed`'s format).
    fn start_with(speed: f64, seed_doc: &str) -> Served {
        let bin = release_bin();
        let data = tempfile::tempdir().expect("tmp");
        let seed = data.path().join("seed.json");
        std::fs::write(&seed, seed_doc).expect("seed");
        let cloud = data.path().join("cloud");
        let ok = Command::new(&bin)
            .args(["cloud", "seed", "--file"])
            .arg(&seed)
            .arg("--data")
            .arg(&cloud)
            .stdout(Stdio::null())
            .status()
            .expect("cloud seed");
        assert!(ok.success(), "cloud seed failed");
        let mut child = Command::new(&bin)
            .args(["cloud", "serve", "--listen", "127.0.0.1:0", "--speed"])
            .arg(speed.to_string())
            .arg("--data")
            .arg(&cloud)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cloud serve");
        let mut line = String::new();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        lines
            .read_line(&mut line)
            .expect("the first line of cloud serve");
        // Keep reading, or the server's next line meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .expect("an endpoint")
            .to_string();
        Served {
            child,
            addr,
            _data: data,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The local cloud's `/_imgform/stats` document.
    fn stats(&self) -> serde_json::Value {
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"));
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect");
        write!(
            s,
            "GET /_imgform/stats HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("request");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("response");
        let body = text.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(body).expect("stats JSON")
    }

    fn calls(&self, action: &str) -> u64 {
        self.stats()["calls"][action].as_u64().unwrap_or(0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one imgform process did.
struct Run {
    wall: Duration,
    peak_rss_mb: f64,
    stdout: String,
    stderr: String,
    ok: bool,
}

/// Runs the release binary in `dir` with the local cloud's credentials and the poller's
/// debug log, sampling its peak resident memory (VmHWM) while it runs.
fn imgform(dir: &Path, args: &[&str]) -> Run {
    let t = Instant::now();
    let mut child = Command::new(release_bin())
        .current_dir(dir)
        .args(args)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("IMGFORM_LOG", "imgform::apply::poll=debug")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imgform");
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak_kb = 0.0f64;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        wall: t.elapsed(),
        peak_rss_mb: peak_kb / 1024.0,
        stdout: o.join().expect("stdout"),
        stderr: e.join().expect("stderr"),
        ok: status.success(),
    }
}

/// The poller's ticks in a run's log: (ticks, read calls they needed at `per_call` ids per
/// call, most objects in one tick).
fn ticks(stderr: &str, per_call: u64) -> (u64, u64, u64) {
    let mut t = (0, 0, 0);
    for l in stderr.lines().filter(|l| l.contains("poll tick")) {
        let n: u64 = l
            .split_whitespace()
            .find_map(|w| w.strip_prefix("objects="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        t.0 += 1;
        t.1 += n.div_ceil(per_call);
        t.2 = t.2.max(n);
    }
    t
}

fn write(dir: &Path, endpoint: &str, tick: Duration, body: &str) {
    let ms = tick.as_millis();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            "provider \"alicloud\" {{\n  region            = \"cn-hangzhou\"\n  endpoint          = \"{endpoint}\"\n  poll_interval     = \"{ms}ms\"\n  max_poll_interval = \"{ms}ms\"\n}}\n\n{body}"
        ),
    )
    .expect("write config");
}

/// One apply of `n` objects of one shape through `cloud serve`, with its figures.
#[allow(clippy::too_many_arguments)]
fn apply_rows(
    what: &str,
    n: usize,
    speed: f64,
    op_secs: f64,
    body: &str,
    create_action: &str,
    (read_action, per_call): (&str, u64),
) -> Vec<Row> {
    let cloud = Served::start(speed);
    let dir = tempfile::tempdir().expect("tmp");
    let tick = Duration::from_secs_f64(15.0 / speed);
    write(dir.path(), &cloud.endpoint(), tick, body);
    let r = imgform(dir.path(), &["apply", "--auto-approve", "--no-color"]);
    assert!(
        r.ok,
        "{what} x{n}: apply failed:\n{}\n{}",
        r.stdout
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n"),
        r.stderr
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let limit = Duration::from_secs_f64(op_secs / speed) + tick;
    let ratio = r.wall.as_secs_f64() / limit.as_secs_f64();
    let (t, needed, most) = ticks(&r.stderr, per_call);
    let reads = cloud.calls(read_action);
    let creates = cloud.calls(create_action);
    vec![Row(
        format!("{what}: {n}"),
        format!(
            "wall {:.2} s, limit {:.2} s, ratio {ratio:.2}; {create_action} {creates}; {read_action} {reads} (ticks {t}, at most {most} objects per tick: {needed} calls at {per_call} per call); peak RSS {:.0} MB",
            r.wall.as_secs_f64(),
            limit.as_secs_f64(),
            r.peak_rss_mb
        ),
    )]
}

/// Images from a snapshot at 1, 1,000, 3,000 and 10,000.
pub fn images(speed: f64, sizes: &[usize]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &n in sizes {
        let body = format!(
            "resource \"alicloud_image\" \"wide\" {{\n  count       = {n}\n  image_name  = \"wide-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n"
        );
        rows.extend(apply_rows(
            "scale images",
            n,
            speed,
            240.0,
            &body,
            "CreateImage",
            ("DescribeImages", 100),
        ));
    }
    rows
}

/// Imports from OSS at 1, 100 and 500.
pub fn imports(speed: f64, sizes: &[usize]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &n in sizes {
        let body = format!(
            "resource \"alicloud_image_import\" \"i\" {{\n  count        = {n}\n  image_name   = \"import-${{count.index}}\"\n  architecture = \"x86_64\"\n  os_type      = \"linux\"\n  platform     = \"Ubuntu\"\n\n  disk_device_mapping {{\n    oss_bucket = \"imgform-quickstart\"\n    oss_object = \"images/ubuntu-22.04.qcow2\"\n  }}\n}}\n"
        );
        rows.extend(apply_rows(
            "scale imports",
            n,
            speed,
            425.0,
            &body,
            "ImportImage",
            ("DescribeTasks", 100),
        ));
    }
    rows
}

/// Pipelines and one build of each (`p[count.index]`) at 1, 100 and 500 pairs.
pub fn builds(speed: f64, sizes: &[usize]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &n in sizes {
        let body = format!(
            "resource \"alicloud_ecs_image_pipeline\" \"p\" {{\n  count           = {n}\n  name            = \"p-${{count.index}}\"\n  base_image_type = \"IMAGE\"\n  base_image      = \"ubuntu_22_04_x64_20G_alibase_20240101.vhd\"\n  build_content   = \"RUN echo ${{count.index}}\"\n\n  image_options {{\n    image_name = \"built-${{count.index}}\"\n  }}\n}}\n\nresource \"alicloud_ecs_image_pipeline_execution\" \"b\" {{\n  count             = {n}\n  image_pipeline_id = alicloud_ecs_image_pipeline.p[count.index].id\n}}\n"
        );
        rows.extend(apply_rows(
            "scale builds (pipeline + build pairs)",
            n,
            speed,
            600.0,
            &body,
            "StartImagePipelineExecution",
            // One call per build: the action reads one execution by its id.
            ("DescribeImagePipelineExecutions", 1),
        ));
    }
    rows
}

/// A plan of `total` applied images, with the refresh, as a process: wall time and peak
/// memory. With `refs`, half of them (`b[i]`) read `a[count.index].id`.
pub fn plans(speed: f64, sizes: &[usize], refs: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut first: Option<(usize, f64)> = None;
    for &total in sizes {
        let n = total / 2;
        let cloud = Served::start(speed);
        let dir = tempfile::tempdir().expect("tmp");
        let tick = Duration::from_secs_f64(15.0 / speed);
        let description = if refs {
            "alicloud_image.a[count.index].id"
        } else {
            "\"plain\""
        };
        write(
            dir.path(),
            &cloud.endpoint(),
            tick,
            &format!("resource \"alicloud_image\" \"a\" {{\n  count       = {n}\n  image_name  = \"a-${{count.index}}\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n\nresource \"alicloud_image\" \"b\" {{\n  count       = {n}\n  image_name  = \"b-${{count.index}}\"\n  description = {description}\n  snapshot_id = \"s-bp1system0001\"\n}}\n"),
        );
        let a = imgform(dir.path(), &["apply", "--auto-approve", "--no-color"]);
        assert!(a.ok, "apply of {total} failed: {}", a.stderr);
        let before = cloud.calls("DescribeImages");
        let p = imgform(
            dir.path(),
            &["plan", "--detailed-exitcode", "--no-color", "--lock=false"],
        );
        assert!(
            p.ok,
            "the plan of {total} applied images has changes or failed"
        );
        let reads = cloud.calls("DescribeImages") - before;
        let secs = p.wall.as_secs_f64();
        let growth = match first {
            None => {
                first = Some((total, secs));
                String::new()
            }
            Some((t0, s0)) => format!(
                "; {:.1}x the time of {t0} for {:.1}x the images",
                secs / s0,
                total as f64 / t0 as f64
            ),
        };
        rows.push(Row(
            format!(
                "scale plan: {total} applied images{}",
                if refs { ", b[i] reads a[count.index].id" } else { "" }
            ),
            format!(
                "{secs:.2} s, peak RSS {:.0} MB ({:.1} KB per resource), {reads} DescribeImages{growth} (apply took {:.1} s)",
                p.peak_rss_mb,
                p.peak_rss_mb * 1024.0 / total as f64,
                a.wall.as_secs_f64()
            ),
        ));
    }
    rows
}

/// Issue 32's figure: the plan of `n` images, each from its own snapshot (system disk
/// snapshots, so their source disks are read too), with the checks (`plan`) and without
/// (`plan -refresh=false`: the state is empty, so refresh reads nothing either way).
/// Medians of `runs` alternating runs; the calls the checks made.
pub fn checks(sizes: &[usize], runs: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for &n in sizes {
        let snaps: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({"id": format!("s-bp1chk{i:07}"), "disk_type": "system", "size": 40,
                                   "source_disk_id": format!("d-bp1chk{i:07}")})
            })
            .collect();
        let seed = serde_json::json!({"regions": {"cn-hangzhou": {"image_quota": 1_000_000, "snapshots": snaps}}});
        let cloud = Served::start_with(600.0, &seed.to_string());
        let dir = tempfile::tempdir().expect("tmp");
        write(
            dir.path(),
            &cloud.endpoint(),
            Duration::from_millis(100),
            &format!("resource \"alicloud_image\" \"a\" {{\n  count       = {n}\n  image_name  = \"a-${{count.index}}\"\n  snapshot_id = format(\"s-bp1chk%07d\", count.index)\n}}\n"),
        );
        let (mut with, mut without) = (Vec::new(), Vec::new());
        let mut calls = (0, 0);
        for _ in 0..runs {
            let (s0, d0) = (
                cloud.calls("DescribeSnapshots"),
                cloud.calls("DescribeDisks"),
            );
            let p = imgform(dir.path(), &["plan", "--no-color", "--lock=false"]);
            assert!(p.ok, "the plan of {n} images failed: {}", p.stderr);
            with.push(p.wall.as_secs_f64());
            calls = (
                cloud.calls("DescribeSnapshots") - s0,
                cloud.calls("DescribeDisks") - d0,
            );
            let q = imgform(
                dir.path(),
                &["plan", "--no-color", "--lock=false", "-refresh=false"],
            );
            assert!(q.ok, "the plan of {n} images failed: {}", q.stderr);
            without.push(q.wall.as_secs_f64());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        let (w, wo) = (median(&mut with), median(&mut without));
        rows.push(Row(
            format!("plan checks: {n} images from {n} distinct snapshots"),
            format!(
                "{w:.2} s with the checks, {wo:.2} s without: {:.2}x (target <= 1.2x); {} DescribeSnapshots + {} DescribeDisks",
                w / wo,
                calls.0,
                calls.1
            ),
        ));
    }
    rows
}
