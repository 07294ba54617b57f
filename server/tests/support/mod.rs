//! Test support: the real server on port 0 with a fresh data dir, and a typed WebSocket client.
#![allow(dead_code)]

pub mod fhir;
pub mod oidc;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod smtp;
pub mod standin;

use console_protocol::{Codec, ConversationId, Envelope, ServerFrame, SUBPROTOCOL_MSGPACK};
use futures_util::{SinkExt, StreamExt};
use luukku::{Config, RunningServer};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a frame it expects.
pub const WAIT: Duration = Duration::from_secs(10);

/// A server under test with its own data directory. In a cluster run
/// (`LUUKKU_TEST_BACKEND=cluster`) it is three nodes on one PostgreSQL database and one Redis
/// prefix: `server` is the first (the primary: it takes the lease first), `others` the doors,
/// and the WebSocket URLs go to each node in turn, so every test's sessions are spread over
/// the three.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub others: Vec<RunningServer>,
    next_node: std::sync::atomic::AtomicUsize,
}

/// Nodes of a test cluster.
const CLUSTER_NODES: usize = 3;

/// True when this run tests the server as a 3-node cluster (`LUUKKU_TEST_BACKEND=cluster`).
pub fn cluster_selected() -> bool {
    std::env::var("LUUKKU_TEST_BACKEND").is_ok_and(|b| b == "cluster")
}

