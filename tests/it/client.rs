//! The client against a loopback fake: retries with growing jittered delays and no real
//! sleeping, no retry on other 4xx, a fresh signature per attempt, `x-acs-retry-after`
//! honoured, and errors carrying Code, Message, RequestId and a hint.

use imgform::cloud::client::{Client, ClientConfig, Scheme};
use imgform::cloud::creds::Credentials;
use imgform::cloud::error::Error;
use imgform::cloud::ops;
use imgform::cloud::sign::{verify, RawRequest};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone)]
enum Reply {
    Status(u16, &'static str, Vec<(&'static str, &'static str)>),
    Reset,
}

#[derive(Debug, Clone)]
struct Seen {
    target: String,
    headers: Vec<(String, String)>,
}

async fn fake(script: Vec<Reply>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut script = script.into_iter();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let text = String::from_utf8_lossy(&buf).into_owned();
            let mut lines = text.split("\r\n");
            let target = lines
                .next()
                .unwrap_or("")
                .split(' ')
                .nth(1)
                .unwrap_or("")
                .to_string();
            let headers = lines
                .take_while(|l| !l.is_empty())
                .filter_map(|l| {
                    l.split_once(':')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                })
                .collect();
            log.lock().expect("lock").push(Seen { target, headers });
            match script.next().unwrap_or(Reply::Status(500, "{}", vec![])) {
                Reply::Reset => drop(sock),
                Reply::Status(code, body, extra) => {
                    let mut head = format!("HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-acs-request-id: RID-{code}\r\nconnection: close\r\n", body.len());
                    for (k, v) in extra {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(body.as_bytes()).await;
                    let _ = sock.shutdown().await;
                }
            }
        }
    });
    (format!("http://{addr}"), seen)
}

fn client(
    endpoint: &str,
    scheme: Scheme,
    sleeps: Arc<Mutex<Vec<Duration>>>,
    retries: u32,
) -> Client {
    let c = Client::new(ClientConfig {
        region: "cn-hangzhou".into(),
        endpoint: Some(endpoint.into()),
        credentials: Credentials {
            access_key_id: "testid".into(),
            access_key_secret: "testsecret".into(),
            security_token: None,
            source: "test".into(),
        },
        scheme,
        max_retries: retries,
        timeout: Duration::from_secs(5),
    })
    .expect("client");
    c.with_hooks(
        Arc::new(move |d| {
            sleeps.lock().expect("lock").push(d);
            Box::pin(async {})
        }),
        Arc::new(|| 0.999),
        Arc::new(time::OffsetDateTime::now_utc),
    )
}

const THROTTLED: &str = r#"{"RequestId":"T1","HostId":"ecs.aliyuncs.com","Code":"Throttling.User","Message":"Request was denied due to user flow control.","Recommend":"https://next.api.aliyun.com/troubleshoot?q=Throttling.User"}"#;
const OK: &str = r#"{"RequestId":"R1","ImageId":"m-123"}"#;

fn create() -> ops::CreateImage {
    ops::CreateImage {
        region_id: "cn-hangzhou".into(),
        snapshot_id: Some("s-1".into()),
        client_token: Some("tok".into()),
        ..Default::default()
    }
}

fn check_signed(seen: &Seen) -> bool {
    let (path, query) = seen.target.split_once('?').unwrap_or((&seen.target, ""));
    let req = RawRequest {
        method: "POST",
        path,
        query,
        headers: &seen.headers,
        body: b"",
    };
    verify(&req, |k| (k == "testid").then(|| "testsecret".to_string())).is_ok()
}

fn nonce(seen: &Seen) -> String {
    seen.headers
        .iter()
        .find(|(k, _)| k == "x-acs-signature-nonce")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            seen.target
                .split('&')
                .find(|p| p.starts_with("SignatureNonce="))
                .map(String::from)
        })
        .expect("a nonce")
}

#[tokio::test]
async fn retries_throttling_5xx_and_resets_with_growing_delays_and_fresh_signatures() {
    for scheme in [Scheme::V3, Scheme::V1] {
        let (ep, seen) = fake(vec![
            Reply::Status(400, THROTTLED, vec![]),
            Reply::Status(
                503,
                r#"{"RequestId":"S","Code":"ServiceUnavailable","Message":"busy"}"#,
                vec![],
            ),
            Reply::Reset,
            Reply::Status(500, "<html>oops</html>", vec![]),
            Reply::Status(200, OK, vec![]),
        ])
        .await;
        let sleeps = Arc::new(Mutex::new(Vec::new()));
        let c = client(&ep, scheme, sleeps.clone(), 8);
        let r: ops::CreateImageResponse = c
            .call("CreateImage", &create())
            .await
            .expect("succeeds after retries");
        assert_eq!(r.image_id, "m-123");
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 5, "{scheme:?}");
        assert!(
            seen.iter().all(check_signed),
            "every attempt is validly signed"
        );
        let mut nonces: Vec<String> = seen.iter().map(nonce).collect();
        nonces.sort();
        nonces.dedup();
        assert_eq!(nonces.len(), 5, "each attempt is signed afresh");
        let sleeps = sleeps.lock().expect("lock").clone();
        assert_eq!(sleeps.len(), 4);
        assert!(
            sleeps.windows(2).all(|w| w[0] < w[1]),
            "delays grow: {sleeps:?}"
        );
        assert!(sleeps[0] <= Duration::from_millis(500) && sleeps[3] <= Duration::from_secs(4));
    }
}

