//! The SMS worker, on the node that runs the conversations (one node; a cluster's primary,
//! whose writes are fenced by its term): every half second it
//!
//! 1. hands the queued SMS to the gateway — under our id as the provider's idempotency key,
//!    so a crash between the provider's acceptance and our record of it resends the *same*
//!    SMS, which the provider answers without sending it again — and stores the outcome
//!    (`sent`; another try later with backoff; or `failed` for good, with the reason);
//! 2. tells each conversation of the states its SMS reached since (webhooks on any node only
//!    write them to storage): a `system` `sms` event, then `announced`;
//! 3. handles the patients' SMS the webhook stored (`sms/inbound.rs`): into the one open case that sent an SMS
//!    to that number; the organisation's automatic reply when their case is closed; otherwise
//!    (no case, or several open) a new matter in the SMS service's team inbox.
//!
//! Numbers and texts are personal data: never logged, never in metric labels.

use super::gateway::{Gateway, Outgoing, SendError};
use super::SmsConfig;
use crate::conversation::Hub;
use crate::metrics::Metrics;
use crate::organisation::Organisation;
use crate::routing::RouterHandle;
use crate::storage::{SharedStorage, SmsRecord, SmsState, WriteOp};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the worker looks for work.
const POLL: Duration = Duration::from_millis(500);
/// Items of each kind taken per round.
pub(super) const BATCH: u32 = 20;
/// The first retry waits this long, each next one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 600_000;
/// After this many failed attempts (about an hour and a half of tries) an SMS is failed:
/// the nurse sees it and can call instead.
const MAX_ATTEMPTS: u32 = 15;

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
                    tracing::warn!(sms = %r.sms.id, attempts = r.attempts + 1,
                        reason = %super::number::redact(&reason),
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
                    tracing::warn!(sms = %r.sms.id, reason = %super::number::redact(&reason),
                        "the gateway refused an SMS");
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
}
