//! The accept path: reads an HTTP/1.1 request head with a small buffer and either answers one
//! of the few JSON endpoints (one request per connection, `Connection: close`) or upgrades
//! `/ws/client` and `/ws/console` to WebSocket by hand, negotiating the codec as the server
//! does.

use crate::client::ClientSession;
use crate::console::ConsoleSession;
use crate::hub::{Hub, Outbox};
use crate::session;
use console_protocol::Codec;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// A request head larger than this is refused.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// A request body larger than this is refused.
const MAX_BODY_BYTES: usize = 4 * 1024;
/// Bytes read at a time while looking for the end of the head.
const READ_CHUNK: usize = 1024;
/// The head (and a body) must arrive within this time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The server's frame limit.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The WebSocket configuration of every relay socket: the server's small read buffer and
/// limits, but a write buffer, so that a batch of outbox frames goes out in one write.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
}

/// A parsed request head.
#[derive(Debug)]
struct Head {
    method: String,
    /// Without the query string.
    path: String,
    /// Names in lower case.
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Which WebSocket endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Client,
    Console,
}

/// A WebSocket upgrade that was answered with 101.
struct Upgraded {
    endpoint: Endpoint,
    codec: Codec,
    /// Bytes the client sent right after its request head.
    rest: Vec<u8>,
}

/// Serves one accepted connection.
pub async fn serve_connection(mut stream: TcpStream, hub: Arc<Hub>) {
    let _ = stream.set_nodelay(true);
    // The request and its buffers end here, before the long-lived WebSocket session.
    if let Some(upgraded) = answer_request(&mut stream).await {
        run_websocket(stream, upgraded, hub).await;
    }
}

/// Reads the request and answers it: a plain endpoint (then `None`), or 101 for a WebSocket
/// upgrade.
async fn answer_request(stream: &mut TcpStream) -> Option<Upgraded> {
    let (raw, rest) = tokio::time::timeout(REQUEST_TIMEOUT, read_head(stream))
        .await
        .ok()?
        .ok()??;
    let Some(head) = parse_head(&raw) else {
        respond(stream, 400, &error_json("bad_request", "malformed request")).await;
        return None;
    };
    let endpoint = match head.path.as_str() {
        "/ws/client" => Some(Endpoint::Client),
        "/ws/console" => Some(Endpoint::Console),
        _ => None,
    };
    match (head.method.as_str(), endpoint) {
        ("GET", Some(endpoint)) => {
            let codec = switch_protocols(stream, &head).await?;
            return Some(Upgraded {
                endpoint,
                codec,
                rest,
            });
        }
        ("POST", None) => {
            let body = tokio::time::timeout(REQUEST_TIMEOUT, read_body(stream, &head, rest))
                .await
                .ok()
                .flatten();
            let (status, reply) = match body {
                Some(body) => route(&head.method, &head.path, &body),
                None => (400, error_json("bad_request", "missing or oversized body")),
            };
            respond(stream, status, &reply).await;
        }
        (method, _) => {
            let (status, reply) = route(method, &head.path, &[]);
            respond(stream, status, &reply).await;
        }
    }
    None
}

/// Reads until the end of the head; returns the head and any bytes read past it.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::new();
    loop {
        let searched = buf.len().saturating_sub(3);
        buf.reserve(READ_CHUNK);
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(None);
        }
        if let Some(i) = find(&buf[searched..], b"\r\n\r\n") {
            let rest = buf.split_off(searched + i + 4);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    if !request_line.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Some(Head {
        method,
        path,
        headers,
    })
}

/// The request body (`Content-Length` only), starting with the bytes read past the head.
async fn read_body(stream: &mut TcpStream, head: &Head, mut body: Vec<u8>) -> Option<Vec<u8>> {
    let length: usize = head.header("content-length")?.parse().ok()?;
    if length > MAX_BODY_BYTES {
        return None;
    }
    while body.len() < length {
        body.reserve(length - body.len());
        if stream.read_buf(&mut body).await.ok()? == 0 {
            return None;
        }
    }
    body.truncate(length);
    Some(body)
}

