//! One Socket.IO connection: the Engine.IO open and namespace connect, a shareable writer
//! (the reader answers pings through it), a reader yielding events and acks, and `join`.

use super::packet::{self, Packet};
use crate::handshake::REPLY_TIMEOUT;
use crate::ws::{self, Endpoint, ServerUrl, WsStream};
use anyhow::{bail, Context, Result};
use console_protocol::Codec;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};
use tokio_tungstenite::tungstenite::Message;

/// The sending half of a connection.
pub type Sink = SplitSink<WsStream, Message>;

/// The sending half, shared by the connection's sender and its reader (which sends pongs).
#[derive(Clone)]
pub struct SioWriter {
    sink: Arc<Mutex<Sink>>,
}

impl SioWriter {
    /// Sends one packet and flushes it.
    pub async fn send(&self, packet: String) -> Result<()> {
        self.sink.lock().await.send(Message::text(packet)).await?;
        Ok(())
    }

    /// The sink to itself, to feed a batch of packets and flush once.
    pub async fn lock(&self) -> MutexGuard<'_, Sink> {
        self.sink.lock().await
    }

    /// Sends a WebSocket close frame.
    pub async fn close(&self) -> Result<()> {
        self.sink.lock().await.close().await?;
        Ok(())
    }
}

/// What arrived on a connection (pings are answered and not shown).
#[derive(Debug)]
pub enum Incoming {
    /// Engine.IO open packet.
    Open,
    /// Connected to the default namespace.
    Connected,
    /// `args` is the JSON array `["name", ...]` (an ack the server asked for is already sent).
    Event { args: String },
    /// `args` is the JSON array of the ack's arguments.
    Ack { id: u64, args: String },
    /// The namespace refused the connection.
    Refused(String),
    /// A message that is not a packet this client understands.
    Undecodable(String),
    /// The connection ended; the error key (`close_<code>`, `close_engine`, ...).
    Closed(String),
}

/// The receiving half; answers the server's pings through its writer.
pub struct SioReader {
    stream: SplitStream<WsStream>,
    writer: SioWriter,
}

impl SioReader {
    /// The next packet worth reporting; a transport error counts as a close.
    pub async fn next(&mut self) -> Incoming {
        loop {
            let text = match self.stream.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Binary(_))) => {
                    return Incoming::Undecodable("binary message".into())
                }
                Some(Ok(Message::Close(frame))) => {
                    let code =
                        frame.map_or_else(|| "none".into(), |f| u16::from(f.code).to_string());
                    return Incoming::Closed(format!("close_{code}"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(_)) | None => return Incoming::Closed("close_none".into()),
            };
            let packet = match packet::parse(&text) {
                Ok(packet) => packet,
                Err(e) => return Incoming::Undecodable(e.to_string()),
            };
            return match packet {
                Packet::Ping => {
                    if self.writer.send(packet::PONG.into()).await.is_err() {
                        return Incoming::Closed("close_none".into());
                    }
                    continue;
                }
                Packet::Pong | Packet::Noop => continue,
                Packet::Open(_) => Incoming::Open,
                Packet::Connect(_) => Incoming::Connected,
                Packet::Close => Incoming::Closed("close_engine".into()),
                Packet::Disconnect => Incoming::Closed("close_disconnect".into()),
                Packet::ConnectError(e) => Incoming::Refused(e.to_owned()),
                Packet::Event { ack, args } => {
                    if let Some(id) = ack {
                        if self.writer.send(format!("43{id}[]")).await.is_err() {
                            return Incoming::Closed("close_none".into());
                        }
                    }
                    Incoming::Event {
                        args: args.to_owned(),
                    }
                }
                Packet::Ack { id, args } => Incoming::Ack {
                    id,
                    args: args.to_owned(),
                },
            };
        }
    }
}