/// A fresh temporary directory.
pub fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("luukku-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

impl TestServer {
    /// The demo organisation on a fresh data dir.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The demo organisation, adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = temp_dir();
        let mut config = Config::demo(&dir);
        if postgres::selected() || cluster_selected() {
            config.cluster.database_url = Some(postgres::fresh_database().await);
        }
        if cluster_selected() {
            config.cluster.redis_url = Some(redis::shared_url());
            config.cluster.redis_prefix = Some(redis::fresh_prefix().replace(':', "-"));
        }
        tweak(&mut config);
        if cluster_selected() && config.cluster.redis_url.is_some() {
            return Self::start_cluster(config, CLUSTER_NODES).await;
        }
        Self::start_config(config).await
    }

    /// `nodes` nodes of one cluster with `config` (its database and Redis), named n1, n2, …;
    /// n1 starts first and is the primary.
    pub async fn start_cluster(config: Config, nodes: usize) -> Self {
        let mut first = config.clone();
        first.cluster.node_id = Some("n1".into());
        let mut s = Self::start_config(first).await;
        for i in 2..=nodes {
            let mut c = config.clone();
            c.cluster.node_id = Some(format!("n{i}"));
            c.data_dir = temp_dir();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let node = luukku::start(c, listener).await.expect("node starts");
            s.others.push(node);
        }
        s
    }

    /// Every node's address (one outside a cluster run).
    pub fn node_addrs(&self) -> Vec<SocketAddr> {
        std::iter::once(self.addr)
            .chain(self.others.iter().map(|n| n.addr))
            .collect()
    }

    /// A given configuration, on port 0 — or on `config.listen` when a test chose an address
    /// (one another process must know before the server starts, e.g. an SMS provider's
    /// webhook target); the demo's default 127.0.0.1:8080 counts as not chosen.
    pub async fn start_config(config: Config) -> Self {
        // The server's warnings go to the test's captured output: shown when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,luukku=info".into()),
            )
            .try_init();
        let chosen = config.listen.port() != 8080;
        let listener = if chosen {
            tokio::net::TcpListener::bind(config.listen).await
        } else {
            tokio::net::TcpListener::bind("127.0.0.1:0").await
        }
        .expect("bind");
        let data_dir = config.data_dir.clone();
        let server = luukku::start(config, listener)
            .await
            .expect("server starts");
        TestServer {
            addr: server.addr,
            server: Some(server),
            data_dir,
            others: Vec::new(),
            next_node: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Shuts down gracefully and starts again on the same data dir (new port).
    pub async fn restart(mut self) -> Self {
        let config = self.server.as_ref().expect("running").ctx.config.clone();
        let nodes = 1 + self.others.len();
        for other in self.others.drain(..) {
            other.shutdown().await;
        }
        self.server.take().expect("running").shutdown().await;
        if nodes > 1 {
            return Self::start_cluster(config, nodes).await;
        }
        Self::start_config(config).await
    }

    /// A professional's token, minted by the server itself.
    pub fn token(&self, professional: &str) -> String {
        self.server
            .as_ref()
            .expect("running")
            .ctx
            .auth
            .mint_professional(professional, 3600)
    }

    /// An identified client's token.
    pub fn client_token(&self, sub: &str, name: &str) -> String {
        self.server
            .as_ref()
            .expect("running")
            .ctx
            .auth
            .mint_client(sub, name, 3600)
    }

    /// `/metrics` text.
    pub async fn metrics(&self) -> String {
        http_get(self.addr, "/metrics").await.1
    }

    /// A metric sample's value (0 when absent), e.g. `luukku_messages_total{role="client"}`.
    pub async fn metric(&self, series: &str) -> f64 {
        metric_value(&self.metrics().await, series)
    }

    /// The URL of an endpoint: on each node in turn in a cluster run.
    pub fn ws_url(&self, endpoint: &str) -> String {
        let addrs = self.node_addrs();
        let i = self
            .next_node
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("ws://{}/ws/{endpoint}", addrs[i % addrs.len()])
    }

    /// A client connection that said hello (anonymous).
    pub async fn client(&self) -> Conn {
        let mut c = Conn::connect(&self.ws_url("client"), false).await;
        c.send(json!({"type": "hello"})).await;
        let w = c.recv_type("welcome").await;
        assert_eq!(w["identity"]["kind"], "anonymous");
        c
    }

    /// A console connection of `professional`, welcomed.
    pub async fn console(&self, professional: &str) -> Conn {
        let mut c = Conn::connect(&self.ws_url("console"), false).await;
        c.send(json!({"type": "hello", "token": self.token(professional)}))
            .await;
        c.recv_type("welcome").await;
        c
    }

    /// The running server's shared context (storage, config, metrics).
    pub fn ctx(&self) -> &std::sync::Arc<luukku::context::ServerCtx> {
        &self.server.as_ref().expect("running").ctx
    }

    /// A client connection that sent `hello` (any fields); returns it with the `welcome`.
    pub async fn client_hello(&self, hello: Value) -> (Conn, Value) {
        let mut c = Conn::connect(&self.ws_url("client"), false).await;
        c.send(hello).await;
        let w = c.recv_type("welcome").await;
        (c, w)
    }

    /// A console connection of `professional` whose `hello` also carries `extra` fields
    /// (e.g. `resume`); returns it with the `welcome`.
    pub async fn console_hello(&self, professional: &str, extra: Value) -> (Conn, Value) {
        let mut hello = json!({"type": "hello", "token": self.token(professional)});
        if let (Some(h), Some(e)) = (hello.as_object_mut(), extra.as_object()) {
            h.extend(e.clone());
        }
        let mut c = Conn::connect(&self.ws_url("console"), false).await;
        c.send(hello).await;
        let w = c.recv_type("welcome").await;
        (c, w)
    }

    /// The sum of the samples of `name` carrying all of `labels` (see [`metric_sum`]).
    pub async fn metric_of(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric_sum(&self.metrics().await, name, labels)
    }

    /// Polls `/metrics` until `name{labels}` satisfies `pred` (or `WAIT` passes); returns the
    /// last value.
    pub async fn wait_metric_of(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        pred: impl Fn(f64) -> bool,
    ) -> f64 {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let v = self.metric_of(name, labels).await;
            if pred(v) || tokio::time::Instant::now() >= deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `/metrics` until `series` satisfies `pred` (or `WAIT` passes); returns the last value.
    pub async fn wait_metric(&self, series: &str, pred: impl Fn(f64) -> bool) -> f64 {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let v = self.metric(series).await;
            if pred(v) || tokio::time::Instant::now() >= deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every stored event of a conversation, as JSON, in seq order.
    pub async fn stored_events(&self, conversation: &str) -> Vec<Value> {
        let events = self
            .ctx()
            .storage
            .events_after(&cid(conversation), 0, 10_000)
            .await
            .expect("storage reads");
        events
            .iter()
            .map(|e| serde_json::to_value(e).expect("json"))
            .collect()
    }

    /// A client that started a chat with `service` in `team`; returns it with its queued frame.
    pub async fn started(&self, service: &str, team: &str) -> (Conn, Value) {
        let mut c = self.client().await;
        let q = c.start(service, team).await;
        (c, q)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Parses one sample from Prometheus text.
pub fn metric_value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// The sum of every sample of metric `name` whose labels include all of `labels` (in any
/// order), e.g. `metric_sum(&text, "luukku_messages_total", &[("role", "client")])`.
pub fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = series
                .split_once('{')
                .map_or((series, ""), |(n, r)| (n, r.trim_end_matches('}')));
            if n != name {
                return None;
            }
            let have: Vec<(&str, &str)> = rest
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim_matches('"')))
                .collect();
            labels
                .iter()
                .all(|want| have.contains(want))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let (status, _, body) = http_full(addr, method, path, body, headers).await;
    (status, body)
}

/// POSTs `body` as JSON; returns the status and the answer as JSON (`Null` when it is not).
pub async fn post_json(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = http(
        addr,
        "POST",
        path,
        Some(&body.to_string()),
        &[("content-type", "application/json")],
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The demo organisation's non-urgent message service (`nurse-message`, station A, 3 working
/// days), made plain for tests: always open, no questionnaire, whatever the demo has.
pub fn plain_message_service(c: &mut Config) {
    let org = &mut c.organisation;
    org.services.retain(|s| s.id.as_str() != "nurse-message");
    let mut s = org.services[0].clone();
    s.id = "nurse-message".into();
    s.channel = "message".into();
    s.opening_hours.clear();
    s.questionnaire.clear();
    s.promise = Some(luukku::organisation::Promise { working_days: 3 });
    org.services.push(s);
}

/// A minimal HTTP/1.1 request; returns (status, response headers lower-cased, body).
pub async fn http_full(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    let typed = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if !body.is_empty() && !typed {
        req.push_str("content-type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .unwrap_or_default();
    let response_headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    (status, response_headers, body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, None, &[]).await
}

/// A test WebSocket connection speaking JSON or MessagePack.
pub struct Conn {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub codec: Codec,
    /// Every frame received so far, in order (for isolation checks).
    pub seen: Vec<Value>,
}

impl Conn {
    /// Connects (offering MessagePack when `msgpack`).
    pub async fn connect(url: &str, msgpack: bool) -> Conn {
        Self::try_connect(url, msgpack, None)
            .await
            .expect("websocket connects")
    }

    /// Connects with an optional Origin header; returns the HTTP error on refusal.
    pub async fn try_connect(
        url: &str,
        msgpack: bool,
        origin: Option<&str>,
    ) -> Result<Conn, tokio_tungstenite::tungstenite::Error> {
        let mut req = url.into_client_request()?;
        if msgpack {
            req.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static(SUBPROTOCOL_MSGPACK),
            );
        }
        if let Some(o) = origin {
            req.headers_mut()
                .insert("origin", HeaderValue::from_str(o).expect("origin"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Conn {
            ws,
            codec: if msgpack {
                Codec::MessagePack
            } else {
                Codec::Json
            },
            seen: Vec::new(),
        })
    }

    /// Sends a frame given as JSON (encoded with this connection's codec).
    pub async fn send(&mut self, v: Value) {
        let m = match self.codec {
            Codec::Json => Message::Text(v.to_string().into()),
            Codec::MessagePack => {
                Message::Binary(rmp_serde::to_vec_named(&v).expect("encode").into())
            }
        };
        self.ws.send(m).await.expect("send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, t: &str) {
        self.ws
            .send(Message::Text(t.to_owned().into()))
            .await
            .expect("send");
    }

    /// The next frame as JSON, or `None` when the connection closed or `WAIT` passed.
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(WAIT).await
    }

    pub async fn next_within(&mut self, d: Duration) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(d, self.ws.next()).await.ok()??.ok()?;
            let v: Value = match m {
                Message::Text(_) if self.codec == Codec::MessagePack => {
                    panic!("text frame on a MessagePack connection")
                }
                Message::Text(t) => {
                    serde_json::from_str(t.as_str()).expect("server sends valid json")
                }
                Message::Binary(b) => {
                    assert_eq!(
                        self.codec,
                        Codec::MessagePack,
                        "binary frame on a JSON connection"
                    );
                    let generic: Value =
                        rmp_serde::from_slice(&b).expect("any MessagePack reader can decode it");
                    assert!(
                        generic.get("type").is_some_and(Value::is_string),
                        "MessagePack frame is not a map with a type: {generic}"
                    );
                    let typed: Envelope<ServerFrame> =
                        rmp_serde::from_slice(&b).expect("server sends valid msgpack");
                    serde_json::to_value(typed).expect("json")
                }
                Message::Close(_) => return None,
                _ => continue,
            };
            if self.codec == Codec::Json {
                let _: Envelope<ServerFrame> = serde_json::from_value(v.clone())
                    .unwrap_or_else(|e| panic!("frame {v} is not a typed server frame: {e}"));
            }
            self.seen.push(v.clone());
            return Some(v);
        }
    }

    /// Waits for a frame of `type`, skipping others. Panics if none comes.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        self.recv_where(|v| v["type"] == ty)
            .await
            .unwrap_or_else(|| panic!("no {ty} frame arrived"))
    }

    /// Waits for the first frame matching `pred`.
    pub async fn recv_where(&mut self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        while let Some(v) = self.next().await {
            if pred(&v) {
                return Some(v);
            }
        }
        None
    }

    /// Every frame that arrives within `d` (a quiet window: use it to check what did NOT come).
    pub async fn drain(&mut self, d: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + d;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return out;
            }
            match self.next_within(left).await {
                Some(v) => out.push(v),
                None => return out,
            }
        }
    }

    /// Sends `frame` with `"req": req` and waits for the direct reply echoing it.
    pub async fn request(&mut self, mut frame: Value, req: &str) -> Value {
        frame["req"] = req.into();
        self.send(frame).await;
        self.recv_where(|v| v["req"] == req)
            .await
            .unwrap_or_else(|| panic!("no reply to req {req}"))
    }

    /// Sends `frame` with `"req": req`; returns the direct reply and the `system` event
    /// `event` that the same action stored (which may arrive before or after the reply).
    pub async fn request_event(
        &mut self,
        mut frame: Value,
        req: &str,
        event: &str,
    ) -> (Value, Value) {
        frame["req"] = req.into();
        let conversation = frame["conversation"].clone();
        self.send(frame).await;
        let (mut reply, mut stored) = (None, None);
        while reply.is_none() || stored.is_none() {
            let v = self
                .recv_where(|v| {
                    v["req"] == req
                        || (v["type"] == "system"
                            && v["event"] == event
                            && v["conversation"] == conversation)
                })
                .await
                .unwrap_or_else(|| panic!("no reply to {req} or no {event} event"));
            if v["req"] == req {
                reply = Some(v);
            } else {
                stored = Some(v);
            }
        }
        (reply.expect("reply"), stored.expect("event"))
    }

    /// Sends a message with a chosen `client_msg_id` and waits for its ack.
    pub async fn say_as(&mut self, conversation: &str, client_msg_id: &str, body: &str) -> Value {
        self.send(json!({"type": "send", "conversation": conversation, "client_msg_id": client_msg_id, "body": body})).await;
        self.recv_where(|v| v["type"] == "ack" && v["client_msg_id"] == client_msg_id)
            .await
            .expect("ack")
    }

    /// Waits for a `system` event `event` in `conversation`.
    pub async fn system_event(&mut self, conversation: &str, event: &str) -> Value {
        self.recv_where(|v| {
            v["type"] == "system" && v["conversation"] == conversation && v["event"] == event
        })
        .await
        .unwrap_or_else(|| panic!("system event {event:?} never arrived"))
    }

    /// Waits for the close frame and returns its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await.ok()? {
                Some(Ok(Message::Close(Some(f)))) => return Some(f.code.into()),
                Some(Ok(Message::Close(None))) | None => return None,
                Some(Ok(_)) => continue,
                Some(Err(_)) => return None,
            }
        }
    }

    /// `start` → the `queued` frame.
    pub async fn start(&mut self, service: &str, team: &str) -> Value {
        let client_ref = uuid::Uuid::new_v4().to_string();
        self.send(
            json!({"type": "start", "service": service, "team": team, "client_ref": client_ref,
            "questionnaire": {"duration": "1-3 days"}, "req": "start-1"}),
        )
        .await;
        let q = self.recv_type("queued").await;
        assert_eq!(q["req"], "start-1");
        q
    }

    /// Sends a message and waits for its ack; returns the ack.
    pub async fn say(&mut self, conversation: &str, body: &str) -> Value {
        let id = uuid::Uuid::new_v4().to_string();
        self.send(json!({"type": "send", "conversation": conversation, "client_msg_id": id, "body": body})).await;
        self.recv_where(|v| v["type"] == "ack" && v["client_msg_id"] == id.as_str())
            .await
            .expect("ack")
    }

    /// Waits for a `message` event with `body` in `conversation`.
    pub async fn heard(&mut self, conversation: &str, body: &str) -> Value {
        self.recv_where(|v| {
            v["type"] == "message" && v["conversation"] == conversation && v["body"] == body
        })
        .await
        .unwrap_or_else(|| panic!("message {body:?} never arrived"))
    }

    /// Waits for `assigned` and returns the conversation id.
    pub async fn assigned(&mut self) -> String {
        self.recv_type("assigned").await["conversation"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

/// The conversation id in a `queued` frame.
pub fn conv(q: &Value) -> String {
    q["conversation"]
        .as_str()
        .expect("conversation id")
        .to_owned()
}

pub fn cid(s: &str) -> ConversationId {
    ConversationId::from(s)
}
