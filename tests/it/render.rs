//! Plan renderings: snapshots of the human, JSON and markdown forms of a plan with every
//! action, drift, unknown and sensitive values; Terraform's exact JSON keys; the markdown
//! budget on a 2,000-resource plan; a refresh of 5,000 images in at most 50 calls.

use imgform::addr::ResourceAddr;
use imgform::plan::model::{Action, Change, Drift, OutputChange, Plan};
use imgform::render::plan::{human, markdown, Style, MARKDOWN_BUDGET};
use serde_json::json;

fn addr(s: &str) -> ResourceAddr {
    s.parse().expect("addr")
}

fn change(
    a: &str,
    action: Action,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    unknown: serde_json::Value,
) -> Change {
    let ad = addr(a);
    // What the plan decides changes: the top-level keys whose values differ.
    let changed = match (action, &before, &after) {
        (
            Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete,
            Some(b),
            Some(a),
        ) => {
            let (b, a) = (
                b.as_object().cloned().unwrap_or_default(),
                a.as_object().cloned().unwrap_or_default(),
            );
            let mut keys: Vec<String> = b
                .keys()
                .chain(a.keys())
                .filter(|k| b.get(*k) != a.get(*k))
                .cloned()
                .collect();
            keys.sort();
            keys.dedup();
            keys
        }
        _ => vec![],
    };
    Change {
        changed,
        kind: ad.id.kind.clone(),
        addr: ad,
        prev_addr: None,
        provider: "alicloud".into(),
        region: "cn-hangzhou".into(),
        action,
        reason: None,
        before: before.map(Box::new),
        after: after.map(Box::new),
        after_unknown: unknown,
        replace_paths: vec![],
        sensitive: vec![],
        importing: None,
        deps: vec![],
        unchanged: false,
    }
}

fn every_action() -> Plan {
    let mut changes = vec![
        change(
            "alicloud_image.created",
            Action::Create,
            None,
            Some(json!({"image_name": "web", "snapshot_id": "s-1", "tags": {"env": "prod"}})),
            json!({"id": true, "status": true}),
        ),
        change(
            "alicloud_image.updated",
            Action::Update,
            Some(
                json!({"id": "m-1", "image_name": "a", "description": "same", "tags": {"a": "1", "b": "2"}}),
            ),
            Some(
                json!({"id": "m-1", "image_name": "b", "description": "same", "tags": {"a": "1", "c": "3"}}),
            ),
            json!({}),
        ),
        change(
            "alicloud_ecs_image_pipeline.content",
            Action::Update,
            Some(json!({"id": "ip-1", "tags": {}, "build_content": "RUN a\nRUN b\n"})),
            Some(json!({"id": "ip-1", "tags": {"x": "y"}, "build_content": "RUN a\nRUN b\n"})),
            json!({}),
        ),
        change(
            "alicloud_ecs_image_pipeline.rebuilt",
            Action::DeleteThenCreate,
            Some(json!({"id": "ip-2", "name": "p", "build_content": "RUN a\nRUN b\n"})),
            Some(json!({"name": "p", "build_content": "RUN a\nRUN c\n"})),
            json!({"id": true}),
        ),
        change(
            "alicloud_image.cbd",
            Action::CreateThenDelete,
            Some(json!({"id": "m-2", "snapshot_id": "s-1"})),
            Some(json!({"snapshot_id": "s-2"})),
            json!({"id": true}),
        ),
        change(
            "alicloud_image.gone",
            Action::Delete,
            Some(json!({"id": "m-3", "image_name": "old"})),
            None,
            json!({}),
        ),
        change(
            "data.alicloud_images.later",
            Action::Read,
            None,
            Some(json!({"name_regex": null})),
            json!({"name_regex": true}),
        ),
        change(
            "alicloud_image.forgotten",
            Action::Forget,
            Some(json!({"id": "m-4"})),
            None,
            json!({}),
        ),
        change(
            "alicloud_image.moved",
            Action::NoOp,
            Some(json!({"id": "m-5"})),
            Some(json!({"id": "m-5"})),
            json!({}),
        ),
        change(
            "alicloud_image.adopted",
            Action::NoOp,
            Some(json!({"id": "m-6", "image_name": "x"})),
            Some(json!({"id": "m-6", "image_name": "x"})),
            json!({}),
        ),
        change(
            "alicloud_image.resumed",
            Action::Resume,
            Some(json!({"image_name": "r"})),
            Some(json!({"image_name": "r"})),
            json!({"id": true}),
        ),
        change(
            "alicloud_image.same",
            Action::NoOp,
            Some(json!({"id": "m-7"})),
            Some(json!({"id": "m-7"})),
            json!({}),
        ),
    ];
    changes[3].replace_paths = vec!["build_content".into()];
    changes[3].reason = Some("replace_because_cannot_update".into());
    changes[4].replace_paths = vec!["snapshot_id".into()];
    changes[5].reason = Some("delete_because_no_resource_config".into());
    changes[8].prev_addr = Some(Box::new(addr("alicloud_image.old_name")));
    changes[9].importing = Some("m-6".into());
    changes[10].reason = Some("resume_create".into());
    let mut outputs = std::collections::BTreeMap::new();
    outputs.insert(
        "image_id".into(),
        OutputChange {
            action: "create".into(),
            before: json!(null),
            after: json!(null),
            after_unknown: true,
            sensitive: false,
        },
    );
    outputs.insert(
        "secret".into(),
        OutputChange {
            action: "update".into(),
            before: json!("a"),
            after: json!("b"),
            after_unknown: false,
            sensitive: true,
        },
    );
    Plan {
        lineage: "lin".into(),
        serial: 7,
        changes,
        drift: vec![
            Drift {
                addr: addr("alicloud_image.updated"),
                kind: "alicloud_image".into(),
                deleted: false,
                before: json!({"image_name": "a", "description": "x"}),
                after: json!({"image_name": "a", "description": "changed in the console"}),
            },
            Drift {
                addr: addr("alicloud_image.recreated"),
                kind: "alicloud_image".into(),
                deleted: true,
                before: json!({"image_name": "r"}),
                after: json!(null),
            },
        ],
        outputs,
        ..Plan::default()
    }
}

