//! Luukku wire protocol v1: the typed frames of `/ws/client` and `/ws/console` and the two
//! codecs (JSON text, MessagePack with named fields) chosen by the WebSocket subprotocol.
//!
//! # Layout
//! - `ids` — newtype ids (conversation, professional, team, ...), all opaque strings.
//! - `frames` — inbound frames of both endpoints and every server frame.
//! - `codec` — [`Codec`]: encode / decode, subprotocol negotiation, `req` recovery.
#![forbid(unsafe_code)]

pub mod canned;
pub mod codec;
pub mod forms;
pub mod frames;
pub mod ids;
pub mod inbound;
pub mod inbox;
pub mod supervision;

pub use codec::{Codec, CodecError, MSGPACK_MAX_DEPTH, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK};
pub use frames::*;
pub use ids::*;
