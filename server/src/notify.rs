//! Notifications of clients: when the organisation writes in a conversation whose client is
//! not connected, the client is told by e-mail and — the first time for a thread — by SMS,
//! with no content of the message ("You have a new message from <service>. Read it at
//! <link>."): e-mail and SMS are not secure. The notification is written to the outbox in the
//! same commit as the message (`WriteOp::AppendNotify`); the [`worker`] of the node that runs
//! the conversations (one node; a cluster's primary, its writes fenced by the lease) sends what
//! is due, with retries and backoff, and marks each sent. A crash between sending and marking
//! sends that one again after the restart, with the same `Message-ID` (the outbox id), so a
//! receiving server can tell it is the same e-mail; nothing is lost. An SMS is not sent twice:
//! the gateway gets the outbox id as its idempotency key, the sink skips an id it holds. Recipients are personal
//! data: never logged, never in metric labels.

use crate::config::NotificationsConfig;
use crate::metrics::Metrics;
use crate::organisation::Organisation;
use crate::storage::{Contact, Notification, OutboxItem, SharedStorage, WriteOp};
use console_protocol::{ConversationId, ServiceId};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the outbox is looked at.
const POLL: Duration = Duration::from_millis(500);
/// Notifications taken per look.
const BATCH: u32 = 20;
/// The first retry waits this long, each next one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// After this many failed attempts (about a day of tries) a notification is given up.
const MAX_ATTEMPTS: u32 = 30;

/// The notifications of the organisation's message in `conversation` for a client who can be
/// reached at `contact` and is not connected now: an e-mail when SMTP is configured, an SMS
/// (the first time for the thread only) when an SMS route is.
pub fn of_message(
    config: &NotificationsConfig,
    org: &Organisation,
    service: &ServiceId,
    lang: Option<&str>,
    conversation: &ConversationId,
    contact: &Contact,
    at_ms: i64,
) -> Vec<Notification> {
    let sms_route = config.sms_gateway || config.sms_sink.is_some();
    let Some(link) = config.link.as_deref().filter(|_| config.enabled()) else {
        return Vec::new();
    };
    let name = org
        .service(service)
        .map_or(service.as_str(), |s| org.text(&s.name, lang));
    let (subject, body) = texts(org.language(lang), name, link);
    let mut out = Vec::new();
    let mut add = |channel: &str, recipient: &str, first_of_channel: bool| {
        out.push(Notification {
            id: uuid::Uuid::new_v4().simple().to_string(),
            conversation: conversation.clone(),
            channel: channel.to_owned(),
            recipient: recipient.to_owned(),
            subject: subject.clone(),
            body: body.clone(),
            created_at_ms: at_ms,
            first_of_channel,
        });
    };
    if let (Some(email), Some(_)) = (&contact.email, &config.smtp_url) {
        add("email", email, false);
    }
    if let Some(phone) = contact.phone.as_deref().filter(|_| sms_route) {
        add("sms", phone, true);
    }
    out
}

/// The subject and text of a notification in `lang` (fi, sv, en; else English).
fn texts(lang: &str, service: &str, link: &str) -> (String, String) {
    match lang {
        "fi" => (
            format!("Uusi viesti: {service}"),
            format!("Sinulle on uusi viesti palvelusta {service}. Lue se osoitteessa {link}."),
        ),
        "sv" => (
            format!("Nytt meddelande: {service}"),
            format!("Du har ett nytt meddelande från {service}. Läs det på {link}."),
        ),
        _ => (
            format!("New message: {service}"),
            format!("You have a new message from {service}. Read it at {link}."),
        ),
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failures.
fn backoff_ms(attempts: u32) -> i64 {
    let shift = attempts.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS << shift).min(MAX_BACKOFF_MS)
}

/// Why a delivery failed, and whether trying again can help.
struct Failure {
    reason: String,
    permanent: bool,
}

type Mailer = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;

/// Sends due notifications until `cancel`; SMS through the gateway when there is one.
pub fn spawn(
    storage: SharedStorage,
    config: NotificationsConfig,
    gateway: Option<Arc<dyn crate::sms::Gateway>>,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) {
    if !config.enabled() {
        return;
    }
    let mailer = match config.smtp_url.as_deref().map(Mailer::from_url) {
        Some(Ok(builder)) => Some(builder.timeout(Some(Duration::from_secs(20))).build()),
        Some(Err(e)) => {
            tracing::error!(error = %e, "notifications.smtp_url is not usable; e-mails wait");
            None
        }
        None => None,
    };
    tokio::spawn(async move {
        let worker = Worker {
            storage,
            config,
            gateway,
            metrics,
            mailer,
        };
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(POLL) => worker.round().await,
            }
        }
    });
}

