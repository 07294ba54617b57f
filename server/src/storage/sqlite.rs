//! The SQLite backend of [`Storage`]. One writer thread owns the write connection: it takes
//! `(WriteOp, oneshot)` pairs from a bounded channel, applies a group of them in one
//! transaction (one savepoint per op, so a failing op fails alone) and answers each op only
//! after the commit is durable. Reads run on a small pool of read-only connections through
//! `spawn_blocking`; WAL lets them run beside the writer.

use super::{
    ClientIdentity, ConversationRecord, ConversationState, PersonalCanned, Receipt, Storage,
    StorageError, WriteOp,
};
use crate::metrics::StorageMetrics;
use async_trait::async_trait;
use console_protocol::{ConversationId, ConversationStatus, Event, ProfessionalId};
use prometheus::Histogram;
use rusqlite::{ffi, params, Connection, OpenFlags, OptionalExtension, Params, Row, Transaction};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// Writes waiting for the writer thread. A group commit takes a few milliseconds on a real
/// disk, so 4096 queued ops is a handful of full batches: enough to absorb a burst from
/// thousands of conversations at once, small enough that a stalled disk pushes back on the
/// conversation actors within milliseconds instead of piling up unacknowledged messages.
const WRITE_QUEUE_CAPACITY: usize = 4096;
/// Most ops in one transaction: bounds how long one commit can delay the next batch and how
/// much a failed commit has to report back.
const MAX_BATCH: usize = 1024;
/// Read connections, and so reads at once (the others wait for one to be free).
const READ_POOL_SIZE: usize = 4;
/// How long a statement waits for a lock held by another connection (a checkpoint, an
/// operator's `sqlite3` shell) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations; `PRAGMA user_version` counts how many have been applied.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE conversations (
    id                TEXT PRIMARY KEY NOT NULL,
    service           TEXT NOT NULL,
    topic             TEXT,
    channel           TEXT NOT NULL,
    client_subject    TEXT,
    client_name       TEXT,
    client_identified INTEGER NOT NULL,
    questionnaire     TEXT,
    resume_token_hash TEXT NOT NULL,
    client_ref        TEXT UNIQUE,
    created_at_ms     INTEGER NOT NULL,
    status            TEXT NOT NULL,
    team              TEXT NOT NULL,
    assigned_to       TEXT,
    queued_at_ms      INTEGER NOT NULL,
    priority          INTEGER NOT NULL,
    summary           TEXT,
    last_seq          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_open ON conversations (queued_at_ms) WHERE status <> 'complete';
