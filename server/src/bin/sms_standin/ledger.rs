//! The stand-in's memory, one actor: the messages that reached a phone, the idempotency
//! records, the fault settings and every webhook event with its delivery attempts. HTTP
//! handlers and webhook tasks reach it through the cloneable `LedgerHandle` (bounded mpsc in,
//! oneshot replies out), so a send is decided — outage, replay, refusal or acceptance — in
//! one step that no other request can interleave with.

use crate::request::Accepted;
use crate::sms::{DeliveryError, Sms};
use crate::telnyx_error::Refusal;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use warp::http::StatusCode;

/// Commands queued for the ledger. Tests send one request at a time and each command is a
/// few map operations, so 64 is plenty; when full, a caller simply waits its turn.
const LEDGER_QUEUE: usize = 64;
/// How long a successful answer is replayed for its `Idempotency-Key` (Telnyx: 24 hours).
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// What becomes of an accepted message's delivery reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Report {
    /// `message.sent`, then `message.finalized` with `delivered`.
    #[default]
    Deliver,
    /// `message.sent`, then `message.finalized` with `delivery_failed` and the fail_* error.
    Fail,
    /// Delivered, but no webhook at all.
    Lose,
    /// Every webhook sent twice (the same event again).
    Duplicate,
    /// Every webhook held `slow_ms` first.
    Slow,
}

/// The injected faults (`/_standin/faults`); a POST replaces them all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The next n sends answer 503 and 500 in turn, sending nothing.
    pub api_5xx: u32,
    /// The next accepted send's answer is held this long (once).
    pub api_hang_ms: u64,
    pub report: Report,
    pub fail_code: String,
    pub fail_title: String,
    pub fail_detail: String,
    pub slow_ms: u64,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            api_5xx: 0,
            api_hang_ms: 0,
            report: Report::Deliver,
            fail_code: "40002".into(),
            fail_title: "Blocked as spam (temporary)".into(),
            fail_detail: "Carrier spam filter triggered.".into(),
            slow_ms: 3000,
        }
    }
}

/// A send request on its way into the ledger: its key, raw body and the checks' verdict.
pub struct Submission {
    pub key: Option<String>,
    pub body: Bytes,
    pub checked: Result<Accepted, Refusal>,
}

/// What follows an accepted send: the message, its webhook URLs and the report settings.
#[derive(Debug)]
pub struct DeliveryPlan {
    pub sms: Sms,
    pub targets: Vec<String>,
    pub report: Report,
    pub failure: DeliveryError,
    pub slow: Duration,
}

pub enum SubmitOutcome {
    Refused(Refusal),
    /// The stored answer of an earlier identical request with the same key.
    Replayed(Bytes),
    Accepted {
        response: Bytes,
        hang: Duration,
        plan: Box<DeliveryPlan>,
    },
}

/// One POST of a webhook event.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    pub url: String,
    pub attempt: u32,
    /// The HTTP status answered; `None` when nothing came within the timeout.
    pub status: Option<u16>,
    /// Sent by `/_standin/replay` or the `duplicate` fault rather than the retry policy.
    pub replay: bool,
}

/// The body and URL last sent for an event: what a replay sends again.
pub struct LastSent {
    pub url: String,
    pub attempt: u32,
    pub body: Bytes,
}

#[derive(Debug, thiserror::Error)]
#[error("the ledger task has stopped")]
pub struct LedgerGone;

enum LedgerCmd {
    Submit(Box<Submission>, oneshot::Sender<SubmitOutcome>),
    SetStatus(Uuid, &'static str),
    Messages(oneshot::Sender<Value>),
    SetFaults(Faults, oneshot::Sender<Faults>),
    Faults(oneshot::Sender<Faults>),
    NewEvent(EventEntry),
    Attempted(Uuid, Attempt, Bytes),
    LastSent(Uuid, oneshot::Sender<Option<LastSent>>),
    Events(oneshot::Sender<Value>),
}

/// The ledger's public face.
#[derive(Clone)]
pub struct LedgerHandle {
    tx: mpsc::Sender<LedgerCmd>,
}

impl LedgerHandle {
    pub fn spawn() -> LedgerHandle {
        let (tx, rx) = mpsc::channel(LEDGER_QUEUE);
        tokio::spawn(Ledger::default().run(rx));
        LedgerHandle { tx }
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> LedgerCmd,
    ) -> Result<T, LedgerGone> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(command(reply)).await.map_err(|_| LedgerGone)?;
        answer.await.map_err(|_| LedgerGone)
    }

