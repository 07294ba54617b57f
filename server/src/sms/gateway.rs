//! What Luukku needs of an SMS provider, whichever it is: send one SMS under our own id (the
//! provider's idempotency key, so a resend after a crash is the same SMS), and read the
//! provider's webhooks — delivery reports and patients' SMS — after checking their signature.

use async_trait::async_trait;

/// One SMS to send.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Ours: the idempotency key, and where the provider's reports about it are sent.
    pub id: &'a str,
    /// E.164.
    pub to: &'a str,
    pub text: &'a str,
    /// Whether the provider is to report its delivery to our webhook (a chat SMS, whose state
    /// the professional follows), or not (a notification).
    pub reports: bool,
}

/// Why the provider did not take an SMS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later (the provider is down, busy, or its answer was lost).
    #[error("{0}")]
    Transient(String),
    /// The provider refused it for good (the number, the text): shown to the professional.
    #[error("{0}")]
    Permanent(String),
}

/// A delivery state a provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the operator.
    Sent,
    /// On the phone.
    Delivered,
    /// Not delivered, for good.
    Failed,
}

/// What a webhook told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A change of one of our SMS.
    Status {
        /// Our id, when the provider's report carries it.
        ours: Option<String>,
        /// The provider's message id.
        provider_ref: String,
        /// The number it went to (E.164), to check a report against the SMS it names.
        to: Option<String>,
        state: Delivery,
        /// The provider's words for a failure.
        reason: Option<String>,
    },
    /// A patient's SMS to the organisation.
    Inbound {
        provider_ref: String,
        from: String,
        to: String,
        text: String,
        received_at_ms: i64,
    },
    /// An event that needs nothing of us (e.g. `message.sent` of an SMS we did not send
    /// through this server).
    Ignored,
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No signature: 401.
    #[error("the request is not signed")]
    Unsigned,
    /// A signature that is not the provider's over this body: 401.
    #[error("the signature does not match the provider's key")]
    BadSignature,
    /// Signed too long ago (or in the future): 401, a replay.
    #[error("the signature's timestamp is outside the allowed window")]
    Stale,
    /// Signed, but not an event we can read: 400.
    #[error("{0}")]
    Malformed(String),
}

/// An SMS provider.
#[async_trait]
pub trait Gateway: Send + Sync {
    /// Hands one SMS to the provider; `Ok` is the provider's message id.
    async fn send(&self, sms: Outgoing<'_>) -> Result<String, SendError>;

    /// Reads a webhook request: `header` looks up a request header (case-insensitive),
    /// `body` is the raw body, `now_s` the current Unix time.
    fn webhook(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_s: i64,
    ) -> Result<Report, WebhookError>;
}
