//! The PostgreSQL backend of [`Storage`], for a cluster of nodes sharing one database. A
//! writer task (`writer`) owns one connection and commits the queued writes in groups, each
//! group one transaction with its statements pipelined; reads use a small pool (`reads`);
//! `schema` migrates exactly once however many nodes start at once; `ops` and `append` hold
//! each write's SQL, the conditional append above all; `attachments` and `sms` what every
//! node writes through the read pool besides the writer's ops.

mod access;
mod append;
mod attachments;
mod ops;
mod reads;
mod record;
mod retention;
mod schema;
mod sms;
#[cfg(test)]
pub(crate) mod test_db;
#[cfg(test)]
mod tests;
mod writer;

use super::{
    ConversationRecord, InboundSms, PersonalCanned, Receipt, SmsRecord, SmsState, Storage,
    StorageError, WriteOp,
};
use crate::metrics::StorageMetrics;
use async_trait::async_trait;
use console_protocol::{ConversationId, ConversationStatus, Event, ProfessionalId};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use writer::{Job, Writer};

/// Writes waiting for the writer. A group commit takes about a millisecond on a local
/// PostgreSQL and a few over a network, so 4096 queued ops is a handful of full groups: enough
/// to absorb a burst from thousands of conversations, small enough that a slow database pushes
/// back on the conversation actors within milliseconds instead of piling up unacknowledged
/// messages (the same reasoning, and so the same size, as SQLite's queue).
const WRITE_QUEUE_CAPACITY: usize = 4096;
/// Most ops in one transaction: bounds how long the group's row locks are held, how much one
/// failed commit has to report back, and the pipelined statements in flight at once.
const MAX_BATCH: usize = 1024;
/// Read connections, and so reads at once (the others wait for one to be free). The
/// database's connection limit is shared by every node: each takes this plus its writer.
const READ_POOL_SIZE: usize = 4;
/// How long opening a connection may take: a write or read while PostgreSQL is unreachable
/// fails within this instead of after the operating system's TCP timeout (minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The writer's `idle_in_transaction_session_timeout`: a node paused mid-group (SIGSTOP, a
/// frozen VM) holds the row locks of the conversations in its group; PostgreSQL ends its
/// session after this, so other nodes' appends to those conversations wait at most this long.
/// The writer itself is never idle inside a transaction for more than a round trip.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(2);
/// The writer's `statement_timeout`. Longer than [`IDLE_IN_TRANSACTION_TIMEOUT`], so that an
/// append waiting on a paused node's row lock outlasts that node's session and succeeds
/// rather than failing first; short enough that a stuck database fails writes in seconds.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads' `statement_timeout`: loading every open conversation at start-up may take a while,
/// but a read must not hold a pooled connection forever.
const READ_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `ping` (for `/readyz`) waits for PostgreSQL to answer.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// What a fenced append expects: that the conversation's last event was written by
/// `previous`. The cluster's conversation actors write with a fence so that a node whose view
/// is stale (another node appended meanwhile, or it was paused) cannot append: it gets
/// [`StorageError::Conflict`], catches up and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    /// Stored as the conversation's `last_writer` when the append commits: the tag of the
    /// writing actor incarnation.
    pub writer: i64,
    /// The `last_writer` the appender believes the conversation has (`None` when no write
    /// has left a tag yet).
    pub previous: Option<i64>,
}

/// The conversation's last seq and who wrote it, as fenced appends check them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastAppend {
    pub seq: u64,
    pub writer: Option<i64>,
}

/// Whose writes the backend commits: in a cluster only the primary node's, and only while it
/// holds the lease it writes for. The check runs in each group's transaction (`SELECT … FOR
/// SHARE` on the lease row, before the group's statements), so a node that was paused past
/// its lease, or lost it in any other way, cannot commit anything once another node took
/// over: the takeover's `UPDATE` of the row waits for a group in flight, and a later group
/// sees the new epoch (Kleppmann's fencing token, with PostgreSQL as the resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermFence {
    /// Every write commits (one process alone on the database: tests, tools).
    Open,
    /// Writes commit only while `holder` holds the lease `name` with `epoch` and it has not
    /// expired; with `epoch` `None` (not the primary) every write is refused.
    Lease {
        name: &'static str,
        holder: String,
        epoch: Option<i64>,
    },
}

