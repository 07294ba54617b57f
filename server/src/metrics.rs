//! Every Prometheus metric of the server, in one registry per server instance (so tests can
//! run several servers in one process). Prefix `luukku_`, base units, label values from small
//! fixed sets (team, service, channel, role, endpoint, reason) — never ids.

use console_protocol::TeamId;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets in seconds, from 100 µs to 10 s.
const FAST_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Human wait buckets in seconds, from 5 s to 3 days.
const WAIT_BUCKETS: &[f64] = &[
    5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0, 259200.0,
];

/// The outcomes `luukku_documents_total` counts.
/// Outcomes of a call of the SMS provider's webhook.
pub const SMS_WEBHOOK_OUTCOMES: [&str; 7] = [
    "accepted",
    "unsigned",
    "bad_signature",
    "stale",
    "malformed",
    "unknown",
    "failed",
];

pub const DOCUMENT_OUTCOMES: [&str; 6] = [
    "sent",
    "too_large",
    "unsupported_type",
    "empty",
    "refused",
    "failed",
];

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    pub conversations_started: IntCounterVec,
    pub conversations_completed: IntCounterVec,
    /// Conversations that got their first professional message.
    pub conversations_answered: IntCounterVec,
    pub messages: IntCounterVec,
    pub notes: IntCounterVec,
    pub queue_length: IntGaugeVec,
    pub queue_wait: HistogramVec,
    pub queue_abandoned: IntCounterVec,
    /// Matters whose reply deadline passed while they still waited for a professional.
    pub promise_breaches: IntCounterVec,
    /// Notification delivery attempts by channel (`email`, `sms`) and outcome (`sent`,
    /// `retry`, `failed`).
    pub notifications: IntCounterVec,
    /// Access-log entries written, by outcome (`allowed`, `refused`), and sessions ended
    /// because the log could not be written (`unwritten`).
    pub access_log: IntCounterVec,
    /// SMS of the organisation by service and outcome (`sent`, `delivered`, `failed`).
    pub sms: IntCounterVec,
    /// Patients' SMS by where they went (`posted`, `new_matter`, `closed_reply`).
    pub sms_inbound: IntCounterVec,
    /// The SMS provider's webhook calls by outcome (see [`SMS_WEBHOOK_OUTCOMES`]).
    pub sms_webhooks: IntCounterVec,
    /// From an SMS being queued to its delivery report.
    pub sms_delivery_seconds: Histogram,
    /// One request to the SMS provider's API.
    pub sms_gateway_seconds: Histogram,
    /// Documents uploaded, by outcome (see [`DOCUMENT_OUTCOMES`]).
    pub documents: IntCounterVec,
    /// Bytes of the documents sent.
    pub document_bytes: prometheus::IntCounter,
    /// Attempts at delivering a transcript to the patient record, by outcome.
    pub record_deliveries: IntCounterVec,
    /// One request to the patient record's FHIR server.
    pub record_request_seconds: HistogramVec,
    /// Conversations removed past their retention period, by service.
    pub retention_purged: IntCounterVec,
    /// Conversations past their period not yet removed (in a dry run: what a run would
    /// remove), by service.
    pub retention_due: IntGaugeVec,
    /// Conversations past their period that a legal hold keeps, by service.
    pub retention_held: IntGaugeVec,
    /// Runs of the retention job by outcome (`ok`, `dry_run`, `failed`).
    pub retention_runs: IntCounterVec,
    /// When the retention job last completed (unix seconds).
    pub retention_last_run: IntGaugeVec,
    /// Access-log entries removed past the log's own period.
    pub access_log_pruned: IntCounterVec,
    /// 1 when the last walk of the access log's chain verified it, 0 when it found a break.
    pub access_log_chain_ok: IntGaugeVec,
    /// Entries the last walk of the chain verified.
    pub access_log_verified_entries: IntGaugeVec,
    /// Open asynchronous matters in each team's inbox, by status (`new`, `in_progress`).
    pub inbox_open: IntGaugeVec,
    /// Open asynchronous matters past their reply deadline without a reply, by team.
    pub inbox_overdue: IntGaugeVec,
    /// How long the head of each team queue has waited (0 when nobody waits).
    pub queue_oldest_wait: IntGaugeVec,
    /// The wait a client queued now would be told.
    pub queue_estimated_wait: IntGaugeVec,
    pub retracted: IntCounterVec,
    pub handed_back: IntCounterVec,
    pub first_response: HistogramVec,
    /// Time from a client message to the professional's next message, after the first.
    pub reply_seconds: HistogramVec,
    pub active_conversations: IntGaugeVec,
    pub available_professionals: IntGaugeVec,
    /// Professionals with a console open (available or away), by team.
    pub signed_in_professionals: IntGaugeVec,
    /// Summed capacity of the available professionals, by team.
    pub available_capacity: IntGaugeVec,
    /// 1 while a dependency (`storage`, `bus`) answers, 0 while it does not.
    pub dependency_up: IntGaugeVec,
    /// 1 on the node that runs the conversations (one node; a cluster's primary), else 0.
    pub cluster_primary: IntGauge,
    pub connections: IntGaugeVec,
    pub connections_opened: IntCounterVec,
    /// Sockets a cluster node holds as a door, their sessions running on the primary (counted
    /// there in `connections`).
    pub tunnelled_connections: IntGaugeVec,
    pub delivery_latency: Histogram,
    pub storage: StorageMetrics,
    pub slow_consumers: IntCounterVec,
    pub frames_rejected: IntCounterVec,
    pub feedback: IntCounterVec,
    /// Ratings 1–5 as a histogram, for the mean (`_sum / _count`).
    pub feedback_rating: HistogramVec,
    pub transfers: IntCounterVec,
    pub conversation_actors: IntGauge,
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn histogram(
    r: &Registry,
    name: &str,
    help: &str,
    buckets: &[f64],
    labels: &[&str],
) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    let h = HistogramVec::new(opts, labels).expect("valid metric");
    r.register(Box::new(h.clone())).expect("unique metric");
    h
}

