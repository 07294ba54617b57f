//! The SMS the organisation sends through the gateway and those patients send in, as storage
//! keeps them (the backends' SQL is in `sqlite/sms.rs` and `postgres/sms.rs`).

use console_protocol::ConversationId;

/// An SMS the organisation sends through the gateway: a professional's message (written in the
/// same commit as its `message` event, by `WriteOp::AppendNotify`), or an automatic reply to a
/// patient who wrote into a closed case (`WriteOp::QueueSms`, no event). Personal data
/// (recipient, body): never logged.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsOut {
    /// Unique; the provider's idempotency key, so a resend after a crash is the same SMS.
    pub id: String,
    pub conversation: ConversationId,
    /// The `message` event it carries; 0 for an automatic reply.
    pub seq: u64,
    /// E.164, e.g. `+358401234567`.
    pub recipient: String,
    pub body: String,
    pub created_at_ms: i64,
}

/// Where an SMS is: `queued` (ours, not yet accepted by the gateway) → `sent` (the gateway
/// accepted it) → `delivered`, or `failed` (with the reason). Delivered and failed are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsState {
    Queued,
    Sent,
    Delivered,
    Failed,
}

impl SmsState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SmsState::Queued => "queued",
            SmsState::Sent => "sent",
            SmsState::Delivered => "delivered",
            SmsState::Failed => "failed",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(SmsState::Queued),
            "sent" => Some(SmsState::Sent),
            "delivered" => Some(SmsState::Delivered),
            "failed" => Some(SmsState::Failed),
            _ => None,
        }
    }

    /// How far along it is: a state moves only to a higher rank, so the two final ones (2)
    /// never change.
    pub fn rank(self) -> u8 {
        match self {
            SmsState::Queued => 0,
            SmsState::Sent => 1,
            SmsState::Delivered | SmsState::Failed => 2,
        }
    }
}

/// A stored SMS with its delivery state.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsRecord {
    pub sms: SmsOut,
    pub state: SmsState,
    /// Why it failed (the gateway's words), for a failed one.
    pub reason: Option<String>,
    /// The provider's message id, once it accepted the SMS.
    pub provider_ref: Option<String>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last state the conversation was told of (its `system` `sms` event); the worker tells
    /// each change once.
    pub announced: SmsState,
}

/// An SMS a patient sent to the organisation's number, as the provider's webhook gave it.
/// Personal data (sender, body): never logged.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundSms {
    /// The provider's message id: a repeated webhook is the same message.
    pub provider_ref: String,
    /// E.164 of the patient.
    pub sender: String,
    /// The organisation's number it was sent to.
    pub receiver: String,
    pub body: String,
    pub received_at_ms: i64,
}