/// Opens a WebSocket to the Socket.IO endpoint (from `source` when given) and connects to
/// the default namespace.
pub async fn connect(server: &ServerUrl, source: Option<IpAddr>) -> Result<(SioWriter, SioReader)> {
    let socket = ws::connect(server, Endpoint::SocketIo, Codec::Json, source).await?;
    let (sink, stream) = socket.split();
    let writer = SioWriter {
        sink: Arc::new(Mutex::new(sink)),
    };
    let mut reader = SioReader {
        stream,
        writer: writer.clone(),
    };
    tokio::time::timeout(REPLY_TIMEOUT, handshake(&writer, &mut reader))
        .await
        .context("socket.io handshake timed out")??;
    Ok((writer, reader))
}

async fn handshake(writer: &SioWriter, reader: &mut SioReader) -> Result<()> {
    match reader.next().await {
        Incoming::Open => {}
        other => bail!("expected the engine.io open packet, got {other:?}"),
    }
    writer.send(packet::CONNECT.into()).await?;
    loop {
        match reader.next().await {
            Incoming::Connected => return Ok(()),
            Incoming::Refused(e) => bail!("namespace refused the connection: {e}"),
            Incoming::Closed(why) => bail!("closed while connecting ({why})"),
            Incoming::Undecodable(e) => bail!("while connecting: {e}"),
            Incoming::Open | Incoming::Event { .. } | Incoming::Ack { .. } => {}
        }
    }
}

/// The one argument of the server's acks: `{seq}` for `msg`, `{ok}` for `join`, or
/// `{error}`.
#[derive(Debug, Default, Deserialize)]
pub struct AckReply {
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
}

impl AckReply {
    /// Decodes the ack arguments `[{...}]`.
    pub fn parse(args: &str) -> Result<AckReply> {
        let (reply,): (AckReply,) = serde_json::from_str(args).context("ack arguments")?;
        Ok(reply)
    }
}

/// Joins `rooms`, sending the joins with ack ids `first_ack..` at once and awaiting every ack.
/// Returns the next free ack id.
pub async fn join(
    writer: &SioWriter,
    reader: &mut SioReader,
    rooms: &[String],
    first_ack: u64,
) -> Result<u64> {
    let mut waiting = HashSet::new();
    let mut ack = first_ack;
    {
        let mut sink = writer.lock().await;
        for room in rooms {
            let join = packet::event_with_ack("join", room, ack)?;
            sink.feed(Message::text(join)).await?;
            waiting.insert(ack);
            ack += 1;
        }
        sink.flush().await?;
    }
    let await_acks = async {
        while !waiting.is_empty() {
            match reader.next().await {
                Incoming::Ack { id, args } => {
                    if !waiting.remove(&id) {
                        bail!("unexpected ack {id} while joining");
                    }
                    if let Some(e) = AckReply::parse(&args)?.error {
                        bail!("join refused: {e}");
                    }
                }
                Incoming::Closed(why) => bail!("closed while joining ({why})"),
                Incoming::Undecodable(e) => bail!("while joining: {e}"),
                Incoming::Refused(e) => bail!("while joining: refused: {e}"),
                Incoming::Open | Incoming::Connected | Incoming::Event { .. } => {}
            }
        }
        Ok(())
    };
    tokio::time::timeout(REPLY_TIMEOUT, await_acks)
        .await
        .context("joining rooms timed out")??;
    Ok(ack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_replies_decode() {
        let seq = AckReply::parse(r#"[{"seq":42}]"#).ok();
        assert_eq!(seq.and_then(|r| r.seq), Some(42));
        let error = AckReply::parse(r#"[{"error":"not_joined"}]"#).ok();
        assert_eq!(error.and_then(|r| r.error).as_deref(), Some("not_joined"));
        let ok = AckReply::parse(r#"[{"ok":true}]"#).ok();
        assert!(ok.is_some_and(|r| r.seq.is_none() && r.error.is_none()));
        assert!(AckReply::parse("[]").is_err());
        assert!(AckReply::parse("{}").is_err());
        assert!(AckReply::parse(r#"[{"seq":"x"}]"#).is_err());
    }
}