CREATE TABLE events (
    conversation  TEXT NOT NULL REFERENCES conversations (id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('message', 'note', 'system')),
    client_msg_id TEXT,
    body          TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_client_msg_id ON events (conversation, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
CREATE TABLE feedback (
    conversation TEXT PRIMARY KEY NOT NULL REFERENCES conversations (id),
    rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      TEXT,
    at_ms        INTEGER NOT NULL
) WITHOUT ROWID;
",
    r"
ALTER TABLE conversations ADD COLUMN reserved_for TEXT;
",
    // What an append writes, cut to what it must: events are stored in arrival order (a
    // rowid table), so every append of a commit lands on the last pages of the table, where
    // the old table, clustered by conversation, rewrote and split a page of each
    // conversation's range per message; the last seq of a conversation is read off the
    // (conversation, seq) index instead of being kept on its row; and resends are recognised
    // by the conversation's actor (`Storage::client_msg_ids`), not by a second index. What
    // stays random per message is one small index entry.
    r"
CREATE TABLE events_by_arrival (
    id            INTEGER PRIMARY KEY,
    conversation  TEXT NOT NULL REFERENCES conversations (id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('message', 'note', 'system')),
    client_msg_id TEXT,
    body          TEXT NOT NULL,
    at            TEXT NOT NULL
);
INSERT INTO events_by_arrival (conversation, seq, kind, client_msg_id, body, at)
    SELECT conversation, seq, kind, client_msg_id, body, at FROM events
    ORDER BY at, conversation, seq;
DROP TABLE events;
ALTER TABLE events_by_arrival RENAME TO events;
CREATE UNIQUE INDEX events_seq ON events (conversation, seq);
ALTER TABLE conversations DROP COLUMN last_seq;
",
    // The language the client chose (fi, sv, en): the closing message comes in it and the
    // professional sees it.
    r"
ALTER TABLE conversations ADD COLUMN lang TEXT;
",
    // Professionals' own canned responses (quick replies). The team ones live in the
    // organisation configuration. One code per professional and language.
    r"
CREATE TABLE canned_responses (
    id            TEXT PRIMARY KEY NOT NULL,
    professional  TEXT NOT NULL,
    code          TEXT NOT NULL,
    title         TEXT NOT NULL,
    lang          TEXT NOT NULL,
    body          TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_responses_code ON canned_responses (professional, code, lang);
",
];

/// The stored columns of a conversation, in the order of [`conversation_from_row`].
const CONVERSATION_COLUMNS: &str = "id, service, topic, channel, client_subject, client_name, \
    client_identified, questionnaire, resume_token_hash, client_ref, created_at_ms, status, \
    team, assigned_to, queued_at_ms, priority, summary, reserved_for, lang";
/// The highest stored seq of the conversation `c` (a literal, so that queries can `concat!` it).
macro_rules! last_seq_of_c {
    () => {
        "(SELECT ifnull(max(seq), 0) FROM events WHERE conversation = c.id)"
    };
}
const LAST_SEQ: &str = last_seq_of_c!();

type Reply = oneshot::Sender<Result<(), StorageError>>;
type Job = (WriteOp, Reply);

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
        let mut conn = open_writer(path)?;
        migrate(&mut conn)?;
        let (sender, receiver) = mpsc::channel(WRITE_QUEUE_CAPACITY);
        let (done_tx, done_rx) = watch::channel(false);
        std::thread::Builder::new()
            .name("luukku-sqlite-writer".to_owned())
            .spawn(move || {
                yield_to_sockets();
                run_writer(conn, receiver, &metrics);
                let _ = done_tx.send(true);
            })
            .map_err(|e| StorageError::Database(format!("start writer thread: {e}")))?;
        Ok(SqliteStorage {
            sender: Mutex::new(Some(sender)),
            writer_done: done_rx,
            readers: Arc::new(ReadPool {
                path: path.to_path_buf(),
                idle: Mutex::new(Some(Vec::new())),
                permits: Arc::new(tokio::sync::Semaphore::new(READ_POOL_SIZE)),
                opened: std::sync::atomic::AtomicUsize::new(0),
            }),
        })
    }

    fn sender(&self) -> Option<mpsc::Sender<Job>> {
        lock(&self.sender).clone()
    }

    /// Runs `f` on a pooled read connection on the blocking thread pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = Arc::clone(&self.readers);
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

    /// At most `limit` events of `id` selected and ordered by `range`, in which `?2` is `seq`.
    async fn events_page(
        &self,
        id: &ConversationId,
        seq: u64,
        limit: u32,
        range: &'static str,
    ) -> Result<Vec<Event>, StorageError> {
        let id = id.as_str().to_owned();
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let sql =
                format!("SELECT body FROM events WHERE conversation = ?1 AND {range} LIMIT ?3");
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
        })
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
        self.read(move |conn| Ok(load_conversations(conn, "id = ?1", [id])?.pop()))
            .await
    }

    async fn conversation_by_client_ref(
        &self,
        client_ref: &str,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        let client_ref = client_ref.to_owned();
        self.read(move |conn| Ok(load_conversations(conn, "client_ref = ?1", [client_ref])?.pop()))
            .await
    }

    async fn open_conversations(&self) -> Result<Vec<ConversationRecord>, StorageError> {
        self.read(|conn| load_conversations(conn, "status <> 'complete'", params![]))
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
        self.read(move |conn| {
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
        })
        .await
    }

    async fn feedback(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u8, Option<String>)>, StorageError> {
        let id = id.as_str().to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT rating, comment FROM feedback WHERE conversation = ?1")?
                .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })
        .await
    }

    async fn canned_responses(
        &self,
        professional: &ProfessionalId,
    ) -> Result<Vec<PersonalCanned>, StorageError> {
        let professional = professional.clone();
        self.read(move |conn| canned::list(conn, &professional))
            .await
    }

    async fn ping(&self) -> Result<(), StorageError> {
        match self.sender() {
            Some(sender) if !sender.is_closed() => {}
            _ => return Err(StorageError::Closed),
        }
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
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

/// Read-only connections reused across reads; `None` once the storage is closed.
struct ReadPool {
    path: PathBuf,
    idle: Mutex<Option<Vec<Connection>>>,
    /// [`READ_POOL_SIZE`] permits: one per read in flight.
    permits: Arc<tokio::sync::Semaphore>,
    /// Read connections opened so far.
    opened: std::sync::atomic::AtomicUsize,
}

impl ReadPool {
    fn take(&self) -> Result<Connection, StorageError> {
        let pooled = match lock(&self.idle).as_mut() {
            None => return Err(StorageError::Closed),
            Some(idle) => idle.pop(),
        };
        match pooled {
            Some(conn) => Ok(conn),
            None => {
                self.opened
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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

    fn close(&self) {
        self.permits.close();
        let idle = lock(&self.idle).take();
        drop(idle);
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

fn open_writer(path: &Path) -> Result<Connection, StorageError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Database(format!(
            "journal_mode is {mode}, not wal"
        )));
    }
    // FULL: a commit is on disk, WAL included, before any op of it is acknowledged.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // The writer's page cache (SQLite's default is 2 MiB): the pages that appends touch stay
    // in memory, rather than being read back from the file for nearly every append once a few
    // hundred conversations are active.
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    // Checkpoints are run by the writer itself, after it has answered a batch
    // (`checkpoint_if_due`), never inside a commit: an automatic checkpoint would copy and
    // fsync pages while every message of the batch waits for its acknowledgement.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// The writer's page cache, in KiB.
const WRITER_CACHE_KIB: i64 = 32 * 1024;

/// How often the writer checkpoints: copies the WAL's committed pages into the database file,
/// so that the WAL starts over.
///
/// The checkpoint runs on the writer's own connection, between two batches (after their
/// acknowledgements went out), so it always reaches the end of the WAL — no commit lands while
/// it copies — and the next transaction starts the WAL over from its beginning. A checkpoint
/// beside a busy writer (on another connection) never catches up with it, and SQLite restarts
/// the WAL only after one that did: the WAL then only grows (2 GB in a minute of benchmark
/// load, every frame a fresh page for the kernel to allocate). The price is a pause of the
/// writer while it copies and syncs; a checkpoint copies each changed page once, however often
/// it changed since the last one.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Runs a PASSIVE checkpoint on the writer's connection once [`CHECKPOINT_EVERY`] has passed.
fn checkpoint_if_due(conn: &Connection, last: &mut Instant, seconds: &Histogram) {
    if last.elapsed() < CHECKPOINT_EVERY {
        return;
    }
    let started = Instant::now();
    checkpoint(conn);
    seconds.observe(started.elapsed().as_secs_f64());
    *last = Instant::now();
}

fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "wal checkpoint failed");
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

/// Applies the migrations the file has not seen yet, all in one transaction.
fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(version)
        .map_err(|_| StorageError::Corrupt(format!("schema version {version}")))?;
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "schema version {applied} is newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    let tx = conn.transaction()?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// The writer's CPU priority, on thread-priority's 0–99 scale: 22 is `nice` 10 on Linux.
const WRITER_PRIORITY: u8 = 22;

/// Lowers the writer thread's CPU priority below the sockets'.
///
/// Where the writer shares a core with the runtime (one core for the whole server, as in the
/// benchmark), at equal priority the scheduler splits the core evenly whenever both have work,
/// and under load the writer took its turn in the middle of the sockets' backlog: commits came
/// in small batches and the queue behind them grew (12,000 msg/s: e2e p99 180–330 ms). At a
/// lower priority the runtime drains its sockets first, the writer gathers what came meanwhile
/// into one commit, and nothing waits longer (p99 37–41 ms at 12,000 msg/s). The writer still
/// gets the CPU whenever the runtime waits, which under any load short of saturation is often.
/// On a machine with cores to spare it makes no difference. If it fails (a platform without
/// thread priorities), the writer runs at the normal priority.
fn yield_to_sockets() {
    let set = thread_priority::ThreadPriorityValue::try_from(WRITER_PRIORITY)
        .map_err(|e| format!("{e:?}"))
        .and_then(|value| {
            thread_priority::set_current_thread_priority(
                thread_priority::ThreadPriority::Crossplatform(value),
            )
            .map_err(|e| format!("{e:?}"))
        });
    if let Err(e) = set {
        tracing::warn!(error = %e, "the storage writer keeps the normal CPU priority");
    }
}

/// The writer thread: one group commit per batch until every sender is gone.
fn run_writer(mut conn: Connection, mut receiver: mpsc::Receiver<Job>, metrics: &StorageMetrics) {
    let mut last_checkpoint = Instant::now();
    while let Some(first) = receiver.blocking_recv() {
        // Whatever queued up meanwhile goes into the same commit. No window is waited for:
        // at its lower priority (`yield_to_sockets`) the writer runs once the sockets are
        // served, by when their writes have queued up (a 0.5 ms window was tried: the same
        // CPU, a higher p50 and, past 12,000 msg/s, a higher p99).
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<WriteOp>, Vec<Reply>) = batch.into_iter().unzip();
        metrics.batch_writes.observe(ops.len() as f64);
        let results = commit_batch(&mut conn, &ops, &metrics.commit_seconds);
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have stopped waiting; the op is committed all the same.
            let _ = reply.send(result);
        }
        checkpoint_if_due(&conn, &mut last_checkpoint, &metrics.checkpoint_seconds);
    }
    checkpoint(&conn);
}

/// Applies `ops` in one transaction, each in its own savepoint; returns one result per op.
fn commit_batch(
    conn: &mut Connection,
    ops: &[WriteOp],
    commit_seconds: &Histogram,
) -> Vec<Result<(), StorageError>> {
    let fail_all = |why: String| -> Vec<Result<(), StorageError>> {
        ops.iter()
            .map(|_| Err(StorageError::Database(why.clone())))
            .collect()
    };
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => return fail_all(format!("begin: {e}")),
    };
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(apply_isolated(&mut tx, op));
        if tx.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): ops that
            // succeeded earlier in this batch are gone too.
            return fail_all("transaction rolled back by sqlite".to_owned());
        }
    }
    let started = Instant::now();
    let committed = tx.commit();
    commit_seconds.observe(started.elapsed().as_secs_f64());
    match committed {
        Ok(()) => results,
        Err(e) => fail_all(format!("commit: {e}")),
    }
}

