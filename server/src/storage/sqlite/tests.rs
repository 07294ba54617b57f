#![allow(clippy::unwrap_used)]

use super::reads::READ_POOL_SIZE;
use super::schema::{migrate, MIGRATIONS};
use super::writer::{commit_batch, open_writer, CHECKPOINT_EVERY};
use super::*;
use crate::storage::{ClientIdentity, ConversationState};
use console_protocol::{Author, ConversationStatus, MessageEvent, Role, SystemEvent, SystemKind};
use prometheus::{Histogram, HistogramOpts};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

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

    fn open(&self) -> SqliteStorage {
        SqliteStorage::open(&self.path(), writer_metrics()).unwrap()
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

fn queued() -> ConversationState {
    ConversationState {
        status: ConversationStatus::Queued,
        team: "station-a".into(),
        assigned_to: None,
        queued_at_ms: 1_000,
        priority: 0,
        summary: None,
        reserved_for: None,
    }
}

fn record(id: &str, client_ref: Option<&str>) -> ConversationRecord {
    let mut questionnaire = console_protocol::Answers::new();
    questionnaire.insert("q1".into(), serde_json::json!("answer"));
    ConversationRecord {
        id: id.into(),
        service: "health-chat".into(),
        topic: Some("medication".into()),
        channel: "web".into(),
        client: ClientIdentity {
            subject: Some("subject-1".into()),
            name: Some("Client One".into()),
            identified: true,
        },
        questionnaire: Some(questionnaire),
        resume_token_hash: "ab".repeat(32),
        client_ref: client_ref.map(Into::into),
        created_at_ms: 999,
        lang: None,
        state: queued(),
        last_seq: 0,
    }
}

fn message(conversation: &str, seq: u64, client_msg_id: &str) -> Event {
    Event::Message(MessageEvent {
        conversation: conversation.into(),
        seq,
        at: format!("2026-11-21T10:00:{:02}Z", seq % 60),
        from: Author {
            role: Role::Client,
            id: None,
            name: Some("Client One".into()),
        },
        body: format!("message {seq}"),
        client_msg_id: Some(client_msg_id.into()),
    })
}

fn append(event: Event) -> WriteOp {
    WriteOp::Append { event, state: None }
}

/// A new conversation whose first event is the message `m1`.
fn create(id: &str, client_ref: Option<&str>) -> WriteOp {
    create_with(record(id, client_ref), message(id, 1, "m1"))
}

fn create_with(record: ConversationRecord, first: Event) -> WriteOp {
    WriteOp::Create {
        record: Box::new(record),
        first,
    }
}

async fn seqs(storage: &SqliteStorage, id: &str) -> Vec<u64> {
    let events = storage.events_after(&id.into(), 0, 10_000).await.unwrap();
    events.iter().map(Event::seq).collect()
}

#[tokio::test]
async fn events_come_back_in_order_within_limits() {
    let db = TempDb::new();
    let storage = db.open();
    storage.write(create("c1", None)).await.unwrap();
    for seq in 2..=10 {
        storage
            .write(append(message("c1", seq, &format!("m{seq}"))))
            .await
            .unwrap();
    }
    let id = ConversationId::from("c1");
    let all = storage.events_after(&id, 0, 100).await.unwrap();
    assert_eq!(all.first(), Some(&message("c1", 1, "m1")));
    assert_eq!(seqs(&storage, "c1").await, (1..=10).collect::<Vec<_>>());
    let page = storage.events_after(&id, 3, 4).await.unwrap();
    assert_eq!(
        page.iter().map(Event::seq).collect::<Vec<_>>(),
        [4, 5, 6, 7]
    );
    let older = storage.events_before(&id, 8, 3).await.unwrap();
    assert_eq!(older.iter().map(Event::seq).collect::<Vec<_>>(), [5, 6, 7]);
    let newest = storage.events_before(&id, u64::MAX, 2).await.unwrap();
    assert_eq!(newest.iter().map(Event::seq).collect::<Vec<_>>(), [9, 10]);
    assert!(storage.events_before(&id, 1, 5).await.unwrap().is_empty());
    assert!(storage.events_after(&id, 10, 5).await.unwrap().is_empty());

    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(
        loaded,
        ConversationRecord {
            last_seq: 10,
            ..record("c1", None)
        }
    );
    assert_eq!(storage.conversation(&"nope".into()).await.unwrap(), None);
    storage.close().await;
}

/// (seq, at) of the stored message with this `client_msg_id`.
async fn find(
    storage: &SqliteStorage,
    id: &ConversationId,
    client_msg_id: &str,
) -> Option<(u64, String)> {
    storage
        .client_msg_ids(id)
        .await
        .unwrap()
        .into_iter()
        .find(|(c, _, _)| c == client_msg_id)
        .map(|(_, seq, at)| (seq, at))
}

#[tokio::test]
async fn client_msg_ids_lists_the_messages_of_one_conversation_by_seq() {
    let db = TempDb::new();
    let storage = db.open();
    let id = ConversationId::from("c1");
    storage.write(create("c1", None)).await.unwrap();
    let other = create_with(record("c2", None), message("c2", 1, "other"));
    storage.write(other).await.unwrap();
    let system = Event::System(SystemEvent {
        conversation: "c1".into(),
        seq: 2,
        at: "2026-11-21T10:00:02Z".into(),
        event: SystemKind::Assigned,
        detail: serde_json::Map::new(),
    });
    storage.write(append(system)).await.unwrap();
    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    assert_eq!(
        storage.client_msg_ids(&id).await.unwrap(),
        vec![
            ("m1".to_owned(), 1, "2026-11-21T10:00:01Z".to_owned()),
            ("m3".to_owned(), 3, "2026-11-21T10:00:03Z".to_owned()),
        ],
        "no system events, nothing of another conversation"
    );
    assert_eq!(find(&storage, &id, "other").await, None);
    storage.close().await;
}

#[tokio::test]
async fn seqs_stay_gap_free() {
    let db = TempDb::new();
    let storage = db.open();
    storage.write(create("c1", None)).await.unwrap();

    let same_seq = storage.write(append(message("c1", 1, "m9"))).await;
    assert!(
        matches!(same_seq, Err(StorageError::Duplicate(_))),
        "{same_seq:?}"
    );
    let gap = storage.write(append(message("c1", 3, "m3"))).await;
    assert!(matches!(gap, Err(StorageError::Database(_))), "{gap:?}");
    let zero = storage.write(append(message("c1", 0, "m0"))).await;
    assert!(zero.is_err());
    let unknown = storage.write(append(message("ghost", 1, "m1"))).await;
    assert!(
        matches!(unknown, Err(StorageError::Database(_))),
        "{unknown:?}"
    );
    assert_eq!(seqs(&storage, "c1").await, [1]);

    storage.write(append(message("c1", 2, "m2"))).await.unwrap();
    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_from_fifty_tasks_all_commit() {
    const TASKS: usize = 50;
    const EVENTS: u64 = 20;
    let db = TempDb::new();
    let storage = Arc::new(db.open());
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let storage = Arc::clone(&storage);
        tasks.push(tokio::spawn(async move {
            let id = format!("c{task}");
            storage
                .write(create(&id, Some(&format!("ref-{task}"))))
                .await?;
            for seq in 2..=EVENTS {
                storage
                    .write(append(message(&id, seq, &format!("m{seq}"))))
                    .await?;
            }
            Ok::<_, StorageError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for task in 0..TASKS {
        let id = ConversationId::from(format!("c{task}"));
        let loaded = storage.conversation(&id).await.unwrap().unwrap();
        assert_eq!(loaded.last_seq, EVENTS);
        let stored = seqs(&storage, id.as_str()).await;
        assert_eq!(stored, (1..=EVENTS).collect::<Vec<_>>());
    }
    storage.close().await;
}

#[tokio::test]
async fn acknowledged_writes_survive_close_and_reopen() {
    let db = TempDb::new();
    let id = ConversationId::from("c1");
    {
        let storage = db.open();
        storage.write(create("c1", Some("ref-1"))).await.unwrap();
        storage.write(append(message("c1", 2, "m2"))).await.unwrap();
        storage.ping().await.unwrap();
        storage.close().await;
        storage.close().await;
        let late = storage.write(append(message("c1", 3, "m3"))).await;
        assert!(matches!(late, Err(StorageError::Closed)), "{late:?}");
        assert!(matches!(storage.ping().await, Err(StorageError::Closed)));
        let read = storage.events_after(&id, 0, 10).await;
        assert!(matches!(read, Err(StorageError::Closed)), "{read:?}");
    }
    let storage = db.open();
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 2);
    assert_eq!(seqs(&storage, "c1").await, [1, 2]);
    assert_eq!(
        find(&storage, &id, "m2").await,
        Some((2, "2026-11-21T10:00:02Z".to_owned()))
    );
    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    storage.close().await;
}

#[tokio::test]
async fn open_conversations_excludes_complete() {
    let db = TempDb::new();
    let storage = db.open();
    for id in ["c1", "c2", "c3"] {
        storage.write(create(id, None)).await.unwrap();
    }
    let assigned = ConversationState {
        status: ConversationStatus::InProgress,
        assigned_to: Some("nurse-1".into()),
        summary: Some("asked about doses".into()),
        ..queued()
    };
    let system = |id: &str, event| {
        Event::System(SystemEvent {
            conversation: id.into(),
            seq: 2,
            at: "2026-11-21T10:00:00Z".into(),
            event,
            detail: serde_json::Map::new(),
        })
    };
    storage
        .write(WriteOp::Append {
            event: system("c2", SystemKind::Assigned),
            state: Some(assigned.clone()),
        })
        .await
        .unwrap();
    let complete = ConversationState {
        status: ConversationStatus::Complete,
        ..assigned.clone()
    };
    storage
        .write(WriteOp::Append {
            event: system("c3", SystemKind::Closed),
            state: Some(complete),
        })
        .await
        .unwrap();

    let open = storage.open_conversations().await.unwrap();
    let ids: Vec<&str> = open.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    assert_eq!(open[1].state, assigned);
    assert_eq!(open[1].last_seq, 2);
    let closed = storage.conversation(&"c3".into()).await.unwrap().unwrap();
    assert_eq!(closed.state.status, ConversationStatus::Complete);
    storage.close().await;
}

#[tokio::test]
async fn conversation_by_client_ref_finds_a_retried_start() {
    let db = TempDb::new();
    let storage = db.open();
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    let found = storage.conversation_by_client_ref("ref-1").await.unwrap();
    assert_eq!(found.map(|r| r.id), Some("c1".into()));
    assert_eq!(
        storage.conversation_by_client_ref("ref-2").await.unwrap(),
        None
    );

    let same_ref = storage.write(create("c2", Some("ref-1"))).await;
    assert!(
        matches!(same_ref, Err(StorageError::Duplicate(_))),
        "{same_ref:?}"
    );
    let same_id = storage.write(create("c1", None)).await;
    assert!(
        matches!(same_id, Err(StorageError::Duplicate(_))),
        "{same_id:?}"
    );
    assert_eq!(storage.conversation(&"c2".into()).await.unwrap(), None);
    storage.close().await;
}

/// A conversation is never stored without its first event: a Create whose event cannot be
/// stored leaves nothing behind, not even its `client_ref`.
#[tokio::test]
async fn a_create_whose_first_event_fails_stores_nothing() {
    let db = TempDb::new();
    let storage = db.open();
    let id = ConversationId::from("c1");
    let refused = [
        // Seqs start at 1.
        message("c1", 2, "m2"),
        // The first event must be the new conversation's own.
        message("c2", 1, "m1"),
    ];
    for first in refused {
        let failed = storage
            .write(create_with(record("c1", Some("ref-1")), first))
            .await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(storage.conversation(&id).await.unwrap(), None);
        assert_eq!(
            storage.conversation_by_client_ref("ref-1").await.unwrap(),
            None
        );
        assert!(storage.events_after(&id, 0, 10).await.unwrap().is_empty());
    }

    // A second start with a used client_ref stores neither its row nor its event.
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    let same_ref = storage.write(create("c2", Some("ref-1"))).await;
    assert!(
        matches!(same_ref, Err(StorageError::Duplicate(_))),
        "{same_ref:?}"
    );
    assert_eq!(storage.conversation(&"c2".into()).await.unwrap(), None);
    let c2_events = storage.events_after(&"c2".into(), 0, 10).await.unwrap();
    assert!(c2_events.is_empty());

    let stored = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(stored.last_seq, 1);
    assert_eq!(
        stored.state,
        queued(),
        "the first event keeps the record's state"
    );
    storage.close().await;
}

#[tokio::test]
async fn feedback_round_trip() {
    let db = TempDb::new();
    let storage = db.open();
    storage.write(create("c1", None)).await.unwrap();
    let id = ConversationId::from("c1");
    assert_eq!(storage.feedback(&id).await.unwrap(), None);
    let feedback = |rating, comment: Option<&str>| WriteOp::Feedback {
        conversation: "c1".into(),
        rating,
        comment: comment.map(Into::into),
        at_ms: 5_000,
    };
    storage.write(feedback(5, Some("thank you"))).await.unwrap();
    let stored = storage.feedback(&id).await.unwrap();
    assert_eq!(stored, Some((5, Some("thank you".to_owned()))));

    let again = storage.write(feedback(1, None)).await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
    assert_eq!(storage.feedback(&id).await.unwrap(), stored);
    storage.close().await;
}

#[tokio::test]
async fn a_failing_op_does_not_lose_the_rest_of_its_batch() {
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

    let storage = db.open();
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    let id = ConversationId::from("c1");
    let m2 = find(&storage, &id, "m2").await;
    assert_eq!(m2.map(|(seq, _)| seq), Some(2));
    assert_eq!(
        storage.conversation(&id).await.unwrap().unwrap().last_seq,
        3
    );
    storage.close().await;
}

#[tokio::test]
async fn damaged_rows_are_reported_as_corrupt() {
    let db = TempDb::new();
    let storage = db.open();
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
    let storage = db.open();
    storage.write(create("c1", None)).await.unwrap();
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.state.reserved_for, None);

    let reserved = ConversationState {
        priority: 1,
        reserved_for: Some("nurse-2".into()),
        ..queued()
    };
    let transferred = Event::System(SystemEvent {
        conversation: "c1".into(),
        seq: 2,
        at: "2026-11-21T10:00:00Z".into(),
        event: SystemKind::Transferred,
        detail: serde_json::Map::new(),
    });
    storage
        .write(WriteOp::Append {
            event: transferred,
            state: Some(reserved.clone()),
        })
        .await
        .unwrap();
    storage.close().await;

    let storage = db.open();
    let open = storage.open_conversations().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].state, reserved);
    storage.close().await;
}

#[tokio::test]
async fn identify_stores_the_identity_and_its_event_together_or_not_at_all() {
    let db = TempDb::new();
    let storage = db.open();
    let anonymous = ConversationRecord {
        client: ClientIdentity::default(),
        ..record("c1", None)
    };
    storage
        .write(create_with(anonymous, message("c1", 1, "m1")))
        .await
        .unwrap();
    let identity = ClientIdentity {
        subject: Some("subject-9".into()),
        name: Some("Maija Meikäläinen".into()),
        identified: true,
    };
    let identified = |seq| {
        let mut detail = serde_json::Map::new();
        detail.insert("name".into(), "Maija Meikäläinen".into());
        Event::System(SystemEvent {
            conversation: "c1".into(),
            seq,
            at: "2026-11-21T10:02:00Z".into(),
            event: SystemKind::Identified,
            detail,
        })
    };

    // A seq gap fails the whole op: neither the identity nor the event is stored.
    let gap = storage
        .write(WriteOp::Identify {
            event: identified(3),
            client: identity.clone(),
        })
        .await;
    assert!(gap.is_err());
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.client, ClientIdentity::default());
    assert_eq!(seqs(&storage, "c1").await, [1]);

    storage
        .write(WriteOp::Identify {
            event: identified(2),
            client: identity.clone(),
        })
        .await
        .unwrap();
    storage.close().await;

    let storage = db.open();
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.client, identity);
    assert_eq!(loaded.last_seq, 2);
    let events = storage.events_after(&"c1".into(), 1, 10).await.unwrap();
    assert_eq!(events, [identified(2)]);
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
    let storage = db.open();
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
    let storage = Arc::new(db.open());
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
    let storage = Arc::new(db.open());
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

