//! The Socket.IO peer (`--system socketio`, server in `load-tests/socketio`): a client for
//! Engine.IO v4 / Socket.IO v5 text packets over WebSocket, and the `clinic` and `idle`
//! scenarios on top of it, recording into the same ledgers, histograms and results as the
//! Luukku runs so that the numbers compare.
//!
//! - `packet` — decoding and encoding the text packets.
//! - `client` — connect (open, namespace connect), pings, `join` with acks.
//! - `clinic`, `idle` — the scenarios.

pub mod client;
pub mod clinic;
pub mod idle;
pub mod packet;

use crate::TargetArgs;
use anyhow::{bail, Result};

/// The Socket.IO peer speaks JSON text packets only.
fn require_json(target: &TargetArgs) -> Result<()> {
    if target.msgpack {
        bail!("--msgpack is not supported with --system socketio");
    }
    Ok(())
}
