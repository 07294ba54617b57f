//! PostgreSQL stopping and starting under a live backend (a private server of the test's).

use super::*;
use crate::storage::postgres::test_db::PrivatePostgres;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Bounds every call here: a backend must answer during an outage, not hang.
async fn bounded<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(15), call)
        .await
        .expect("the backend answers within 15 s")
}

/// One server for both phases: `initdb` costs seconds of CPU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_stopping_and_starting_under_a_live_backend() {
    let server = PrivatePostgres::start();
    let db = TestDatabase::create_on(&server.url()).await;
    let storage = Arc::new(open(&db).await);
    writes_fail_while_postgresql_is_down_and_succeed_again_after(&server, &storage).await;
    no_write_is_acknowledged_that_an_outage_lost(&server, &storage).await;
    storage.close().await;
}

async fn writes_fail_while_postgresql_is_down_and_succeed_again_after(
    server: &PrivatePostgres,
    storage: &PostgresStorage,
) {
    let id = ConversationId::from("c1");
    storage.write(create("c1", None)).await.unwrap();
    storage.ping().await.unwrap();

    server.stop();
    let write = bounded(storage.write(append(message("c1", 2, "m2")))).await;
    assert!(matches!(write, Err(StorageError::Database(_))), "{write:?}");
    assert!(bounded(storage.ping()).await.is_err());
    assert!(bounded(storage.events_after(&id, 0, 10)).await.is_err());

    server.start_again();
    bounded(storage.write(append(message("c1", 2, "m2"))))
        .await
        .unwrap();
    storage.ping().await.unwrap();
    assert_eq!(seqs(storage, "c1").await, [1, 2]);
}

/// A writer appending without pause through a stop and a start: every acknowledged append
/// is stored (an acknowledged seq lost would leave a gap that refuses every later one), the
/// seqs stay gap-free, and writing resumes by itself.
async fn no_write_is_acknowledged_that_an_outage_lost(
    server: &PrivatePostgres,
    storage: &Arc<PostgresStorage>,
) {
    storage.write(create("c2", None)).await.unwrap();
    let acked_up_to = Arc::new(AtomicU64::new(1));
    let done = Arc::new(AtomicBool::new(false));
    let writing = {
        let (storage, acked_up_to, done) = (
            Arc::clone(storage),
            Arc::clone(&acked_up_to),
            Arc::clone(&done),
        );
        tokio::spawn(async move {
            let (mut next, mut acked, mut failed) = (2, Vec::new(), 0);
            while !done.load(Ordering::Relaxed) {
                let event = message("c2", next, &format!("m{next}"));
                match bounded(storage.write(append(event))).await {
                    Ok(()) => {
                        acked.push(next);
                        acked_up_to.store(next, Ordering::Relaxed);
                        next += 1;
                    }
                    // Committed, though its answer was lost with the connection.
                    Err(StorageError::Duplicate(_)) => next += 1,
                    Err(_) => {
                        failed += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            (acked, failed)
        })
    };
    let progress = |from: u64| {
        let acked_up_to = Arc::clone(&acked_up_to);
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while acked_up_to.load(Ordering::Relaxed) < from + 20 {
                assert!(
                    Instant::now() < deadline,
                    "no acknowledged write since seq {from}"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    progress(1).await;
    server.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_restart = acked_up_to.load(Ordering::Relaxed);
    server.start_again();
    progress(before_restart).await;
    done.store(true, Ordering::Relaxed);
    let (acked, failed) = writing.await.unwrap();
    assert!(failed > 0, "the outage was noticed");
    let stored = seqs(storage.as_ref(), "c2").await;
    let last = *acked.last().unwrap();
    assert_eq!(stored, (1..=last).collect::<Vec<_>>());
}
