//! Several writers on one database: fenced appends, racing backends, migrations at once.

use super::*;

fn fence(writer: i64, previous: Option<i64>) -> Fence {
    Fence { writer, previous }
}

fn last(seq: u64, writer: i64) -> Option<LastAppend> {
    Some(LastAppend {
        seq,
        writer: Some(writer),
    })
}

#[tokio::test]
async fn a_fenced_append_commits_only_after_the_writer_it_expects() {
    const A: i64 = 1;
    const B: i64 = 2;
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    let id = ConversationId::from("c1");
    storage
        .write_fenced(create("c1", None), fence(A, None))
        .await
        .unwrap();
    assert_eq!(storage.last_append(&id).await.unwrap(), last(1, A));
    let fenced = |seq, writer, previous| {
        let event = message("c1", seq, &format!("m{seq}-{writer}"));
        storage.write_fenced(append(event), fence(writer, previous))
    };
    fenced(2, A, Some(A)).await.unwrap();

    let stale_writer = fenced(3, B, Some(B)).await;
    assert!(
        matches!(stale_writer, Err(StorageError::Conflict(_))),
        "{stale_writer:?}"
    );
    let taken_seq = fenced(2, B, Some(A)).await;
    assert!(
        matches!(taken_seq, Err(StorageError::Conflict(_))),
        "{taken_seq:?}"
    );
    fenced(3, B, Some(A)).await.unwrap();
    assert_eq!(storage.last_append(&id).await.unwrap(), last(3, B));
    // A paused writer that wakes up believing it is still at seq 2.
    let late = fenced(3, A, Some(A)).await;
    assert!(matches!(late, Err(StorageError::Conflict(_))), "{late:?}");
    let gap = fenced(5, A, Some(B)).await;
    assert!(matches!(gap, Err(StorageError::Database(_))), "{gap:?}");

    // Writes without a fence keep SQLite's answers and leave the backend's own tag.
    let unfenced = storage.write(append(message("c1", 3, "again"))).await;
    assert!(
        matches!(unfenced, Err(StorageError::Duplicate(_))),
        "{unfenced:?}"
    );
    storage.write(append(message("c1", 4, "m4"))).await.unwrap();
    let tag = storage.writer_tag();
    assert_eq!(storage.last_append(&id).await.unwrap(), last(4, tag));
    assert_eq!(storage.last_append(&"ghost".into()).await.unwrap(), None);

    let stored = storage.events_after(&id, 1, 10).await.unwrap();
    let expected = [
        message("c1", 2, "m2-1"),
        message("c1", 3, "m3-2"),
        message("c1", 4, "m4"),
    ];
    assert_eq!(stored, expected);
    storage.close().await;
}

/// Two nodes append to one conversation as fast as they can, each catching up after a
/// conflict: every seq is stored once, in order, by whichever node got it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backends_racing_on_one_conversation_store_each_seq_once() {
    const EVENTS: u64 = 200;
    let db = TestDatabase::create().await;
    let nodes = [Arc::new(open(&db).await), Arc::new(open(&db).await)];
    nodes[0].write(create("c1", None)).await.unwrap();
    let id = ConversationId::from("c1");
    let mut tasks = Vec::new();
    for (node, storage) in nodes.iter().enumerate() {
        let storage = Arc::clone(storage);
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let me = i64::try_from(node).unwrap() + 100;
            let (mut stored, mut conflicts) = (0u64, 0u64);
            loop {
                let at = storage.last_append(&id).await.unwrap().unwrap();
                if at.seq >= EVENTS {
                    return (stored, conflicts);
                }
                let seq = at.seq + 1;
                let event = message("c1", seq, &format!("m{seq}-{me}"));
                match storage
                    .write_fenced(append(event), fence(me, at.writer))
                    .await
                {
                    Ok(()) => stored += 1,
                    Err(StorageError::Conflict(_)) => conflicts += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    let mut stored = 0;
    for task in tasks {
        stored += task.await.unwrap().0;
    }
    assert_eq!(
        stored,
        EVENTS - 1,
        "each seq acknowledged to exactly one node"
    );
    assert_eq!(
        seqs(nodes[1].as_ref(), "c1").await,
        (1..=EVENTS).collect::<Vec<_>>()
    );
    let events = db.count("SELECT count(*) FROM events").await;
    assert_eq!(events, i64::try_from(EVENTS).unwrap());

    // Unfenced, the loser of a race for one seq is told it is a duplicate.
    let racing = [0, 1].map(|n| {
        let storage = Arc::clone(&nodes[n]);
        tokio::spawn(async move {
            storage
                .write(append(message("c1", EVENTS + 1, &format!("x{n}"))))
                .await
        })
    });
    let mut results = Vec::new();
    for task in racing {
        results.push(task.await.unwrap());
    }
    let mut answers = outcomes(&results);
    answers.sort_unstable();
    assert_eq!(answers, ["duplicate", "ok"], "{results:?}");
    for node in nodes {
        node.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_at_once_migrate_exactly_once() {
    let db = TestDatabase::create().await;
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PostgresStorage::connect(&url, writer_metrics()).await })
        })
        .collect();
    for start in starts {
        start.await.unwrap().unwrap().close().await;
    }
    let applied = db.count("SELECT count(*) FROM schema_migrations").await;
    assert_eq!(applied, i64::try_from(schema::MIGRATIONS.len()).unwrap());

    db.execute("INSERT INTO schema_migrations (version) VALUES (999)")
        .await;
    let newer = PostgresStorage::connect(db.url(), writer_metrics()).await;
    assert!(
        matches!(newer, Err(StorageError::Database(_))),
        "a newer schema is refused"
    );
}

/// The writer's session carries the timeouts that keep a paused node from holding row locks.
#[tokio::test]
async fn the_writer_session_bounds_how_long_it_can_hold_locks() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    let config = session_config(
        &db.url().parse().unwrap(),
        "luukku-writer",
        STATEMENT_TIMEOUT,
        Some(IDLE_IN_TRANSACTION_TIMEOUT),
    );
    let mut writer = Writer::new(config, 1, open_term(), writer_metrics());
    let session = writer.session_for_tests().await.unwrap();
    let show = |setting: &'static str| async move {
        let row = session
            .client
            .query_one(&format!("SHOW {setting}"), &[])
            .await
            .unwrap();
        row.get::<_, String>(0)
    };
    assert_eq!(show("idle_in_transaction_session_timeout").await, "2s");
    assert_eq!(show("statement_timeout").await, "5s");
    assert_eq!(show("application_name").await, "luukku-writer");
    storage.close().await;
}

/// A node paused inside its transaction (here: a session with the writer's settings that
/// locked a conversation row and went silent) is cut off by PostgreSQL after
/// `idle_in_transaction_session_timeout`; an append waiting on its lock then commits instead
/// of failing on `statement_timeout`.
#[tokio::test]
async fn an_append_outlasts_a_paused_node_holding_its_row() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();
    let writer_settings = session_config(
        &db.url().parse().unwrap(),
        "paused-node",
        STATEMENT_TIMEOUT,
        Some(IDLE_IN_TRANSACTION_TIMEOUT),
    );
    let (paused, connection) = writer_settings
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    paused
        .batch_execute("BEGIN; SELECT 1 FROM conversations WHERE id = 'c1' FOR UPDATE")
        .await
        .unwrap();

    storage.write(append(message("c1", 2, "m2"))).await.unwrap();
    assert!(
        paused.batch_execute("SELECT 1").await.is_err(),
        "its session was ended"
    );
    assert_eq!(seqs(&storage, "c1").await, [1, 2]);
    storage.close().await;
}
