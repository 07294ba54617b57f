//! Delivering closed, identified conversations to the patient record: `[record]` names a FHIR
//! server's base URL (HTTPS). When a professional closes a conversation whose client
//! identified strongly (a valid personal identity code), the `closed` event's commit also
//! stores a delivery (`WriteOp::AppendNotify`'s `records`); the [`RecordWorker`] on the node
//! that runs the conversations builds the transcript's transaction bundle (`fhir`) from
//! storage and POSTs it with
//!
//! - `Idempotency-Key: <delivery id>` — the same on every attempt, and each entry is a
//!   conditional create on the message's identifier, so a resend after a crash or a lost
//!   answer creates nothing twice;
//! - `X-Luukku-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` — the
//!   receiver checks that the bundle comes from us, unchanged and recent.
//!
//! A 2xx is delivered; 408, 425, 429, 5xx and network errors are tried again with backoff;
//! any other answer is a refusal, given up at once with the receiver's reason (its
//! `OperationOutcome` diagnostics). The conversation shows the professional `delivered` or
//! `failed` (a `system` `record` event). Anonymous conversations are never sent. Bodies and
//! identity codes are never logged.

use crate::conversation::Hub;
use crate::metrics::Metrics;
use crate::organisation::Organisation;
use crate::record::fhir::{self, Medium, Sender, Transcript, TranscriptMessage};
use crate::storage::record::{DeliveryState, RecordDeliveryRow};
use crate::storage::{ConversationRecord, SharedStorage, WriteOp};
use console_protocol::{Event, Role, SystemKind};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the worker looks for work.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries taken per round.
const BATCH: u32 = 10;
/// The first retry waits this long, each next one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// After this many failed attempts (about a day) a delivery is given up and shown as failed.
const MAX_ATTEMPTS: u32 = 30;

/// `[record]`: where closed identified conversations go.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecordConfig {
    /// The FHIR server's base URL (`https://…`); the bundle is POSTed to it.
    pub endpoint: String,
    /// The key of the `X-Luukku-Signature` HMAC (at least 32 characters); from
    /// `LUUKKU_RECORD_SECRET` when not in the file.
    #[serde(default)]
    pub secret: Option<String>,
    /// A PEM file of certificate authorities trusted besides the system's (a county's own CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Seconds one attempt may take.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
    /// Only these services' conversations (default: every service's).
    #[serde(default)]
    pub services: Vec<console_protocol::ServiceId>,
}

fn default_timeout_s() -> u64 {
    20
}

impl RecordConfig {
    /// Checks the settings; a description of the first problem.
    pub fn validate(&self, org: &Organisation) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.endpoint)
            .map_err(|e| format!("record.endpoint is not a URL: {e}"))?;
        if url.scheme() != "https" {
            return Err("record.endpoint must be an https:// URL".into());
        }
        match &self.secret {
            Some(s) if s.len() >= 32 => {}
            _ => {
                return Err(
                    "record.secret (or LUUKKU_RECORD_SECRET) of at least 32 characters is required"
                        .into(),
                )
            }
        }
        if !(1..=300).contains(&self.timeout_s) {
            return Err("record.timeout_s must be 1 to 300".into());
        }
        if let Some(s) = self.services.iter().find(|s| org.service(s).is_none()) {
            return Err(format!("record.services names unknown service {s}"));
        }
        Ok(())
    }

    /// Whether conversations of `service` are delivered.
    pub fn covers(&self, service: &console_protocol::ServiceId) -> bool {
        self.services.is_empty() || self.services.contains(service)
    }
}

/// The personal identity code of the conversation's client, when they identified strongly
/// with a valid one: only such conversations go to the patient record.
pub fn patient_code(record: &ConversationRecord) -> Option<String> {
    if !record.client.identified {
        return None;
    }
    let subject = record.client.subject.as_deref()?;
    crate::identity::hetu::parse(subject)
        .ok()
        .map(|h| h.as_str().to_owned())
}

