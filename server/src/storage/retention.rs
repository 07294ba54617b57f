//! What the retention job and the data-protection officer need from storage: which complete
//! conversations are past their period, legal holds that keep a conversation whatever its
//! period, and the access log's own period (its oldest entries pruned behind an anchor, so the
//! chain of what stays still verifies).

use console_protocol::{ConversationId, ProfessionalId};

/// A legal hold: the conversation is kept past its retention period (a complaint, a claim, an
/// authority's request) until released. Holds are never deleted: a released one keeps who
/// released it and when.
#[derive(Debug, Clone, PartialEq)]
pub struct LegalHold {
    pub conversation: ConversationId,
    pub set_by: ProfessionalId,
    /// Why (e.g. the case number of a complaint). Stated by the officer; not personal data of
    /// the client by intent, still never logged.
    pub reason: String,
    pub set_at_ms: i64,
    pub released_by: Option<ProfessionalId>,
    pub released_at_ms: Option<i64>,
}

/// The retention state of a service's conversations at a cut-off time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionCounts {
    /// Complete conversations closed before the cut-off and not held: purged by the next run.
    pub due: u64,
    /// Complete conversations closed before the cut-off that a legal hold keeps.
    pub held: u64,
}

/// Where the stored access log begins after pruning: the last pruned entry's `seq` and
/// `hash`, which the first stored entry chains onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessAnchor {
    pub seq: i64,
    pub hash: String,
    /// The cut-off of the prune that set it: entries before it were removed.
    pub before_ms: i64,
    pub at_ms: i64,
}
