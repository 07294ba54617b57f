//! What crosses the bus about a conversation: each committed event, published once by the node
//! that wrote it to the conversation's channel, with the conversation's new state when the
//! event changed it. Encoded once (MessagePack) for every node that listens.

use super::RedisBus;
use crate::storage::ConversationState;
use bytes::Bytes;
use console_protocol::Event;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One committed event as the other nodes receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The node that wrote it.
    pub node: String,
    pub event: Event,
    /// The conversation's state after this event, when the event changed it.
    pub state: Option<ConversationState>,
}

impl Published {
    /// The bytes on the wire.
    pub fn encode(&self) -> Bytes {
        Bytes::from(rmp_serde::to_vec_named(self).unwrap_or_default())
    }

    /// Reads bytes from the wire (`None`: not a publication of this version).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

/// Publishes this node's committed events.
#[derive(Clone)]
pub struct EventPublisher {
    bus: Arc<RedisBus>,
    node: String,
}

impl EventPublisher {
    /// Publishes through `bus` in the name of `node`.
    pub fn new(bus: Arc<RedisBus>, node: &str) -> Self {
        EventPublisher {
            bus,
            node: node.to_owned(),
        }
    }

    /// Publishes a committed event (call in commit order: the bus keeps it).
    pub fn committed(&self, event: &Event, state: Option<&ConversationState>) {
        let message = Published {
            node: self.node.clone(),
            event: event.clone(),
            state: state.cloned(),
        };
        let channel = self
            .bus
            .channels
            .conversation(event.conversation().as_str());
        self.bus.publish(channel, message.encode());
    }
}