/// Whether the sink file already holds the notification `id` (one JSON object per line).
fn sink_has(existing: &str, id: &str) -> bool {
    existing.lines().any(|line| {
        serde_json::from_str::<serde_json::Value>(line)
            .is_ok_and(|v| v.get("id").and_then(|v| v.as_str()) == Some(id))
    })
}

struct Worker {
    storage: SharedStorage,
    config: NotificationsConfig,
    gateway: Option<Arc<dyn crate::sms::Gateway>>,
    metrics: Arc<Metrics>,
    mailer: Option<Mailer>,
}

impl Worker {
    /// Sends what is due now, one after another, and stores each outcome.
    async fn round(&self) {
        let now = jiff::Timestamp::now().as_millisecond();
        let due = match self.storage.outbox_due(now, BATCH).await {
            Ok(due) => due,
            Err(e) => return tracing::warn!(error = %e, "outbox unreadable; tried again"),
        };
        for item in due {
            let outcome = self.deliver(&item.notification).await;
            self.settle(item, outcome).await;
        }
    }

    async fn deliver(&self, n: &Notification) -> Result<(), Failure> {
        match n.channel.as_str() {
            "email" => self.email(n).await,
            "sms" => self.sms(n).await,
            other => Err(Failure {
                reason: format!("unknown channel {other}"),
                permanent: true,
            }),
        }
    }

