//! `luukku-relay` serves what `luukku-load` needs: the unchanged load generator runs its
//! `clinic` (JSON and MessagePack) and `idle` scenarios against the relay binary, and bad
//! input gets an error frame instead of a crash.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// True in scripts/test.sh's second and third passes, which test the server on PostgreSQL and
/// as a cluster (`LUUKKU_TEST_BACKEND`): the load tool does not depend on the server's backend,
/// so its tests ran in the first pass and return at once here.
fn backend_pass() -> bool {
    let pass = std::env::var_os("LUUKKU_TEST_BACKEND").is_some();
    if pass {
        eprintln!("skipped in the backend passes: the load tool ran in the first pass");
    }
    pass
}

/// A running relay, killed when dropped.
struct Relay {
    child: Child,
    /// `host:port`.
    addr: String,
}

impl Relay {
    fn start() -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_luukku-relay"))
            .args(["--listen", "127.0.0.1:0", "--workers", "2"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the relay starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the relay prints its address");
        let addr = line
            .trim()
            .strip_prefix("luukku-relay listens on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Relay { child, addr }
    }

    fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `luukku-load` with `args` and returns its JSON result line.
fn load(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_luukku-load"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("luukku-load runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "luukku-load {args:?} failed ({}): {stdout}",
        output.status
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("{\"scenario\""))
        .unwrap_or_else(|| panic!("no result line in {stdout}"));
    serde_json::from_str(line).expect("the result line is JSON")
}

fn clinic(relay: &Relay, extra: &[&str]) -> Value {
    let url = relay.url();
    let mut args = vec![
        "clinic",
        "--url",
        url.as_str(),
        "--conversations",
        "30",
        "--professionals",
        "4",
        "--rate",
        "4",
        "--duration-s",
        "2",
        "--drain-s",
        "0.5",
    ];
    args.extend_from_slice(extra);
    let result = load(&args);
    assert_eq!(result["scenario"], "clinic");
    let sent = result["sent"].as_u64().expect("sent");
    assert!(sent > 0, "nothing sent: {result}");
    assert_eq!(result["acked"].as_u64(), Some(sent), "{result}");
    assert_eq!(result["delivered"].as_u64(), Some(sent), "{result}");
    for zero in [
        "lost",
        "unacked",
        "duplicated",
        "reordered",
        "sender_errors",
    ] {
        assert_eq!(result[zero].as_u64(), Some(0), "{zero}: {result}");
    }
    result
}

#[test]
fn clinic_runs_unchanged_against_the_relay() {
    if backend_pass() {
        return;
    }
    let relay = Relay::start();
    let json = clinic(&relay, &[]);
    assert_eq!(json["codec"], "json");
    // The same professionals serve again: closing released their places.
    let msgpack = clinic(&relay, &["--msgpack"]);
    assert_eq!(msgpack["codec"], "msgpack");
}

#[test]
fn idle_connections_open_and_stay() {
    if backend_pass() {
        return;
    }
    let relay = Relay::start();
    let url = relay.url();
    let pid = relay.child.id().to_string();
    let result = load(&[
        "idle",
        "--url",
        &url,
        "--connections",
        "300",
        "--server-pid",
        &pid,
        "--hold-s",
        "0.5",
    ]);
    assert_eq!(result["scenario"], "idle");
    assert_eq!(result["connections"].as_u64(), Some(300), "{result}");
    assert_eq!(result["failed"].as_u64(), Some(0), "{result}");
    assert_eq!(result["dropped"].as_u64(), Some(0), "{result}");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("the relay sends JSON");
        }
    }
}

async fn send(ws: &mut Ws, frame: &str) {
    ws.send(Message::text(frame)).await.expect("send");
}

#[tokio::test]
async fn bad_input_gets_errors_and_the_connection_stays() {
    if backend_pass() {
        return;
    }
    let relay = Relay::start();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/ws/client", relay.url()))
        .await
        .expect("upgrade");
    send(&mut ws, r#"{"type":"hello","req":"h"}"#).await;
    let welcome = next_json(&mut ws).await;
    assert_eq!(
        (&welcome["type"], &welcome["req"]),
        (&json!("welcome"), &json!("h"))
    );
    send(&mut ws, "not json").await;
    assert_eq!(next_json(&mut ws).await["code"], "bad_frame");
    send(&mut ws, r#"{"type":"warp","req":"w"}"#).await;
    let error = next_json(&mut ws).await;
    assert_eq!(
        (&error["code"], &error["req"]),
        (&json!("bad_frame"), &json!("w"))
    );
    let stranger = r#"{"type":"send","conversation":"x","client_msg_id":"m","body":"b","req":"s"}"#;
    send(&mut ws, stranger).await;
    let error = next_json(&mut ws).await;
    assert_eq!(
        (&error["code"], &error["req"]),
        (&json!("forbidden"), &json!("s"))
    );
    // Started without a console: queued at once; a message is acked with the next seq.
    send(&mut ws, r#"{"type":"start","service":"health-chat"}"#).await;
    let queued = next_json(&mut ws).await;
    assert_eq!(queued["type"], "queued");
    let conversation = queued["conversation"].as_str().expect("an id").to_owned();
    let frame = json!({"type":"send","conversation":conversation,"client_msg_id":"m1","body":"hi"});
    send(&mut ws, &frame.to_string()).await;
    let ack = next_json(&mut ws).await;
    assert_eq!((&ack["type"], &ack["seq"]), (&json!("ack"), &json!(2)));
}

#[tokio::test]
async fn plain_http_endpoints_answer_json() {
    if backend_pass() {
        return;
    }
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let relay = Relay::start();
    for (request, expect) in [
        ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK"),
        ("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", "404 Not Found"),
        (
            "GET /ws/client HTTP/1.1\r\nHost: x\r\n\r\n",
            "400 Bad Request",
        ),
        ("garbage\r\n\r\n", "400 Bad Request"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&relay.addr)
            .await
            .expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.expect("read");
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {expect}")),
            "{request:?}: {reply}"
        );
    }
}
