//! WebSocket connect helpers: the server address, source-address spreading over
//! 127.0.0.2..=127.0.0.250 (past the ephemeral-port limit of one source address), and typed
//! frame halves ([`FrameWriter`], [`FrameReader`]) that encode with the connection's [`Codec`].

use anyhow::{anyhow, bail, Context, Result};
use console_protocol::{Codec, Envelope, ServerFrame, SUBPROTOCOL_MSGPACK};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header::SEC_WEBSOCKET_PROTOCOL, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A WebSocket over plain TCP (the load generator only talks to local servers).
pub type WsStream = WebSocketStream<TcpStream>;

/// Small buffers: thousands of mostly idle connections live in this one process.
const READ_BUFFER_BYTES: usize = 8 * 1024;
const WRITE_BUFFER_BYTES: usize = 16 * 1024;
/// TCP connect plus upgrade; generous because a loaded server's accept queue may overflow
/// and SYNs are then retried after 1 s, 3 s, ...
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Which endpoint of the server to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Client,
    Console,
    /// A Socket.IO server (Engine.IO v4 straight over WebSocket), for `--system socketio`.
    SocketIo,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Client => "/ws/client",
            Endpoint::Console => "/ws/console",
            Endpoint::SocketIo => "/socket.io/?EIO=4&transport=websocket",
        }
    }
}

/// The server under test: `ws://host:port`, resolved once.
#[derive(Debug, Clone)]
pub struct ServerUrl {
    /// `host:port`, also the HTTP `Host` header.
    pub authority: String,
    pub addr: SocketAddr,
}

impl ServerUrl {
    /// Parses `ws://host:port[/]` and resolves the host.
    pub async fn resolve(url: &str) -> Result<Self> {
        let authority = parse_authority(url)?;
        let addr = tokio::net::lookup_host(&authority)
            .await
            .with_context(|| format!("resolving {authority}"))?
            .next()
            .ok_or_else(|| anyhow!("{authority} resolves to no address"))?;
        Ok(Self { authority, addr })
    }
}

/// The `host:port` of a `ws://` URL (a path, if any, is ignored: endpoints are fixed).
pub fn parse_authority(url: &str) -> Result<String> {
    let Some(rest) = url.strip_prefix("ws://") else {
        bail!("only ws:// URLs are supported, got {url}");
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("no host in {url}");
    }
    if authority.contains(':') {
        Ok(authority.to_owned())
    } else {
        Ok(format!("{authority}:80"))
    }
}

/// Hands out local source addresses 127.0.0.2..=127.0.0.250 round-robin, so each gets its
/// own ephemeral port range towards the one server address.
#[derive(Debug, Default)]
pub struct SourceAddrs {
    next: AtomicUsize,
}

impl SourceAddrs {
    const FIRST: usize = 2;
    const COUNT: usize = 249;

    /// The next source address; `None` when the server is not on loopback.
    pub fn next_for(&self, server: &SocketAddr) -> Option<IpAddr> {
        if !server.ip().is_loopback() || !server.is_ipv4() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % Self::COUNT;
        let last_octet = u8::try_from(Self::FIRST + i).unwrap_or(250);
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
    }
}

/// Opens a WebSocket to `endpoint`, from `source` when given, offering MessagePack when
/// `codec` asks for it (and checking that the server agreed).
pub async fn connect(
    server: &ServerUrl,
    endpoint: Endpoint,
    codec: Codec,
    source: Option<IpAddr>,
) -> Result<WsStream> {
    tokio::time::timeout(CONNECT_TIMEOUT, open(server, endpoint, codec, source))
        .await
        .context("connect timed out")?
}

async fn open(
    server: &ServerUrl,
    endpoint: Endpoint,
    codec: Codec,
    source: Option<IpAddr>,
) -> Result<WsStream> {
    let tcp = open_tcp(server.addr, source).await?;
    let url = format!("ws://{}{}", server.authority, endpoint.path());
    let mut request = url.into_client_request()?;
    if codec == Codec::MessagePack {
        request.headers_mut().insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL_MSGPACK),
        );
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES);
    let (ws, response) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .context("websocket handshake")?;
    if codec == Codec::MessagePack {
        let agreed = response.headers().get(SEC_WEBSOCKET_PROTOCOL);
        if agreed.and_then(|v| v.to_str().ok()) != Some(SUBPROTOCOL_MSGPACK) {
            bail!("server did not agree to {SUBPROTOCOL_MSGPACK}");
        }
    }
    Ok(ws)
}