fn canned(id: &str, professional: &str, code: &str, lang: &str, body: &str) -> PersonalCanned {
    PersonalCanned {
        id: id.into(),
        professional: professional.into(),
        code: code.into(),
        title: format!("{code} title"),
        lang: lang.into(),
        body: body.into(),
        updated_at_ms: 1_000,
    }
}

fn save_canned(response: PersonalCanned, replace: bool) -> WriteOp {
    WriteOp::SaveCanned {
        response: Box::new(response),
        replace,
    }
}

async fn canned_bodies(storage: &SqliteStorage, professional: &str) -> Vec<(String, String)> {
    let list = storage
        .canned_responses(&professional.into())
        .await
        .unwrap();
    list.into_iter().map(|c| (c.code, c.body)).collect()
}

/// Personal canned responses belong to one professional: listed for them only, edited and
/// deleted by them only, one per code and language, and kept across a restart.
#[tokio::test]
async fn canned_responses_belong_to_their_professional_and_survive_a_restart() {
    let db = TempDb::new();
    let storage = db.open();
    let mine = |id, code, lang, body| save_canned(canned(id, "nurse-1", code, lang, body), false);
    storage
        .write(mine("p-2", "labs", "fi", "Ei vielä"))
        .await
        .unwrap();
    storage
        .write(mine("p-1", "bye", "fi", "Hei hei"))
        .await
        .unwrap();
    storage
        .write(mine("p-3", "labs", "sv", "Inte än"))
        .await
        .unwrap();
    let theirs = canned("p-9", "nurse-2", "labs", "fi", "Toisen");
    storage.write(save_canned(theirs, false)).await.unwrap();

    let listed = storage.canned_responses(&"nurse-1".into()).await.unwrap();
    let order: Vec<_> = listed
        .iter()
        .map(|c| (c.code.as_str(), c.lang.as_str()))
        .collect();
    assert_eq!(order, [("bye", "fi"), ("labs", "fi"), ("labs", "sv")]);
    assert_eq!(listed[0], canned("p-1", "nurse-1", "bye", "fi", "Hei hei"));

    let twice = storage.write(mine("p-4", "labs", "fi", "again")).await;
    assert!(
        matches!(twice, Err(StorageError::Duplicate(_))),
        "{twice:?}"
    );

    let edit = canned("p-2", "nurse-1", "labs", "fi", "Tulokset tulevat huomenna");
    storage.write(save_canned(edit, true)).await.unwrap();
    let hijack = canned("p-9", "nurse-1", "labs", "en", "mine now");
    let refused = storage.write(save_canned(hijack, true)).await;
    assert!(
        matches!(refused, Err(StorageError::NotFound(_))),
        "{refused:?}"
    );
    let delete = |id: &str, professional: &str| WriteOp::DeleteCanned {
        id: id.into(),
        professional: professional.into(),
    };
    let refused = storage.write(delete("p-9", "nurse-1")).await;
    assert!(
        matches!(refused, Err(StorageError::NotFound(_))),
        "{refused:?}"
    );
    storage.write(delete("p-1", "nurse-1")).await.unwrap();
    let again = storage.write(delete("p-1", "nurse-1")).await;
    assert!(matches!(again, Err(StorageError::NotFound(_))), "{again:?}");
    storage.close().await;

    let storage = db.open();
    assert_eq!(
        canned_bodies(&storage, "nurse-1").await,
        [
            ("labs".to_owned(), "Tulokset tulevat huomenna".to_owned()),
            ("labs".to_owned(), "Inte än".to_owned())
        ]
    );
    assert_eq!(
        canned_bodies(&storage, "nurse-2").await,
        [("labs".to_owned(), "Toisen".to_owned())]
    );
    assert!(canned_bodies(&storage, "nurse-3").await.is_empty());
    storage.close().await;
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
        let storage = db.open();
        storage.write(create("c1", None)).await.unwrap();
        storage.close().await;
    }
    let storage = db.open();
    assert!(storage.conversation(&"c1".into()).await.unwrap().is_some());
    let save = save_canned(canned("p-1", "nurse-1", "hi", "fi", "Hei"), false);
    storage.write(save).await.unwrap();
    assert_eq!(canned_bodies(&storage, "nurse-1").await.len(), 1);
    storage.close().await;
}
