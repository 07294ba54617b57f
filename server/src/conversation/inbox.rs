//! What a team's inbox learns from its asynchronous conversations: after every commit of one,
//! its actor tells the router (through the hub's [`InboxFeed`]) the matter as it stands now,
//! and whether the client just wrote ("new messages").

use crate::storage::ConversationRecord;
use console_protocol::{
    ConversationId, ConversationStatus, ProfessionalId, ServiceId, TeamId, TopicId,
};
use std::sync::OnceLock;
use tokio::sync::mpsc;

/// One asynchronous matter as its team's inbox shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub conversation: ConversationId,
    pub team: TeamId,
    pub service: ServiceId,
    pub channel: String,
    pub topic: Option<TopicId>,
    pub status: ConversationStatus,
    pub assigned_to: Option<ProfessionalId>,
    pub reserved_for: Option<ProfessionalId>,
    pub identified: bool,
    /// While the organisation owes a reply.
    pub due_at_ms: Option<i64>,
    pub contact_at_ms: i64,
    pub updated_at_ms: i64,
}

impl InboxItem {
    /// The matter of a stored conversation, last changed at `updated_at_ms`.
    pub fn of(r: &ConversationRecord, updated_at_ms: i64) -> Self {
        InboxItem {
            conversation: r.id.clone(),
            team: r.state.team.clone(),
            service: r.service.clone(),
            channel: r.channel.clone(),
            topic: r.topic.clone(),
            status: r.state.status,
            assigned_to: r.state.assigned_to.clone(),
            reserved_for: r.state.reserved_for.clone(),
            identified: r.client.identified,
            due_at_ms: r.state.due_at_ms,
            contact_at_ms: r.created_at_ms,
            updated_at_ms,
        }
    }
}

/// A committed change of an asynchronous conversation.
#[derive(Debug, Clone)]
pub struct InboxChange {
    pub item: InboxItem,
    /// The change is a message of the client's.
    pub client_wrote: bool,
}

/// The actors' line to the router's inbox: connected once by the router of the hub's term;
/// changes told before that (or after the router stopped) are dropped, and the router rebuilds
/// its inbox from storage when it starts.
#[derive(Default)]
pub struct InboxFeed(OnceLock<mpsc::UnboundedSender<InboxChange>>);

impl InboxFeed {
    /// The receiving end, for the first caller only.
    pub fn connect(&self) -> Option<mpsc::UnboundedReceiver<InboxChange>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.0.set(tx).ok().map(|()| rx)
    }

    pub fn tell(&self, change: InboxChange) {
        if let Some(tx) = self.0.get() {
            let _ = tx.send(change);
        }
    }
}