async fn open_tcp(addr: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .with_context(|| format!("binding source {ip}"))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Splits a connection into typed halves.
pub fn split(ws: WsStream, codec: Codec) -> (FrameWriter, FrameReader) {
    let (sink, stream) = ws.split();
    (FrameWriter { sink, codec }, FrameReader { stream, codec })
}

/// The sending half: encodes any serializable frame with the connection's codec.
pub struct FrameWriter {
    sink: SplitSink<WsStream, Message>,
    codec: Codec,
}

impl FrameWriter {
    /// Encodes and sends one frame, flushing it.
    pub async fn send<T: Serialize>(&mut self, frame: &T) -> Result<()> {
        let message = encode(self.codec, frame)?;
        self.sink.send(message).await?;
        Ok(())
    }

    /// Encodes and buffers one frame; [`FrameWriter::flush`] writes it out.
    pub async fn feed<T: Serialize>(&mut self, frame: &T) -> Result<()> {
        let message = encode(self.codec, frame)?;
        self.sink.feed(message).await?;
        Ok(())
    }

    /// Writes out buffered frames.
    pub async fn flush(&mut self) -> Result<()> {
        self.sink.flush().await?;
        Ok(())
    }

    /// Sends a WebSocket close frame.
    pub async fn close(&mut self) -> Result<()> {
        self.sink.close().await?;
        Ok(())
    }
}

/// Encodes a frame as a text (JSON) or binary (MessagePack) message.
pub fn encode<T: Serialize>(codec: Codec, frame: &T) -> Result<Message> {
    let bytes = codec.encode(frame)?;
    if codec.is_binary() {
        Ok(Message::binary(bytes))
    } else {
        Ok(Message::text(String::from_utf8(bytes)?))
    }
}

/// What arrived on a connection.
#[derive(Debug)]
pub enum Incoming {
    Frame(Box<Envelope<ServerFrame>>),
    /// A data message that did not decode as a server frame.
    Undecodable(String),
    /// The server closed the connection, with its close code if it sent one.
    Closed(Option<u16>),
}

/// The receiving half: decodes server frames, skipping pings and pongs.
pub struct FrameReader {
    stream: SplitStream<WsStream>,
    codec: Codec,
}

impl FrameReader {
    /// The next frame or close; a transport error counts as a close without code.
    pub async fn next(&mut self) -> Incoming {
        loop {
            let message = match self.stream.next().await {
                Some(Ok(m)) => m,
                Some(Err(_)) | None => return Incoming::Closed(None),
            };
            return match message {
                Message::Text(t) => self.decode(t.as_bytes()),
                Message::Binary(b) => self.decode(&b),
                Message::Close(frame) => Incoming::Closed(frame.map(|f| u16::from(f.code))),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
        }
    }

    fn decode(&self, bytes: &[u8]) -> Incoming {
        match self.codec.decode::<Envelope<ServerFrame>>(bytes) {
            Ok(envelope) => Incoming::Frame(Box::new(envelope)),
            Err(e) => Incoming::Undecodable(e.to_string()),
        }
    }

    /// Reads until `pick` accepts a frame; an `error` frame or close before that is an error.
    pub async fn expect<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&ServerFrame) -> Option<T>,
    ) -> Result<T> {
        loop {
            match self.next().await {
                Incoming::Frame(envelope) => {
                    if let Some(found) = pick(&envelope.frame) {
                        return Ok(found);
                    }
                    if let ServerFrame::Error(e) = &envelope.frame {
                        bail!(
                            "waiting for {what}: error {}: {}",
                            e.code.as_str(),
                            e.message
                        );
                    }
                }
                Incoming::Undecodable(e) => bail!("waiting for {what}: undecodable frame: {e}"),
                Incoming::Closed(code) => bail!("waiting for {what}: closed ({code:?})"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_comes_from_the_ws_url() {
        assert_eq!(
            parse_authority("ws://127.0.0.1:8080").ok(),
            Some("127.0.0.1:8080".into())
        );
        assert_eq!(
            parse_authority("ws://localhost:9/ws/client").ok(),
            Some("localhost:9".into())
        );
        assert_eq!(
            parse_authority("ws://example").ok(),
            Some("example:80".into())
        );
        assert!(parse_authority("http://127.0.0.1:1").is_err());
        assert!(parse_authority("ws://").is_err());
    }

    #[test]
    fn source_addresses_cycle_over_loopback() {
        let sources = SourceAddrs::default();
        let server: SocketAddr = ([127, 0, 0, 1], 8080).into();
        let first = sources.next_for(&server);
        assert_eq!(first, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
        for _ in 0..247 {
            sources.next_for(&server);
        }
        assert_eq!(
            sources.next_for(&server),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 250)))
        );
        assert_eq!(sources.next_for(&server), first);
        let remote: SocketAddr = ([10, 0, 0, 1], 8080).into();
        assert_eq!(sources.next_for(&remote), None);
    }

    #[test]
    fn frames_encode_per_codec() {
        let hello = Envelope::new(console_protocol::ClientFrame::Hello(Default::default()));
        let text = encode(Codec::Json, &hello).ok();
        assert_eq!(
            text.as_ref().and_then(|m| m.to_text().ok()),
            Some(r#"{"type":"hello"}"#)
        );
        let binary = encode(Codec::MessagePack, &hello).ok();
        assert!(binary.is_some_and(|m| m.is_binary()));
    }
}