    async fn email(&self, n: &Notification) -> Result<(), Failure> {
        use lettre::message::header::ContentType;
        use lettre::AsyncTransport;
        let fail = |reason: String, permanent| Failure { reason, permanent };
        let Some(mailer) = &self.mailer else {
            return Err(fail("no usable SMTP server configured".into(), false));
        };
        let from = self
            .config
            .from
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| fail("notifications.from is not an address".into(), true))?;
        let to = n
            .recipient
            .parse()
            .map_err(|_| fail("the recipient is not an e-mail address".into(), true))?;
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@luukku.invalid>", n.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(n.body.clone())
            .map_err(|e| fail(format!("message: {e}"), true))?;
        match mailer.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(fail(format!("smtp: {e}"), e.is_permanent())),
        }
    }

    /// Sends the SMS through the gateway (our id its idempotency key: a resend after a crash
    /// is the same SMS), or appends it to the sink file as one JSON line.
    async fn sms(&self, n: &Notification) -> Result<(), Failure> {
        use tokio::io::AsyncWriteExt;
        let fail = |reason: String| Failure {
            reason,
            permanent: false,
        };
        if let Some(gateway) = &self.gateway {
            let sms = crate::sms::gateway::Outgoing {
                id: &n.id,
                to: &n.recipient,
                text: &n.body,
                reports: false,
            };
            return match gateway.send(sms).await {
                Ok(_) => Ok(()),
                Err(crate::sms::SendError::Transient(reason)) => Err(fail(reason)),
                Err(crate::sms::SendError::Permanent(reason)) => Err(Failure {
                    reason,
                    permanent: true,
                }),
            };
        }
        let Some(path) = &self.config.sms_sink else {
            return Err(fail("no SMS route configured".into()));
        };
        // The sink is idempotent as a provider is by its idempotency key: a notification whose
        // line is already there (written just before a crash, not yet marked sent) is not
        // written again.
        match tokio::fs::read_to_string(path).await {
            Ok(existing) if sink_has(&existing, &n.id) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(format!("sms sink: {e}"))),
        }
        let line = serde_json::json!({"id": n.id, "to": n.recipient, "text": n.body}).to_string();
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .map_err(|e| fail(format!("sms sink: {e}")))?;
        file.write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| fail(format!("sms sink: {e}")))?;
        file.sync_data()
            .await
            .map_err(|e| fail(format!("sms sink: {e}")))
    }

    /// Stores the outcome of one attempt (a failed store leaves it due: sent again later).
    async fn settle(&self, item: OutboxItem, outcome: Result<(), Failure>) {
        let n = &item.notification;
        let now = jiff::Timestamp::now().as_millisecond();
        let (op, result) = match outcome {
            Ok(()) => (
                WriteOp::OutboxSent {
                    id: n.id.clone(),
                    at_ms: now,
                },
                "sent",
            ),
            Err(f) => {
                let attempts = item.attempts + 1;
                let give_up = f.permanent || attempts >= MAX_ATTEMPTS;
                tracing::warn!(notification = %n.id, channel = %n.channel, attempts,
                    give_up, reason = %crate::sms::number::redact(&f.reason), "notification not delivered");
                (
                    WriteOp::OutboxRetry {
                        id: n.id.clone(),
                        attempts,
                        next_attempt_ms: now + backoff_ms(attempts),
                        error: f.reason,
                        give_up,
                    },
                    if give_up { "failed" } else { "retry" },
                )
            }
        };
        self.metrics
            .notifications
            .with_label_values(&[n.channel.as_str(), result])
            .inc();
        if let Err(e) = self.storage.write(op).await {
            tracing::warn!(notification = %n.id, error = %e, "notification outcome not stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sink_knows_a_notification_it_already_holds() {
        let file = "{\"id\":\"n-1\",\"to\":\"+358401234567\",\"text\":\"x\"}\nnot json\n";
        assert!(sink_has(file, "n-1"));
        assert!(!sink_has(file, "n-2"));
        assert!(!sink_has("", "n-1"));
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(30), MAX_BACKOFF_MS);
    }

    #[test]
    fn a_notification_names_the_service_and_the_link_and_nothing_else() {
        let org = Organisation::demo();
        let config = NotificationsConfig {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            from: Some("noreply@example.org".into()),
            link: Some("https://example.org/asiointi".into()),
            sms_sink: Some("/tmp/sms.jsonl".into()),
            sms_gateway: false,
        };
        let contact = Contact {
            email: Some("client@example.org".into()),
            phone: Some("+358401234567".into()),
        };
        let out = of_message(
            &config,
            &org,
            &"nurse-message".into(),
            Some("en"),
            &"c1".into(),
            &contact,
            1,
        );
        assert_eq!(out.len(), 2);
        let email = &out[0];
        assert_eq!(
            (email.channel.as_str(), email.first_of_channel),
            ("email", false)
        );
        assert_eq!(
            email.body,
            "You have a new message from Non-urgent message to the health station. Read it at \
             https://example.org/asiointi."
        );
        assert_eq!(
            (out[1].channel.as_str(), out[1].first_of_channel),
            ("sms", true)
        );
        let fi = of_message(
            &config,
            &org,
            &"nurse-message".into(),
            Some("fi"),
            &"c1".into(),
            &contact,
            1,
        );
        assert!(fi[0]
            .body
            .starts_with("Sinulle on uusi viesti palvelusta Kiireetön viesti"));
        let off = NotificationsConfig::default();
        assert!(of_message(
            &off,
            &org,
            &"nurse-message".into(),
            None,
            &"c1".into(),
            &contact,
            1
        )
        .is_empty());
    }
}
