//! The SMS worker, on the node that runs the conversations (one node; a cluster's primary,
//! whose writes are fenced by its term): every half second it
//!
//! 1. hands the queued SMS to the gateway — under our id as the provider's idempotency key,
//!    so a crash between the provider's acceptance and our record of it resends the *same*
//!    SMS, which the provider answers without sending it again — and stores the outcome
//!    (`sent`; another try later with backoff; or `failed` for good, with the reason);
//! 2. tells each conversation of the states its SMS reached since (webhooks on any node only
//!    write them to storage): a `system` `sms` event, then `announced`;
//! 3. handles the patients' SMS the webhook stored: into the one open case that sent an SMS
//!    to that number; the organisation's automatic reply when their case is closed; otherwise
//!    (no case, or several open) a new matter in the SMS service's team inbox.
//!
//! Numbers and texts are personal data: never logged, never in metric labels.

use super::gateway::{Gateway, Outgoing, SendError};
use super::SmsConfig;
use crate::conversation::{Hub, Origin, QueueTicket, Who};
use crate::delivery::{Next, Outbound};
use crate::metrics::Metrics;
use crate::organisation::Organisation;
use crate::routing::RouterHandle;
use crate::storage::{
    ClientIdentity, Contact, ConversationRecord, ConversationState, InboundSms, SharedStorage,
    SmsOut, SmsRecord, SmsState, WriteOp,
};
use console_protocol::{
    ConversationId, ConversationStatus, ErrorCode, Event, ServerFrame, SessionId, SystemEvent,
    SystemKind,
};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the worker looks for work.
const POLL: Duration = Duration::from_millis(500);
/// Items of each kind taken per round.
const BATCH: u32 = 20;
/// The first retry waits this long, each next one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 600_000;
/// After this many failed attempts (about an hour and a half of tries) an SMS is failed:
/// the nurse sees it and can call instead.
const MAX_ATTEMPTS: u32 = 15;
/// How long the worker waits for a conversation to store a patient's SMS.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The organisation's gateway, when `[sms]` is configured.
pub fn gateway(
    config: &crate::config::Config,
) -> Result<Option<Arc<dyn Gateway>>, crate::server::StartError> {
    let Some(sms) = &config.sms else {
        return Ok(None);
    };
    let telnyx = super::telnyx::Telnyx::new(sms).map_err(crate::server::StartError::Config)?;
    Ok(Some(Arc::new(telnyx)))
}

/// Starts the worker where the conversations run (one node, or the primary's term), when
/// there is a gateway.
#[allow(clippy::too_many_arguments)]
pub fn start(
    gateway: &Option<Arc<dyn Gateway>>,
    config: &crate::config::Config,
    storage: &SharedStorage,
    hub: &Arc<Hub>,
    router: &RouterHandle,
    organisation: &Arc<Organisation>,
    metrics: &Arc<Metrics>,
    cancel: CancellationToken,
) {
    let (Some(gateway), Some(sms)) = (gateway, &config.sms) else {
        return;
    };
    SmsWorker {
        storage: storage.clone(),
        hub: hub.clone(),
        router: router.clone(),
        gateway: gateway.clone(),
        config: Arc::new(sms.clone()),
        organisation: organisation.clone(),
        metrics: metrics.clone(),
    }
    .spawn(cancel);
}

/// The wait before attempt `attempts + 1` after `attempts` failures.
pub fn backoff_ms(attempts: u32) -> i64 {
    let shift = attempts.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS << shift).min(MAX_BACKOFF_MS)
}

/// What the worker needs.
pub struct SmsWorker {
    pub storage: SharedStorage,
    pub hub: Arc<Hub>,
    pub router: RouterHandle,
    pub gateway: Arc<dyn Gateway>,
    pub config: Arc<SmsConfig>,
    pub organisation: Arc<Organisation>,
    pub metrics: Arc<Metrics>,
}

