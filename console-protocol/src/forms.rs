//! Contact forms: the client's `submit_form` (a whole matter in one frame, no chat) and the
//! server's `form_received` with the reference number and reply deadline. A refused
//! submission is an `error` with code `bad_frame` and a `fields` object (field id → why).

use crate::frames::Answers;
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A filled-in contact form for a `form` service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitForm {
    pub service: ServiceId,
    /// Field id → answer (a string; a checkbox may be a boolean).
    #[serde(default, skip_serializing_if = "Answers::is_empty")]
    pub fields: Answers,
    /// How to reach the sender; an anonymous sender must give one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<FormContact>,
    /// Makes a retried submission idempotent: the same answer, nothing stored twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ref: Option<String>,
    /// One of the service's teams; its first team otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// The sender's language (`fi`, `sv`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// A sender's contact details.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FormContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// The answer to `submit_form`: stored, with the reference the sender is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormReceived {
    pub conversation: ConversationId,
    /// Human-readable, derived from the conversation id (`F-` and eight characters).
    pub reference: String,
    /// The reply deadline (RFC 3339, the organisation's local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// Lets the sender follow the answer later with `hello` `resume`.
    pub resume_token: ResumeToken,
}
