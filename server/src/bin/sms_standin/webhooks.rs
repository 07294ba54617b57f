//! Webhooks as Telnyx sends them: every event signed (Ed25519, `telnyx-signature-ed25519` +
//! `telnyx-timestamp`) and POSTed to the message's URLs in order, up to 3 attempts each (an
//! attempt fails on a non-2xx or no answer within 2 s), `meta.attempt` counting throughout.
//! Also the outbound report sequence (`message.sent` then `message.finalized`) as the fault
//! settings shape it, inbound `message.received`, and replays of a sent event.

use crate::ledger::{Attempt, DeliveryPlan, LedgerGone, LedgerHandle, Report};
use crate::signing::Signer;
use crate::sms::{mask, rfc3339, Sms};
use bytes::Bytes;
use jiff::Timestamp;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;
use uuid::Uuid;

/// Attempts per URL before the next URL (the failover, then the profile's).
const ATTEMPTS_PER_URL: u32 = 3;
/// Telnyx expects a 2xx within 2 seconds.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between attempts. Telnyx's real back-off is longer; tests want retries promptly.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("no such webhook event has been sent")]
    Unknown,
    #[error(transparent)]
    Gone(#[from] LedgerGone),
}

/// One event: its `data` stays the same across attempts; `meta` and the signature do not.
struct Event {
    id: Uuid,
    event_type: &'static str,
    message_id: Uuid,
    data: Value,
}

impl Event {
    fn about(event_type: &'static str, sms: &Sms) -> Event {
        let id = Uuid::new_v4();
        let data = json!({
            "event_type": event_type,
            "id": id.to_string(),
            "occurred_at": rfc3339(Timestamp::now()),
            "payload": sms.record(),
            "record_type": "event",
        });
        Event {
            id,
            event_type,
            message_id: sms.id,
            data,
        }
    }

    fn body(&self, attempt: u32, url: &str) -> Bytes {
        let envelope = json!({
            "data": self.data,
            "meta": { "attempt": attempt, "delivered_to": url },
        });
        Bytes::from(envelope.to_string())
    }
}

/// Sends and records webhooks; cheap to clone into each message's task.
#[derive(Clone)]
pub struct Dispatcher {
    client: reqwest::Client,
    signer: Arc<Signer>,
    ledger: LedgerHandle,
}

impl Dispatcher {
    pub fn new(signer: Arc<Signer>, ledger: LedgerHandle) -> reqwest::Result<Dispatcher> {
        let client = reqwest::Client::builder()
            .timeout(ANSWER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Dispatcher {
            client,
            signer,
            ledger,
        })
    }

    /// Reports on an accepted message: `message.sent`, then `message.finalized`, each sent
    /// (and retried) to the end before the next, as the plan's fault settings say.
    pub async fn report(self, plan: Box<DeliveryPlan>) {
        let span = tracing::info_span!("sms", id = %plan.sms.id);
        self.report_inner(plan).instrument(span).await;
    }

    async fn report_inner(self, plan: Box<DeliveryPlan>) {
        let DeliveryPlan {
            mut sms,
            targets,
            report,
            failure,
            slow,
        } = *plan;
        sms.mark_sent(Timestamp::now());
        self.ledger.set_status(sms.id, sms.status).await;
        self.announce("message.sent", &sms, &targets, report, slow)
            .await;
        let error = (report == Report::Fail).then_some(failure);
        sms.mark_finalized(Timestamp::now(), error);
        self.ledger.set_status(sms.id, sms.status).await;
        self.announce("message.finalized", &sms, &targets, report, slow)
            .await;
    }

    async fn announce(
        &self,
        event_type: &'static str,
        sms: &Sms,
        targets: &[String],
        report: Report,
        slow: Duration,
    ) {
        match report {
            Report::Lose => return,
            Report::Slow => tokio::time::sleep(slow).await,
            _ => {}
        }
        let event = Event::about(event_type, sms);
        self.deliver(&event, targets).await;
        if report == Report::Duplicate {
            let _ = self.resend(event.id).await;
        }
    }

    /// Sends an inbound message to `target`: the event id and the status of the last attempt,
    /// then, with `repeat`, the status of the same event sent again.
    pub async fn receive(
        &self,
        sms: &Sms,
        target: &str,
        repeat: bool,
    ) -> (Uuid, Option<u16>, Option<u16>) {
        let event = Event::about("message.received", sms);
        tracing::info!(id = %sms.id, from = %mask(sms.from.as_deref().unwrap_or("")), "inbound");
        let status = self.deliver(&event, &[target.to_string()]).await;
        let repeated = if repeat {
            self.resend(event.id).await.ok().flatten()
        } else {
            None
        };
        (event.id, status, repeated)
    }

    /// Delivers `event` by Telnyx's policy; the last status answered (`None`: no answer, or
    /// no URL to send to).
    async fn deliver(&self, event: &Event, targets: &[String]) -> Option<u16> {
        if targets.is_empty() {
            return None;
        }
        self.ledger
            .new_event(event.id, event.event_type, event.message_id)
            .await;
        let mut attempt = 0;
        let mut status = None;
        for url in targets {
            for _ in 0..ATTEMPTS_PER_URL {
                if attempt > 0 {
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                attempt += 1;
                status = self
                    .post(event.id, url, event.body(attempt, url), attempt, false)
                    .await;
                if status.is_some_and(is_success) {
                    return status;
                }
            }
        }
        status
    }

    /// Sends an event again exactly as last sent (same id and body), newly timestamped and
    /// signed: the duplicate a provider sometimes delivers.
    pub async fn resend(&self, event_id: Uuid) -> Result<Option<u16>, ResendError> {
        let last = self
            .ledger
            .last_sent(event_id)
            .await?
            .ok_or(ResendError::Unknown)?;
        Ok(self
            .post(event_id, &last.url, last.body, last.attempt, true)
            .await)
    }

    /// One signed POST, recorded in the ledger.
    async fn post(
        &self,
        event_id: Uuid,
        url: &str,
        body: Bytes,
        attempt: u32,
        replay: bool,
    ) -> Option<u16> {
        let timestamp = Timestamp::now().as_second();
        let signature = self.signer.sign(timestamp, &body);
        let answer = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("telnyx-signature-ed25519", signature)
            .header("telnyx-timestamp", timestamp.to_string())
            .body(body.clone())
            .send()
            .await;
        let status = match answer {
            Ok(response) => Some(response.status().as_u16()),
            Err(e) => {
                tracing::warn!(%event_id, attempt, error = %e, "webhook not answered");
                None
            }
        };
        tracing::info!(%event_id, attempt, replay, ?status, "webhook sent");
        let record = Attempt {
            url: url.to_string(),
            attempt,
            status,
            replay,
        };
        self.ledger.attempted(event_id, record, body).await;
        status
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}
