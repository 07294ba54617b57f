//! Test support: the real server on port 0 with a fresh data dir, and a typed WebSocket client.
#![allow(dead_code)]

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

/// A server under test with its own data directory.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
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
        tweak(&mut config);
        Self::start_config(config).await
    }

    /// A given configuration.
    pub async fn start_config(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let data_dir = config.data_dir.clone();
        let server = luukku::start(config, listener).await.expect("server starts");
        TestServer { addr: server.addr, server: Some(server), data_dir }
    }

    /// Shuts down gracefully and starts again on the same data dir (new port).
    pub async fn restart(mut self) -> Self {
        let config = self.server.as_ref().expect("running").ctx.config.clone();
        self.server.take().expect("running").shutdown().await;
        Self::start_config(config).await
    }

    /// A professional's token, minted by the server itself.
    pub fn token(&self, professional: &str) -> String {
        self.server.as_ref().expect("running").ctx.auth.mint_professional(professional, 3600)
    }

    /// An identified client's token.
    pub fn client_token(&self, sub: &str, name: &str) -> String {
        self.server.as_ref().expect("running").ctx.auth.mint_client(sub, name, 3600)
    }

    /// `/metrics` text.
    pub async fn metrics(&self) -> String {
        http_get(self.addr, "/metrics").await.1
    }

    /// A metric sample's value (0 when absent), e.g. `luukku_messages_total{role="client"}`.
    pub async fn metric(&self, series: &str) -> f64 {
        metric_value(&self.metrics().await, series)
    }

    pub fn ws_url(&self, endpoint: &str) -> String {
        format!("ws://{}/ws/{endpoint}", self.addr)
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
        c.send(json!({"type": "hello", "token": self.token(professional)})).await;
        c.recv_type("welcome").await;
        c
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
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>, headers: &[(&str, &str)]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    if !body.is_empty() {
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
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    let body = if text.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    (status, body)
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
        Self::try_connect(url, msgpack, None).await.expect("websocket connects")
    }

    /// Connects with an optional Origin header; returns the HTTP error on refusal.
    pub async fn try_connect(url: &str, msgpack: bool, origin: Option<&str>) -> Result<Conn, tokio_tungstenite::tungstenite::Error> {
        let mut req = url.into_client_request()?;
        if msgpack {
            req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(SUBPROTOCOL_MSGPACK));
        }
        if let Some(o) = origin {
            req.headers_mut().insert("origin", HeaderValue::from_str(o).expect("origin"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Conn { ws, codec: if msgpack { Codec::MessagePack } else { Codec::Json }, seen: Vec::new() })
    }

    /// Sends a frame given as JSON (encoded with this connection's codec).
    pub async fn send(&mut self, v: Value) {
        let m = match self.codec {
            Codec::Json => Message::Text(v.to_string().into()),
            Codec::MessagePack => Message::Binary(rmp_serde::to_vec_named(&v).expect("encode").into()),
        };
        self.ws.send(m).await.expect("send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, t: &str) {
        self.ws.send(Message::Text(t.to_owned().into())).await.expect("send");
    }

    /// The next frame as JSON, or `None` when the connection closed or `WAIT` passed.
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(WAIT).await
    }

    pub async fn next_within(&mut self, d: Duration) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(d, self.ws.next()).await.ok()??.ok()?;
            let v: Value = match m {
                Message::Text(t) => serde_json::from_str(t.as_str()).expect("server sends valid json"),
                Message::Binary(b) => {
                    assert_eq!(self.codec, Codec::MessagePack, "binary frame on a JSON connection");
                    let typed: Envelope<ServerFrame> = rmp_serde::from_slice(&b).expect("server sends valid msgpack");
                    serde_json::to_value(typed).expect("json")
                }
                Message::Close(_) => return None,
                _ => continue,
            };
            if self.codec == Codec::Json {
                let _: Envelope<ServerFrame> = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("frame {v} is not a typed server frame: {e}"));
            }
            self.seen.push(v.clone());
            return Some(v);
        }
    }

    /// Waits for a frame of `type`, skipping others. Panics if none comes.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        self.recv_where(|v| v["type"] == ty).await.unwrap_or_else(|| panic!("no {ty} frame arrived"))
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
        self.send(json!({"type": "start", "service": service, "team": team, "client_ref": client_ref,
            "questionnaire": {"duration": "1-3 days"}, "req": "start-1"})).await;
        let q = self.recv_type("queued").await;
        assert_eq!(q["req"], "start-1");
        q
    }

    /// Sends a message and waits for its ack; returns the ack.
    pub async fn say(&mut self, conversation: &str, body: &str) -> Value {
        let id = uuid::Uuid::new_v4().to_string();
        self.send(json!({"type": "send", "conversation": conversation, "client_msg_id": id, "body": body})).await;
        self.recv_where(|v| v["type"] == "ack" && v["client_msg_id"] == id.as_str()).await.expect("ack")
    }

    /// Waits for a `message` event with `body` in `conversation`.
    pub async fn heard(&mut self, conversation: &str, body: &str) -> Value {
        self.recv_where(|v| v["type"] == "message" && v["conversation"] == conversation && v["body"] == body).await.unwrap_or_else(|| panic!("message {body:?} never arrived"))
    }

    /// Waits for `assigned` and returns the conversation id.
    pub async fn assigned(&mut self) -> String {
        self.recv_type("assigned").await["conversation"].as_str().expect("id").to_owned()
    }
}

/// The conversation id in a `queued` frame.
pub fn conv(q: &Value) -> String {
    q["conversation"].as_str().expect("conversation id").to_owned()
}

pub fn cid(s: &str) -> ConversationId {
    ConversationId::from(s)
}
