//! The read side: a small pool of read-only connections (WAL lets them read beside the
//! writer), each read run on the blocking thread pool, and the read queries with their row
//! decoding.

use super::schema::{last_seq_of_c, CONVERSATION_COLUMNS};
use super::{lock, BUSY_TIMEOUT};
use crate::storage::{
    ClientIdentity, Contact, ConversationRecord, ConversationState, StorageError,
};
use console_protocol::{ConversationStatus, Event};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Params, Row};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Read connections, and so reads at once (the others wait for one to be free).
pub(super) const READ_POOL_SIZE: usize = 4;

/// Read-only connections reused across reads; `None` once the storage is closed.
pub(super) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Option<Vec<Connection>>>,
    /// [`READ_POOL_SIZE`] permits: one per read in flight.
    permits: Arc<Semaphore>,
    /// Read connections opened so far.
    pub(super) opened: AtomicUsize,
}

impl ReadPool {
    /// A pool for the database at `path`; it opens connections as reads need them.
    pub(super) fn new(path: &Path) -> ReadPool {
        ReadPool {
            path: path.to_path_buf(),
            idle: Mutex::new(Some(Vec::new())),
            permits: Arc::new(Semaphore::new(READ_POOL_SIZE)),
            opened: AtomicUsize::new(0),
        }
    }

    /// Runs `f` on a pooled read connection on the blocking thread pool.
    pub(super) async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        // At most one read per pooled connection at a time: a burst of reads (hundreds of
        // patients starting chats at once) waits here, asynchronously, instead of occupying a
        // blocking thread each and opening a connection for each.
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|_| StorageError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = f(&conn);
            pool.put(conn);
            drop(permit);
            result
        })
        .await
        .map_err(|e| StorageError::Database(format!("read task: {e}")))?
    }

    fn take(&self) -> Result<Connection, StorageError> {
        let pooled = match lock(&self.idle).as_mut() {
            None => return Err(StorageError::Closed),
            Some(idle) => idle.pop(),
        };
        match pooled {
            Some(conn) => Ok(conn),
            None => {
                self.opened.fetch_add(1, Ordering::Relaxed);
                open_reader(&self.path)
            }
        }
    }

    fn put(&self, conn: Connection) {
        let mut idle = lock(&self.idle);
        if let Some(idle) = idle.as_mut().filter(|idle| idle.len() < READ_POOL_SIZE) {
            idle.push(conn);
        }
    }

    /// Refuses further reads and closes the idle connections.
    pub(super) fn close(&self) {
        self.permits.close();
        let idle = lock(&self.idle).take();
        drop(idle);
    }
}

fn open_reader(path: &Path) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

const LAST_SEQ: &str = last_seq_of_c!();

/// The conversations matching `filter` (SQL over the columns, with `params`), with their
/// `last_seq`, oldest in the queue first.
pub(super) fn load_conversations(
    conn: &Connection,
    filter: &str,
    params: impl Params,
) -> Result<Vec<ConversationRecord>, StorageError> {
    load_conversations_by(conn, filter, "queued_at_ms, id", params)
}

/// The conversations matching `filter`, with their `last_seq`, in `order` (which may end in a
/// `LIMIT`).
pub(super) fn load_conversations_by(
    conn: &Connection,
    filter: &str,
    order: &str,
    params: impl Params,
) -> Result<Vec<ConversationRecord>, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS}, {LAST_SEQ} FROM conversations c WHERE {filter} \
         ORDER BY {order}"
    ))?;
    let mut rows = stmt.query(params)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        records.push(conversation_from_row(row)?);
    }
    Ok(records)
}

/// At most `limit` events of `id` selected and ordered by `range`, in which `?2` is `seq`.
pub(super) fn events_page(
    conn: &Connection,
    id: &str,
    seq: u64,
    limit: u32,
    range: &str,
) -> Result<Vec<Event>, StorageError> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    let sql = format!("SELECT body FROM events WHERE conversation = ?1 AND {range} LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![id, seq, limit])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        let body: String = row.get(0)?;
        let event = serde_json::from_str(&body)
            .map_err(|e| StorageError::Corrupt(format!("event: {e}")))?;
        events.push(event);
    }
    Ok(events)
}

/// (client_msg_id, seq, at) of each event of `id` that has a `client_msg_id`, by seq.
pub(super) fn client_msg_ids(
    conn: &Connection,
    id: &str,
) -> Result<Vec<(String, u64, String)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_msg_id, seq, at FROM events \
         WHERE conversation = ?1 AND client_msg_id IS NOT NULL ORDER BY seq",
    )?;
    let mut rows = stmt.query([id])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push((row.get(0)?, to_u64(row.get(1)?, "seq")?, row.get(2)?));
    }
    Ok(found)
}

/// The rating and comment stored for `id`, if any.
pub(super) fn feedback(
    conn: &Connection,
    id: &str,
) -> Result<Option<(u8, Option<String>)>, StorageError> {
    Ok(conn
        .prepare_cached("SELECT rating, comment FROM feedback WHERE conversation = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// Decodes a row of [`CONVERSATION_COLUMNS`] followed by the last seq.
fn conversation_from_row(row: &Row<'_>) -> Result<ConversationRecord, StorageError> {
    let questionnaire = row
        .get::<_, Option<String>>(7)?
        .map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("questionnaire: {e}")))?;
    let status: String = row.get(11)?;
    let status = ConversationStatus::parse(&status)
        .ok_or_else(|| StorageError::Corrupt(format!("status {status:?}")))?;
    Ok(ConversationRecord {
        id: row.get::<_, String>(0)?.into(),
        service: row.get::<_, String>(1)?.into(),
        topic: row.get::<_, Option<String>>(2)?.map(Into::into),
        channel: row.get(3)?,
        client: ClientIdentity {
            subject: row.get(4)?,
            name: row.get(5)?,
            identified: row.get(6)?,
        },
        questionnaire,
        resume_token_hash: row.get(8)?,
        client_ref: row.get(9)?,
        created_at_ms: row.get(10)?,
        state: ConversationState {
            status,
            team: row.get::<_, String>(12)?.into(),
            assigned_to: row.get::<_, Option<String>>(13)?.map(Into::into),
            queued_at_ms: row.get(14)?,
            priority: row.get(15)?,
            summary: row.get(16)?,
            reserved_for: row.get::<_, Option<String>>(17)?.map(Into::into),
            due_at_ms: row.get(19)?,
        },
        lang: row.get(18)?,
        contact: Contact::from_column(row.get::<_, Option<String>>(20)?.as_deref())?,
        last_seq: to_u64(row.get(21)?, "last_seq")?,
    })
}

fn to_u64(value: i64, column: &str) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::Corrupt(format!("{column} {value}")))
}
