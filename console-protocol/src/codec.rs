//! The two codecs of protocol v1 and subprotocol negotiation.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Subprotocol name for JSON text frames (also the default when nothing is offered).
pub const SUBPROTOCOL_JSON: &str = "luukku.v1.json";
/// Subprotocol name for MessagePack binary frames with named fields.
pub const SUBPROTOCOL_MSGPACK: &str = "luukku.v1.msgpack";

/// A frame that could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("invalid json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid msgpack: {0}")]
    MsgpackDecode(#[from] rmp_serde::decode::Error),
    #[error("msgpack encode: {0}")]
    MsgpackEncode(#[from] rmp_serde::encode::Error),
}

/// The encoding of one WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// JSON text frames.
    Json,
    /// MessagePack binary frames, maps with named fields.
    MessagePack,
}

#[derive(Deserialize)]
struct ReqOnly {
    #[serde(default)]
    req: Option<String>,
}

impl Codec {
    /// Picks the codec from a `Sec-WebSocket-Protocol` header value (comma separated offers).
    /// Returns the codec and the subprotocol to echo back, if any was offered.
    pub fn negotiate(offered: Option<&str>) -> (Codec, Option<&'static str>) {
        let Some(offered) = offered else {
            return (Codec::Json, None);
        };
        let offers: Vec<&str> = offered.split(',').map(str::trim).collect();
        if offers.contains(&SUBPROTOCOL_MSGPACK) {
            (Codec::MessagePack, Some(SUBPROTOCOL_MSGPACK))
        } else if offers.contains(&SUBPROTOCOL_JSON) {
            (Codec::Json, Some(SUBPROTOCOL_JSON))
        } else {
            (Codec::Json, None)
        }
    }

    /// True when frames of this codec travel as binary WebSocket messages.
    pub fn is_binary(self) -> bool {
        matches!(self, Codec::MessagePack)
    }

    /// Encodes a value (usually an [`crate::Envelope`]).
    pub fn encode<T: Serialize>(self, value: &T) -> Result<Vec<u8>, CodecError> {
        match self {
            Codec::Json => Ok(serde_json::to_vec(value)?),
            Codec::MessagePack => Ok(rmp_serde::to_vec_named(value)?),
        }
    }

    /// Decodes a value.
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, CodecError> {
        match self {
            Codec::Json => Ok(serde_json::from_slice(bytes)?),
            Codec::MessagePack => Ok(rmp_serde::from_slice(bytes)?),
        }
    }

    /// Recovers the `req` of a frame that failed to decode, so its error can echo it.
    pub fn peek_req(self, bytes: &[u8]) -> Option<String> {
        self.decode::<ReqOnly>(bytes).ok().and_then(|r| r.req)
    }
}
