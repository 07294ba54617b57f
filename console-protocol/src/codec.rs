//! The two codecs of protocol v1 and subprotocol negotiation.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Subprotocol name for JSON text frames (also the default when nothing is offered).
pub const SUBPROTOCOL_JSON: &str = "luukku.v1.json";
/// Subprotocol name for MessagePack binary frames with named fields.
pub const SUBPROTOCOL_MSGPACK: &str = "luukku.v1.msgpack";

/// The deepest nesting a MessagePack frame may have. rmp-serde's own 1024 overflows a 2 MiB
/// task stack in a debug build (~3 KiB a level), and nested length prefixes make serde
/// reserve about a MiB per level before anything is read; 32 levels are far more than any
/// frame of the protocol needs (a questionnaire answer is a few levels deep).
pub const MSGPACK_MAX_DEPTH: usize = 32;

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
    /// Decodes one inbound frame. Nesting is bounded in both codecs (JSON by serde_json's
    /// 128 levels, MessagePack by [`MSGPACK_MAX_DEPTH`]), so no frame can exhaust a task's
    /// stack or make the decoder reserve memory level by level.
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, CodecError> {
        match self {
            Codec::Json => Ok(serde_json::from_slice(bytes)?),
            Codec::MessagePack => {
                let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
                de.set_max_depth(MSGPACK_MAX_DEPTH);
                Ok(serde::Deserialize::deserialize(&mut de)?)
            }
        }
    }

    /// Recovers the `req` of a frame that failed to decode, so its error can echo it.
    pub fn peek_req(self, bytes: &[u8]) -> Option<String> {
        self.decode::<ReqOnly>(bytes).ok().and_then(|r| r.req)
    }
}