/// The plain HTTP endpoints: status and JSON body.
fn route(method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    match (method, path) {
        ("GET", "/healthz" | "/readyz") => (200, serde_json::json!({"status": "ok"})),
        ("GET", "/api/v1/dev/professionals") => (200, crate::directory::professionals_json()),
        ("POST", "/api/v1/dev/token") => (200, crate::directory::token_json(body)),
        ("GET", "/api/v1/services") => (200, services_json()),
        _ => (
            404,
            error_json("not_found", "luukku-relay has no such endpoint"),
        ),
    }
}

fn services_json() -> serde_json::Value {
    serde_json::json!({"services": [{
        "id": "health-chat", "name": "Health station chat", "channel": "chat",
        "teams": ["station-a"], "topics": [], "open_now": true, "questionnaire": {"questions": []}
    }]})
}

fn error_json(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({"error": code, "message": message})
}

async fn respond(stream: &mut TcpStream, status: u16, body: &serde_json::Value) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Error",
    };
    let body = body.to_string();
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Checks the upgrade request, negotiates the codec and answers 101.
async fn switch_protocols(stream: &mut TcpStream, head: &Head) -> Option<Codec> {
    let is_websocket = head
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        && head.header("sec-websocket-version") == Some("13");
    let (Some(key), true) = (head.header("sec-websocket-key"), is_websocket) else {
        let body = error_json("bad_request", "expected a WebSocket upgrade (version 13)");
        respond(stream, 400, &body).await;
        return None;
    };
    let (codec, protocol) = Codec::negotiate(head.header("sec-websocket-protocol"));
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    if let Some(protocol) = protocol {
        response.push_str("Sec-WebSocket-Protocol: ");
        response.push_str(protocol);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes()).await.ok()?;
    Some(codec)
}

/// Runs the endpoint's session on an upgraded socket.
async fn run_websocket(stream: TcpStream, upgraded: Upgraded, hub: Arc<Hub>) {
    let Upgraded {
        endpoint,
        codec,
        rest,
    } = upgraded;
    let ws = if rest.is_empty() {
        WebSocketStream::from_raw_socket(stream, Role::Server, Some(ws_config())).await
    } else {
        WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(ws_config())).await
    };
    let (outbox, rx, kill) = Outbox::new(codec);
    match endpoint {
        Endpoint::Client => {
            let client = ClientSession::new(hub, outbox);
            session::run(ws, client, codec, rx, kill).await;
        }
        Endpoint::Console => {
            let console = ConsoleSession::new(hub, outbox);
            session::run(ws, console, codec, rx, kill).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_lower_case_names_and_no_query() {
        let raw = b"GET /ws/client?x=1 HTTP/1.1\r\nHost: a:1\r\nSec-WebSocket-Key: k==\r\n\r\n";
        let head = parse_head(raw).expect("parses");
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/ws/client");
        assert_eq!(head.header("sec-websocket-key"), Some("k=="));
        assert_eq!(head.header("host"), Some("a:1"));
        assert!(parse_head(b"GET /\r\n\r\n").is_none());
        assert!(parse_head(b"GET / HTTP/1.1\r\nno colon\r\n\r\n").is_none());
        assert!(parse_head(&[0xff, 0xfe]).is_none());
        assert!(parse_head(b"").is_none());
    }

    #[test]
    fn endpoints_answer_fixed_json() {
        let (status, body) = route("GET", "/api/v1/dev/professionals", &[]);
        assert_eq!(status, 200);
        assert!(body["professionals"].is_array());
        let (status, body) = route("POST", "/api/v1/dev/token", br#"{"professional":"x"}"#);
        assert_eq!((status, body["token"].as_str()), (200, Some("relay:x")));
        assert_eq!(route("GET", "/healthz", &[]).0, 200);
        assert_eq!(route("GET", "/nope", &[]).0, 404);
        assert_eq!(route("DELETE", "/healthz", &[]).0, 404);
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(find(b"ab\r\n\r\ncd", b"\r\n\r\n"), Some(2));
        assert_eq!(find(b"ab", b"\r\n\r\n"), None);
    }
}