/// The transcript of `record` from its stored events up to `close_seq` (the `closed` event):
/// the messages of the client and the professionals, without notes and without messages
/// taken back; `None` for a conversation that has no identity code.
pub fn transcript(
    org: &Organisation,
    record: &ConversationRecord,
    events: &[Event],
    close_seq: u64,
) -> Option<Transcript> {
    let patient_hetu = patient_code(record)?;
    let in_range = || events.iter().filter(|e| e.seq() <= close_seq);
    let retracted: Vec<u64> = in_range()
        .filter_map(|e| match e {
            Event::System(s) if s.event == SystemKind::Retracted => {
                s.detail.get("seq").and_then(|v| v.as_u64())
            }
            _ => None,
        })
        .collect();
    let closed_at = in_range()
        .find(|e| e.seq() == close_seq)
        .map(|e| match e {
            Event::Message(m) | Event::Note(m) => m.at.clone(),
            Event::System(s) => s.at.clone(),
        })
        .unwrap_or_default();
    let channel_medium = match record.channel.as_str() {
        "chat" => Medium::Chat,
        "sms" => Medium::Sms,
        _ => Medium::Message,
    };
    let messages = in_range()
        .filter_map(|e| match e {
            Event::Message(m) if !retracted.contains(&m.seq) => Some(m),
            _ => None,
        })
        .map(|m| TranscriptMessage {
            id: m.seq.to_string(),
            sender: match m.from.role {
                Role::Client => Sender::Patient,
                _ => Sender::Professional {
                    id: m.from.id.clone().unwrap_or_default(),
                    name: m.from.name.clone().unwrap_or_default(),
                },
            },
            sent_rfc3339: m.at.clone(),
            body: m.body.clone(),
            medium: if m.sms.is_some() {
                Medium::Sms
            } else {
                channel_medium
            },
        })
        .collect();
    let service_name = org
        .service(&record.service)
        .map_or(record.service.as_str(), |s| org.text(&s.name, None))
        .to_owned();
    Some(Transcript {
        conversation_id: record.id.to_string(),
        service_name,
        organisation_name: org.text(&org.name, None).to_owned(),
        patient_hetu,
        closed_at_rfc3339: closed_at,
        messages,
    })
}

/// The `X-Luukku-Signature` of `body` sent at `t` (unix seconds).
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// The wait before attempt `attempts + 1` after `attempts` failures.
fn backoff_ms(attempts: u32) -> i64 {
    let shift = attempts.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS << shift).min(MAX_BACKOFF_MS)
}

/// How one attempt ended.
enum Attempt {
    Delivered,
    Retry(String),
    Refused(String),
}

/// Sends due deliveries and tells their conversations.
pub struct RecordWorker {
    pub storage: SharedStorage,
    pub hub: Arc<Hub>,
    pub organisation: Arc<Organisation>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<RecordConfig>,
    pub http: reqwest::Client,
}

/// An HTTP client for `config` (its CA file, its timeout).
pub fn http_client(config: &RecordConfig) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_s))
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true);
    if let Some(path) = &config.ca_file {
        let pem =
            std::fs::read(path).map_err(|e| format!("record.ca_file {}: {e}", path.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("record.ca_file {}: {e}", path.display()))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| format!("record HTTP client: {e}"))
}

/// Starts the worker where the conversations run, when `[record]` is configured.
pub fn start(
    config: &crate::config::Config,
    storage: &SharedStorage,
    hub: &Arc<Hub>,
    organisation: &Arc<Organisation>,
    metrics: &Arc<Metrics>,
    cancel: CancellationToken,
) {
    let Some(record) = &config.record else { return };
    let http = match http_client(record) {
        Ok(h) => h,
        Err(e) => return tracing::error!(error = %e, "patient record deliveries wait"),
    };
    RecordWorker {
        storage: storage.clone(),
        hub: hub.clone(),
        organisation: organisation.clone(),
        metrics: metrics.clone(),
        config: Arc::new(record.clone()),
        http,
    }
    .spawn(cancel);
}