#[tokio::test]
async fn other_4xx_fail_at_once_with_code_message_request_id_and_hint() {
    let (ep, seen) = fake(vec![Reply::Status(
        400,
        r#"{"RequestId":"RID-dup","HostId":"ecs.aliyuncs.com","Code":"InvalidImageName.Duplicated","Message":"The specified image name is already in use.","Recommend":"https://next.api.aliyun.com/troubleshoot?q=InvalidImageName.Duplicated"}"#,
        vec![],
    )])
    .await;
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let c = client(&ep, Scheme::V3, sleeps.clone(), 8);
    let err = c
        .call::<_, ops::CreateImageResponse>("CreateImage", &create())
        .await
        .expect_err("fails");
    assert_eq!(seen.lock().expect("lock").len(), 1, "no retry");
    assert!(sleeps.lock().expect("lock").is_empty());
    let api = err.api().expect("api error");
    assert_eq!(
        (api.status, api.code.as_str(), api.request_id.as_str()),
        (400, "InvalidImageName.Duplicated", "RID-dup")
    );
    let text = err.to_string();
    assert!(text.contains("CreateImage failed: InvalidImageName.Duplicated: The specified image name is already in use. (HTTP 400, RequestId RID-dup)"), "{text}");
    assert!(text.contains("hint:"), "{text}");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (ep, _) = fake(vec![
        Reply::Status(400, THROTTLED, vec![("x-acs-retry-after", "3000")]),
        Reply::Status(200, OK, vec![]),
    ])
    .await;
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let c = client(&ep, Scheme::V3, sleeps.clone(), 8);
    let _: ops::CreateImageResponse = c.call("CreateImage", &create()).await.expect("ok");
    assert_eq!(
        sleeps.lock().expect("lock").as_slice(),
        &[Duration::from_secs(3)]
    );
}

#[tokio::test]
async fn gives_up_after_max_retries_and_at_the_deadline() {
    let (ep, seen) = fake(vec![Reply::Status(400, THROTTLED, vec![]); 10]).await;
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let c = client(&ep, Scheme::V3, sleeps, 2);
    let err = c
        .call::<_, ops::CreateImageResponse>("CreateImage", &create())
        .await
        .expect_err("gives up");
    assert_eq!(err.code(), Some("Throttling.User"));
    assert_eq!(seen.lock().expect("lock").len(), 3);
    let (ep, _) = fake(vec![
        Reply::Status(
            400,
            THROTTLED,
            vec![("x-acs-retry-after", "60000")]
        );
        3
    ])
    .await;
    let c = client(&ep, Scheme::V3, Arc::new(Mutex::new(Vec::new())), 8);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let err = c
        .call_raw("CreateImage", ops::flatten(&create()), Some(deadline))
        .await
        .expect_err("deadline");
    assert!(matches!(err, Error::Deadline { attempts: 1, .. }), "{err}");
}

#[tokio::test]
async fn malformed_answers_are_errors_not_empty_results() {
    let cases: Vec<(&'static str, &str)> = vec![
        ("not json", "not JSON"),
        (
            r#"{"RequestId":"x","Code":"InternalFailure","Message":"boom"}"#,
            "InternalFailure",
        ),
        (
            r#"{"RequestId":"x","TotalCount":1,"PageNumber":1,"PageSize":10,"Images":[]}"#,
            "unexpected shape",
        ),
    ];
    for (body, want) in cases {
        let (ep, _) = fake(vec![Reply::Status(200, body, vec![])]).await;
        let c = client(&ep, Scheme::V3, Arc::new(Mutex::new(Vec::new())), 0);
        let req = ops::DescribeImages {
            region_id: "cn-hangzhou".into(),
            ..Default::default()
        };
        let err = c
            .call::<_, ops::DescribeImagesResponse>("DescribeImages", &req)
            .await
            .expect_err(body);
        assert!(err.to_string().contains(want), "{body}: {err}");
    }
}

#[tokio::test]
async fn sts_tokens_travel_as_each_scheme_expects() {
    for scheme in [Scheme::V3, Scheme::V1] {
        let (ep, seen) = fake(vec![Reply::Status(200, OK, vec![])]).await;
        let c = Client::new(ClientConfig {
            region: "cn-hangzhou".into(),
            endpoint: Some(ep),
            credentials: Credentials {
                access_key_id: "testid".into(),
                access_key_secret: "testsecret".into(),
                security_token: Some("sts-token-1".into()),
                source: "test".into(),
            },
            scheme,
            max_retries: 0,
            timeout: Duration::from_secs(5),
        })
        .expect("client");
        let _: ops::CreateImageResponse = c.call("CreateImage", &create()).await.expect("ok");
        let s = seen.lock().expect("lock")[0].clone();
        assert!(
            check_signed(&s),
            "{scheme:?}: the token is covered by the signature"
        );
        match scheme {
            Scheme::V3 => {
                assert!(
                    s.headers
                        .iter()
                        .any(|(k, v)| k == "x-acs-security-token" && v == "sts-token-1"),
                    "{:?}",
                    s.headers
                );
                let auth = s
                    .headers
                    .iter()
                    .find(|(k, _)| k == "authorization")
                    .map(|x| x.1.clone())
                    .unwrap_or_default();
                assert!(
                    auth.contains("x-acs-security-token"),
                    "the token header is signed: {auth}"
                );
            }
            Scheme::V1 => assert!(
                s.target.contains("SecurityToken=sts-token-1"),
                "{}",
                s.target
            ),
        }
    }
}
