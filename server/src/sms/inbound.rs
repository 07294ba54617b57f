//! The worker's third step: the SMS patients send (stored by the webhook on any node) go into
//! the one open case of their number; into a closed case they do not go — the patient gets
//! the organisation's automatic reply; otherwise (no case, or several open) a new matter of
//! the SMS service opens in its team's inbox. Each outcome is recognised when the same SMS is
//! handled again after a crash: the post by its `client_msg_id`, the reply and the new matter
//! by ids made from the provider's.

use super::worker::{SmsWorker, BATCH};
use crate::conversation::{Origin, QueueTicket, Who};
use crate::delivery::{Next, Outbound};
use crate::storage::{ClientIdentity, Contact, InboundSms, SmsOut, WriteOp};
use console_protocol::{ConversationId, ConversationStatus, ErrorCode, ServerFrame, SessionId};
use std::time::Duration;

/// How long the worker waits for a conversation to store a patient's SMS.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

impl SmsWorker {
    /// Step 3: the patients' SMS.
    pub(super) async fn inbound(&self) {
        let pending = match self.storage.inbound_sms_pending(BATCH).await {
            Ok(p) => p,
            Err(e) => return tracing::warn!(error = %e, "inbound SMS unreadable; tried again"),
        };
        for sms in pending {
            match self.route(&sms).await {
                Ok(outcome) => {
                    self.metrics.sms_inbound.with_label_values(&[outcome]).inc();
                    let op = WriteOp::SmsInboundHandled {
                        provider_ref: sms.provider_ref.clone(),
                        outcome: outcome.to_owned(),
                    };
                    if let Err(e) = self.storage.write(op).await {
                        // Handled again later: the post is recognised by its id, the reply
                        // and the new matter by theirs.
                        tracing::warn!(error = %e, "inbound SMS not marked handled");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "inbound SMS not handled; tried again"),
            }
        }
    }

    /// Where one patient's SMS goes; answers the outcome for the metric.
    async fn route(&self, sms: &InboundSms) -> Result<&'static str, String> {
        let cases = self
            .storage
            .sms_cases(&sms.sender)
            .await
            .map_err(|e| e.to_string())?;
        let open: Vec<&ConversationId> = cases
            .iter()
            .filter(|(_, status)| *status != ConversationStatus::Complete)
            .map(|(id, _)| id)
            .collect();
        if let [only] = open.as_slice() {
            match self.post(only, sms).await? {
                Posted::Stored => return Ok("posted"),
                // Closed in the meantime: as for a closed case.
                Posted::Closed => return self.closed_reply(only, sms).await,
            }
        }
        if open.is_empty() {
            if let Some((latest, _)) = cases.first() {
                return self.closed_reply(latest, sms).await;
            }
        }
        let matter = self.new_matter(sms).await?;
        match self.post(&matter, sms).await? {
            Posted::Stored => Ok("new_matter"),
            Posted::Closed => self.closed_reply(&matter, sms).await,
        }
    }

    /// Posts the SMS as the client's message of `conversation`.
    async fn post(
        &self,
        conversation: &ConversationId,
        sms: &InboundSms,
    ) -> Result<Posted, String> {
        let handle = self
            .hub
            .get_or_load(conversation)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the conversation is gone")?;
        let (link, mut rx) = crate::delivery::channel(SessionId::from("sms-inbound"));
        let origin = Origin {
            who: Who::Client,
            link,
            req: Some("sms".into()),
        };
        handle
            .inbound_sms(
                origin,
                sms.provider_ref.clone(),
                sms.sender.clone(),
                sms.body.clone(),
            )
            .await
            .map_err(|e| e.to_string())?;
        let answer = async {
            loop {
                let frames = match rx.next().await {
                    Next::Item(Outbound::Frame(f)) => vec![f],
                    Next::Item(Outbound::Batch(b)) => b,
                    Next::CutOff => return Err("the answer was lost".to_owned()),
                };
                for f in frames {
                    if f.frame.req.as_deref() != Some("sms") {
                        continue;
                    }
                    match &f.frame.frame {
                        ServerFrame::Ack(_) => return Ok(Posted::Stored),
                        ServerFrame::Error(e) if e.code == ErrorCode::ConversationClosed => {
                            return Ok(Posted::Closed)
                        }
                        ServerFrame::Error(e) => return Err(e.message.clone()),
                        _ => {}
                    }
                }
            }
        };
        tokio::time::timeout(POST_TIMEOUT, answer)
            .await
            .map_err(|_| "the conversation did not answer in time".to_owned())?
    }

    /// Queues the organisation's automatic reply to a patient who wrote into closed case
    /// `conversation`: the case stays closed. Its id comes from the patient's SMS, so handling
    /// that SMS again queues nothing more.
    async fn closed_reply(
        &self,
        conversation: &ConversationId,
        sms: &InboundSms,
    ) -> Result<&'static str, String> {
        let lang = self
            .storage
            .conversation(conversation)
            .await
            .ok()
            .flatten()
            .and_then(|r| r.lang);
        let reply = SmsOut {
            id: format!("auto-{}", safe_id(&sms.provider_ref)),
            conversation: conversation.clone(),
            seq: 0,
            recipient: sms.sender.clone(),
            body: self.organisation.sms_closed_reply(lang.as_deref()),
            created_at_ms: jiff::Timestamp::now().as_millisecond(),
        };
        self.storage
            .write(WriteOp::QueueSms(reply))
            .await
            .map_err(|e| e.to_string())?;
        Ok("closed_reply")
    }

    /// A new matter of the SMS service for the patient's number (New, in its team's inbox),
    /// made once per patient SMS (its `client_ref`), so handling the SMS again finds it.
    async fn new_matter(&self, sms: &InboundSms) -> Result<ConversationId, String> {
        let client_ref = format!("sms:{}", safe_id(&sms.provider_ref));
        if let Some(existing) = self
            .storage
            .conversation_by_client_ref(&client_ref)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(existing.id);
        }
        let org = &self.organisation;
        let service = org
            .service(&self.config.service)
            .ok_or("sms.service is not a service")?;
        let team = service
            .teams
            .first()
            .cloned()
            .ok_or("the SMS service has no team")?;
        let anonymous = ClientIdentity {
            subject: None,
            name: None,
            identified: false,
        };
        let mut record = crate::conversation::new_waiting(
            org,
            service,
            team.clone(),
            anonymous,
            sms.received_at_ms,
        );
        record.client_ref = Some(client_ref);
        record.contact = Some(Contact {
            email: None,
            phone: Some(sms.sender.clone()),
        });
        let id = record.id.clone();
        let first = crate::conversation::opening_event(&record);
        let ticket = QueueTicket::of(&record);
        self.hub
            .create(record, first)
            .await
            .map_err(|e| e.to_string())?;
        self.metrics.count_started(service, &team);
        self.router.enqueue(ticket).await;
        Ok(id)
    }
}

/// What became of a patient's SMS posted into a conversation.
enum Posted {
    Stored,
    Closed,
}

/// The provider's id as part of one of ours: letters, digits, `-` and `_` only.
fn safe_id(provider_ref: &str) -> String {
    provider_ref
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(100)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_id_is_made_safe_for_ours() {
        assert_eq!(safe_id("40385f64-5717-4562"), "40385f64-5717-4562");
        assert_eq!(safe_id("a b/c?d"), "abcd");
    }
}