impl RecordWorker {
    /// Runs rounds until `cancel`.
    pub fn spawn(self, cancel: CancellationToken) {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(POLL) => {
                        self.send_due().await;
                        self.announce().await;
                    }
                }
            }
        });
    }

    async fn send_due(&self) {
        let now = crate::storage::now_ms();
        let due = match self.storage.record_due(now, BATCH).await {
            Ok(d) => d,
            Err(e) => return tracing::warn!(error = %e, "record deliveries unreadable"),
        };
        for d in due {
            let attempt = self.attempt(&d).await;
            let now = crate::storage::now_ms();
            let attempts = d.attempts + 1;
            let (state, next, reason, outcome) = match attempt {
                Attempt::Delivered => (DeliveryState::Delivered, now, None, "delivered"),
                Attempt::Retry(why) if attempts < MAX_ATTEMPTS => {
                    tracing::warn!(delivery = %d.delivery.id, attempts, reason = %why,
                        "patient record delivery failed; tried again later");
                    let next = now + backoff_ms(attempts);
                    (DeliveryState::Queued, next, Some(why), "retry")
                }
                Attempt::Retry(why) => (
                    DeliveryState::Failed,
                    now,
                    Some(format!(
                        "not delivered after {MAX_ATTEMPTS} attempts: {why}"
                    )),
                    "failed",
                ),
                Attempt::Refused(why) => {
                    tracing::warn!(delivery = %d.delivery.id, reason = %why,
                        "the patient record refused a transcript");
                    (DeliveryState::Failed, now, Some(why), "failed")
                }
            };
            self.metrics
                .record_deliveries
                .with_label_values(&[outcome])
                .inc();
            let op = WriteOp::RecordOutcome {
                id: d.delivery.id.clone(),
                state,
                attempts,
                next_attempt_ms: next,
                reason,
                at_ms: now,
            };
            if let Err(e) = self.storage.write(op).await {
                // Still queued: sent again (the receiver recognises it) in a later round.
                tracing::warn!(delivery = %d.delivery.id, error = %e, "delivery outcome not stored");
            }
        }
    }

    /// One POST of the delivery's bundle.
    async fn attempt(&self, d: &RecordDeliveryRow) -> Attempt {
        let conversation = &d.delivery.conversation;
        let record = match self.storage.conversation(conversation).await {
            Ok(Some(r)) => r,
            Ok(None) => return Attempt::Refused("the conversation is no longer stored".into()),
            Err(e) => return Attempt::Retry(format!("storage: {e}")),
        };
        let events = match self
            .storage
            .events_after(
                conversation,
                0,
                u32::try_from(d.delivery.close_seq).unwrap_or(u32::MAX),
            )
            .await
        {
            Ok(e) => e,
            Err(e) => return Attempt::Retry(format!("storage: {e}")),
        };
        let Some(t) = transcript(&self.organisation, &record, &events, d.delivery.close_seq) else {
            return Attempt::Refused("the client has no valid identity code".into());
        };
        if t.messages.is_empty() {
            return Attempt::Refused("nothing to record: the conversation has no messages".into());
        }
        let bundle = fhir::communication_bundle(&t);
        let body = match serde_json::to_vec(&bundle) {
            Ok(b) => b,
            Err(e) => return Attempt::Refused(format!("the bundle could not be encoded: {e}")),
        };
        let secret = self.config.secret.as_deref().unwrap_or_default();
        let t = jiff::Timestamp::now().as_second();
        let started = std::time::Instant::now();
        let sent = self
            .http
            .post(&self.config.endpoint)
            .header("content-type", "application/fhir+json")
            .header("accept", "application/fhir+json")
            .header("idempotency-key", &d.delivery.id)
            .header("x-luukku-signature", signature(secret.as_bytes(), t, &body))
            .body(body)
            .send()
            .await;
        self.metrics
            .record_request_seconds
            .with_label_values(&[] as &[&str])
            .observe(started.elapsed().as_secs_f64());
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry(format!(
                    "the record server did not answer: {}",
                    e.without_url()
                ))
            }
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Delivered;
        }
        let text = response.text().await.unwrap_or_default();
        let why = format!("HTTP {}: {}", status.as_u16(), outcome_text(&text));
        if status.is_server_error() || [408, 425, 429].contains(&status.as_u16()) {
            Attempt::Retry(why)
        } else {
            Attempt::Refused(why)
        }
    }

    /// Tells each conversation of its delivery's final state.
    async fn announce(&self) {
        let changed = match self.storage.record_unannounced(BATCH).await {
            Ok(c) => c,
            Err(e) => return tracing::warn!(error = %e, "record deliveries unreadable"),
        };
        for d in changed {
            if let Err(e) = self.announce_one(&d).await {
                tracing::warn!(delivery = %d.delivery.id, error = %e, "delivery state not told; tried again");
            }
        }
    }

    async fn announce_one(&self, d: &RecordDeliveryRow) -> Result<(), String> {
        let handle = self
            .hub
            .get_or_load(&d.delivery.conversation)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(handle) = handle {
            handle
                .record_state(d.delivery.close_seq, d.state.as_str(), d.reason.clone())
                .await
                .map_err(|e| e.to_string())?;
        }
        self.storage
            .write(WriteOp::RecordAnnounced {
                id: d.delivery.id.clone(),
                state: d.state,
            })
            .await
            .map_err(|e| e.to_string())
    }
}

/// What a refusal says: the diagnostics of a FHIR `OperationOutcome`, else the start of the
/// body; at most 300 characters.
fn outcome_text(body: &str) -> String {
    let from_outcome = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let issues = v.get("issue")?.as_array()?;
            let texts: Vec<String> = issues
                .iter()
                .filter_map(|i| {
                    i.get("diagnostics")
                        .or_else(|| i.pointer("/details/text"))
                        .and_then(|d| d.as_str())
                        .map(str::to_owned)
                })
                .collect();
            (!texts.is_empty()).then(|| texts.join("; "))
        });
    let text = from_outcome.unwrap_or_else(|| body.trim().to_owned());
    let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    if text.is_empty() {
        "no reason given".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // RFC 4231 test case 2 shape: key "Jefe" is too short for config, fine for the MAC.
        let s = signature(b"key", 1_700_000_000, b"{}");
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"key");
        let tag = ring::hmac::sign(&key, b"1700000000.{}");
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(s, format!("t=1700000000,v1={hex}"));
        assert_ne!(signature(b"key", 1_700_000_000, b"{ }"), s);
    }

    #[test]
    fn a_refusal_reads_as_the_outcomes_diagnostics() {
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error",
            "code":"invalid","diagnostics":"Unknown patient"}]}"#;
        assert_eq!(outcome_text(outcome), "Unknown patient");
        assert_eq!(outcome_text(""), "no reason given");
        assert_eq!(outcome_text("Bad\nGateway").as_str(), "BadGateway");
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(30), MAX_BACKOFF_MS);
    }
}