impl SmsWorker {
    /// Runs rounds until `cancel`.
    pub fn spawn(self, cancel: CancellationToken) {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(POLL) => self.round().await,
                }
            }
        });
    }

    async fn round(&self) {
        self.send_due().await;
        self.announce().await;
        self.inbound().await;
    }

    /// Step 1: the queued SMS to the gateway.
    async fn send_due(&self) {
        let now = jiff::Timestamp::now().as_millisecond();
        let due = match self.storage.sms_due(now, BATCH).await {
            Ok(due) => due,
            Err(e) => return tracing::warn!(error = %e, "SMS queue unreadable; tried again"),
        };
        for r in due {
            let outgoing = Outgoing {
                id: &r.sms.id,
                to: &r.sms.recipient,
                text: &r.sms.body,
                // The automatic reply to a closed case has no message to show a state on.
                reports: r.sms.seq > 0,
            };
            let started = std::time::Instant::now();
            let outcome = self.gateway.send(outgoing).await;
            self.metrics
                .sms_gateway_seconds
                .observe(started.elapsed().as_secs_f64());
            let now = jiff::Timestamp::now().as_millisecond();
            let op = match outcome {
                Ok(provider_ref) => WriteOp::SmsAccepted {
                    id: r.sms.id.clone(),
                    provider_ref,
                    at_ms: now,
                },
                Err(SendError::Transient(reason)) if r.attempts + 1 < MAX_ATTEMPTS => {
                    tracing::warn!(sms = %r.sms.id, attempts = r.attempts + 1, %reason,
                        "SMS not handed to the gateway; tried again later");
                    WriteOp::SmsRetry {
                        id: r.sms.id.clone(),
                        attempts: r.attempts + 1,
                        next_attempt_ms: now + backoff_ms(r.attempts + 1),
                        error: reason,
                    }
                }
                Err(SendError::Transient(reason)) => WriteOp::SmsFailed {
                    id: r.sms.id.clone(),
                    reason: format!("not sent after {MAX_ATTEMPTS} attempts: {reason}"),
                    at_ms: now,
                },
                Err(SendError::Permanent(reason)) => {
                    tracing::warn!(sms = %r.sms.id, %reason, "the gateway refused an SMS");
                    WriteOp::SmsFailed {
                        id: r.sms.id.clone(),
                        reason,
                        at_ms: now,
                    }
                }
            };
            if let Err(e) = self.storage.write(op).await {
                // Still queued: sent again (the provider recognises it) in a later round.
                tracing::warn!(sms = %r.sms.id, error = %e, "SMS outcome not stored");
            }
        }
    }

    /// Step 2: each conversation told of its SMS's new states.
    async fn announce(&self) {
        let changed = match self.storage.sms_unannounced(BATCH).await {
            Ok(changed) => changed,
            Err(e) => return tracing::warn!(error = %e, "SMS states unreadable; tried again"),
        };
        for r in changed {
            if let Err(e) = self.announce_one(&r).await {
                tracing::warn!(sms = %r.sms.id, error = %e, "SMS state not told; tried again");
            }
        }
    }

    async fn announce_one(&self, r: &SmsRecord) -> Result<(), String> {
        let handle = self
            .hub
            .get_or_load(&r.sms.conversation)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the conversation is gone")?;
        handle
            .sms_state(r.sms.seq, r.state.as_str(), r.reason.clone())
            .await
            .map_err(|e| e.to_string())?;
        self.storage
            .write(WriteOp::SmsAnnounced {
                id: r.sms.id.clone(),
                state: r.state,
            })
            .await
            .map_err(|e| e.to_string())?;
        if r.state == SmsState::Delivered {
            let waited = (jiff::Timestamp::now().as_millisecond() - r.sms.created_at_ms).max(0);
            self.metrics
                .sms_delivery_seconds
                .observe(waited as f64 / 1000.0);
        }
        Ok(())
    }

    /// Step 3: the patients' SMS.
    async fn inbound(&self) {
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
        let id = ConversationId(uuid::Uuid::new_v4().simple().to_string());
        let (at, ms) = crate::conversation::view::now();
        let due_at_ms = jiff::Timestamp::from_millisecond(sms.received_at_ms)
            .ok()
            .and_then(|contact| org.due(service, contact))
            .map(|due| due.as_millisecond());
        let record = ConversationRecord {
            id: id.clone(),
            service: service.id.clone(),
            topic: None,
            channel: service.channel.clone(),
            client: ClientIdentity {
                subject: None,
                name: None,
                identified: false,
            },
            questionnaire: None,
            resume_token_hash: String::new(),
            client_ref: Some(client_ref),
            created_at_ms: ms,
            lang: None,
            contact: Some(Contact {
                email: None,
                phone: Some(sms.sender.clone()),
            }),
            state: ConversationState {
                status: ConversationStatus::Queued,
                team: team.clone(),
                assigned_to: None,
                queued_at_ms: ms,
                priority: 0,
                summary: None,
                reserved_for: None,
                due_at_ms,
            },
            last_seq: 0,
        };
        let mut detail = serde_json::Map::new();
        detail.insert("team".into(), team.to_string().into());
        let first = Event::System(SystemEvent {
            conversation: id.clone(),
            seq: 1,
            at,
            event: SystemKind::Queued,
            detail,
        });
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
    fn retries_back_off_to_ten_minutes() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(3), 8_000);
        assert_eq!(backoff_ms(14), MAX_BACKOFF_MS);
    }

    #[test]
    fn a_provider_id_is_made_safe_for_ours() {
        assert_eq!(safe_id("40385f64-5717-4562"), "40385f64-5717-4562");
        assert_eq!(safe_id("a b/c?d"), "abcd");
    }
}
