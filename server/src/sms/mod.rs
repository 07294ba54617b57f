//! SMS chat: a professional writes to a patient's phone and the patient answers from it. The
//! numbers an SMS may go to ([`number`]), how long a text is as SMS ([`text`]), the gateway
//! abstraction ([`gateway`]) with its one provider ([`telnyx`]), and the `[sms]`
//! configuration ([`config`]). The worker that sends and hears back is [`worker`]; what it
//! does with the patients' SMS is `inbound`.

pub mod config;
pub mod gateway;
mod inbound;
pub mod number;
pub mod telnyx;
pub mod text;
pub mod worker;

pub use config::SmsConfig;
pub use gateway::{Gateway, Report, SendError, WebhookError};
