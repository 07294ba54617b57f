//! The writer thread: it owns the write connection, takes `(WriteOp, oneshot)` jobs from a
//! bounded queue, commits them in groups (each op in its own savepoint, see [`super::ops`]),
//! answers each job only after its commit is durable, and checkpoints the WAL between groups.

use super::{ops, BUSY_TIMEOUT};
use crate::metrics::StorageMetrics;
use crate::storage::{StorageError, WriteOp};
use prometheus::Histogram;
use rusqlite::Connection;
use std::path::Path;
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

/// Where the writer answers one op.
pub(super) type Reply = oneshot::Sender<Result<(), StorageError>>;
/// One op and where to answer it.
pub(super) type Job = (WriteOp, Reply);

/// The running writer thread, as the storage sees it.
pub(super) struct Writer {
    /// Its queue; it exits once every clone of this sender is gone and the queue is drained.
    pub(super) jobs: mpsc::Sender<Job>,
    /// Becomes `true` when the thread has committed everything and exited.
    pub(super) done: watch::Receiver<bool>,
}

/// Starts the writer thread on `conn` (opened by [`open_writer`], migrated); it reports to
/// `metrics`.
pub(super) fn start(conn: Connection, metrics: StorageMetrics) -> Result<Writer, StorageError> {
    let (jobs, receiver) = mpsc::channel(WRITE_QUEUE_CAPACITY);
    let (done_tx, done) = watch::channel(false);
    std::thread::Builder::new()
        .name("luukku-sqlite-writer".to_owned())
        .spawn(move || {
            yield_to_sockets();
            run_writer(conn, receiver, &metrics);
            let _ = done_tx.send(true);
        })
        .map_err(|e| StorageError::Database(format!("start writer thread: {e}")))?;
    Ok(Writer { jobs, done })
}

/// Opens the write connection: WAL, a durable commit per batch, foreign keys enforced, and
/// checkpoints left to the writer.
pub(super) fn open_writer(path: &Path) -> Result<Connection, StorageError> {
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
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

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
pub(super) fn commit_batch(
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
        results.push(ops::apply_isolated(&mut tx, op));
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
