//! What the contract does not reach: writes committing in groups, an op whose statement fails
//! inside a group, the refusals only PostgreSQL makes, damaged rows.

use super::*;

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

/// Ops whose statements fail (an out-of-range rating, text PostgreSQL cannot store) fail
/// alone; refusals (duplicates) are answers; the rest of the group commits, once.
#[tokio::test]
async fn a_failing_op_does_not_lose_the_rest_of_its_group() {
    let db = TestDatabase::create().await;
    let metrics = writer_metrics();
    let url: tokio_postgres::Config = db.url().parse().unwrap();
    migrate(&url).await.unwrap();
    let mut writer = Writer::new(url, 7, open_term(), metrics.clone());
    let bad_rating = WriteOp::Feedback {
        conversation: "c1".into(),
        rating: 9,
        comment: None,
        at_ms: 1,
    };
    let ops = [
        create("c1", None),
        create_with(record("c2", None), message("c2", 1, "nul\0byte")),
        append(message("c1", 1, "m9")),
        bad_rating,
        append(message("c1", 2, "m2")),
        append(message("c1", 3, "nul\0byte")),
        create("c1", None),
        append(message("c1", 3, "m3")),
    ];
    let work: Vec<_> = ops.iter().map(|op| (op, None)).collect();
    let results = writer.commit(&work).await;
    let expected = [
        "ok",
        "error",
        "duplicate",
        "error",
        "ok",
        "error",
        "duplicate",
        "ok",
    ];
    assert_eq!(outcomes(&results), expected, "{results:?}");
    assert_eq!(metrics.commit_seconds.get_sample_count(), 1);

    let storage = open(&db).await;
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    let id = ConversationId::from("c1");
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 3);
    assert_eq!(storage.feedback(&id).await.unwrap(), None);
    assert_eq!(storage.conversation(&"c2".into()).await.unwrap(), None);
    storage.close().await;
}

/// A `client_msg_id` is stored once per conversation (a unique index backs the actor), a
/// rating needs its conversation, and an edit cannot take a code the professional uses.
#[tokio::test]
async fn postgresql_refuses_what_its_indexes_forbid() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();
    storage.write(create("c2", None)).await.unwrap();
    let same_id = storage.write(append(message("c1", 2, "m1"))).await;
    assert!(
        matches!(same_id, Err(StorageError::Duplicate(_))),
        "{same_id:?}"
    );
    storage.write(append(message("c1", 2, "m2"))).await.unwrap();

    let feedback = WriteOp::Feedback {
        conversation: "ghost".into(),
        rating: 5,
        comment: None,
        at_ms: 1,
    };
    let unknown = storage.write(feedback).await;
    assert!(
        matches!(unknown, Err(StorageError::Database(_))),
        "{unknown:?}"
    );

    let canned = |id: &str, code: &str, replace| {
        let response = PersonalCanned {
            id: id.into(),
            professional: "nurse-1".into(),
            code: code.into(),
            title: code.into(),
            lang: "fi".into(),
            body: code.into(),
            updated_at_ms: 1,
        };
        WriteOp::SaveCanned {
            response: Box::new(response),
            replace,
        }
    };
    storage.write(canned("p-1", "a", false)).await.unwrap();
    storage.write(canned("p-2", "b", false)).await.unwrap();
    let clash = storage.write(canned("p-2", "a", true)).await;
    assert!(
        matches!(clash, Err(StorageError::Duplicate(_))),
        "{clash:?}"
    );
    storage.close().await;
}

#[tokio::test]
async fn damaged_rows_are_reported_as_corrupt() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();
    db.execute(
        "UPDATE events SET body = '{\"type\":\"message\"' WHERE conversation = 'c1';
         UPDATE conversations SET status = 'lost' WHERE id = 'c1';",
    )
    .await;
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
