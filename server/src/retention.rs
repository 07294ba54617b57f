//! The retention job, on the node that runs the conversations (one node; a cluster's primary,
//! whose writes are fenced by its term). Each run:
//!
//! 1. for each service with a period (its own `retention_days`, else the organisation's
//!    `retention.conversation_days`), removes the complete conversations closed longer ago
//!    than that, unless a legal hold keeps them — through each conversation's actor, so that
//!    nothing of it is being written meanwhile, and storage checks close time and holds again
//!    in the commit that removes it (a hold placed a moment earlier wins);
//! 2. removes the patients' SMS already handled, past the longest period of the SMS services;
//! 3. prunes the access log past its own period from its start, behind an anchor;
//! 4. walks the access log's whole hash chain and reports whether it holds.
//!
//! In a dry run steps 1–3 only count what they would remove. Counts go to the log and the
//! metrics; ids and content never do.

use crate::config::RetentionJobConfig;
use crate::conversation::Hub;
use crate::metrics::Metrics;
use crate::organisation::retention::days_ms;
use crate::organisation::Organisation;
use crate::storage::{SharedStorage, StorageError};
use console_protocol::ServiceId;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Conversations taken per read while purging.
const BATCH: u32 = 100;
/// Access-log entries read per step of the chain walk.
const VERIFY_PAGE: u32 = 5_000;
/// The first run waits at most this long after start.
const FIRST_RUN: Duration = Duration::from_secs(60);

/// A service's retention state at a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServiceRetention {
    pub service: ServiceId,
    /// The period in days; none: kept until a period is configured.
    pub days: Option<u32>,
    /// Due for removal (after a real run: what could not be removed).
    pub due: u64,
    /// Kept by a legal hold.
    pub held: u64,
    /// Removed by this run.
    pub purged: u64,
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    pub services: Vec<ServiceRetention>,
    /// Access-log entries removed (0 in a dry run).
    pub access_log_pruned: u64,
    /// Handled patients' SMS removed.
    pub inbound_sms_purged: u64,
}

/// The job's parts.
#[derive(Clone)]
pub struct RetentionJob {
    pub storage: SharedStorage,
    pub hub: Arc<Hub>,
    pub organisation: Arc<Organisation>,
    pub metrics: Arc<Metrics>,
    pub config: RetentionJobConfig,
}

/// The periods of every service at `now_ms`, with what is due and held.
pub async fn status(
    storage: &SharedStorage,
    org: &Organisation,
    now_ms: i64,
) -> Result<Vec<ServiceRetention>, StorageError> {
    let mut out = Vec::new();
    for s in &org.services {
        let days = org.retention_days(s);
        let counts = match days {
            Some(d) => storage.retention_counts(&s.id, now_ms - days_ms(d)).await?,
            None => Default::default(),
        };
        out.push(ServiceRetention {
            service: s.id.clone(),
            days,
            due: counts.due,
            held: counts.held,
            purged: 0,
        });
    }
    Ok(out)
}