#[test]
fn human_plan_with_every_action() {
    insta::assert_snapshot!(
        "human_every_action",
        human(
            &every_action(),
            Style {
                color: false,
                reveal: false
            }
        )
    );
}

#[test]
fn markdown_plan_with_every_action() {
    insta::assert_snapshot!(
        "markdown_every_action",
        markdown(&every_action(), MARKDOWN_BUDGET)
    );
}

#[test]
fn json_plan_with_every_action() {
    let mut v = imgform::render::json::plan(&every_action());
    v["timestamp"] = json!("[timestamp]");
    insta::assert_json_snapshot!("json_every_action", v);
}

#[test]
fn json_plan_has_terraforms_keys_and_action_arrays() {
    let v = imgform::render::json::plan(&every_action());
    // Tools parse terraform_version as a Terraform version (MAJOR.MINOR.PATCH).
    let tv = v["terraform_version"].as_str().expect("a string");
    assert_eq!(
        tv.split('.')
            .map(|p| p.parse::<u32>().is_ok())
            .collect::<Vec<_>>(),
        [true, true, true],
        "{tv}"
    );
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "terraform_version",
            "imgform_version",
            // No variables: Terraform omits the key.
            "planned_values",
            "resource_drift",
            "resource_changes",
            "output_changes",
            "prior_state",
            "configuration",
            // Terraform omits relevant_attributes and checks when they are empty.
            "timestamp",
            "applyable",
            "complete",
            "errored"
        ]
    );
    let allowed: Vec<serde_json::Value> = [
        json!(["no-op"]),
        json!(["create"]),
        json!(["read"]),
        json!(["update"]),
        json!(["delete", "create"]),
        json!(["create", "delete"]),
        json!(["delete"]),
        json!(["forget"]),
    ]
    .to_vec();
    let mut seen = std::collections::BTreeSet::new();
    for rc in v["resource_changes"].as_array().expect("changes") {
        for k in rc.as_object().expect("object").keys() {
            assert!(
                [
                    "address",
                    "previous_address",
                    "mode",
                    "type",
                    "name",
                    "index",
                    "provider_name",
                    "change",
                    "action_reason"
                ]
                .contains(&k.as_str()),
                "unexpected key {k}"
            );
        }
        for k in rc["change"].as_object().expect("change").keys() {
            assert!(
                [
                    "actions",
                    "before",
                    "after",
                    "after_unknown",
                    "before_sensitive",
                    "after_sensitive",
                    "replace_paths",
                    "importing"
                ]
                .contains(&k.as_str()),
                "unexpected change key {k}"
            );
        }
        assert!(
            allowed.contains(&rc["change"]["actions"]),
            "{}",
            rc["change"]["actions"]
        );
        seen.insert(rc["change"]["actions"].to_string());
    }
    assert_eq!(seen.len(), 8, "every action array appears: {seen:?}");
    let moved = v["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "alicloud_image.moved")
        .expect("moved");
    assert_eq!(moved["previous_address"], "alicloud_image.old_name");
    let adopted = v["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "alicloud_image.adopted")
        .expect("adopted");
    assert_eq!(adopted["change"]["importing"]["id"], "m-6");
}

#[test]
fn markdown_budget_cuts_details_never_the_summary() {
    let mut plan = Plan::default();
    for i in 0..2000 {
        let mut c = change(
            &format!("alicloud_image.img_{i:04}"),
            if i % 10 == 0 {
                Action::Delete
            } else {
                Action::Create
            },
            None,
            Some(
                json!({"image_name": format!("image-number-{i}"), "snapshot_id": "s-bp1system0001", "description": "an image with a reasonably long description to take space"}),
            ),
            json!({"id": true}),
        );
        if c.action == Action::Delete {
            c.before = c.after.take();
        }
        plan.changes.push(c);
    }
    let md = markdown(&plan, MARKDOWN_BUDGET);
    assert!(md.len() <= MARKDOWN_BUDGET, "{} characters", md.len());
    assert!(
        md.starts_with("## imgform plan: 1800 to add, 0 to change, 200 to destroy."),
        "{}",
        &md[..100]
    );
    assert!(md.contains("> [!WARNING]\n> **This plan destroys or replaces 200 resource(s):**"));
    assert!(md.contains("| Destroy | 200 |"));
    assert!(
        md.contains("were left out to stay within the comment size limit"),
        "the cut is announced"
    );
    assert!(
        md.contains("<details><summary><code>+ alicloud_image.img_0001</code></summary>"),
        "details are kept while they fit"
    );
}

/// `show -json` of a state and a plan's `prior_state` use Terraform's
/// `values.root_module.resources[].values` shape, with the id among the values and the
/// sensitive attributes marked.
#[test]
fn state_json_has_terraforms_values_shape() {
    let mut st = imgform::state::State {
        lineage: "l".into(),
        serial: 3,
        ..Default::default()
    };
    let addr: imgform::addr::ResourceAddr = "alicloud_image.web[0]".parse().expect("addr");
    st.resources.insert(
        addr.clone(),
        imgform::state::ResourceState {
            addr,
            kind: "alicloud_image".into(),
            provider: "alicloud".into(),
            region: "cn-hangzhou".into(),
            id: Some("m-1".into()),
            status: imgform::state::Status::Ready,
            client_token: None,
            generation: 1,
            attrs: serde_json::json!({"image_name": "web", "description": "s3cret", "_sensitive": ["description"]}).into(),
            deps: vec![],
            pending: None,
        },
    );
    let v = imgform::render::json::state(&st);
    assert_eq!(v["format_version"], "1.0");
    let r = &v["values"]["root_module"]["resources"][0];
    assert_eq!(r["address"], "alicloud_image.web[0]");
    assert_eq!(r["index"], 0);
    assert_eq!(r["provider_name"], "registry.terraform.io/aliyun/alicloud");
    assert_eq!(r["values"]["id"], "m-1");
    assert_eq!(r["values"]["image_name"], "web");
    assert!(r["values"].get("_sensitive").is_none(), "{r}");
    assert_eq!(
        r["sensitive_values"],
        serde_json::json!({"description": true})
    );
}

/// A writer whose bytes the test reads afterwards.
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn json_stream_with_every_action() {
    use imgform::events::{Event, EventSink, Verb};
    use imgform::render::json::JsonLines;
    use std::time::Duration;
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let jl = JsonLines::new(Duration::from_secs(10), Box::new(Shared(buf.clone())));
    jl.version();
    let web = addr("module.env[\"prod\"].alicloud_image.web[0]");
    jl.emit(Event::RefreshStart {
        addr: web.clone(),
        id: "m-web".into(),
    });
    jl.emit(Event::RefreshComplete {
        addr: web.clone(),
        id: "m-web".into(),
    });
    jl.plan(&every_action());
    let created = addr("alicloud_image.created");
    jl.emit(Event::Start {
        addr: created.clone(),
        verb: Verb::Create,
        id: None,
    });
    // Polls come every tick; Terraform's apply_progress every 10 s: this one is dropped.
    jl.emit(Event::Progress {
        addr: created.clone(),
        verb: Verb::Create,
        elapsed: Duration::from_secs(2),
        percent: Some(40),
        status: "Creating".into(),
    });
    jl.emit(Event::Complete {
        addr: created.clone(),
        verb: Verb::Create,
        elapsed: Duration::from_secs(64),
        id: Some("m-new".into()),
    });
    // The destroy half of a replacement, with the id of what it destroys.
    let replaced = addr("alicloud_image.replaced");
    jl.emit(Event::Start {
        addr: replaced.clone(),
        verb: Verb::Delete,
        id: Some("m-old".into()),
    });
    jl.emit(Event::Complete {
        addr: replaced.clone(),
        verb: Verb::Delete,
        elapsed: Duration::from_secs(3),
        id: None,
    });
    let updated = addr("alicloud_image.updated");
    jl.emit(Event::Start {
        addr: updated.clone(),
        verb: Verb::Update,
        id: Some("m-upd".into()),
    });
    jl.emit(Event::Errored {
        addr: updated,
        verb: Verb::Update,
        elapsed: Duration::from_secs(1),
        error: "ModifyImageAttribute failed: InvalidDescription.Malformed".into(),
    });
    let mut outputs = std::collections::BTreeMap::new();
    outputs.insert(
        "image_id".to_string(),
        imgform::state::OutputState {
            value: json!("m-new"),
            sensitive: false,
        },
    );
    outputs.insert(
        "token".to_string(),
        imgform::state::OutputState {
            value: json!("s3cr3t"),
            sensitive: true,
        },
    );
    jl.applied(
        false,
        &imgform::apply::walk::Outcome {
            added: 1,
            destroyed: 1,
            outputs,
            ..Default::default()
        },
    );
    let text = String::from_utf8(buf.lock().expect("lock").clone()).expect("utf-8");
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("one object per line");
            v["@timestamp"] = json!("[timestamp]");
            if v["type"] == "version" {
                v["imgform"] = json!("[version]");
            }
            v.to_string()
        })
        .collect();
    assert!(
        !text.contains("s3cr3t"),
        "a sensitive output's value is left out"
    );
    insta::assert_snapshot!("json_stream_every_action", lines.join("\n"));
}

