//! A conversation's SMS: whether a professional's message can go by SMS now (and as what),
//! a patient's SMS posted as the client's message, and the delivery states its SMS reach.

use super::posts::Post;
use super::*;
use console_protocol::{AttachmentRef, ErrorCode, SmsInfo};

/// The SMS a professional's message goes out as: what its event says and what is stored to
/// send.
pub(super) struct SmsPlan {
    pub(super) info: SmsInfo,
    pub(super) recipient: String,
}

impl Conversation {
    /// A patient's SMS matched to this conversation: the client's message, whoever else is
    /// connected, recognised by the provider's message id when the webhook or the worker
    /// repeats it. A complete case does not take it (`Closed`): the patient is told where to
    /// turn instead, and the case stays closed.
    pub(super) async fn inbound_sms(
        &mut self,
        origin: &Origin,
        provider_ref: String,
        number: &str,
        body: String,
        received: Instant,
    ) -> Result<(), ConvError> {
        let info = sms_info("in", number, crate::sms::text::length(&body), None);
        let post = Post {
            kind: PostKind::Message,
            id: ClientMsgId::from(format!("sms:{provider_ref}")),
            body: truncate_chars(body, MAX_BODY_CHARS),
            attachments: Vec::new(),
            sms: false,
        };
        self.store_post(origin, Role::Client, post, Some(info), received)
            .await
    }

    /// Checks that a professional's message can go by SMS now: the gateway is on, the case is
    /// In progress, the text is plain (no documents) and within the longest SMS allowed, and
    /// the client's number is a mobile number. Nothing is stored or sent on a refusal.
    pub(super) fn sms_plan(
        &self,
        body: &str,
        attachments: &[AttachmentRef],
    ) -> Result<SmsPlan, ConvError> {
        let refuse = |code, field, message: String| ConvError::Refused {
            code,
            field,
            message,
        };
        let Some(config) = &self.deps.sms else {
            return Err(refuse(
                ErrorCode::BadFrame,
                None,
                "SMS is not available: no SMS gateway is configured".into(),
            ));
        };
        if self.record.state.status != ConversationStatus::InProgress {
            return Err(refuse(
                ErrorCode::BadFrame,
                None,
                "an SMS can be sent only while the case is In progress".into(),
            ));
        }
        if !attachments.is_empty() {
            return Err(refuse(
                ErrorCode::BadFrame,
                Some("body"),
                "documents cannot go by SMS; send them in the service".into(),
            ));
        }
        if body.trim().is_empty() {
            return Err(refuse(
                ErrorCode::BadFrame,
                Some("body"),
                "empty message body".into(),
            ));
        }
        let length = crate::sms::text::length(body);
        if length.segments > config.max_segments {
            return Err(refuse(
                ErrorCode::TooLarge,
                Some("body"),
                format!(
                    "the SMS would be {} messages ({} {}); at most {} are allowed",
                    length.segments,
                    length.units,
                    if length.encoding == crate::sms::text::Encoding::Gsm7 {
                        "characters"
                    } else {
                        "characters in UCS-2"
                    },
                    config.max_segments
                ),
            ));
        }
        let phone = self
            .record
            .contact
            .as_ref()
            .and_then(|c| c.phone.as_deref())
            .unwrap_or("");
        let recipient = crate::sms::number::mobile(phone, &config.countries).map_err(|e| {
            refuse(
                ErrorCode::BadFrame,
                Some("phone"),
                format!("the client's phone number: {e}"),
            )
        })?;
        Ok(SmsPlan {
            info: sms_info("out", &recipient, length, Some("queued")),
            recipient,
        })
    }

    /// Records a new delivery state of the SMS of message `seq`; a state the conversation
    /// already shows last for it (a repeat after a restart) is answered without a new event.
    pub(super) async fn sms_state(
        &mut self,
        seq: u64,
        state: &'static str,
        reason: Option<String>,
        reply: super::command::Reply<()>,
    ) {
        let service = self.record.service.clone();
        let of = (SystemKind::Sms, "seq", seq);
        // Counted where the conversation shows it: once per state (a repeat is not).
        if self.delivery_state(of, state, reason, reply).await {
            self.deps
                .metrics
                .sms
                .with_label_values(&[service.as_str(), state])
                .inc();
        }
    }
}

/// At most `max` characters of `text` (a patient's SMS longer than a message may be).
fn truncate_chars(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text,
    }
}

/// What a message's event says of its SMS: the number masked, never in full.
fn sms_info(
    direction: &str,
    number: &str,
    length: crate::sms::text::Length,
    state: Option<&str>,
) -> SmsInfo {
    SmsInfo {
        direction: direction.into(),
        number: crate::sms::number::mask(number),
        segments: length.segments as u32,
        encoding: length.encoding.as_str().into(),
        state: state.map(str::to_owned),
    }
}
