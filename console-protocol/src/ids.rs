//! Newtype ids. Every id is an opaque string on the wire (`#[serde(transparent)]`).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    )*};
}

string_id!(
    /// One case between a client and the organisation.
    ConversationId,
    /// A professional (nurse, social worker, ...).
    ProfessionalId,
    /// A team with its own queue, e.g. `station-a`.
    TeamId,
    /// A service a client can contact, e.g. `health-chat`.
    ServiceId,
    /// A reason for contact inside a service.
    TopicId,
    /// One WebSocket session.
    SessionId,
    /// The sender's own id for a message; makes a resend idempotent.
    ClientMsgId,
    /// The secret that lets a client resume its conversation.
    ResumeToken,
);