    async fn tell(&self, command: LedgerCmd) {
        // A stopped ledger means the process is ending: nothing left to record.
        let _ = self.tx.send(command).await;
    }

    pub async fn submit(&self, submission: Submission) -> Result<SubmitOutcome, LedgerGone> {
        self.ask(|r| LedgerCmd::Submit(Box::new(submission), r))
            .await
    }

    pub async fn set_status(&self, id: Uuid, status: &'static str) {
        self.tell(LedgerCmd::SetStatus(id, status)).await;
    }

    pub async fn messages(&self) -> Result<Value, LedgerGone> {
        self.ask(LedgerCmd::Messages).await
    }

    pub async fn set_faults(&self, faults: Faults) -> Result<Faults, LedgerGone> {
        self.ask(|r| LedgerCmd::SetFaults(faults, r)).await
    }

    pub async fn faults(&self) -> Result<Faults, LedgerGone> {
        self.ask(LedgerCmd::Faults).await
    }

    pub async fn new_event(&self, id: Uuid, event_type: &'static str, message_id: Uuid) {
        let entry = EventEntry {
            id,
            event_type,
            message_id,
            attempts: Vec::new(),
            last: None,
        };
        self.tell(LedgerCmd::NewEvent(entry)).await;
    }

    pub async fn attempted(&self, event_id: Uuid, attempt: Attempt, body: Bytes) {
        self.tell(LedgerCmd::Attempted(event_id, attempt, body))
            .await;
    }

    pub async fn last_sent(&self, event_id: Uuid) -> Result<Option<LastSent>, LedgerGone> {
        self.ask(|r| LedgerCmd::LastSent(event_id, r)).await
    }

    pub async fn events(&self) -> Result<Value, LedgerGone> {
        self.ask(LedgerCmd::Events).await
    }
}

/// An SMS that reached the phone, as `/_standin/messages` lists it.
#[derive(Serialize)]
struct PhoneMessage {
    /// The provider's message id (a UUID; the crate's uuid has no serde feature here).
    id: String,
    to: String,
    from: Option<String>,
    text: String,
    idempotency_key: Option<String>,
    parts: u32,
    encoding: &'static str,
    status: &'static str,
}

struct Remembered {
    body: Bytes,
    response: Bytes,
    at: Instant,
}

struct EventEntry {
    id: Uuid,
    event_type: &'static str,
    message_id: Uuid,
    attempts: Vec<Attempt>,
    last: Option<LastSent>,
}

#[derive(Default)]
struct Ledger {
    messages: Vec<PhoneMessage>,
    idempotency: HashMap<String, Remembered>,
    faults: Faults,
    /// Outages answered so far, to alternate 503 and 500.
    outages: u32,
    events: Vec<EventEntry>,
}

impl Ledger {
    async fn run(mut self, mut rx: mpsc::Receiver<LedgerCmd>) {
        while let Some(command) = rx.recv().await {
            self.handle(command);
        }
    }

    fn handle(&mut self, command: LedgerCmd) {
        match command {
            LedgerCmd::Submit(s, reply) => {
                let _ = reply.send(self.submit(*s));
            }
            LedgerCmd::SetStatus(id, status) => {
                let id = id.to_string();
                if let Some(m) = self.messages.iter_mut().find(|m| m.id == id) {
                    m.status = status;
                }
            }
            LedgerCmd::Messages(reply) => {
                let _ = reply.send(json!(self.messages));
            }
            LedgerCmd::SetFaults(faults, reply) => {
                self.faults = faults;
                let _ = reply.send(self.faults.clone());
            }
            LedgerCmd::Faults(reply) => {
                let _ = reply.send(self.faults.clone());
            }
            LedgerCmd::NewEvent(entry) => self.events.push(entry),
            LedgerCmd::Attempted(id, attempt, body) => self.attempted(id, attempt, body),
            LedgerCmd::LastSent(id, reply) => {
                let last = self
                    .event(id)
                    .and_then(|e| e.last.as_ref())
                    .map(|l| LastSent {
                        url: l.url.clone(),
                        attempt: l.attempt,
                        body: l.body.clone(),
                    });
                let _ = reply.send(last);
            }
            LedgerCmd::Events(reply) => {
                let _ = reply.send(self.events_json());
            }
        }
    }