/// What the storage writer thread reports.
#[derive(Clone)]
pub struct StorageMetrics {
    /// Duration of each group commit.
    pub commit_seconds: Histogram,
    /// Writes per group commit.
    pub batch_writes: Histogram,
    /// Duration of each checkpoint.
    pub checkpoint_seconds: Histogram,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let r = Registry::new();
        let delivery_latency = histogram(
            &r,
            "luukku_delivery_latency_seconds",
            "Time from a stored event's commit request to its hand-over to every recipient session.",
            FAST_BUCKETS,
            &[],
        )
        .with_label_values(&[] as &[&str]);
        let storage_commit = histogram(
            &r,
            "luukku_storage_commit_seconds",
            "Duration of one durable group commit.",
            FAST_BUCKETS,
            &[],
        )
        .with_label_values(&[] as &[&str]);
        let storage_batch = histogram(
            &r,
            "luukku_storage_batch_writes",
            "Writes (messages, events, conversations) per group commit.",
            &[
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
            ],
            &[],
        )
        .with_label_values(&[] as &[&str]);
        let storage_checkpoint = histogram(
            &r,
            "luukku_storage_checkpoint_seconds",
            "Duration of one WAL checkpoint, during which the writer commits nothing.",
            FAST_BUCKETS,
            &[],
        )
        .with_label_values(&[] as &[&str]);
        let conversation_actors = IntGauge::new(
            "luukku_conversation_actors",
            "Conversation actors currently in memory.",
        )
        .expect("valid metric");
        r.register(Box::new(conversation_actors.clone()))
            .expect("unique metric");
        let cluster_primary = IntGauge::new(
            "luukku_cluster_primary",
            "1 on the node that runs the conversations and queues (a single node, or a \
             cluster's primary), 0 on a cluster's other nodes.",
        )
        .expect("valid metric");
        r.register(Box::new(cluster_primary.clone()))
            .expect("unique metric");
        Metrics {
            conversations_started: counter(
                &r,
                "luukku_conversations_started_total",
                "Conversations started.",
                &["service", "team", "channel"],
            ),
            conversations_completed: counter(
                &r,
                "luukku_conversations_completed_total",
                "Conversations closed as complete.",
                &["service", "team", "channel"],
            ),
            conversations_answered: counter(
                &r,
                "luukku_conversations_answered_total",
                "Conversations that got their first professional message.",
                &["service", "team", "channel"],
            ),
            messages: counter(
                &r,
                "luukku_messages_total",
                "Messages stored, by the author's role and the conversation's service, team \
                 and channel.",
                &["role", "service", "team", "channel"],
            ),
            notes: counter(
                &r,
                "luukku_notes_total",
                "Internal notes stored, by team.",
                &["team"],
            ),
            queue_length: gauge(
                &r,
                "luukku_queue_length",
                "Conversations waiting in a team queue.",
                &["team"],
            ),
            queue_wait: histogram(
                &r,
                "luukku_queue_wait_seconds",
                "Time a conversation waited in a team queue before assignment.",
                WAIT_BUCKETS,
                &["team"],
            ),
            queue_abandoned: counter(
                &r,
                "luukku_queue_abandoned_total",
                "Clients who left a team queue before anybody took their conversation.",
                &["team"],
            ),
            promise_breaches: counter(
                &r,
                "luukku_promise_breaches_total",
                "Reply deadlines (the service promise) that passed without the organisation's \
                 reply: a matter still waiting in a team queue or inbox, or taken but not \
                 answered; a deadline restarted by the client's next message counts again.",
                &["service", "team"],
            ),
            notifications: counter(
                &r,
                "luukku_notifications_total",
                "Attempts to deliver a notification of a client (no content, a link only), by \
                 channel (email, sms) and outcome (sent; retry: failed, tried again later; \
                 failed: given up).",
                &["channel", "outcome"],
            ),
            access_log: counter(
                &r,
                "luukku_access_log_entries_total",
                "Entries of the access log (Act 703/2023) written before a client's data was \
                 shown to a professional, by outcome (allowed; refused: the data was not \
                 shown); unwritten: the log could not be written, nothing was shown and the \
                 session ended.",
                &["outcome"],
            ),
            sms: counter(
                &r,
                "luukku_sms_total",
                "SMS of the organisation to clients' phones, by service and outcome (sent: the \
                 gateway accepted it; delivered: on the phone; failed: the gateway's reason is \
                 shown to the professional).",
                &["service", "outcome"],
            ),
            sms_inbound: counter(
                &r,
                "luukku_sms_inbound_total",
                "Clients' SMS, by where they went (posted: into their open case; new_matter: \
                 a new matter in the SMS service's inbox; closed_reply: their case was closed, \
                 they got the automatic reply).",
                &["outcome"],
            ),
            sms_webhooks: counter(
                &r,
                "luukku_sms_webhooks_total",
                "Calls of the SMS provider's webhook, by outcome (accepted; unsigned, \
                 bad_signature, stale: refused with 401; malformed: 400; unknown: a report of \
                 no SMS of ours, 404; failed: storage could not take it, 503).",
                &["outcome"],
            ),
            sms_delivery_seconds: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "luukku_sms_delivery_seconds",
                        "From a professional's SMS being stored to its delivery report.",
                    )
                    .buckets(vec![1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0]),
                )
                .expect("valid metric");
                r.register(Box::new(h.clone())).expect("registers once");
                h
            },
            sms_gateway_seconds: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "luukku_sms_gateway_request_seconds",
                        "One request to the SMS provider's API (sending one SMS).",
                    )
                    .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0]),
                )
                .expect("valid metric");
                r.register(Box::new(h.clone())).expect("registers once");
                h
            },
            documents: counter(
                &r,
                "luukku_documents_total",
                "Documents uploaded into conversations, by outcome (sent; too_large, \
                 unsupported_type, empty: refused by the organisation's limits; refused: the \
                 message was refused, e.g. not a participant or a closed conversation; failed: \
                 storage or the cluster could not take it).",
                &["outcome"],
            ),
            document_bytes: {
                let c = prometheus::IntCounter::new(
                    "luukku_document_bytes_total",
                    "Bytes of the documents sent (stored with their messages).",
                )
                .expect("valid metric");
                r.register(Box::new(c.clone())).expect("registers once");
                c
            },
            record_deliveries: counter(
                &r,
                "luukku_record_deliveries_total",
                "Attempts at delivering a closed identified conversation's transcript to the \
                 patient record (FHIR), by outcome (delivered; retry: failed, tried again \
                 later; failed: refused or given up, shown to the professional).",
                &["outcome"],
            ),
            record_request_seconds: histogram(
                &r,
                "luukku_record_request_seconds",
                "One request to the patient record's FHIR server (a transcript's bundle).",
                &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
                &[],
            ),
            retention_purged: counter(
                &r,
                "luukku_retention_purged_total",
                "Conversations removed with all their content past their service's retention \
                 period, by service.",
                &["service"],
            ),
            retention_due: gauge(
                &r,
                "luukku_retention_due",
                "Complete conversations past their retention period and not held, left after \
                 the last run (in a dry run: what a run would remove), by service.",
                &["service"],
            ),
            retention_held: gauge(
                &r,
                "luukku_retention_held",
                "Complete conversations past their retention period kept by a legal hold, by \
                 service.",
                &["service"],
            ),
            retention_runs: counter(
                &r,
                "luukku_retention_runs_total",
                "Runs of the retention job, by outcome (ok; dry_run: reported, removed \
                 nothing; failed: storage could not be read or written, tried again at the \
                 next run).",
                &["outcome"],
            ),
            retention_last_run: gauge(
                &r,
                "luukku_retention_last_run_timestamp_seconds",
                "When the retention job last completed a run (unix seconds).",
                &[],
            ),
            access_log_pruned: counter(
                &r,
                "luukku_access_log_pruned_total",
                "Access-log entries removed past the log's own retention period (behind an \
                 anchor: what stays still verifies).",
                &[],
            ),
            access_log_chain_ok: gauge(
                &r,
                "luukku_access_log_chain_ok",
                "1 when the last walk of the access log's hash chain verified every entry, 0 \
                 when it found an entry changed, removed or inserted.",
                &[],
            ),
            access_log_verified_entries: gauge(
                &r,
                "luukku_access_log_verified_entries",
                "Entries the last walk of the access log's hash chain verified.",
                &[],
            ),
            inbox_open: gauge(
                &r,
                "luukku_inbox_open",
                "Open asynchronous matters (messages, forms, SMS) in a team's inbox, by status \
                 (new, in_progress).",
                &["team", "status"],
            ),
            inbox_overdue: gauge(
                &r,
                "luukku_inbox_overdue",
                "Open asynchronous matters of a team past their reply deadline without a reply.",
                &["team"],
            ),
            queue_oldest_wait: gauge(
                &r,
                "luukku_queue_oldest_wait_seconds",
                "How long the longest-waiting conversation of a team queue has waited (0 when \
                 the queue is empty).",
                &["team"],
            ),
            queue_estimated_wait: gauge(
                &r,
                "luukku_queue_estimated_wait_seconds",
                "The wait a client queued in the team now would be told.",
                &["team"],
            ),
            retracted: counter(
                &r,
                "luukku_messages_retracted_total",
                "Messages a professional took back within the retract window, by team.",
                &["team"],
            ),
            handed_back: counter(
                &r,
                "luukku_handed_back_total",
                "Conversations a professional handed back to the team queue, by team.",
                &["team"],
            ),
            first_response: histogram(
                &r,
                "luukku_first_response_seconds",
                "Time from the start of a conversation to the first professional message.",
                WAIT_BUCKETS,
                &["team"],
            ),
            reply_seconds: histogram(
                &r,
                "luukku_reply_seconds",
                "Time from a client's message to the professional's next message, inside a \
                 chat already answered once.",
                WAIT_BUCKETS,
                &["team"],
            ),
            active_conversations: gauge(
                &r,
                "luukku_active_conversations",
                "Conversations in progress (assigned), by team.",
                &["team"],
            ),
            available_professionals: gauge(
                &r,
                "luukku_available_professionals",
                "Connected professionals available for new conversations, by team.",
                &["team"],
            ),
            signed_in_professionals: gauge(
                &r,
                "luukku_signed_in_professionals",
                "Professionals with a console open (available or away), by team.",
                &["team"],
            ),
            available_capacity: gauge(
                &r,
                "luukku_available_capacity",
                "Summed capacity (parallel conversations) of the available professionals, by \
                 team.",
                &["team"],
            ),
            dependency_up: gauge(
                &r,
                "luukku_dependency_up",
                "1 while a dependency answers (storage: SQLite or PostgreSQL; bus: Redis, or \
                 the in-process bus of one node), 0 while it does not.",
                &["dependency"],
            ),
            cluster_primary,
            connections: gauge(
                &r,
                "luukku_connections",
                "Open WebSocket connections, by endpoint.",
                &["endpoint"],
            ),
            connections_opened: counter(
                &r,
                "luukku_connections_opened_total",
                "WebSocket connections accepted, by endpoint.",
                &["endpoint"],
            ),
            tunnelled_connections: gauge(
                &r,
                "luukku_tunnelled_connections",
                "Open WebSocket connections this node holds for the cluster's primary (their \
                 sessions run there), by endpoint.",
                &["endpoint"],
            ),
            delivery_latency,
            storage: StorageMetrics {
                commit_seconds: storage_commit,
                batch_writes: storage_batch,
                checkpoint_seconds: storage_checkpoint,
            },
            slow_consumers: counter(
                &r,
                "luukku_slow_consumers_total",
                "Sessions closed because they could not keep up.",
                &["endpoint"],
            ),
            frames_rejected: counter(
                &r,
                "luukku_frames_rejected_total",
                "Inbound frames refused, by reason (the error code).",
                &["reason"],
            ),
            feedback: counter(
                &r,
                "luukku_feedback_total",
                "Client ratings, by service and rating 1-5.",
                &["service", "rating"],
            ),
            feedback_rating: histogram(
                &r,
                "luukku_feedback_rating",
                "Client ratings 1-5, for the mean rating (sum / count).",
                &[1.0, 2.0, 3.0, 4.0, 5.0],
                &["service"],
            ),
            transfers: counter(
                &r,
                "luukku_transfers_total",
                "Conversations transferred, by target kind.",
                &["target"],
            ),
            conversation_actors,
            registry: r,
        }
    }

    /// Counts a conversation started with `service` in `team`.
    pub fn count_started(&self, service: &crate::organisation::Service, team: &TeamId) {
        self.conversations_started
            .with_label_values(&[service.id.as_str(), team.as_str(), service.channel.as_str()])
            .inc();
    }

    /// Creates the series of every configured team and service (and of every fixed label
    /// value) at zero, so dashboards and alerts see them before the first event: `increase()`
    /// cannot count the event that creates a series.
    pub fn init_labels(&self, org: &crate::organisation::Organisation) {
        for t in &org.teams {
            let team = [t.id.as_str()];
            self.queue_length.with_label_values(&team).set(0);
            self.active_conversations.with_label_values(&team).set(0);
            self.available_professionals.with_label_values(&team).set(0);
            self.signed_in_professionals.with_label_values(&team).set(0);
            self.available_capacity.with_label_values(&team).set(0);
            self.queue_oldest_wait.with_label_values(&team).set(0);
            self.queue_estimated_wait.with_label_values(&team).set(0);
            self.inbox_overdue.with_label_values(&team).set(0);
            for status in ["new", "in_progress"] {
                self.inbox_open
                    .with_label_values(&[t.id.as_str(), status])
                    .set(0);
            }
            self.notes.with_label_values(&team);
            self.queue_abandoned.with_label_values(&team);
            self.retracted.with_label_values(&team);
            self.handed_back.with_label_values(&team);
            self.queue_wait.with_label_values(&team);
            self.first_response.with_label_values(&team);
            self.reply_seconds.with_label_values(&team);
        }
        for s in &org.services {
            for t in &s.teams {
                let l = [s.id.as_str(), t.as_str(), s.channel.as_str()];
                self.conversations_started.with_label_values(&l);
                self.conversations_completed.with_label_values(&l);
                self.conversations_answered.with_label_values(&l);
                for role in ["client", "professional"] {
                    self.messages
                        .with_label_values(&[role, s.id.as_str(), t.as_str(), &s.channel]);
                }
            }
        }
        for s in &org.services {
            let service = s.id.as_str();
            if s.promise.is_some() {
                for t in &s.teams {
                    self.promise_breaches
                        .with_label_values(&[service, t.as_str()]);
                }
            }
            self.feedback_rating.with_label_values(&[service]);
            for rating in ["1", "2", "3", "4", "5"] {
                self.feedback.with_label_values(&[service, rating]);
            }
        }
        for channel in ["email", "sms"] {
            for outcome in ["sent", "retry", "failed"] {
                self.notifications.with_label_values(&[channel, outcome]);
            }
        }
        for outcome in ["allowed", "refused", "unwritten"] {
            self.access_log.with_label_values(&[outcome]);
        }
        for target in ["team", "professional"] {
            self.transfers.with_label_values(&[target]);
        }
        // Any conversation may send SMS (a contact form's, a chat's), not only an sms one's.
        for s in &org.services {
            for outcome in ["sent", "delivered", "failed"] {
                self.sms.with_label_values(&[s.id.as_str(), outcome]);
            }
        }
        for outcome in ["posted", "new_matter", "closed_reply"] {
            self.sms_inbound.with_label_values(&[outcome]);
        }
        for outcome in SMS_WEBHOOK_OUTCOMES {
            self.sms_webhooks.with_label_values(&[outcome]);
        }
        for outcome in DOCUMENT_OUTCOMES {
            self.documents.with_label_values(&[outcome]);
        }
        // Every error code, and an upgrade refused for its origin before a session exists.
        let codes = console_protocol::ErrorCode::ALL.map(|c| c.as_str());
        for reason in codes.iter().chain(&["origin"]) {
            self.frames_rejected.with_label_values(&[reason]);
        }
        for d in ["storage", "bus"] {
            self.dependency_up.with_label_values(&[d]).set(1);
        }
        for e in ["client", "console"] {
            self.connections.with_label_values(&[e]).set(0);
            self.tunnelled_connections.with_label_values(&[e]).set(0);
            self.connections_opened.with_label_values(&[e]);
            self.slow_consumers.with_label_values(&[e]);
        }
    }

    /// Sets the gauges only the node running the queues keeps (the router's) back to zero: a
    /// cluster node that stops being the primary must not report stale queues.
    pub fn reset_router_gauges(&self, org: &crate::organisation::Organisation) {
        for t in &org.teams {
            let team = [t.id.as_str()];
            for g in [
                &self.queue_length,
                &self.queue_oldest_wait,
                &self.queue_estimated_wait,
                &self.active_conversations,
                &self.available_professionals,
                &self.signed_in_professionals,
                &self.available_capacity,
            ] {
                g.with_label_values(&team).set(0);
            }
            self.inbox_overdue.with_label_values(&team).set(0);
            for status in ["new", "in_progress"] {
                self.inbox_open
                    .with_label_values(&[t.id.as_str(), status])
                    .set(0);
            }
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let encoder = TextEncoder::new();
        if encoder.encode(&self.registry.gather(), &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