impl RetentionJob {
    /// Runs every `interval_s` until `cancel`.
    pub fn spawn(self, cancel: CancellationToken) {
        let interval = Duration::from_secs(self.config.interval_s);
        tokio::spawn(async move {
            let mut wait = interval.min(FIRST_RUN);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                wait = interval;
                let now = jiff::Timestamp::now().as_millisecond();
                match self.run(now).await {
                    Ok(report) => {
                        let outcome = if report.dry_run { "dry_run" } else { "ok" };
                        self.metrics
                            .retention_runs
                            .with_label_values(&[outcome])
                            .inc();
                        self.metrics
                            .retention_last_run
                            .with_label_values(&[] as &[&str])
                            .set(now / 1000);
                    }
                    Err(e) => {
                        self.metrics
                            .retention_runs
                            .with_label_values(&["failed"])
                            .inc();
                        tracing::warn!(error = %e, "retention run failed; tried again at the next run");
                    }
                }
                self.verify_chain().await;
            }
        });
    }

    /// One run at `now_ms` (steps 1–3).
    pub async fn run(&self, now_ms: i64) -> Result<RunReport, StorageError> {
        let dry_run = self.config.dry_run;
        let mut services = status(&self.storage, &self.organisation, now_ms).await?;
        for s in services.iter_mut() {
            let Some(days) = s.days else { continue };
            if !dry_run && s.due > 0 {
                s.purged = self
                    .purge_service(&s.service, now_ms - days_ms(days))
                    .await?;
                let after = self
                    .storage
                    .retention_counts(&s.service, now_ms - days_ms(days))
                    .await?;
                s.due = after.due;
                s.held = after.held;
            }
            self.metrics
                .retention_due
                .with_label_values(&[s.service.as_str()])
                .set(i64::try_from(s.due).unwrap_or(i64::MAX));
            self.metrics
                .retention_held
                .with_label_values(&[s.service.as_str()])
                .set(i64::try_from(s.held).unwrap_or(i64::MAX));
            if s.purged > 0 || s.due > 0 {
                tracing::info!(service = %s.service, days, purged = s.purged, due = s.due,
                    held = s.held, dry_run, "retention");
            }
        }
        let mut report = RunReport {
            dry_run,
            services,
            access_log_pruned: 0,
            inbound_sms_purged: 0,
        };
        if dry_run {
            return Ok(report);
        }
        if let Some(days) = self.sms_days() {
            report.inbound_sms_purged = self
                .storage
                .purge_inbound_sms(now_ms - days_ms(days))
                .await?;
        }
        let log_days = self.organisation.retention.access_log_days;
        report.access_log_pruned = self
            .storage
            .prune_access(now_ms - days_ms(log_days), now_ms)
            .await?;
        if report.access_log_pruned > 0 {
            self.metrics
                .access_log_pruned
                .with_label_values(&[] as &[&str])
                .inc_by(report.access_log_pruned);
            tracing::info!(
                entries = report.access_log_pruned,
                days = log_days,
                "access log pruned past its period"
            );
        }
        Ok(report)
    }

    /// Removes the due conversations of one service; answers how many went.
    async fn purge_service(
        &self,
        service: &ServiceId,
        closed_before_ms: i64,
    ) -> Result<u64, StorageError> {
        let mut purged = 0;
        loop {
            let due = self
                .storage
                .retention_due(service, closed_before_ms, BATCH)
                .await?;
            let mut progressed = false;
            for id in &due {
                let Some(handle) = self.hub.get_or_load(id).await? else {
                    continue;
                };
                match handle.purge(closed_before_ms).await {
                    Ok(true) => {
                        purged += 1;
                        progressed = true;
                        self.metrics
                            .retention_purged
                            .with_label_values(&[service.as_str()])
                            .inc();
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "a conversation was not purged; tried again at the next run")
                    }
                }
            }
            // A full batch that removed something may have more behind it.
            if due.len() < BATCH as usize || !progressed {
                return Ok(purged);
            }
        }
    }

    /// The longest period of the SMS services, if any has one.
    fn sms_days(&self) -> Option<u32> {
        let org = &self.organisation;
        org.services
            .iter()
            .filter(|s| s.channel == "sms")
            .filter_map(|s| org.retention_days(s))
            .max()
    }

    /// Step 4: the chain walked whole; a break is an error in the log and a metric (alert).
    pub async fn verify_chain(&self) {
        match crate::storage::access::verify_stored(&*self.storage, VERIFY_PAGE).await {
            Ok(v) => {
                let ok = v.broken.is_none();
                self.metrics
                    .access_log_chain_ok
                    .with_label_values(&[] as &[&str])
                    .set(i64::from(ok));
                self.metrics
                    .access_log_verified_entries
                    .with_label_values(&[] as &[&str])
                    .set(i64::try_from(v.entries).unwrap_or(i64::MAX));
                if let Some(broken) = v.broken {
                    tracing::error!(problem = %broken, verified_until = v.head.0,
                        "the access log's chain is broken");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "access log not verified; tried again at the next run")
            }
        }
    }
}

/// Starts the job where the conversations run.
pub fn start(
    config: &crate::config::Config,
    storage: &SharedStorage,
    hub: &Arc<Hub>,
    organisation: &Arc<Organisation>,
    metrics: &Arc<Metrics>,
    cancel: CancellationToken,
) {
    RetentionJob {
        storage: storage.clone(),
        hub: hub.clone(),
        organisation: organisation.clone(),
        metrics: metrics.clone(),
        config: config.retention.clone(),
    }
    .spawn(cancel);
}