/// The plans that say little, each in Terraform's words (jsonformat/plan.go, with
/// "Terraform" as "imgform"): refresh-only with and without drift, drift behind a plan that
/// changes nothing (not shown), outputs only, an empty destroy, and the apply and destroy
/// summaries.
#[test]
fn plans_that_say_little_say_it_as_terraform_does() {
    use imgform::plan::model::Options;
    let plain = Style {
        color: false,
        reveal: false,
    };
    let drift = every_action().drift;
    let with = |options: Options, drift: Vec<Drift>, outputs| Plan {
        options,
        drift,
        outputs,
        ..Plan::default()
    };
    let refresh_only = Options {
        refresh_only: true,
        ..Options::default()
    };
    let destroy = Options {
        destroy: true,
        ..Options::default()
    };
    let mut outputs = std::collections::BTreeMap::new();
    outputs.insert(
        "image_id".to_string(),
        OutputChange {
            action: "create".into(),
            before: json!(null),
            after: json!("m-1"),
            after_unknown: false,
            sensitive: false,
        },
    );
    let none = imgform::apply::walk::Outcome::default();
    let some = imgform::apply::walk::Outcome {
        added: 2,
        changed: 1,
        destroyed: 1,
        imported: 1,
        forgotten: 1,
        ..Default::default()
    };
    let mut text = String::new();
    for (name, plan) in [
        (
            "refresh-only, drift",
            with(refresh_only.clone(), drift.clone(), Default::default()),
        ),
        (
            "refresh-only, no drift",
            with(refresh_only, vec![], Default::default()),
        ),
        (
            "no changes, drift",
            with(Options::default(), drift, Default::default()),
        ),
        ("outputs only", with(Options::default(), vec![], outputs)),
        ("empty destroy", with(destroy, vec![], Default::default())),
    ] {
        text.push_str(&format!("=== {name}\n{}", human(&plan, plain)));
    }
    for (name, d, o) in [
        ("apply, nothing", false, &none),
        ("apply", false, &some),
        ("destroy", true, &some),
    ] {
        text.push_str(&format!(
            "=== {name}\n{}\n",
            imgform::render::plan::apply_summary(d, o)
        ));
    }
    insta::assert_snapshot!("plans_that_say_little", text);
}

