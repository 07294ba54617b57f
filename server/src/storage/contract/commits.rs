//! The contract for commits: submitted writes commit in submission order, a failing write
//! fails alone, writes from many tasks at once all commit, and `close` commits everything
//! handed over before it, which a reopen finds.

use super::fixtures::{append, create, find, message, seqs};
use super::ContractBackend;
use crate::storage::{Receipt, StorageError, WriteOp};
use console_protocol::ConversationId;
use std::sync::Arc;

/// Hands `ops` over one after another without waiting for any commit.
async fn submit_all(
    storage: &dyn crate::storage::Storage,
    ops: impl IntoIterator<Item = WriteOp>,
) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    for op in ops {
        receipts.push(storage.submit(op).await.unwrap());
    }
    receipts
}

/// Writes submitted back to back commit in that order: each append needs the one before it,
/// so any reordering would show as a refused seq.
pub(crate) async fn submitted_writes_commit_in_submission_order(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let appends = (2..=50).map(|seq| append(message("c1", seq, &format!("m{seq}"))));
    let ops = std::iter::once(create("c1", None)).chain(appends);
    let receipts = submit_all(&*storage, ops).await;
    for receipt in receipts {
        receipt.await.unwrap().unwrap();
    }
    assert_eq!(seqs(&*storage, "c1").await, (1..=50).collect::<Vec<_>>());
    storage.close().await;
}

/// A refused write among others in flight fails alone: the ones before and after it commit.
pub(crate) async fn a_failing_write_fails_alone(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let ops = [
        create("c1", None),
        append(message("c1", 2, "m2")),
        append(message("c1", 2, "m9")),
        append(message("c1", 3, "m3")),
        create("c1", None),
        append(message("c1", 4, "m4")),
    ];
    let mut outcome = Vec::new();
    for receipt in submit_all(&*storage, ops).await {
        outcome.push(match receipt.await.unwrap() {
            Ok(()) => "ok",
            Err(StorageError::Duplicate(_)) => "duplicate",
            Err(_) => "error",
        });
    }
    assert_eq!(outcome, ["ok", "ok", "duplicate", "ok", "duplicate", "ok"]);
    assert_eq!(seqs(&*storage, "c1").await, [1, 2, 3, 4]);
    let id = ConversationId::from("c1");
    let m2 = find(&*storage, &id, "m2").await;
    assert_eq!(m2.map(|(seq, _)| seq), Some(2));
    assert_eq!(find(&*storage, &id, "m9").await, None);
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 4);
    storage.close().await;
}

/// Fifty tasks each create a conversation and append to it at once; every write commits.
pub(crate) async fn concurrent_writes_from_fifty_tasks_all_commit(backend: &dyn ContractBackend) {
    const TASKS: usize = 50;
    const EVENTS: u64 = 20;
    let storage = backend.open().await;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let storage = Arc::clone(&storage);
        tasks.push(tokio::spawn(async move {
            let id = format!("c{task}");
            let client_ref = format!("ref-{task}");
            storage.write(create(&id, Some(&client_ref))).await?;
            for seq in 2..=EVENTS {
                let op = append(message(&id, seq, &format!("m{seq}")));
                storage.write(op).await?;
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
        let stored = seqs(&*storage, id.as_str()).await;
        assert_eq!(stored, (1..=EVENTS).collect::<Vec<_>>());
    }
    storage.close().await;
}

/// `close` returns only once every write handed over before it is committed; afterwards the
/// storage refuses writes, and a reopen finds everything that was acknowledged.
pub(crate) async fn close_commits_every_submitted_write(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let id = ConversationId::from("c1");
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    storage.ping().await.unwrap();
    let appends = (2..=20).map(|seq| append(message("c1", seq, &format!("m{seq}"))));
    let receipts = submit_all(&*storage, appends).await;
    storage.close().await;
    for mut receipt in receipts {
        let answered = receipt.try_recv();
        assert!(matches!(answered, Ok(Ok(()))), "{answered:?}");
    }
    storage.close().await;
    let late = storage.write(append(message("c1", 21, "m21"))).await;
    assert!(matches!(late, Err(StorageError::Closed)), "{late:?}");
    assert!(storage.ping().await.is_err());

    let storage = backend.open().await;
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 20);
    assert_eq!(seqs(&*storage, "c1").await, (1..=20).collect::<Vec<_>>());
    let m20 = find(&*storage, &id, "m20").await;
    assert_eq!(m20, Some((20, "2026-11-21T10:00:20Z".to_owned())));
    let by_ref = storage.conversation_by_client_ref("ref-1").await.unwrap();
    assert_eq!(by_ref.map(|r| r.id), Some(id));
    storage
        .write(append(message("c1", 21, "m21")))
        .await
        .unwrap();
    assert_eq!(seqs(&*storage, "c1").await, (1..=21).collect::<Vec<_>>());
    storage.close().await;
}
