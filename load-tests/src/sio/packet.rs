//! The text protocol: Engine.IO v4 packets, one per WebSocket message, carrying Socket.IO v5
//! packets of the default namespace. Only what a JSON chat needs: no binary attachments.
//!
//! ```text
//! 0{"sid":..,"pingInterval":..}   open            2 / 3   ping / pong     1 close   6 noop
//! 40 / 40{"sid":..}               connect         41      disconnect      44{..} connect error
//! 42["event",data] / 42<id>[..]   event (ack id)  43<id>[data]            ack
//! ```

use anyhow::{anyhow, bail, Result};
use serde::Serialize;

/// Client → server: `40`, connect to the default namespace.
pub const CONNECT: &str = "40";
/// Client → server: `3`, the answer to the server's ping.
pub const PONG: &str = "3";

/// One decoded packet; JSON payloads stay text, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Engine.IO handshake: `0{json}`.
    Open(&'a str),
    /// Engine.IO `1`: the server closes the session.
    Close,
    Ping,
    Pong,
    Noop,
    /// Socket.IO `40{json}`: connected to the namespace.
    Connect(&'a str),
    /// Socket.IO `41`: the server disconnected this socket.
    Disconnect,
    /// Socket.IO `44{json}`: the connection to the namespace was refused.
    ConnectError(&'a str),
    /// Socket.IO `42[name, ...args]`, with the ack id the sender expects, if any.
    Event {
        ack: Option<u64>,
        args: &'a str,
    },
    /// Socket.IO `43<id>[...args]`: the answer to an event this side sent with ack `id`.
    Ack {
        id: u64,
        args: &'a str,
    },
}

/// Decodes one WebSocket text message.
pub fn parse(text: &str) -> Result<Packet<'_>> {
    let mut chars = text.chars();
    let engine = chars.next().ok_or_else(|| anyhow!("empty packet"))?;
    let rest = chars.as_str();
    Ok(match engine {
        '0' => Packet::Open(rest),
        '1' => Packet::Close,
        '2' => Packet::Ping,
        '3' => Packet::Pong,
        '4' => parse_socket(rest)?,
        '6' => Packet::Noop,
        other => bail!("unsupported engine.io packet type {other:?}"),
    })
}

/// The Socket.IO packet inside an Engine.IO message packet.
fn parse_socket(text: &str) -> Result<Packet<'_>> {
    let mut chars = text.chars();
    let kind = chars
        .next()
        .ok_or_else(|| anyhow!("empty socket.io packet"))?;
    let rest = skip_namespace(chars.as_str());
    let (id, payload) = split_ack_id(rest)?;
    Ok(match kind {
        '0' => Packet::Connect(payload),
        '1' => Packet::Disconnect,
        '2' => Packet::Event {
            ack: id,
            args: payload,
        },
        '3' => Packet::Ack {
            id: id.ok_or_else(|| anyhow!("ack without id"))?,
            args: payload,
        },
        '4' => Packet::ConnectError(payload),
        other => bail!("unsupported socket.io packet type {other:?}"),
    })
}

/// Drops a `/namespace,` prefix (without a comma the namespace runs to the end, as in
/// `socket.io-parser`); only the default namespace is ever joined.
fn skip_namespace(text: &str) -> &str {
    if !text.starts_with('/') {
        return text;
    }
    text.split_once(',').map_or("", |(_, rest)| rest)
}

/// Splits the leading decimal ack id off the JSON payload.
fn split_ack_id(text: &str) -> Result<(Option<u64>, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok((None, text));
    }
    let (id, payload) = text.split_at(digits);
    let id = id
        .parse()
        .map_err(|_| anyhow!("ack id {id} out of range"))?;
    Ok((Some(id), payload))
}

/// `42<ack>["event",data]`: an event expecting an ack with id `ack`.
pub fn event_with_ack<T: Serialize + ?Sized>(event: &str, data: &T, ack: u64) -> Result<String> {
    let event = serde_json::to_string(event)?;
    let data = serde_json::to_string(data)?;
    Ok(format!("42{ack}[{event},{data}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_packets_decode() {
        let open = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000}"#;
        assert_eq!(
            parse(open).ok(),
            Some(Packet::Open(
                r#"{"sid":"abc","upgrades":[],"pingInterval":25000}"#
            ))
        );
        assert_eq!(parse("1").ok(), Some(Packet::Close));
        assert_eq!(parse("2").ok(), Some(Packet::Ping));
        assert_eq!(parse("3").ok(), Some(Packet::Pong));
        assert_eq!(parse("6").ok(), Some(Packet::Noop));
        assert!(parse("").is_err());
        assert!(parse("5").is_err());
        assert!(parse("b").is_err());
    }

    #[test]
    fn socket_packets_decode() {
        assert_eq!(
            parse(r#"40{"sid":"x"}"#).ok(),
            Some(Packet::Connect(r#"{"sid":"x"}"#))
        );
        assert_eq!(parse("41").ok(), Some(Packet::Disconnect));
        assert_eq!(
            parse(r#"44{"message":"no"}"#).ok(),
            Some(Packet::ConnectError(r#"{"message":"no"}"#))
        );
        assert_eq!(
            parse(r#"42["msg",{"seq":1}]"#).ok(),
            Some(Packet::Event {
                ack: None,
                args: r#"["msg",{"seq":1}]"#
            })
        );
        assert_eq!(
            parse(r#"4217["join","c1"]"#).ok(),
            Some(Packet::Event {
                ack: Some(17),
                args: r#"["join","c1"]"#
            })
        );
        assert_eq!(
            parse(r#"43123[{"seq":4}]"#).ok(),
            Some(Packet::Ack {
                id: 123,
                args: r#"[{"seq":4}]"#
            })
        );
        assert_eq!(
            parse(r#"42/chat,5["x"]"#).ok(),
            Some(Packet::Event {
                ack: Some(5),
                args: r#"["x"]"#
            })
        );
        assert!(parse("4").is_err());
        assert!(parse("43[1]").is_err(), "ack without id");
        assert!(parse("4399999999999999999999999[1]").is_err());
        assert!(parse("47").is_err());
        assert_eq!(parse("41/chat").ok(), Some(Packet::Disconnect));
    }

    #[test]
    fn events_encode_with_their_ack_id() {
        let packet = event_with_ack("join", "c\"1", 7).ok();
        assert_eq!(packet.as_deref(), Some(r#"427["join","c\"1"]"#));
        let parsed = packet.as_deref().map(parse).and_then(Result::ok);
        assert_eq!(
            parsed,
            Some(Packet::Event {
                ack: Some(7),
                args: r#"["join","c\"1"]"#
            })
        );
    }
}
