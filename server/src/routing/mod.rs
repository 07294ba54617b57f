//! Routing: one router actor owns every team queue, professional presence (sessions,
//! availability, capacity, assigned conversations) and the assignment decisions. Sessions
//! `send().await` into it; it sends to conversation actors in order (assign, attach) and to
//! sessions with `try_send` only. Spawned waiters report assignment failures back to it.

mod command;
mod handle;
mod presence;
pub mod queue;
mod router;
#[cfg(test)]
mod tests;

use crate::conversation::ConvError;
use console_protocol::{Availability, ConversationSummary};
use tokio::sync::oneshot;

pub use handle::RouterHandle;

/// What a reconnecting professional gets back.
pub struct ConnectReply {
    pub availability: Availability,
    pub capacity: u32,
    /// Attaches to their assigned conversations, answered in order by each actor.
    pub attaches: Vec<oneshot::Receiver<Result<ConversationSummary, ConvError>>>,
}

pub use crate::conversation::Place;

/// What a router starts from: the open conversations (queues and assignments) and the routing
/// supervisors set per team.
#[derive(Default)]
pub struct Restored {
    pub open: Vec<crate::storage::ConversationRecord>,
    pub routing: Vec<(console_protocol::TeamId, String)>,
}

impl Restored {
    /// Reads both from storage.
    pub async fn read(
        storage: &dyn crate::storage::Storage,
    ) -> Result<Self, crate::storage::StorageError> {
        Ok(Restored {
            open: storage.open_conversations().await?,
            routing: storage.team_routing().await?,
        })
    }
}
