//! A cluster of real `luukku` processes on one PostgreSQL database and one Redis, losing a
//! node: `kill -9` of the primary with messages in flight, and a primary paused (`SIGSTOP`) past
//! its lease whose late writes PostgreSQL refuses when it wakes up (`SIGCONT`). Each asserts what
//! a patient and a nurse would notice: every acknowledged message stored and shown exactly once,
//! in order, no gap in `seq`, the chat still the nurse's (one assignment), and no false ack.

mod support;

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{conv, http, http_get, temp_dir, Conn};

/// How long a takeover may take: the lease's 5 s, a second of renewal and the new primary's
/// start, with room for a loaded test machine.
const TAKEOVER: Duration = Duration::from_secs(30);

/// One `luukku` process of the test cluster.
struct Node {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Node {
    fn start(id: &str, database: &str, redis: &str, prefix: &str) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let dir = temp_dir();
        let child = Command::new(env!("CARGO_BIN_EXE_luukku"))
            .args(["--listen", &addr.to_string(), "--data-dir"])
            .arg(&dir)
            .args(["--database-url", database, "--redis-url", redis])
            .args(["--redis-prefix", prefix, "--node-id", id])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        Node { child, addr, dir }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal}");
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Lets a stopped process go on (so that a kill reaches it); silent when it is gone.
    fn signal_quietly(&self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.signal_quietly();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `/readyz` says 200.
async fn ready(addr: SocketAddr) {
    let deadline = Instant::now() + TAKEOVER;
    loop {
        let listening = tokio::net::TcpStream::connect(addr).await.is_ok();
        let status = if listening {
            tokio::time::timeout(Duration::from_secs(3), http_get(addr, "/readyz"))
                .await
                .map(|(status, _)| status)
                .unwrap_or(0)
        } else {
            0
        };
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "{addr} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A cluster of `n` nodes (n1 first, so n1 is the primary), each ready.
async fn cluster(n: usize) -> Vec<Node> {
    let database = support::postgres::fresh_database().await;
    cluster_on(n, &database, &support::redis::shared_url()).await
}

/// `n` nodes on `database` and `redis` (a fresh key prefix), each ready.
async fn cluster_on(n: usize, database: &str, redis: &str) -> Vec<Node> {
    let prefix = support::redis::fresh_prefix().replace(':', "-");
    let mut nodes = Vec::new();
    for i in 1..=n {
        let node = Node::start(&format!("n{i}"), database, redis, &prefix);
        ready(node.addr).await;
        nodes.push(node);
    }
    nodes
}

/// Waits until `/readyz` of `addr` fails naming `dependency`.
async fn not_ready_for(addr: SocketAddr, dependency: &str) {
    let deadline = Instant::now() + TAKEOVER;
    loop {
        let (status, body) = http_get(addr, "/readyz").await;
        if status == 503 && body.contains(dependency) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{addr} still ready without {dependency}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A sample of `/metrics` of `addr`.
async fn metric(addr: SocketAddr, series: &str) -> f64 {
    support::metric_value(&http_get(addr, "/metrics").await.1, series)
}

/// A chat between nurse-1 on `nurse_at` and an anonymous patient on `patient_at`: (patient,
/// nurse, conversation, resume token).
async fn chat(nurse_at: SocketAddr, patient_at: SocketAddr) -> (Conn, Conn, String, String) {
    let hello = json!({"type": "hello", "token": token(nurse_at, "nurse-1").await});
    let (mut nurse, _) = connect_any(&[nurse_at], "console", hello).await;
    let (mut patient, _) = connect_any(&[patient_at], "client", json!({"type": "hello"})).await;
    let q = patient.start("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    let token = q["resume_token"].as_str().expect("token").to_owned();
    (patient, nurse, c, token)
}

/// The highest seq of `conversation` among the events `seen`.
fn last_seq(seen: &[Value], conversation: &str) -> u64 {
    seen.iter()
        .filter(|f| f["conversation"] == conversation && f["type"] != "ack")
        .filter_map(|f| f["seq"].as_u64())
        .max()
        .unwrap_or(0)
}

/// The patient back through `addrs`, resuming after what it saw.
async fn patient_back(addrs: &[SocketAddr], old: &Conn, c: &str, token: &str) -> Conn {
    let hello = json!({"type": "hello", "resume": [
        {"conversation": c, "resume_token": token, "after_seq": last_seq(&old.seen, c)}]});
    let (patient, w) = connect_any(addrs, "client", hello).await;
    assert!(holds(&w, c), "{w}");
    patient
}

/// nurse-1 back through `addrs`, resuming after what it saw; asserts it still holds the chat.
async fn nurse_back(addrs: &[SocketAddr], old: &Conn, c: &str) -> Conn {
    let hello = json!({"type": "hello", "token": token(addrs[0], "nurse-1").await,
        "resume": [{"conversation": c, "after_seq": last_seq(&old.seen, c)}]});
    let (nurse, w) = connect_any(addrs, "console", hello).await;
    assert!(holds(&w, c), "the nurse lost the chat: {w}");
    nurse
}

/// The message seqs `conns` (one participant's connections, in order) received: asserts none
/// twice and their order; returns how many.
fn heard_once_in_order(conns: &[&Conn], c: &str) -> usize {
    let seqs: Vec<u64> = conns
        .iter()
        .flat_map(|conn| messages(conn, c))
        .map(|(seq, _)| seq)
        .collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seqs, sorted, "a message shown twice or out of order");
    seqs.len()
}

/// A demo token for `professional`, from the node at `addr`.
async fn token(addr: SocketAddr, professional: &str) -> String {
    let body = json!({ "professional": professional }).to_string();
    let (status, body) = http(
        addr,
        "POST",
        "/api/v1/dev/token",
        Some(&body),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// Connects to the first of `addrs` that welcomes `hello`, retrying until a primary serves.
async fn connect_any(addrs: &[SocketAddr], endpoint: &str, hello: Value) -> (Conn, Value) {
    let deadline = Instant::now() + TAKEOVER;
    loop {
        for addr in addrs {
            let url = format!("ws://{addr}/ws/{endpoint}");
            let Ok(Ok(mut c)) =
                tokio::time::timeout(Duration::from_secs(3), Conn::try_connect(&url, false, None))
                    .await
            else {
                continue;
            };
            c.send(hello.clone()).await;
            if let Some(w) = c.recv_where(|v| v["type"] == "welcome").await {
                return (c, w);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no node welcomed a {endpoint} in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a `welcome` lists `conversation` as one the session is in, still in progress.
fn holds(welcome: &Value, conversation: &str) -> bool {
    welcome["conversations"].as_array().is_some_and(|list| {
        list.iter()
            .any(|x| x["conversation"] == conversation && x["status"] == "in_progress")
    })
}

/// The bodies of the `message` events `conn` received in `conversation`, with their seqs, in
/// arrival order.
fn messages(conn: &Conn, conversation: &str) -> Vec<(u64, String)> {
    conn.seen
        .iter()
        .filter(|f| f["type"] == "message" && f["conversation"] == conversation)
        .map(|f| {
            (
                f["seq"].as_u64().expect("seq"),
                f["body"].as_str().expect("body").to_owned(),
            )
        })
        .collect()
}

/// Reads the whole conversation back as a client resuming from seq 0 would, through `addrs`;
/// asserts its seqs have no gap and returns the message bodies in order.
async fn stored_bodies(addrs: &[SocketAddr], conversation: &str, token: &str) -> Vec<String> {
    let hello = json!({"type": "hello", "resume": [
        {"conversation": conversation, "resume_token": token, "after_seq": 0}]});
    let (mut reader, _) = connect_any(addrs, "client", hello).await;
    while reader
        .next_within(Duration::from_millis(500))
        .await
        .is_some()
    {}
    let seqs: Vec<u64> = reader
        .seen
        .iter()
        .filter(|f| {
            matches!(f["type"].as_str(), Some("message" | "system"))
                && f["conversation"] == conversation
        })
        .filter_map(|f| f["seq"].as_u64())
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "the record has a gap or a repeat");
    let assigned = reader
        .seen
        .iter()
        .filter(|f| f["type"] == "system" && f["event"] == "assigned")
        .count();
    assert_eq!(assigned, 1, "the chat was assigned more than once");
    messages(&reader, conversation)
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

/// Sends `bodies` without waiting, then collects acks until each came or the socket closed;
/// returns the client_msg_ids of the acked ones.
async fn burst(conn: &mut Conn, conversation: &str, bodies: &[(String, String)]) -> Vec<String> {
    for (id, body) in bodies {
        let frame = json!({"type": "send", "conversation": conversation, "client_msg_id": id, "body": body});
        let m = tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into());
        if futures_util::SinkExt::send(&mut conn.ws, m).await.is_err() {
            break;
        }
    }
    let mut acked = Vec::new();
    while acked.len() < bodies.len() {
        match conn.next_within(Duration::from_secs(5)).await {
            Some(f) if f["type"] == "ack" => {
                acked.push(f["client_msg_id"].as_str().expect("id").to_owned())
            }
            Some(_) => {}
            None => break,
        }
    }
    acked
}

#[tokio::test]
async fn kill_9_of_the_primary_loses_nothing_acknowledged_and_the_nurse_keeps_the_chat() {
    let mut nodes = cluster(3).await;
    let doors = [nodes[1].addr, nodes[2].addr];
    let nurse_token = token(doors[0], "nurse-1").await;
    let nurse_hello = json!({"type": "hello", "token": nurse_token});
    let (mut nurse, _) = connect_any(&doors[..1], "console", nurse_hello).await;
    let (mut patient, _) = connect_any(&doors[1..], "client", json!({"type": "hello"})).await;
    let q = patient.start("health-chat", "station-a").await;
    let c = conv(&q);
    let resume_token = q["resume_token"].as_str().expect("token").to_owned();
    assert_eq!(nurse.assigned().await, c);

    let mut sent: Vec<(String, String)> = Vec::new();
    for i in 0..10 {
        let body = format!("before {i}");
        let ack = patient.say(&c, &body).await;
        sent.push((ack["client_msg_id"].as_str().expect("id").to_owned(), body));
    }
    nurse.heard(&c, "before 9").await;

    // Five more in flight, and the primary is killed under them.
    let in_flight: Vec<(String, String)> = (0..5)
        .map(|i| (uuid::Uuid::new_v4().to_string(), format!("in flight {i}")))
        .collect();
    let frames = in_flight.clone();
    let (acked, _) = tokio::join!(burst(&mut patient, &c, &frames), async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        nodes[0].kill9();
    });
    while patient.next_within(Duration::from_secs(10)).await.is_some() {}
    while nurse.next_within(Duration::from_secs(10)).await.is_some() {}

    // Both reconnect through the survivors and resume after what they saw.
    let mut patient2 = patient_back(&doors, &patient, &c, &resume_token).await;
    let mut nurse2 = nurse_back(&doors, &nurse, &c).await;

    // What the patient did not see acknowledged is sent again with the same id.
    for (id, body) in &in_flight {
        let ack = patient2.say_as(&c, id, body).await;
        assert_eq!(
            ack["type"],
            "ack",
            "{id} was acked before the kill: {}",
            acked.contains(id)
        );
    }
    sent.extend(in_flight.iter().cloned());
    for i in 0..5 {
        let body = format!("after {i}");
        let ack = patient2.say(&c, &body).await;
        sent.push((ack["client_msg_id"].as_str().expect("id").to_owned(), body));
    }
    nurse2.heard(&c, "after 4").await;

    let stored = stored_bodies(&doors, &c, &resume_token).await;
    let mut expected: Vec<String> = sent.iter().map(|(_, b)| b.clone()).collect();
    let mut got = stored.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "every message stored exactly once");
    // The nurse saw every message once, in seq order, over both connections.
    assert_eq!(
        heard_once_in_order(&[&nurse, &nurse2], &c),
        stored.len(),
        "the nurse missed a message"
    );
}

#[tokio::test]
async fn a_primary_paused_past_its_lease_has_its_late_writes_refused() {
    let nodes = cluster(2).await;
    let (primary, door) = (nodes[0].addr, nodes[1].addr);
    let nurse_hello = json!({"type": "hello", "token": token(door, "nurse-1").await});
    let (mut nurse, _) = connect_any(&[door], "console", nurse_hello).await;
    // The patient is on the primary itself: its frame waits in the paused node's socket.
    let (mut patient, _) = connect_any(&[primary], "client", json!({"type": "hello"})).await;
    let q = patient.start("health-chat", "station-a").await;
    let c = conv(&q);
    let resume_token = q["resume_token"].as_str().expect("token").to_owned();
    assert_eq!(nurse.assigned().await, c);
    patient.say(&c, "before the pause").await;

    nodes[0].signal("-STOP");
    let late_id = uuid::Uuid::new_v4().to_string();
    patient
        .send(json!({"type": "send", "conversation": c, "client_msg_id": late_id, "body": "late"}))
        .await;
    // The door takes over once the lease has run out: until then its tunnels to the paused
    // primary get no answer, and `connect_any` keeps trying.
    let (mut nurse2, w) = connect_any(
        &[door],
        "console",
        json!({"type": "hello", "token": token(door, "nurse-1").await,
               "resume": [{"conversation": c, "after_seq": 0}]}),
    )
    .await;
    assert!(
        holds(&w, &c),
        "the nurse lost the chat on the takeover: {w}"
    );
    drop(nurse);

    nodes[0].signal("-CONT");
    // Whatever the woken node does with the frame it finds, it cannot acknowledge it.
    let mut false_ack = false;
    while let Some(f) = patient.next_within(Duration::from_secs(10)).await {
        if f["type"] == "ack" && f["client_msg_id"] == late_id.as_str() {
            false_ack = true;
        }
    }
    assert!(
        !false_ack,
        "a node that lost the lease acknowledged a write"
    );

    // The patient comes back through the new primary and resends: stored once.
    let hello = json!({"type": "hello", "resume": [
        {"conversation": c, "resume_token": resume_token, "after_seq": 0}]});
    let (mut patient, _) = connect_any(&[door], "client", hello).await;
    patient.say_as(&c, &late_id, "late").await;
    nurse2.heard(&c, "late").await;
    let stored = stored_bodies(&[door], &c, &resume_token).await;
    assert_eq!(stored, ["before the pause", "late"]);
}

#[tokio::test]
async fn kill_9_of_a_door_ends_its_sessions_on_the_primary_and_its_nurse_keeps_the_chat() {
    let mut nodes = cluster(3).await;
    let (primary, door2, door3) = (nodes[0].addr, nodes[1].addr, nodes[2].addr);
    let (mut patient, nurse, c, token) = chat(door2, door3).await;
    for i in 0..5 {
        patient.say(&c, &format!("before {i}")).await;
    }
    let console = r#"luukku_connections{endpoint="console"}"#;
    assert_eq!(metric(primary, console).await, 1.0);

    nodes[1].kill9();
    // The primary notices the dead door by its heartbeat and ends the session it ran for it.
    let deadline = Instant::now() + TAKEOVER;
    while metric(primary, console).await != 0.0 {
        assert!(
            Instant::now() < deadline,
            "the dead door's session lives on"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Meanwhile the patient, on another door, goes on.
    for i in 0..5 {
        patient.say(&c, &format!("meanwhile {i}")).await;
    }
    let mut back = nurse_back(&[door3, primary], &nurse, &c).await;
    patient.say(&c, "after").await;
    back.heard(&c, "after").await;
    assert_eq!(heard_once_in_order(&[&nurse, &back], &c), 11);
    let stored = stored_bodies(&[door3], &c, &token).await;
    assert_eq!(stored.len(), 11);
}

#[tokio::test]
async fn a_redis_restart_closes_the_doors_sockets_and_everyone_resumes_without_a_gap() {
    let mut redis = support::redis::PrivateRedis::start();
    let database = support::postgres::fresh_database().await;
    let nodes = cluster_on(2, &database, &redis.url()).await;
    let (primary, door) = (nodes[0].addr, nodes[1].addr);
    let (mut patient, mut nurse, c, token) = chat(primary, door).await;
    patient.say(&c, "before").await;
    nurse.heard(&c, "before").await;

    redis.kill();
    // The door's tunnel lost frames it cannot know of: it closes its sockets.
    assert_eq!(patient.close_code().await, Some(1012));
    not_ready_for(door, "redis").await;
    // The primary serves the sockets that reach it: the nurse never noticed.
    let mut patient2 = patient_back(&[primary], &patient, &c, &token).await;
    patient2.say(&c, "during").await;
    nurse.heard(&c, "during").await;

    redis.restart();
    ready(door).await;
    ready(primary).await;
    let mut patient3 = patient_back(&[door], &patient2, &c, &token).await;
    patient3.say(&c, "after").await;
    nurse.heard(&c, "after").await;
    assert_eq!(heard_once_in_order(&[&nurse], &c), 3);
    heard_once_in_order(&[&patient, &patient2, &patient3], &c);
    let stored = stored_bodies(&[door], &c, &token).await;
    assert_eq!(stored, ["before", "during", "after"]);
}

#[tokio::test]
async fn a_postgresql_restart_refuses_sends_without_a_false_ack_and_the_nodes_recover_alone() {
    let server = support::postgres::PrivatePostgres::start();
    let database = support::postgres::fresh_database_on(&server.url()).await;
    let mut nodes = cluster_on(2, &database, &support::redis::shared_url()).await;
    let addrs = [nodes[0].addr, nodes[1].addr];
    let (mut patient, nurse, c, token) = chat(addrs[1], addrs[0]).await;
    patient.say(&c, "before").await;

    server.stop();
    let id = uuid::Uuid::new_v4().to_string();
    patient
        .send(json!({"type": "send", "conversation": c, "client_msg_id": id, "body": "during"}))
        .await;
    let mut answer = None;
    while let Some(f) = patient.next_within(Duration::from_secs(10)).await {
        if f["client_msg_id"] == id.as_str() || f["type"] == "error" {
            answer = Some(f);
            break;
        }
    }
    if let Some(a) = &answer {
        assert_ne!(
            a["type"], "ack",
            "acknowledged while PostgreSQL was down: {a}"
        );
    }
    not_ready_for(addrs[0], "postgresql").await;

    server.start_again();
    for node in &mut nodes {
        assert!(
            node.child.try_wait().expect("status").is_none(),
            "a node exited"
        );
    }
    let mut patient = patient_back(&addrs, &patient, &c, &token).await;
    let mut nurse = nurse_back(&addrs, &nurse, &c).await;
    patient.say_as(&c, &id, "during").await;
    patient.say(&c, "after").await;
    nurse.heard(&c, "after").await;
    let stored = stored_bodies(&addrs, &c, &token).await;
    assert_eq!(stored, ["before", "during", "after"]);
}
