//! How long the organisation keeps what it stores: conversations from their close (per
//! service, else the organisation's default), and the access log on its own period.

use super::{Organisation, Service};
use serde::{Deserialize, Serialize};

/// Twelve years in days (with three leap days): the default period of the access log.
pub const DEFAULT_ACCESS_LOG_DAYS: u32 = 12 * 365 + 3;

/// The `[retention]` table of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days a complete conversation is kept after its close, for a service without its own
    /// `retention_days`; none: kept until a period is configured. 0: removed at the first
    /// run after the close (e.g. when the patient record holds the transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_days: Option<u32>,
    /// Days an access-log entry is kept.
    #[serde(default = "default_access_log_days")]
    pub access_log_days: u32,
}

fn default_access_log_days() -> u32 {
    DEFAULT_ACCESS_LOG_DAYS
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            conversation_days: None,
            access_log_days: DEFAULT_ACCESS_LOG_DAYS,
        }
    }
}

/// The longest period accepted (100 years): a larger number is a typing error.
const MAX_DAYS: u32 = 36_525;

impl RetentionPolicy {
    /// Checks the periods; a description of the first problem.
    pub fn validate(&self, services: &[Service]) -> Result<(), String> {
        if !(1..=MAX_DAYS).contains(&self.access_log_days) {
            return Err(format!(
                "retention.access_log_days must be 1 to {MAX_DAYS} (got {})",
                self.access_log_days
            ));
        }
        if self.conversation_days.is_some_and(|d| d > MAX_DAYS) {
            return Err(format!(
                "retention.conversation_days must be at most {MAX_DAYS}"
            ));
        }
        if let Some(s) = services
            .iter()
            .find(|s| s.retention_days.is_some_and(|d| d > MAX_DAYS))
        {
            return Err(format!(
                "service {}: retention_days must be at most {MAX_DAYS}",
                s.id
            ));
        }
        Ok(())
    }
}

impl Organisation {
    /// Days a complete conversation of `service` is kept after its close; none: kept.
    pub fn retention_days(&self, service: &Service) -> Option<u32> {
        service.retention_days.or(self.retention.conversation_days)
    }
}

/// Milliseconds in `days` days.
pub fn days_ms(days: u32) -> i64 {
    i64::from(days) * 86_400_000
}