    /// Decides a send: an injected outage first (it hits every request), then the
    /// idempotency record, then the checks; an accepted message is recorded once.
    fn submit(&mut self, submission: Submission) -> SubmitOutcome {
        if let Some(outage) = self.outage() {
            return SubmitOutcome::Refused(outage);
        }
        self.idempotency
            .retain(|_, r| r.at.elapsed() < IDEMPOTENCY_TTL);
        if let Some(known) = submission
            .key
            .as_ref()
            .and_then(|k| self.idempotency.get(k))
        {
            return if known.body == submission.body {
                SubmitOutcome::Replayed(known.response.clone())
            } else {
                SubmitOutcome::Refused(Refusal::key_reused())
            };
        }
        match submission.checked {
            Ok(accepted) => self.accept(accepted, submission.key, submission.body),
            Err(refusal) => SubmitOutcome::Refused(refusal),
        }
    }

    /// One of the `api_5xx` outages, if any is left: 503 and 500 in turn.
    fn outage(&mut self) -> Option<Refusal> {
        if self.faults.api_5xx == 0 {
            return None;
        }
        self.faults.api_5xx -= 1;
        self.outages += 1;
        let status = if self.outages % 2 == 1 {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Some(Refusal::outage(status))
    }

    /// Records the message as having reached the phone, remembers the answer for its key,
    /// and plans its reports under the current faults.
    fn accept(&mut self, accepted: Accepted, key: Option<String>, body: Bytes) -> SubmitOutcome {
        let sms = accepted.sms;
        let response = Bytes::from(json!({ "data": sms.record() }).to_string());
        if let Some(key) = &key {
            let remembered = Remembered {
                body,
                response: response.clone(),
                at: Instant::now(),
            };
            self.idempotency.insert(key.clone(), remembered);
        }
        self.messages.push(PhoneMessage {
            id: sms.id.to_string(),
            to: sms.to.clone(),
            from: sms.from.clone(),
            text: sms.text.clone(),
            idempotency_key: key,
            parts: sms.segments.parts,
            encoding: sms.segments.encoding.as_str(),
            status: sms.status,
        });
        let faults = &mut self.faults;
        let hang = Duration::from_millis(std::mem::take(&mut faults.api_hang_ms));
        let plan = Box::new(DeliveryPlan {
            sms,
            targets: accepted.targets,
            report: faults.report,
            failure: DeliveryError {
                code: faults.fail_code.clone(),
                title: faults.fail_title.clone(),
                detail: faults.fail_detail.clone(),
            },
            slow: Duration::from_millis(faults.slow_ms),
        });
        SubmitOutcome::Accepted {
            response,
            hang,
            plan,
        }
    }

    fn event(&self, id: Uuid) -> Option<&EventEntry> {
        self.events.iter().find(|e| e.id == id)
    }

    fn attempted(&mut self, id: Uuid, attempt: Attempt, body: Bytes) {
        let Some(entry) = self.events.iter_mut().find(|e| e.id == id) else {
            return;
        };
        entry.last = Some(LastSent {
            url: attempt.url.clone(),
            attempt: attempt.attempt,
            body,
        });
        entry.attempts.push(attempt);
    }

    fn events_json(&self) -> Value {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                json!({
                    "id": e.id.to_string(),
                    "event_type": e.event_type,
                    "message_id": e.message_id.to_string(),
                    "status": e.attempts.last().and_then(|a| a.status),
                    "attempts": e.attempts,
                })
            })
            .collect();
        Value::Array(events)
    }
}
