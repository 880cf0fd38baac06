//! Refresh is batched: 5,000 images in state cost at most ceil(5000/100) = 50 DescribeImages
//! calls (read from the local cloud's stats); objects deleted out of band become drift.

use imgform::apply::{refresh, Connect, Session};
use imgform::cloud::creds::Credentials;
use imgform::localcloud::{self, Options};
use imgform::state::{ResourceState, State, Status};
use imgform::value::Value;
use std::collections::BTreeMap;

/// A session on the local cloud at `h`, with provider arguments `extra` beside the region.
fn session(h: &localcloud::Handle, extra: &[(&str, &str)]) -> Session {
    let mut p = BTreeMap::new();
    p.insert("region".to_string(), Value::String("cn-hangzhou".into()));
    for (k, v) in extra {
        p.insert(k.to_string(), Value::String(v.to_string()));
    }
    let providers = BTreeMap::from([("alicloud".to_string(), p)]);
    let how = Connect {
        endpoint: Some(h.endpoint()),
        credentials: Some(Credentials {
            access_key_id: localcloud::DEFAULT_KEY_ID.into(),
            access_key_secret: localcloud::DEFAULT_SECRET.into(),
            security_token: None,
            source: "t".into(),
        }),
        speed: 1.0,
        scheme: None,
        default_region: None,
        transport: None,
    };
    Session::connect(&providers, &how, &|_| None).expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_of_5000_images_takes_at_most_50_calls() {
    // A network of 2 ms per call: reads that are in flight together overlap.
    let h = localcloud::start(Options {
        faults: localcloud::Faults {
            latency: std::time::Duration::from_millis(2),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("starts");
    // 4,999 images plus one deleted out of band: 5,000 rows in state.
    let n = 4999;
    let images: Vec<serde_json::Value> = (0..n).map(|i| serde_json::json!({"id": format!("m-bulk{i:05}"), "name": format!("bulk-{i}"), "owner_alias": "self"})).collect();
    h.cloud
        .lock()
        .expect("lock")
        .seed_from(&serde_json::json!({"regions": {"cn-hangzhou": {"images": images}}}))
        .expect("seed");
    let mut state = State {
        lineage: "l".into(),
        serial: 1,
        ..State::default()
    };
    for i in 0..n {
        let addr: imgform::addr::ResourceAddr =
            format!("alicloud_image.bulk[{i}]").parse().expect("addr");
        state.resources.insert(
            addr.clone(),
            ResourceState {
                addr,
                kind: "alicloud_image".into(),
                provider: "alicloud".into(),
                region: "cn-hangzhou".into(),
                id: Some(format!("m-bulk{i:05}")),
                status: Status::Ready,
                client_token: None,
                generation: 1,
                attrs: serde_json::json!({"image_name": format!("bulk-{i}")}).into(),
                deps: vec![],
                pending: None,
            },
        );
    }
    // One object deleted out of band, one renamed in the console.
    let gone: imgform::addr::ResourceAddr = "alicloud_image.ghost".parse().expect("addr");
    state.resources.insert(
        gone.clone(),
        ResourceState {
            addr: gone.clone(),
            kind: "alicloud_image".into(),
            provider: "alicloud".into(),
            region: "cn-hangzhou".into(),
            id: Some("m-doesnotexist".into()),
            status: Status::Ready,
            client_token: None,
            generation: 1,
            attrs: serde_json::json!({}).into(),
            deps: vec![],
            pending: None,
        },
    );
    let renamed: imgform::addr::ResourceAddr = "alicloud_image.bulk[7]".parse().expect("addr");
    state.resources.get_mut(&renamed).expect("row").attrs =
        serde_json::json!({"image_name": "old-name"}).into();
    let sess = session(&h, &[]);
    let before = h.stats()["calls"]["DescribeImages"].as_u64().unwrap_or(0);
    let t = std::time::Instant::now();
    let (refreshed, drift) = refresh(&sess, state.clone()).await.expect("refresh");
    let took = t.elapsed();
    let calls = h.stats()["calls"]["DescribeImages"].as_u64().unwrap_or(0) - before;
    assert!(
        calls <= 50,
        "{calls} DescribeImages calls for {} images",
        state.resources.len()
    );
    // The reads run side by side, never more at once than the read parallelism.
    let peak = h.stats()["in_flight_peak"].as_u64().unwrap_or(0);
    assert!(
        (2..=imgform::cloud::client::READ_PARALLELISM as u64).contains(&peak),
        "{peak} calls were in flight at once"
    );
    assert_eq!(
        refreshed.resources.len(),
        n,
        "the deleted object left the refreshed state"
    );
    let kinds: Vec<(String, bool)> = drift
        .iter()
        .map(|d| (d.addr.to_string(), d.deleted))
        .collect();
    assert_eq!(
        kinds,
        [
            ("alicloud_image.bulk[7]".to_string(), false),
            ("alicloud_image.ghost".to_string(), true)
        ]
    );
    assert_eq!(
        refreshed.resources[&renamed].attrs.value()["image_name"],
        "bulk-7",
        "drift is adopted into the refreshed state"
    );
    eprintln!("refresh of {n} images: {calls} calls in {took:?}, {peak} at most in flight");
    h.stop().await;
}

/// A managed build beyond the first page of DescribeImagePipelineExecutions (500 a page) is
/// still found by refresh and by the poller: every page is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_reads_every_page_of_builds() {
    let h = localcloud::start(Options::default()).await.expect("starts");
    let c = crate::localcloud::client(&h.endpoint(), 0);
    let pid: serde_json::Value = c
        .call_raw(
            "CreateImagePipeline",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("Name".into(), "paged".into()),
                ("BaseImageType".into(), "IMAGE".into()),
                (
                    "BaseImage".into(),
                    "ubuntu_22_04_x64_20G_alibase_20240101.vhd".into(),
                ),
                ("BuildContent".into(), "RUN echo hi".into()),
            ],
            None,
        )
        .await
        .expect("pipeline");
    let pid = pid["ImagePipelineId"].as_str().expect("id").to_string();
    let start = |c: imgform::cloud::client::Client, pid: String| async move {
        let v: serde_json::Value = c
            .call_raw(
                "StartImagePipelineExecution",
                vec![
                    ("RegionId".into(), "cn-hangzhou".into()),
                    ("ImagePipelineId".into(), pid),
                ],
                None,
            )
            .await
            .expect("build");
        v["ExecutionId"].as_str().expect("id").to_string()
    };
    // The managed build first; 520 newer builds push it to the second page.
    let managed = start(c.clone(), pid.clone()).await;
    h.advance(std::time::Duration::from_secs(3600));
    for _ in 0..520 {
        h.advance(std::time::Duration::from_secs(3600));
        start(c.clone(), pid.clone()).await;
    }
    let all = c
        .describe_executions_of(&pid)
        .await
        .expect("list")
        .expect("pipeline exists");
    assert_eq!(all.len(), 521);
    assert_eq!(
        all.iter()
            .position(|e| e.execution_id == managed)
            .map(|i| i >= 500),
        Some(true),
        "the managed build is beyond the first page"
    );
    let mut state = State {
        lineage: "l".into(),
        serial: 1,
        ..State::default()
    };
    let addr: imgform::addr::ResourceAddr = "alicloud_ecs_image_pipeline_execution.b"
        .parse()
        .expect("addr");
    state.resources.insert(
        addr.clone(),
        ResourceState {
            addr: addr.clone(),
            kind: "alicloud_ecs_image_pipeline_execution".into(),
            provider: "alicloud".into(),
            region: "cn-hangzhou".into(),
            id: Some(managed.clone()),
            status: Status::Ready,
            client_token: None,
            generation: 1,
            attrs: serde_json::json!({"image_pipeline_id": pid}).into(),
            deps: vec![],
            pending: None,
        },
    );
    let sess = session(&h, &[]);
    let (refreshed, drift) = refresh(&sess, state.clone()).await.expect("refresh");
    assert!(drift.is_empty(), "not deleted: {drift:?}");
    assert!(refreshed.resources.contains_key(&addr));
    h.stop().await;
}

/// `poll_interval = "50ms"` and `max_poll_interval = "250ms"` are honoured: the poller's
/// ticks, read as the times its observations arrive, come at most 250 ms apart, not at the
/// 2 s / 15 s defaults a unit it did not understand used to fall back to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50ms_poll_interval_is_honoured() {
    let h = localcloud::start(Options::default()).await.expect("starts");
    let c = crate::localcloud::client(&h.endpoint(), 0);
    let img: serde_json::Value = c
        .call_raw(
            "CreateImage",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("ImageName".into(), "ticks".into()),
                ("SnapshotId".into(), "s-bp1system0001".into()),
            ],
            None,
        )
        .await
        .expect("image");
    let id = img["ImageId"].as_str().expect("id").to_string();
    let sess = session(
        &h,
        &[("poll_interval", "50ms"), ("max_poll_interval", "250ms")],
    );
    assert_eq!(
        (sess.poll_min, sess.poll_max),
        (
            std::time::Duration::from_millis(50),
            std::time::Duration::from_millis(250)
        )
    );
    let client = sess.client("alicloud", "cn-hangzhou").expect("client");
    let mut rx = sess
        .poller(&client, &imgform::resource::image::IMAGES)
        .watch(&id);
    let mut ticks = Vec::new();
    while ticks.len() < 8 {
        let o = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("an observation within 5 s");
        assert!(o.is_some());
        ticks.push(std::time::Instant::now());
    }
    let gaps: Vec<u128> = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert!(
        gaps.iter().all(|g| *g <= 400),
        "ticks {gaps:?} ms apart; 50 ms growing to at most 250 ms expected"
    );
    h.stop().await;
}
