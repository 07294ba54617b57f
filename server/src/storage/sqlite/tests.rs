//! The SQLite backend's tests: the shared contract (`sqlite_contract`), then what only SQLite
//! has: migrations of older files, the directory it creates, group commit, the WAL's size,
//! the read pool, damaged rows.
#![allow(clippy::unwrap_used)]

use super::reads::READ_POOL_SIZE;
use super::schema::{migrate, MIGRATIONS};
use super::writer::{commit_batch, open_writer, CHECKPOINT_EVERY};
use super::*;
use crate::storage::contract::fixtures::{
    append, canned, canned_bodies, create, find, message, queued, save_canned, seqs, system,
};
use crate::storage::contract::ContractBackend;
use crate::storage::{ConversationState, SharedStorage};
use console_protocol::SystemKind;
use prometheus::{Histogram, HistogramOpts};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

mod sqlite_contract {
    crate::storage::contract::storage_contract_suite!(async { super::TempDb::new() });
}

/// A database file in a fresh directory under the system temp dir, removed on drop.
struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!(
            "luukku-sqlite-test-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        TempDb {
            dir: std::env::temp_dir().join(name),
        }
    }

    /// Nested so that `open` has to create the directory.
    fn path(&self) -> PathBuf {
        self.dir.join("data").join("luukku.db")
    }

    fn open_sqlite(&self) -> SqliteStorage {
        SqliteStorage::open(&self.path(), writer_metrics()).unwrap()
    }
}

#[async_trait]
impl ContractBackend for TempDb {
    async fn open(&self) -> SharedStorage {
        Arc::new(self.open_sqlite())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn writer_metrics() -> StorageMetrics {
    StorageMetrics {
        commit_seconds: histogram(),
        batch_writes: histogram(),
        checkpoint_seconds: histogram(),
    }
}

fn histogram() -> Histogram {
    Histogram::with_opts(HistogramOpts::new("test_commit_seconds", "commit duration")).unwrap()
}

/// A closed storage refuses reads as well as writes: its read connections are gone.
#[tokio::test]
async fn a_closed_storage_refuses_reads() {
    let db = TempDb::new();
    let storage = db.open_sqlite();
    storage.write(create("c1", None)).await.unwrap();
    storage.close().await;
    let read = storage.events_after(&"c1".into(), 0, 10).await;
    assert!(matches!(read, Err(StorageError::Closed)), "{read:?}");
    let record = storage.conversation(&"c1".into()).await;
    assert!(matches!(record, Err(StorageError::Closed)), "{record:?}");
}

/// A batch is one transaction, one commit, in which a failing op fails alone (each in its
/// own savepoint).
#[tokio::test]
async fn a_batch_is_one_commit_in_which_a_failing_op_fails_alone() {
    let db = TempDb::new();
    std::fs::create_dir_all(db.path().parent().unwrap()).unwrap();
    let commits = histogram();
    {
        let mut conn = open_writer(&db.path()).unwrap();
        migrate(&mut conn).unwrap();
        let ops = [
            create("c1", None),
            append(message("c1", 1, "m9")),
            append(message("c1", 2, "m2")),
            create("c1", None),
            append(message("c1", 3, "m3")),
        ];
        let results = commit_batch(&mut conn, &ops, &commits);
        let outcome: Vec<&str> = results
            .iter()
            .map(|r| match r {
                Ok(()) => "ok",
                Err(StorageError::Duplicate(_)) => "duplicate",
                Err(_) => "error",
            })
            .collect();
        assert_eq!(outcome, ["ok", "duplicate", "ok", "duplicate", "ok"]);
    }
    assert_eq!(commits.get_sample_count(), 1);

    let storage = db.open_sqlite();
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    let m2 = find(&storage, &"c1".into(), "m2").await;
    assert_eq!(m2.map(|(seq, _)| seq), Some(2));
    storage.close().await;
}

/// A row that no longer decodes (edited by hand, a damaged file) is reported, not skipped.
#[tokio::test]
async fn damaged_rows_are_reported_as_corrupt() {
    let db = TempDb::new();
    let storage = db.open_sqlite();
    storage.write(create("c1", None)).await.unwrap();
    let raw = Connection::open(db.path()).unwrap();
    raw.execute_batch(
        "UPDATE events SET body = '{\"type\":\"message\"' WHERE conversation = 'c1';
         UPDATE conversations SET status = 'lost' WHERE id = 'c1';",
    )
    .unwrap();
    let id = ConversationId::from("c1");
    let events = storage.events_after(&id, 0, 10).await;
    assert!(
        matches!(events, Err(StorageError::Corrupt(_))),
        "{events:?}"
    );
    let record = storage.conversation(&id).await;
    assert!(
        matches!(record, Err(StorageError::Corrupt(_))),
        "{record:?}"
    );
    storage.close().await;
}

/// A database of the first version gains the reservation column, and a reservation written
/// to it survives a reopen.
#[tokio::test]
async fn a_reservation_survives_and_older_databases_are_migrated() {
    let db = TempDb::new();
    std::fs::create_dir_all(db.path().parent().unwrap()).unwrap();
    {
        // A database written by a server that knew only the first migration.
        let conn = Connection::open(db.path()).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let storage = db.open_sqlite();
    storage.write(create("c1", None)).await.unwrap();
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.state.reserved_for, None);

    let reserved = ConversationState {
        priority: 1,
        reserved_for: Some("nurse-2".into()),
        ..queued()
    };
    let transferred = system("c1", 2, SystemKind::Transferred);
    storage
        .write(WriteOp::Append {
            event: transferred,
            state: Some(reserved.clone()),
        })
        .await
        .unwrap();
    storage.close().await;

    let storage = db.open_sqlite();
    let open = storage.open_conversations().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].state, reserved);
    storage.close().await;
}

