//! The SQLite backend of [`Storage`]: one file in WAL mode. Writes go to one writer thread
//! (`writer`), which commits them in groups, one savepoint per op (`ops`), and answers each
//! only after the commit is durable; reads run on a small pool of read-only connections
//! (`reads`) beside it. `schema` holds the migrations, `canned` the canned responses' SQL,
//! `sms` the SMS'.

mod access;
mod canned;
mod ops;
mod reads;
mod record;
mod retention;
mod schema;
mod sms;
mod writer;

use super::{
    ConversationRecord, InboundSms, PersonalCanned, Receipt, SmsRecord, SmsState, Storage,
    StorageError, WriteOp,
};
use crate::metrics::StorageMetrics;
use async_trait::async_trait;
use console_protocol::{ConversationId, ConversationStatus, Event, ProfessionalId};
use reads::ReadPool;
use rusqlite::{ffi, params, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use writer::Job;

/// How long a statement waits for a lock held by another connection (a checkpoint, an
/// operator's `sqlite3` shell) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Conversations and events in one SQLite file, written by a group-committing thread.
pub struct SqliteStorage {
    /// `None` once closed; cloned out (never held across `.await`) for each write.
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    /// Becomes `true` when the writer thread has committed everything and exited.
    writer_done: watch::Receiver<bool>,
    readers: Arc<ReadPool>,
}

impl SqliteStorage {
    /// Opens (creating it and its directory if missing) and migrates the database at `path`,
    /// then starts the writer thread, which reports to `metrics`.
    pub fn open(path: &Path, metrics: StorageMetrics) -> Result<SqliteStorage, StorageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StorageError::Database(format!("create {}: {e}", dir.display())))?;
        }
        let mut conn = writer::open_writer(path)?;
        schema::migrate(&mut conn)?;
        let writer = writer::start(conn, metrics)?;
        Ok(SqliteStorage {
            sender: Mutex::new(Some(writer.jobs)),
            writer_done: writer.done,
            readers: Arc::new(ReadPool::new(path)),
        })
    }

    fn sender(&self) -> Option<mpsc::Sender<Job>> {
        lock(&self.sender).clone()
    }

    /// At most `limit` events of `id` selected and ordered by `range`, in which `?2` is `seq`.
    async fn events_page(
        &self,
        id: &ConversationId,
        seq: u64,
        limit: u32,
        range: &'static str,
    ) -> Result<Vec<Event>, StorageError> {
        let id = id.as_str().to_owned();
        self.readers
            .read(move |conn| reads::events_page(conn, &id, seq, limit, range))
            .await
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn write(&self, op: WriteOp) -> Result<(), StorageError> {
        let answer = self.submit(op).await?;
        answer.await.map_err(|_| StorageError::Closed)?
    }

    async fn submit(&self, op: WriteOp) -> Result<Receipt, StorageError> {
        let sender = self.sender().ok_or(StorageError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send((op, reply))
            .await
            .map_err(|_| StorageError::Closed)?;
        // Dropped before waiting so that `close` is not kept waiting on this clone.
        drop(sender);
        Ok(answer)
    }

    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        let id = id.as_str().to_owned();
        self.readers
            .read(move |conn| Ok(reads::load_conversations(conn, "id = ?1", [id])?.pop()))
            .await
    }

    async fn conversation_by_client_ref(
        &self,
        client_ref: &str,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        let client_ref = client_ref.to_owned();
        self.readers
            .read(move |conn| {
                Ok(reads::load_conversations(conn, "client_ref = ?1", [client_ref])?.pop())
            })
            .await
    }

    async fn open_conversations(&self) -> Result<Vec<ConversationRecord>, StorageError> {
        self.readers
            .read(|conn| reads::load_conversations(conn, "status <> 'complete'", params![]))
            .await
    }

    async fn archive(
        &self,
        teams: &[console_protocol::TeamId],
        query: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        let teams = serde_json::to_string(&teams.iter().map(|t| t.as_str()).collect::<Vec<_>>())
            .map_err(|e| StorageError::Database(e.to_string()))?;
        let pattern = query.map(crate::storage::like_pattern).unwrap_or_default();
        let id = crate::storage::reference_id(&pattern).to_owned();
        self.readers
            .read(move |conn| {
                reads::load_conversations_by(
                    conn,
                    "status = 'complete' AND channel IN ('message', 'form', 'sms') \
                     AND team IN (SELECT value FROM json_each(?1)) \
                     AND (?2 = '' OR id LIKE ?3 || '%' ESCAPE '\\' \
                       OR lower(service) LIKE '%' || ?2 || '%' ESCAPE '\\' \
                       OR lower(ifnull(topic, '')) LIKE '%' || ?2 || '%' ESCAPE '\\' \
                       OR lower(ifnull(summary, '')) LIKE '%' || ?2 || '%' ESCAPE '\\')",
                    "created_at_ms DESC, id LIMIT ?4",
                    params![teams, pattern, id, limit],
                )
            })
            .await
    }

    async fn outbox_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<crate::storage::OutboxItem>, StorageError> {
        self.readers
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, conversation, channel, recipient, subject, body, created_at_ms, \
                     attempts FROM outbox WHERE sent_at_ms IS NULL AND given_up = 0 \
                     AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now_ms, limit], |row| {
                    Ok(crate::storage::OutboxItem {
                        notification: crate::storage::Notification {
                            id: row.get(0)?,
                            conversation: ConversationId::from(row.get::<_, String>(1)?),
                            channel: row.get(2)?,
                            recipient: row.get(3)?,
                            subject: row.get(4)?,
                            body: row.get(5)?,
                            created_at_ms: row.get(6)?,
                            first_of_channel: false,
                        },
                        attempts: row.get(7)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn sms_due(&self, now_ms: i64, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
        self.readers
            .read(move |conn| sms::due(conn, now_ms, limit))
            .await
    }

    async fn sms_unannounced(&self, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
        self.readers
            .read(move |conn| sms::unannounced(conn, limit))
            .await
    }

    async fn sms(&self, id: &str) -> Result<Option<SmsRecord>, StorageError> {
        let id = id.to_owned();
        self.readers
            .read(move |conn| sms::one(conn, "id", &id))
            .await
    }

    async fn sms_by_provider_ref(
        &self,
        provider_ref: &str,
    ) -> Result<Option<SmsRecord>, StorageError> {
        let provider_ref = provider_ref.to_owned();
        self.readers
            .read(move |conn| sms::one(conn, "provider_ref", &provider_ref))
            .await
    }

    async fn sms_report(
        &self,
        id: &str,
        provider_ref: Option<&str>,
        state: SmsState,
        reason: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let report = WriteOp::SmsReport {
            id: id.to_owned(),
            provider_ref: provider_ref.map(str::to_owned),
            state,
            reason: reason.map(str::to_owned),
            at_ms,
        };
        match self.write(report).await {
            Ok(()) => Ok(true),
            Err(StorageError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn put_inbound_sms(&self, inbound: InboundSms) -> Result<bool, StorageError> {
        match self.write(WriteOp::PutInboundSms(inbound)).await {
            Ok(()) => Ok(true),
            Err(StorageError::Duplicate(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn append_access(
        &self,
        entries: Vec<crate::storage::access::AccessEntry>,
    ) -> Result<(), StorageError> {
        self.write(WriteOp::AppendAccess(entries)).await
    }

    async fn access_log(
        &self,
        query: &crate::storage::access::AccessQuery,
    ) -> Result<Vec<crate::storage::access::AccessRecord>, StorageError> {
        let query = query.clone();
        self.readers
            .read(move |conn| access::query(conn, &query))
            .await
    }

    async fn inbound_sms_pending(&self, limit: u32) -> Result<Vec<InboundSms>, StorageError> {
        self.readers
            .read(move |conn| sms::pending(conn, limit))
            .await
    }

    async fn sms_cases(
        &self,
        number: &str,
    ) -> Result<Vec<(ConversationId, ConversationStatus)>, StorageError> {
        let number = number.to_owned();
        self.readers
            .read(move |conn| sms::cases(conn, &number))
            .await
    }

    async fn client_conversations(
        &self,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        let subject = subject.to_owned();
        self.readers
            .read(move |conn| {
                reads::load_conversations_by(
                    conn,
                    "client_subject = ?1",
                    "created_at_ms DESC, id LIMIT ?2",
                    params![subject, limit],
                )
            })
            .await
    }

    async fn events_after(
        &self,
        id: &ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        self.events_page(id, after_seq, limit, "seq > ?2 ORDER BY seq")
            .await
    }

    async fn events_before(
        &self,
        id: &ConversationId,
        before_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        let mut events = self
            .events_page(id, before_seq, limit, "seq < ?2 ORDER BY seq DESC")
            .await?;
        events.reverse();
        Ok(events)
    }

    async fn client_msg_ids(
        &self,
        id: &ConversationId,
    ) -> Result<Vec<(String, u64, String)>, StorageError> {
        let id = id.as_str().to_owned();
        self.readers
            .read(move |conn| reads::client_msg_ids(conn, &id))
            .await
    }

    async fn feedback(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u8, Option<String>)>, StorageError> {
        let id = id.as_str().to_owned();
        self.readers
            .read(move |conn| reads::feedback(conn, &id))
            .await
    }

    async fn canned_responses(
        &self,
        professional: &ProfessionalId,
    ) -> Result<Vec<PersonalCanned>, StorageError> {
        let professional = professional.clone();
        self.readers
            .read(move |conn| canned::list(conn, &professional))
            .await
    }

    async fn put_attachment(&self, attachment: super::Attachment) -> Result<(), StorageError> {
        self.write(WriteOp::PutAttachment(Box::new(attachment)))
            .await
    }

    async fn attachment(&self, id: &str) -> Result<Option<super::Attachment>, StorageError> {
        let id = id.to_owned();
        self.readers
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT id, conversation, client_msg_id, name, mime, sha256, data, \
                     uploaded_at_ms FROM attachments WHERE id = ?1",
                )?
                .query_row([&id], |row| {
                    Ok(super::Attachment {
                        id: row.get(0)?,
                        conversation: row.get::<_, String>(1)?.into(),
                        client_msg_id: row.get(2)?,
                        name: row.get(3)?,
                        mime: row.get(4)?,
                        sha256: row.get(5)?,
                        data: row.get(6)?,
                        uploaded_at_ms: row.get(7)?,
                    })
                })
                .optional()
                .map_err(StorageError::from)
            })
            .await
    }

    async fn delete_attachment(&self, id: &str) -> Result<(), StorageError> {
        self.write(WriteOp::DeleteAttachment { id: id.to_owned() })
            .await
    }

    async fn sweep_attachments(&self, before_ms: i64) -> Result<(), StorageError> {
        self.write(WriteOp::SweepAttachments { before_ms }).await
    }

    async fn retention_due(
        &self,
        service: &console_protocol::ServiceId,
        closed_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StorageError> {
        let service = service.clone();
        self.readers
            .read(move |conn| retention::due(conn, &service, closed_before_ms, limit))
            .await
    }

    async fn retention_counts(
        &self,
        service: &console_protocol::ServiceId,
        closed_before_ms: i64,
    ) -> Result<super::retention::RetentionCounts, StorageError> {
        let service = service.clone();
        self.readers
            .read(move |conn| retention::counts(conn, &service, closed_before_ms))
            .await
    }

    async fn set_legal_hold(&self, hold: super::retention::LegalHold) -> Result<(), StorageError> {
        self.write(WriteOp::SetLegalHold(hold)).await
    }

    async fn release_legal_hold(
        &self,
        conversation: &ConversationId,
        by: &console_protocol::ProfessionalId,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let op = WriteOp::ReleaseLegalHold {
            conversation: conversation.clone(),
            by: by.clone(),
            at_ms,
        };
        match self.write(op).await {
            Ok(()) => Ok(true),
            Err(StorageError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn legal_holds(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<super::retention::LegalHold>, StorageError> {
        let conversation = conversation.clone();
        self.readers
            .read(move |conn| retention::holds(conn, &conversation))
            .await
    }

    async fn prune_access(&self, before_ms: i64, at_ms: i64) -> Result<u64, StorageError> {
        // The writer is the only one to change the log, so what it will remove is known now.
        let from = self.access_anchor().await?.map_or(0, |a| a.seq);
        let upto = self
            .readers
            .read(move |conn| retention::prune_upto(conn, before_ms))
            .await?;
        self.write(WriteOp::PruneAccess { before_ms, at_ms })
            .await?;
        Ok(u64::try_from(upto - from).unwrap_or(0))
    }

    async fn access_anchor(&self) -> Result<Option<super::retention::AccessAnchor>, StorageError> {
        self.readers.read(retention::anchor).await
    }

    async fn purge_inbound_sms(&self, before_ms: i64) -> Result<u64, StorageError> {
        let count = self
            .readers
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT count(*) FROM sms_inbound WHERE handled = 1 AND received_at_ms < ?1",
                    )?
                    .query_row([before_ms], |row| row.get::<_, i64>(0))?)
            })
            .await?;
        self.write(WriteOp::PurgeInboundSms { before_ms }).await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn record_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<super::record::RecordDeliveryRow>, StorageError> {
        self.readers
            .read(move |conn| record::due(conn, now_ms, limit))
            .await
    }

    async fn record_unannounced(
        &self,
        limit: u32,
    ) -> Result<Vec<super::record::RecordDeliveryRow>, StorageError> {
        self.readers
            .read(move |conn| record::unannounced(conn, limit))
            .await
    }

    async fn record_deliveries(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<super::record::RecordDeliveryRow>, StorageError> {
        let conversation = conversation.clone();
        self.readers
            .read(move |conn| record::of_conversation(conn, &conversation))
            .await
    }

    async fn team_routing(&self) -> Result<Vec<(console_protocol::TeamId, String)>, StorageError> {
        self.readers
            .read(|conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT team, routing FROM team_routing ORDER BY team")?;
                let rows = stmt.query_map([], |row| {
                    Ok((
                        console_protocol::TeamId::from(row.get::<_, String>(0)?),
                        row.get(1)?,
                    ))
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn ping(&self) -> Result<(), StorageError> {
        match self.sender() {
            Some(sender) if !sender.is_closed() => {}
            _ => return Err(StorageError::Closed),
        }
        self.readers
            .read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn close(&self) {
        let sender = lock(&self.sender).take();
        drop(sender);
        // The writer exits once every sender clone (including in-flight writes) is gone and
        // the queue is drained and committed.
        let mut done = self.writer_done.clone();
        let _ = done.wait_for(|finished| *finished).await;
        self.readers.close();
    }
}

/// Maps SQLite failures; a primary-key or unique violation is a [`StorageError::Duplicate`].
impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                StorageError::Duplicate(e.to_string())
            }
            _ => StorageError::Database(e.to_string()),
        }
    }
}

/// Locks `mutex`; no code panics while holding these locks, so poisoning carries no meaning.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
