//! Appends and group commits: seqs gap-free and in order, groups, one failing op alone.

use super::*;

#[tokio::test]
async fn events_come_back_in_order_within_limits() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();
    for seq in 2..=10 {
        let event = message("c1", seq, &format!("m{seq}"));
        storage.write(append(event)).await.unwrap();
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
    let expected = ConversationRecord {
        last_seq: 10,
        ..record("c1", None)
    };
    assert_eq!(loaded, expected);
    assert_eq!(storage.conversation(&"nope".into()).await.unwrap(), None);
    let ids = storage.client_msg_ids(&id).await.unwrap();
    assert_eq!(ids.len(), 10);
    assert_eq!(ids[1], ("m2".into(), 2, "2026-11-21T10:00:02Z".into()));
    storage.close().await;
}

#[tokio::test]
async fn seqs_stay_gap_free() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();

    let same_seq = storage.write(append(message("c1", 1, "m9"))).await;
    assert!(
        matches!(same_seq, Err(StorageError::Duplicate(_))),
        "{same_seq:?}"
    );
    let same_id = storage.write(append(message("c1", 2, "m1"))).await;
    assert!(
        matches!(same_id, Err(StorageError::Duplicate(_))),
        "{same_id:?}"
    );
    let gap = storage.write(append(message("c1", 3, "m3"))).await;
    assert!(matches!(gap, Err(StorageError::Database(_))), "{gap:?}");
    let zero = storage.write(append(message("c1", 0, "m0"))).await;
    assert!(matches!(zero, Err(StorageError::Database(_))), "{zero:?}");
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

/// Ops submitted without waiting commit in groups, in order, each answered after its commit.
#[tokio::test]
async fn queued_writes_commit_in_groups_and_in_order() {
    const EVENTS: u64 = 300;
    let db = TestDatabase::create().await;
    let metrics = writer_metrics();
    let storage = PostgresStorage::connect(db.url(), metrics.clone())
        .await
        .unwrap();
    storage.write(create("c1", None)).await.unwrap();
    let mut receipts = Vec::new();
    for seq in 2..=EVENTS {
        let op = append(message("c1", seq, &format!("m{seq}")));
        receipts.push(storage.submit(op).await.unwrap());
    }
    for receipt in receipts {
        receipt.await.unwrap().unwrap();
    }
    assert_eq!(seqs(&storage, "c1").await, (1..=EVENTS).collect::<Vec<_>>());
    let commits = metrics.commit_seconds.get_sample_count();
    assert!(
        commits < EVENTS / 2,
        "{commits} commits for {EVENTS} writes"
    );
    storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_from_fifty_tasks_all_commit() {
    const TASKS: usize = 50;
    const EVENTS: u64 = 20;
    let db = TestDatabase::create().await;
    let storage = Arc::new(open(&db).await);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let storage = Arc::clone(&storage);
        tasks.push(tokio::spawn(async move {
            let id = format!("c{task}");
            let start = create(&id, Some(&format!("ref-{task}")));
            storage.write(start).await?;
            for seq in 2..=EVENTS {
                let event = message(&id, seq, &format!("m{seq}"));
                storage.write(append(event)).await?;
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
        let stored = seqs(storage.as_ref(), id.as_str()).await;
        assert_eq!(stored, (1..=EVENTS).collect::<Vec<_>>());
    }
    storage.close().await;
}

/// A conversation is never stored without its first event: a Create whose event cannot be
/// stored leaves nothing behind, not even its `client_ref`.
#[tokio::test]
async fn a_create_whose_first_event_fails_stores_nothing() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    let id = ConversationId::from("c1");
    let refused = [
        message("c1", 2, "m2"),
        message("c2", 1, "m1"),
        message("c1", 1, "nul\0byte"),
    ];
    for first in refused {
        let failed = storage
            .write(create_with(record("c1", Some("ref-1")), first))
            .await;
        assert!(
            matches!(failed, Err(StorageError::Database(_))),
            "{failed:?}"
        );
        assert_eq!(storage.conversation(&id).await.unwrap(), None);
        assert_eq!(
            storage.conversation_by_client_ref("ref-1").await.unwrap(),
            None
        );
        assert!(storage.events_after(&id, 0, 10).await.unwrap().is_empty());
    }
    let state = ConversationState {
        status: ConversationStatus::InProgress,
        ..queued()
    };
    let first = system("c1", 1, SystemKind::Queued);
    let op = create_with(
        ConversationRecord {
            state,
            ..record("c1", Some("ref-1"))
        },
        first.clone(),
    );
    storage.write(op).await.unwrap();
    let stored = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(stored.last_seq, 1);
    assert_eq!(
        stored.state.status,
        ConversationStatus::InProgress,
        "the record's state"
    );
    assert_eq!(storage.events_after(&id, 0, 10).await.unwrap(), [first]);
    let c2_events = storage.events_after(&"c2".into(), 0, 10).await.unwrap();
    assert!(c2_events.is_empty());
    storage.close().await;
}

/// Ops whose statements fail (an out-of-range rating, text PostgreSQL cannot store) fail
/// alone; refusals (duplicates) are answers; the rest of the group commits once.
#[tokio::test]
async fn a_failing_op_does_not_lose_the_rest_of_its_group() {
    let db = TestDatabase::create().await;
    let metrics = writer_metrics();
    let url: tokio_postgres::Config = db.url().parse().unwrap();
    migrate(&url).await.unwrap();
    let mut writer = Writer::new(url, 7, metrics.clone());
    let bad_rating = WriteOp::Feedback {
        conversation: "c1".into(),
        rating: 9,
        comment: None,
        at_ms: 1,
    };
    let nul = append(message("c1", 3, "nul\0byte"));
    let ops = [
        create("c1", None),
        append(message("c1", 1, "m9")),
        bad_rating,
        append(message("c1", 2, "m2")),
        nul,
        create("c1", None),
        append(message("c1", 3, "m3")),
    ];
    let work: Vec<_> = ops.iter().map(|op| (op, None)).collect();
    let results = writer.commit(&work).await;
    let expected = ["ok", "duplicate", "error", "ok", "error", "duplicate", "ok"];
    assert_eq!(outcomes(&results), expected, "{results:?}");
    assert_eq!(metrics.commit_seconds.get_sample_count(), 1);

    let storage = open(&db).await;
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    let id = ConversationId::from("c1");
    assert_eq!(
        storage.conversation(&id).await.unwrap().unwrap().last_seq,
        3
    );
    assert_eq!(storage.feedback(&id).await.unwrap(), None);
    storage.close().await;
}