/// Applies one op inside a savepoint, so that its failure undoes only its own changes.
///
/// A plain append (a message, most writes by far) needs none: its checks read before anything
/// is written and its one `INSERT` is atomic by itself (a failing statement undoes only its
/// own changes), which saves two statements per message.
fn apply_isolated(tx: &mut Transaction<'_>, op: &WriteOp) -> Result<(), StorageError> {
    if let WriteOp::Append { event, state: None } = op {
        return append_event(tx, event, None);
    }
    let savepoint = tx.savepoint()?;
    match op {
        WriteOp::Create { record, first } => create_conversation(&savepoint, record, first)?,
        WriteOp::Append { event, state } => append_event(&savepoint, event, state.as_ref())?,
        WriteOp::Identify { event, client } => {
            append_event(&savepoint, event, None)?;
            set_client(&savepoint, event.conversation(), client)?;
        }
        WriteOp::Feedback {
            conversation,
            rating,
            comment,
            at_ms,
        } => {
            savepoint
                .prepare_cached(
                    "INSERT INTO feedback (conversation, rating, comment, at_ms) \
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![conversation.as_str(), rating, comment, at_ms])?;
        }
        WriteOp::SaveCanned { response, replace } => canned::save(&savepoint, response, *replace)?,
        WriteOp::DeleteCanned { id, professional } => canned::delete(&savepoint, id, professional)?,
    }
    // On any error above the savepoint is dropped, which rolls it back.
    savepoint.commit()?;
    Ok(())
}

/// Stores a new conversation and its first event; the caller's savepoint makes it both or
/// neither. The row already holds the record's state, so the event is appended without one.
fn create_conversation(
    conn: &Connection,
    record: &ConversationRecord,
    first: &Event,
) -> Result<(), StorageError> {
    if first.conversation() != &record.id {
        return Err(StorageError::Database(format!(
            "first event of {} given to create {}",
            first.conversation(),
            record.id
        )));
    }
    insert_conversation(conn, record)?;
    append_event(conn, first, None)
}

fn insert_conversation(conn: &Connection, r: &ConversationRecord) -> Result<(), StorageError> {
    let questionnaire = r
        .questionnaire
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StorageError::Database(format!("encode questionnaire: {e}")))?;
    conn.prepare_cached(&format!(
        "INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))?
    .execute(params![
        r.id.as_str(),
        r.service.as_str(),
        r.topic.as_ref().map(|t| t.as_str()),
        r.channel,
        r.client.subject,
        r.client.name,
        r.client.identified,
        questionnaire,
        r.resume_token_hash,
        r.client_ref,
        r.created_at_ms,
        r.state.status.as_str(),
        r.state.team.as_str(),
        r.state.assigned_to.as_ref().map(|p| p.as_str()),
        r.state.queued_at_ms,
        r.state.priority,
        r.state.summary,
        r.state.reserved_for.as_ref().map(|p| p.as_str()),
        r.lang,
    ])?;
    Ok(())
}

/// Stores `event` as the next seq of its conversation; a seq already used is a duplicate and
/// a seq past the next one is refused, so stored seqs stay gap-free.
fn append_event(
    conn: &Connection,
    event: &Event,
    state: Option<&ConversationState>,
) -> Result<(), StorageError> {
    let id = event.conversation().as_str();
    let seq = i64::try_from(event.seq())
        .map_err(|_| StorageError::Database(format!("seq {} out of range", event.seq())))?;
    let last_seq: i64 = conn
        .prepare_cached(concat!(
            "SELECT ",
            last_seq_of_c!(),
            " FROM conversations c WHERE c.id = ?1"
        ))?
        .query_row([id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StorageError::Database(format!("append to unknown conversation {id}")))?;
    if seq < 1 {
        return Err(StorageError::Database(format!(
            "seq {seq} in {id}: seqs start at 1"
        )));
    }
    if seq <= last_seq {
        return Err(StorageError::Duplicate(format!("seq {seq} in {id}")));
    }
    if seq != last_seq + 1 {
        return Err(StorageError::Database(format!(
            "seq gap in {id}: expected {}, got {seq}",
            last_seq + 1
        )));
    }
    let (kind, client_msg_id, at) = match event {
        Event::Message(m) => ("message", m.client_msg_id.as_ref(), &m.at),
        Event::Note(m) => ("note", m.client_msg_id.as_ref(), &m.at),
        Event::System(s) => ("system", None, &s.at),
    };
    let body = serde_json::to_string(event)
        .map_err(|e| StorageError::Database(format!("encode event: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO events (conversation, seq, kind, client_msg_id, body, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        seq,
        kind,
        client_msg_id.map(|c| c.as_str()),
        body,
        at
    ])?;
    if let Some(s) = state {
        conn.prepare_cached(
            "UPDATE conversations SET status = ?2, team = ?3, \
             assigned_to = ?4, queued_at_ms = ?5, priority = ?6, summary = ?7, \
             reserved_for = ?8 WHERE id = ?1",
        )?
        .execute(params![
            id,
            s.status.as_str(),
            s.team.as_str(),
            s.assigned_to.as_ref().map(|p| p.as_str()),
            s.queued_at_ms,
            s.priority,
            s.summary,
            s.reserved_for.as_ref().map(|p| p.as_str()),
        ])?;
    }
    Ok(())
}

/// Replaces the client identity of a conversation (the columns written at create).
fn set_client(
    conn: &Connection,
    id: &ConversationId,
    client: &ClientIdentity,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached(
            "UPDATE conversations SET client_subject = ?2, client_name = ?3, \
             client_identified = ?4 WHERE id = ?1",
        )?
        .execute(params![
            id.as_str(),
            client.subject,
            client.name,
            client.identified
        ])?;
    if changed != 1 {
        return Err(StorageError::Database(format!(
            "identify unknown conversation {id}"
        )));
    }
    Ok(())
}

fn load_conversations(
    conn: &Connection,
    filter: &str,
    params: impl Params,
) -> Result<Vec<ConversationRecord>, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS}, {LAST_SEQ} FROM conversations c WHERE {filter} \
         ORDER BY queued_at_ms, id"
    ))?;
    let mut rows = stmt.query(params)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        records.push(conversation_from_row(row)?);
    }
    Ok(records)
}

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
        },
        lang: row.get(18)?,
        last_seq: to_u64(row.get(19)?, "last_seq")?,
    })
}

/// Locks `mutex`; no code panics while holding these locks, so poisoning carries no meaning.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn to_u64(value: i64, column: &str) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::Corrupt(format!("{column} {value}")))
}

#[path = "sqlite_canned.rs"]
mod canned;

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
