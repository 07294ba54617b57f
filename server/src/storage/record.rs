//! Deliveries of closed conversations' transcripts to the patient record: written in the same
//! commit as the `closed` event (so none is lost and none exists for a close that was not
//! stored), sent by the record worker with retries, and announced to the conversation once
//! delivered or given up.

use console_protocol::ConversationId;

/// One transcript to deliver: the conversation's messages up to its `closed` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDelivery {
    /// Unique; the `Idempotency-Key` of every attempt, so the receiver can tell a resend.
    pub id: String,
    pub conversation: ConversationId,
    /// The seq of the `closed` event: the transcript holds what came before it.
    pub close_seq: u64,
    pub created_at_ms: i64,
}

/// Where a delivery is: `queued` (not yet accepted) → `delivered`, or `failed` (given up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Queued,
    Delivered,
    Failed,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(DeliveryState::Queued),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// A stored delivery with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDeliveryRow {
    pub delivery: RecordDelivery,
    pub state: DeliveryState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed (the receiver's answer), or why it was given up.
    pub reason: Option<String>,
    /// The last state the conversation was told of.
    pub announced: DeliveryState,
}