/// Progress lines as a terminal-less apply prints them (Terraform's hook words): a
/// create, the destroy half of a replacement with the id it destroys, an update that
/// fails, a destroy, and an operation skipped after a failure.
#[test]
fn progress_lines_for_every_operation() {
    use imgform::events::{Event, EventSink, Verb};
    use imgform::render::apply::Lines;
    use std::time::Duration;
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let lines = Lines::to_writer(Duration::ZERO, false, Box::new(Shared(buf.clone())));
    let (created, replaced, updated, gone) = (
        addr("alicloud_image.created"),
        addr("alicloud_image.replaced"),
        addr("alicloud_image.updated"),
        addr("alicloud_image.gone"),
    );
    for e in [
        Event::Start {
            addr: created.clone(),
            verb: Verb::Create,
            id: None,
        },
        Event::Progress {
            addr: created.clone(),
            verb: Verb::Create,
            elapsed: Duration::from_secs(10),
            percent: Some(40),
            status: "Creating".into(),
        },
        Event::Complete {
            addr: created,
            verb: Verb::Create,
            elapsed: Duration::from_secs(64),
            id: Some("m-new".into()),
        },
        Event::Start {
            addr: replaced.clone(),
            verb: Verb::Delete,
            id: Some("m-old".into()),
        },
        Event::Complete {
            addr: replaced,
            verb: Verb::Delete,
            elapsed: Duration::from_secs(3),
            id: None,
        },
        Event::Start {
            addr: updated.clone(),
            verb: Verb::Update,
            id: Some("m-upd".into()),
        },
        Event::Errored {
            addr: updated,
            verb: Verb::Update,
            elapsed: Duration::from_secs(1),
            error: "InvalidDescription.Malformed".into(),
        },
        Event::Start {
            addr: gone.clone(),
            verb: Verb::Delete,
            id: Some("m-gone".into()),
        },
        Event::Progress {
            addr: gone.clone(),
            verb: Verb::Delete,
            elapsed: Duration::from_secs(12),
            percent: None,
            status: String::new(),
        },
        Event::Complete {
            addr: gone,
            verb: Verb::Delete,
            elapsed: Duration::from_secs(13),
            id: None,
        },
        Event::Skipped {
            addr: addr("alicloud_ecs_image_pipeline.p"),
            reason: "alicloud_image.updated did not complete".into(),
        },
    ] {
        lines.emit(e);
    }
    let text = String::from_utf8(buf.lock().expect("lock").clone()).expect("utf-8");
    insta::assert_snapshot!("progress_lines", text);
}