/// A database written by an earlier version (the first two migrations: events clustered by
/// conversation, `last_seq` kept on the conversation) opens with everything in place.
#[tokio::test]
async fn a_database_of_the_old_layout_keeps_its_events_and_seqs() {
    let db = TempDb::new();
    std::fs::create_dir_all(db.path().parent().unwrap()).unwrap();
    {
        let mut conn = Connection::open(db.path()).unwrap();
        let tx = conn.transaction().unwrap();
        for (index, sql) in MIGRATIONS.iter().take(2).enumerate() {
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", index + 1).unwrap();
        }
        tx.execute_batch(
            "INSERT INTO conversations (id, service, channel, client_identified, \
             resume_token_hash, created_at_ms, status, team, queued_at_ms, priority, last_seq) \
             VALUES ('old', 'health-chat', 'web', 0, 'h', 1, 'queued', 'station-a', 1, 0, 3);",
        )
        .unwrap();
        for seq in 1..=3u64 {
            let body = serde_json::to_string(&message("old", seq, &format!("m{seq}"))).unwrap();
            tx.execute(
                "INSERT INTO events (conversation, seq, kind, client_msg_id, body, at) \
                 VALUES ('old', ?1, 'message', ?2, ?3, ?4)",
                params![
                    seq,
                    format!("m{seq}"),
                    body,
                    format!("2026-11-21T10:00:0{seq}Z")
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let storage = db.open_sqlite();
    let loaded = storage.conversation(&"old".into()).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 3, "the last seq is read off the events");
    assert_eq!(seqs(&storage, "old").await, vec![1, 2, 3]);
    let found = find(&storage, &"old".into(), "m2").await;
    assert_eq!(found.map(|(seq, _)| seq), Some(2));
    // The gap-free rule holds across the migration: 4 is next, 3 is taken.
    assert!(matches!(
        storage.write(append(message("old", 3, "again"))).await,
        Err(StorageError::Duplicate(_))
    ));
    storage
        .write(append(message("old", 4, "m4")))
        .await
        .unwrap();
    assert_eq!(seqs(&storage, "old").await, vec![1, 2, 3, 4]);
}

/// Under continuous writes the WAL starts over after each checkpoint instead of growing with
/// everything ever written (an operator would see the disk fill up).
#[tokio::test]
async fn the_wal_stays_bounded_under_continuous_writes() {
    let db = TempDb::new();
    let storage = Arc::new(db.open_sqlite());
    const CONVERSATIONS: usize = 50;
    for c in 0..CONVERSATIONS {
        storage.write(create(&format!("c{c}"), None)).await.unwrap();
    }
    // Writers on every conversation at once, never letting the writer go idle, for several
    // checkpoint intervals.
    let until = Instant::now() + CHECKPOINT_EVERY * 8;
    let mut writers = Vec::new();
    for c in 0..CONVERSATIONS {
        let storage = storage.clone();
        writers.push(tokio::spawn(async move {
            let id = format!("c{c}");
            let mut seq = 1;
            while Instant::now() < until {
                seq += 1;
                storage
                    .write(append(message(&id, seq, &format!("m{seq}"))))
                    .await
                    .unwrap();
            }
            seq - 1
        }));
    }
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    let wal = std::fs::metadata(db.path().with_extension("db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    let db_size = std::fs::metadata(db.path()).unwrap().len();
    // Each message writes at least one 4 KiB WAL frame; a WAL that never restarted would
    // hold them all.
    let never_restarted = written * 4096;
    assert!(
        wal < never_restarted / 3,
        "WAL {wal} bytes after {written} messages ({never_restarted} bytes of frames), \
         database {db_size} bytes"
    );
}

/// A burst of reads (hundreds of patients starting chats at once) is served by the pooled
/// connections, a few at a time, instead of a connection (and a blocking thread) each.
#[tokio::test]
async fn a_burst_of_reads_shares_the_pooled_connections() {
    let db = TempDb::new();
    let storage = Arc::new(db.open_sqlite());
    storage.write(create("c1", None)).await.unwrap();
    let mut reads = Vec::new();
    for _ in 0..200 {
        let storage = storage.clone();
        reads.push(tokio::spawn(async move {
            storage
                .conversation(&"c1".into())
                .await
                .unwrap()
                .unwrap()
                .last_seq
        }));
    }
    for r in reads {
        assert_eq!(r.await.unwrap(), 1, "every read answers");
    }
    let opened = storage
        .readers
        .opened
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        opened <= READ_POOL_SIZE,
        "{opened} read connections opened for 200 reads"
    );
}

/// A database of a version before canned responses (every migration up to theirs) gains
/// their table and keeps its conversations.
#[tokio::test]
async fn a_database_without_canned_responses_is_migrated() {
    let db = TempDb::new();
    std::fs::create_dir_all(db.path().parent().unwrap()).unwrap();
    let before = MIGRATIONS
        .iter()
        .position(|sql| sql.contains("CREATE TABLE canned_responses"))
        .unwrap();
    {
        let mut conn = Connection::open(db.path()).unwrap();
        let tx = conn.transaction().unwrap();
        for (index, sql) in MIGRATIONS.iter().take(before).enumerate() {
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", index + 1).unwrap();
        }
        tx.commit().unwrap();
    }
    {
        let storage = db.open_sqlite();
        storage.write(create("c1", None)).await.unwrap();
        storage.close().await;
    }
    let storage = db.open_sqlite();
    assert!(storage.conversation(&"c1".into()).await.unwrap().is_some());
    let save = save_canned(canned("p-1", "nurse-1", "hi", "fi", "Hei"), false);
    storage.write(save).await.unwrap();
    assert_eq!(canned_bodies(&storage, "nurse-1").await.len(), 1);
    storage.close().await;
}

/// The access log's triggers refuse UPDATE and DELETE; a change made after dropping them is
/// found by the chain.
#[tokio::test]
async fn the_access_log_refuses_change_and_a_change_behind_its_back_breaks_the_chain() {
    use crate::storage::access::{verify, ChainBreak, GENESIS};
    use crate::storage::contract::access::{entry, whole_log};
    let db = TempDb::new();
    let storage = db.open_sqlite();
    storage
        .append_access(vec![
            entry("nurse-a", Some("subject-1"), Some("c1")),
            entry("nurse-b", Some("subject-1"), Some("c1")),
        ])
        .await
        .unwrap();
    storage.close().await;
    let conn = Connection::open(db.path()).unwrap();
    for sql in [
        "UPDATE access_log SET actor = 'nobody' WHERE seq = 2",
        "DELETE FROM access_log WHERE seq = 1",
    ] {
        let refused = conn.execute_batch(sql).unwrap_err().to_string();
        assert!(refused.contains("append-only"), "{sql}: {refused}");
    }
    conn.execute_batch(
        "DROP TRIGGER access_log_no_update; UPDATE access_log SET outcome = 'refused' WHERE seq = 1",
    )
    .unwrap();
    drop(conn);
    let storage = db.open_sqlite();
    let all = whole_log(&storage).await;
    assert_eq!(
        verify((0, GENESIS.into()), &all),
        Err(ChainBreak::Changed { seq: 1 })
    );
    storage.close().await;
}