impl TermFence {
    /// The epoch writes are handed over in (`None`: no lease, or not the primary).
    pub fn epoch(&self) -> Option<i64> {
        match self {
            TermFence::Open => None,
            TermFence::Lease { epoch, .. } => *epoch,
        }
    }
}

/// Conversations and events in a PostgreSQL database, written by a group-committing task.
pub struct PostgresStorage {
    /// Whose writes commit (shared with the writer task, read once per group).
    term: std::sync::Arc<Mutex<TermFence>>,
    /// `None` once closed; cloned out (never held across `.await`) for each write.
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    /// Becomes `true` when the writer has committed everything and stopped.
    writer_done: watch::Receiver<bool>,
    reads: reads::Reads,
    tag: i64,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://…`), migrates it and starts the writer,
    /// which reports to `metrics`. Fails when PostgreSQL cannot be reached now.
    pub async fn connect(url: &str, metrics: StorageMetrics) -> Result<Self, StorageError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StorageError::Database(format!("database url: {e}")))?;
        // No statement timeout: waiting for another node's migration is not a stuck statement.
        migrate(&session_config(
            &config,
            "luukku-migrate",
            Duration::ZERO,
            None,
        ))
        .await?;
        let reads = reads::Reads::new(session_config(
            &config,
            "luukku-read",
            READ_STATEMENT_TIMEOUT,
            None,
        ))?;
        let writer_config = session_config(
            &config,
            "luukku-writer",
            STATEMENT_TIMEOUT,
            Some(IDLE_IN_TRANSACTION_TIMEOUT),
        );
        let tag = rand::random::<i64>();
        let (sender, receiver) = mpsc::channel(WRITE_QUEUE_CAPACITY);
        let (done_tx, done_rx) = watch::channel(false);
        let term = std::sync::Arc::new(Mutex::new(TermFence::Open));
        let writer = Writer::new(writer_config, tag, term.clone(), metrics);
        tokio::spawn(writer.run(receiver, done_tx));
        Ok(PostgresStorage {
            term,
            sender: Mutex::new(Some(sender)),
            writer_done: done_rx,
            reads,
            tag,
        })
    }

    /// Sets whose writes commit from the next group on (see [`TermFence`]).
    pub fn set_term(&self, term: TermFence) {
        *lock(&self.term) = term;
    }

    /// The tag this backend stores as `last_writer` for writes without a [`Fence`].
    pub fn writer_tag(&self) -> i64 {
        self.tag
    }

    /// Like [`Storage::submit`], but an `Append` or `Identify` commits only if the
    /// conversation's last event was written by `fence.previous`, else fails with
    /// [`StorageError::Conflict`] (as does a seq another writer has taken). Every op leaves
    /// `fence.writer` as the conversation's `last_writer`.
    pub async fn submit_fenced(&self, op: WriteOp, fence: Fence) -> Result<Receipt, StorageError> {
        self.enqueue(op, Some(fence)).await
    }

    /// [`PostgresStorage::submit_fenced`], waiting for the commit.
    pub async fn write_fenced(&self, op: WriteOp, fence: Fence) -> Result<(), StorageError> {
        let answer = self.submit_fenced(op, fence).await?;
        answer.await.map_err(|_| StorageError::Closed)?
    }

    /// The conversation's last seq and its writer's tag, as a fenced append checks them.
    pub async fn last_append(
        &self,
        id: &ConversationId,
    ) -> Result<Option<LastAppend>, StorageError> {
        let found = self.reads.last_append(id).await?;
        Ok(found.map(|(seq, writer)| LastAppend { seq, writer }))
    }

    async fn enqueue(&self, op: WriteOp, fence: Option<Fence>) -> Result<Receipt, StorageError> {
        let sender = lock(&self.sender).clone().ok_or(StorageError::Closed)?;
        let (reply, answer) = oneshot::channel();
        let epoch = lock(&self.term).epoch();
        sender
            .send(Job {
                op,
                fence,
                epoch,
                reply,
            })
            .await
            .map_err(|_| StorageError::Closed)?;
        // Dropped before waiting so that `close` is not kept waiting on this clone.
        drop(sender);
        Ok(answer)
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn write(&self, op: WriteOp) -> Result<(), StorageError> {
        let answer = self.submit(op).await?;
        answer.await.map_err(|_| StorageError::Closed)?
    }

    async fn submit(&self, op: WriteOp) -> Result<Receipt, StorageError> {
        self.enqueue(op, None).await
    }

    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        let found = self.reads.conversations("id = $1", &[&id.as_str()]).await?;
        Ok(found.into_iter().next())
    }

    async fn conversation_by_client_ref(
        &self,
        client_ref: &str,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        let found = self
            .reads
            .conversations("client_ref = $1", &[&client_ref])
            .await?;
        Ok(found.into_iter().next())
    }

    async fn open_conversations(&self) -> Result<Vec<ConversationRecord>, StorageError> {
        self.reads.conversations("status <> 'complete'", &[]).await
    }

    async fn archive(
        &self,
        teams: &[console_protocol::TeamId],
        query: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        let teams: Vec<&str> = teams.iter().map(|t| t.as_str()).collect();
        let pattern = query.map(crate::storage::like_pattern).unwrap_or_default();
        let id = crate::storage::reference_id(&pattern).to_owned();
        let limit = i64::from(limit);
        self.reads
            .conversations_by(
                "status = 'complete' AND channel IN ('message', 'form', 'sms') \
                 AND team = ANY($1) \
                 AND ($2 = '' OR id LIKE $3 || '%' \
                   OR lower(service) LIKE '%' || $2 || '%' \
                   OR lower(coalesce(topic, '')) LIKE '%' || $2 || '%' \
                   OR lower(coalesce(summary, '')) LIKE '%' || $2 || '%')",
                "created_at_ms DESC, id LIMIT $4",
                &[&teams, &pattern, &id, &limit],
            )
            .await
    }

    async fn outbox_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<crate::storage::OutboxItem>, StorageError> {
        let limit = i64::from(limit);
        let rows = self
            .reads
            .rows(
                "SELECT id, conversation, channel, recipient, subject, body, created_at_ms, \
                 attempts FROM outbox WHERE sent_at_ms IS NULL AND NOT given_up \
                 AND next_attempt_ms <= $1 ORDER BY next_attempt_ms, id LIMIT $2",
                &[&now_ms, &limit],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let get = |e: tokio_postgres::Error| StorageError::Corrupt(format!("outbox: {e}"));
                Ok(crate::storage::OutboxItem {
                    notification: crate::storage::Notification {
                        id: row.try_get(0).map_err(get)?,
                        conversation: row.try_get::<_, String>(1).map_err(get)?.into(),
                        channel: row.try_get(2).map_err(get)?,
                        recipient: row.try_get(3).map_err(get)?,
                        subject: row.try_get(4).map_err(get)?,
                        body: row.try_get(5).map_err(get)?,
                        created_at_ms: row.try_get(6).map_err(get)?,
                        first_of_channel: false,
                    },
                    attempts: u32::try_from(row.try_get::<_, i32>(7).map_err(get)?).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn sms_due(&self, now_ms: i64, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
        sms::due(&self.reads, now_ms, limit).await
    }

    async fn sms_unannounced(&self, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
        sms::unannounced(&self.reads, limit).await
    }

    async fn sms(&self, id: &str) -> Result<Option<SmsRecord>, StorageError> {
        sms::one(&self.reads, "id", id).await
    }

    async fn sms_by_provider_ref(
        &self,
        provider_ref: &str,
    ) -> Result<Option<SmsRecord>, StorageError> {
        sms::one(&self.reads, "provider_ref", provider_ref).await
    }

    /// Through the read pool, from any node: a report writes no event, and the row's update
    /// only ever moves it forward, whichever node's lands first.
    async fn sms_report(
        &self,
        id: &str,
        provider_ref: Option<&str>,
        state: SmsState,
        reason: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let report = sms::Report::new(id, provider_ref, state, reason, at_ms);
        report.through_read_pool(&self.reads).await
    }

    /// Through the read pool, from any node (see `sms::put_inbound_through_read_pool`).
    async fn put_inbound_sms(&self, inbound: InboundSms) -> Result<bool, StorageError> {
        sms::put_inbound_through_read_pool(&self.reads, &inbound).await
    }

    /// Through the read pool, from any node, under a cluster-wide advisory lock.
    async fn append_access(
        &self,
        entries: Vec<crate::storage::access::AccessEntry>,
    ) -> Result<(), StorageError> {
        access::append(&self.reads, entries).await
    }

    async fn access_log(
        &self,
        query: &crate::storage::access::AccessQuery,
    ) -> Result<Vec<crate::storage::access::AccessRecord>, StorageError> {
        access::query(&self.reads, query).await
    }

    async fn inbound_sms_pending(&self, limit: u32) -> Result<Vec<InboundSms>, StorageError> {
        sms::pending(&self.reads, limit).await
    }

    async fn sms_cases(
        &self,
        number: &str,
    ) -> Result<Vec<(ConversationId, ConversationStatus)>, StorageError> {
        sms::cases(&self.reads, number).await
    }

    async fn client_conversations(
        &self,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        let limit = i64::from(limit);
        self.reads
            .conversations_by(
                "client_subject = $1",
                "created_at_ms DESC, id LIMIT $2",
                &[&subject, &limit],
            )
            .await
    }

    async fn events_after(
        &self,
        id: &ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        self.reads
            .events(id, after_seq, limit, "seq > $2 ORDER BY seq")
            .await
    }

    async fn events_before(
        &self,
        id: &ConversationId,
        before_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        let mut events = self
            .reads
            .events(id, before_seq, limit, "seq < $2 ORDER BY seq DESC")
            .await?;
        events.reverse();
        Ok(events)
    }

    async fn client_msg_ids(
        &self,
        id: &ConversationId,
    ) -> Result<Vec<(String, u64, String)>, StorageError> {
        self.reads.client_msg_ids(id).await
    }

    async fn feedback(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u8, Option<String>)>, StorageError> {
        self.reads.feedback(id).await
    }

    async fn canned_responses(
        &self,
        professional: &ProfessionalId,
    ) -> Result<Vec<PersonalCanned>, StorageError> {
        self.reads.canned_responses(professional).await
    }

    async fn team_routing(&self) -> Result<Vec<(console_protocol::TeamId, String)>, StorageError> {
        self.reads.team_routing().await
    }

    async fn put_attachment(&self, attachment: super::Attachment) -> Result<(), StorageError> {
        let params = attachments::InsertParams::of(&attachment);
        self.reads
            .rows(attachments::INSERT, &params.list())
            .await
            .map(drop)
    }

    async fn attachment(&self, id: &str) -> Result<Option<super::Attachment>, StorageError> {
        let rows = self.reads.rows(attachments::SELECT, &[&id]).await?;
        rows.first().map(attachments::from_row).transpose()
    }

    async fn delete_attachment(&self, id: &str) -> Result<(), StorageError> {
        self.reads.rows(attachments::DELETE, &[&id]).await.map(drop)
    }

    async fn retention_due(
        &self,
        service: &console_protocol::ServiceId,
        closed_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StorageError> {
        retention::due(&self.reads, service, closed_before_ms, limit).await
    }

    async fn retention_counts(
        &self,
        service: &console_protocol::ServiceId,
        closed_before_ms: i64,
    ) -> Result<super::retention::RetentionCounts, StorageError> {
        retention::counts(&self.reads, service, closed_before_ms).await
    }

    async fn set_legal_hold(&self, hold: super::retention::LegalHold) -> Result<(), StorageError> {
        retention::set_hold(&self.reads, &hold).await
    }

    async fn release_legal_hold(
        &self,
        conversation: &ConversationId,
        by: &console_protocol::ProfessionalId,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        retention::release_hold(&self.reads, conversation, by, at_ms).await
    }

    async fn legal_holds(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<super::retention::LegalHold>, StorageError> {
        retention::holds(&self.reads, conversation).await
    }

    async fn prune_access(&self, before_ms: i64, at_ms: i64) -> Result<u64, StorageError> {
        retention::prune_access(&self.reads, before_ms, at_ms).await
    }

    async fn access_anchor(&self) -> Result<Option<super::retention::AccessAnchor>, StorageError> {
        retention::anchor(&self.reads).await
    }

    async fn purge_inbound_sms(&self, before_ms: i64) -> Result<u64, StorageError> {
        retention::purge_inbound_sms(&self.reads, before_ms).await
    }

    async fn record_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<super::record::RecordDeliveryRow>, StorageError> {
        record::due(&self.reads, now_ms, limit).await
    }

    async fn record_unannounced(
        &self,
        limit: u32,
    ) -> Result<Vec<super::record::RecordDeliveryRow>, StorageError> {
        record::unannounced(&self.reads, limit).await
    }

    async fn record_deliveries(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<super::record::RecordDeliveryRow>, StorageError> {
        record::of_conversation(&self.reads, conversation).await
    }

    async fn sweep_attachments(&self, before_ms: i64) -> Result<(), StorageError> {
        self.reads
            .rows(attachments::SWEEP, &[&before_ms])
            .await
            .map(drop)
    }

    /// Whether PostgreSQL answers a query now (through the read pool), within
    /// [`PING_TIMEOUT`].
    async fn ping(&self) -> Result<(), StorageError> {
        match lock(&self.sender).as_ref() {
            Some(sender) if !sender.is_closed() => {}
            _ => return Err(StorageError::Closed),
        }
        match tokio::time::timeout(PING_TIMEOUT, self.reads.rows("SELECT 1", &[])).await {
            Ok(answer) => answer.map(drop),
            Err(_) => Err(StorageError::Database(format!(
                "postgresql did not answer within {PING_TIMEOUT:?}"
            ))),
        }
    }

    async fn close(&self) {
        let sender = lock(&self.sender).take();
        drop(sender);
        // The writer stops once every sender clone (including in-flight writes) is gone and
        // the queue is drained and committed.
        let mut done = self.writer_done.clone();
        let _ = done.wait_for(|finished| *finished).await;
        self.reads.close();
    }
}

/// Connects once and applies the schema migrations.
async fn migrate(config: &tokio_postgres::Config) -> Result<(), StorageError> {
    let (mut client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| describe("connect", &e))?;
    let connection = tokio::spawn(connection);
    let migrated = schema::migrate(&mut client).await;
    drop(client);
    let _ = connection.await;
    migrated
}

/// `base` with a connect timeout, an application name (it shows in `pg_stat_activity`) and
/// the session timeouts, kept apart from any options the URL itself sets.
fn session_config(
    base: &tokio_postgres::Config,
    application_name: &str,
    statement_timeout: Duration,
    idle_in_transaction: Option<Duration>,
) -> tokio_postgres::Config {
    let mut config = base.clone();
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name(application_name);
    config.options(options(base, statement_timeout, idle_in_transaction));
    config
}

/// The URL's own `options` followed by the session timeouts (0 turns a timeout off).
fn options(
    base: &tokio_postgres::Config,
    statement_timeout: Duration,
    idle_in_transaction: Option<Duration>,
) -> String {
    let mut options = base.get_options().unwrap_or_default().to_owned();
    options.push_str(&format!(
        " -c statement_timeout={}",
        statement_timeout.as_millis()
    ));
    if let Some(idle) = idle_in_transaction {
        options.push_str(&format!(
            " -c idle_in_transaction_session_timeout={}",
            idle.as_millis()
        ));
    }
    options.trim_start().to_owned()
}

/// A failed PostgreSQL call as a storage error, naming what was being done; the server's own
/// message when it sent one.
fn describe(what: &str, e: &tokio_postgres::Error) -> StorageError {
    let why = match e.as_db_error() {
        Some(db) => format!("{what}: {} ({})", db.message(), db.code().code()),
        None => format!("{what}: {e}"),
    };
    StorageError::Database(why)
}

/// Column `i` of `row`; a value the schema does not allow there is a corrupt row.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, StorageError> {
    row.try_get(i)
        .map_err(|e| StorageError::Corrupt(format!("column {i}: {e}")))
}

/// Locks `mutex`; no code panics while holding these locks, so poisoning carries no meaning.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
