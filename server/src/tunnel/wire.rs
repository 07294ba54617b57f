//! What crosses Redis between a door and the primary for one tunnelled session, in a small
//! binary layout of our own (the WebSocket payloads travel as they are, with no re-encoding):
//!
//! ```text
//! kind: u8 | tunnel: u64 | n: u64 | door: u16 length + UTF-8 | body: the rest
//! ```
//!
//! `tunnel` numbers the door's sessions; `n` numbers each direction's messages of one tunnel
//! from 1, so a receiver drops a repeat (the publisher retries a failed pipeline) and ends a
//! tunnel that skipped one (a publication lost with a Redis connection): the client then
//! reconnects and resumes by `seq`, which fills any gap from PostgreSQL.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// One tunnel message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// Door → primary: a session opened (the endpoint, and the subprotocols the client offered).
    Open {
        endpoint: String,
        protocols: Option<String>,
    },
    /// Door → primary: a frame from the client.
    In { data: Bytes, binary: bool },
    /// Door → primary: the client's socket is gone.
    Gone,
    /// Door → primary: forget every tunnel of this door (it restarted, or lost Redis and closed
    /// them all).
    Reset,
    /// Primary → door: a frame for the client.
    Out { data: Bytes, binary: bool },
    /// Primary → door: the session ended; close the socket with this code and reason.
    Shut { code: u16, reason: String },
}

/// A [`Wire`] message with its addressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub door: String,
    pub tunnel: u64,
    pub n: u64,
    pub wire: Wire,
}

const OPEN: u8 = 1;
const IN_TEXT: u8 = 2;
const IN_BINARY: u8 = 3;
const GONE: u8 = 4;
const RESET: u8 = 5;
const OUT_TEXT: u8 = 6;
const OUT_BINARY: u8 = 7;
const SHUT: u8 = 8;

impl Envelope {
    /// The bytes on the wire.
    pub fn encode(&self) -> Bytes {
        let body_len = match &self.wire {
            Wire::In { data, .. } | Wire::Out { data, .. } => data.len(),
            Wire::Open {
                endpoint,
                protocols,
            } => endpoint.len() + 3 + protocols.as_ref().map_or(0, String::len),
            Wire::Shut { reason, .. } => 2 + reason.len(),
            Wire::Gone | Wire::Reset => 0,
        };
        let mut b = BytesMut::with_capacity(19 + self.door.len() + body_len);
        let kind = match &self.wire {
            Wire::Open { .. } => OPEN,
            Wire::In { binary: false, .. } => IN_TEXT,
            Wire::In { binary: true, .. } => IN_BINARY,
            Wire::Gone => GONE,
            Wire::Reset => RESET,
            Wire::Out { binary: false, .. } => OUT_TEXT,
            Wire::Out { binary: true, .. } => OUT_BINARY,
            Wire::Shut { .. } => SHUT,
        };
        b.put_u8(kind);
        b.put_u64(self.tunnel);
        b.put_u64(self.n);
        put_str(&mut b, &self.door);
        match &self.wire {
            Wire::Open {
                endpoint,
                protocols,
            } => {
                put_str(&mut b, endpoint);
                match protocols {
                    Some(p) => {
                        b.put_u8(1);
                        b.put_slice(p.as_bytes());
                    }
                    None => b.put_u8(0),
                }
            }
            Wire::In { data, .. } | Wire::Out { data, .. } => b.put_slice(data),
            Wire::Shut { code, reason } => {
                b.put_u16(*code);
                b.put_slice(reason.as_bytes());
            }
            Wire::Gone | Wire::Reset => {}
        }
        b.freeze()
    }

    /// Reads bytes from the wire (`None`: not a tunnel message of this version).
    pub fn decode(mut b: Bytes) -> Option<Envelope> {
        if b.remaining() < 19 {
            return None;
        }
        let kind = b.get_u8();
        let tunnel = b.get_u64();
        let n = b.get_u64();
        let door = get_str(&mut b)?;
        let wire = match kind {
            OPEN => {
                let endpoint = get_str(&mut b)?;
                let protocols = match b.try_get_u8().ok()? {
                    0 => None,
                    _ => Some(String::from_utf8(b.to_vec()).ok()?),
                };
                Wire::Open {
                    endpoint,
                    protocols,
                }
            }
            IN_TEXT | IN_BINARY => Wire::In {
                data: b,
                binary: kind == IN_BINARY,
            },
            OUT_TEXT | OUT_BINARY => Wire::Out {
                data: b,
                binary: kind == OUT_BINARY,
            },
            GONE => Wire::Gone,
            RESET => Wire::Reset,
            SHUT => Wire::Shut {
                code: b.try_get_u16().ok()?,
                reason: String::from_utf8(b.to_vec()).ok()?,
            },
            _ => return None,
        };
        Some(Envelope {
            door,
            tunnel,
            n,
            wire,
        })
    }
}

fn put_str(b: &mut BytesMut, s: &str) {
    let s = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    b.put_u16(s.len() as u16);
    b.put_slice(s);
}

fn get_str(b: &mut Bytes) -> Option<String> {
    let len = b.try_get_u16().ok()? as usize;
    if b.remaining() < len {
        return None;
    }
    String::from_utf8(b.split_to(len).to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_back_as_it_was_written() {
        let all = [
            Wire::Open {
                endpoint: "console".into(),
                protocols: Some("luukku.v1.msgpack, luukku.v1.json".into()),
            },
            Wire::Open {
                endpoint: "client".into(),
                protocols: None,
            },
            Wire::In {
                data: Bytes::from_static(b"{\"type\":\"hello\"}"),
                binary: false,
            },
            Wire::In {
                data: Bytes::from_static(&[0x81, 0xa4, 0, 255]),
                binary: true,
            },
            Wire::Gone,
            Wire::Reset,
            Wire::Out {
                data: Bytes::new(),
                binary: false,
            },
            Wire::Out {
                data: Bytes::from_static(&[1, 2, 3]),
                binary: true,
            },
            Wire::Shut {
                code: 4401,
                reason: "unauthorized".into(),
            },
        ];
        for (i, wire) in all.into_iter().enumerate() {
            let e = Envelope {
                door: "node-ä".into(),
                tunnel: u64::MAX - i as u64,
                n: i as u64 + 1,
                wire,
            };
            assert_eq!(Envelope::decode(e.encode()), Some(e));
        }
    }

    #[test]
    fn bytes_that_are_not_a_tunnel_message_are_refused() {
        assert_eq!(Envelope::decode(Bytes::from_static(b"hello")), None);
        let mut unknown = Envelope {
            door: "a".into(),
            tunnel: 1,
            n: 1,
            wire: Wire::Gone,
        }
        .encode()
        .to_vec();
        unknown[0] = 99;
        assert_eq!(Envelope::decode(Bytes::from(unknown)), None);
        let truncated = Envelope {
            door: "a-long-door-name".into(),
            tunnel: 1,
            n: 1,
            wire: Wire::Reset,
        }
        .encode();
        assert_eq!(Envelope::decode(truncated.slice(..20)), None);
    }
}
