//! The cluster's bookkeeping against a real PostgreSQL (a fresh database per test).
#![allow(clippy::unwrap_used)]

use super::lease::{self, Holding};
use super::nodes;
use super::secrets::shared_secret;
use super::{ClusterDb, Reconnecting};
use crate::storage::postgres::test_db::TestDatabase;
use crate::storage::postgres::PostgresStorage;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A fresh database with the schema applied (the storage backend migrates it).
async fn database() -> (TestDatabase, ClusterDb) {
    let db = TestDatabase::create().await;
    let storage =
        PostgresStorage::connect(db.url(), crate::metrics::Metrics::new().storage.clone())
            .await
            .unwrap();
    crate::storage::Storage::close(&storage).await;
    let cluster = ClusterDb::new(db.url()).unwrap();
    (db, cluster)
}

fn names(set: &std::collections::BTreeSet<String>) -> Vec<&str> {
    set.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn a_node_not_seen_lately_is_dead_and_a_clean_stop_says_so_at_once() {
    let (db, cluster) = database().await;
    let mut a = Reconnecting::new(cluster.clone());
    let mut b = Reconnecting::new(cluster.clone());
    nodes::beat(&mut b, "b", "b1").await.unwrap();
    assert_eq!(
        names(&nodes::beat(&mut a, "a", "a1").await.unwrap()),
        ["a", "b"]
    );
    db.execute("UPDATE nodes SET seen_at = now() - interval '6 seconds' WHERE id = 'b'")
        .await;
    assert_eq!(
        names(&nodes::beat(&mut a, "a", "a1").await.unwrap()),
        ["a"],
        "b missed five beats"
    );
    nodes::beat(&mut b, "b", "b2").await.unwrap();
    assert_eq!(
        names(&nodes::beat(&mut a, "a", "a1").await.unwrap()),
        ["a", "b"],
        "b is back"
    );

    let cancel = CancellationToken::new();
    let (mut view, _task) = nodes::spawn(cluster.clone(), "c".into(), "c1".into(), cancel.clone());
    tokio::time::timeout(
        Duration::from_secs(5),
        view.wait_for(|v| v.live.contains("c")),
    )
    .await
    .unwrap()
    .unwrap();
    cancel.cancel();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while nodes::beat(&mut a, "a", "a1").await.unwrap().contains("c") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a stopped node is dead at once"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_and_every_takeover_a_higher_epoch() {
    let (db, cluster) = database().await;
    let mut a = Reconnecting::new(cluster.clone());
    let mut b = Reconnecting::new(cluster.clone());
    let first = lease::acquire(&mut a, "router", "a")
        .await
        .unwrap()
        .expect("free");
    assert_eq!(
        lease::acquire(&mut b, "router", "b").await.unwrap(),
        None,
        "held by a"
    );
    assert!(lease::renew(&mut a, "router", "a", first).await.unwrap());
    assert!(
        !lease::renew(&mut b, "router", "b", first).await.unwrap(),
        "not b's"
    );

    db.execute("UPDATE leases SET expires_at = now() - interval '1 second'")
        .await;
    let second = lease::acquire(&mut b, "router", "b")
        .await
        .unwrap()
        .expect("expired");
    assert!(second > first);
    assert!(
        !lease::renew(&mut a, "router", "a", first).await.unwrap(),
        "a paused holder that wakes up has lost it"
    );
    lease::release(&mut a, "router", "a", first).await.unwrap();
    assert_eq!(
        lease::acquire(&mut a, "router", "a").await.unwrap(),
        None,
        "a's late release changed nothing"
    );
    lease::release(&mut b, "router", "b", second).await.unwrap();
    let third = lease::acquire(&mut a, "router", "a")
        .await
        .unwrap()
        .expect("released");
    assert!(third > second);
}

#[tokio::test]
async fn when_the_holder_stops_another_node_takes_the_lease() {
    let (_db, cluster) = database().await;
    let stop_a = CancellationToken::new();
    let stop_b = CancellationToken::new();
    let mut a = lease::spawn(cluster.clone(), "router", "a".into(), stop_a.clone());
    let wait = Duration::from_secs(5);
    tokio::time::timeout(wait, a.wait_for(|h| matches!(h, Holding::Yes { .. })))
        .await
        .unwrap()
        .unwrap();
    let mut b = lease::spawn(cluster.clone(), "router", "b".into(), stop_b.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(*b.borrow(), Holding::No, "one holder at a time");
    stop_a.cancel();
    tokio::time::timeout(wait, b.wait_for(|h| matches!(h, Holding::Yes { epoch: 2 })))
        .await
        .unwrap()
        .unwrap();
    stop_b.cancel();
}

#[tokio::test]
async fn every_node_reads_the_secret_the_first_one_made() {
    let (_db, cluster) = database().await;
    let (a, b) = tokio::join!(
        shared_secret(&cluster, "server_key", "from-a"),
        shared_secret(&cluster, "server_key", "from-b"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert!(a == "from-a" || a == "from-b");
    assert_eq!(
        shared_secret(&cluster, "server_key", "later")
            .await
            .unwrap(),
        a
    );
}

/// The primary's writes are fenced by its lease in the write's own transaction: a node that
/// lost the lease (here: paused past its expiry while another node took over) has every later
/// write refused, and a node that never held it cannot write at all.
#[tokio::test]
async fn writes_commit_only_while_their_node_holds_the_primary_lease() {
    use crate::storage::contract::fixtures::{append, create, message};
    use crate::storage::postgres::TermFence;
    use crate::storage::{Storage, StorageError};
    let (db, cluster) = database().await;
    let storage =
        PostgresStorage::connect(db.url(), crate::metrics::Metrics::new().storage.clone())
            .await
            .unwrap();
    let term = |holder: &str, epoch| TermFence::Lease {
        name: "primary",
        holder: holder.into(),
        epoch,
    };
    storage.set_term(term("a", None));
    let not_primary = storage.write(create("c1", None)).await;
    assert!(
        matches!(not_primary, Err(StorageError::Conflict(_))),
        "{not_primary:?}"
    );

    let mut a = Reconnecting::new(cluster.clone());
    let epoch = lease::acquire(&mut a, "primary", "a")
        .await
        .unwrap()
        .unwrap();
    storage.set_term(term("a", Some(epoch)));
    storage.write(create("c1", None)).await.unwrap();
    storage.write(append(message("c1", 2, "m2"))).await.unwrap();

    // "a" is paused: its lease runs out and "b" takes over.
    db.execute("UPDATE leases SET expires_at = now() - interval '1 second'")
        .await;
    let mut b = Reconnecting::new(cluster.clone());
    let taken = lease::acquire(&mut b, "primary", "b").await.unwrap();
    assert_eq!(taken, Some(epoch + 1));
    let late = storage.write(append(message("c1", 3, "late"))).await;
    assert!(matches!(late, Err(StorageError::Conflict(_))), "{late:?}");
    let stored = storage.events_after(&"c1".into(), 0, 10).await.unwrap();
    assert_eq!(stored.len(), 2, "the late write left nothing: {stored:?}");

    // Its own epoch again after the expiry counts for nothing either.
    db.execute(
        "UPDATE leases SET holder = 'a', epoch = $1 WHERE name = 'primary'"
            .replace("$1", &epoch.to_string())
            .as_str(),
    )
    .await;
    db.execute("UPDATE leases SET expires_at = now() - interval '1 second'")
        .await;
    let expired = storage.write(append(message("c1", 3, "expired"))).await;
    assert!(
        matches!(expired, Err(StorageError::Conflict(_))),
        "{expired:?}"
    );
    storage.close().await;
}

/// A write handed over in one term of a node never commits in a later term of the same node:
/// a node that lost the lease and took it again (its lease ran out while it was paused, and
/// the node that took over was slow to renew) refuses what its ended term's actors queued.
#[tokio::test]
async fn a_write_of_an_ended_term_does_not_commit_in_the_next() {
    use crate::storage::contract::fixtures::{append, create, message};
    use crate::storage::postgres::TermFence;
    use crate::storage::{Storage, StorageError};
    let (db, cluster) = database().await;
    let storage =
        PostgresStorage::connect(db.url(), crate::metrics::Metrics::new().storage.clone())
            .await
            .unwrap();
    let term = |epoch| TermFence::Lease {
        name: "primary",
        holder: "a".into(),
        epoch: Some(epoch),
    };
    let mut a = Reconnecting::new(cluster.clone());
    let first = lease::acquire(&mut a, "primary", "a")
        .await
        .unwrap()
        .unwrap();
    storage.set_term(term(first));
    storage.write(create("c1", None)).await.unwrap();

    // Another session holds the lease row: the writer's next group waits in its term check.
    let blocker = cluster.connect().await.unwrap();
    blocker
        .batch_execute("BEGIN; SELECT 1 FROM leases WHERE name = 'primary' FOR UPDATE")
        .await
        .unwrap();
    let waiting = storage
        .submit(append(message("c1", 2, "m2")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Queued behind it, still in the first term.
    let queued = storage
        .submit(append(message("c1", 2, "m2 again")))
        .await
        .unwrap();
    // The node's term ends and it takes the lease again, with the next epoch.
    let second = first + 1;
    storage.set_term(term(second));
    blocker
        .batch_execute(&format!(
            "UPDATE leases SET epoch = {second}, expires_at = now() + interval '30 seconds' \
             WHERE name = 'primary'; COMMIT"
        ))
        .await
        .unwrap();
    let waited = waiting.await.unwrap();
    assert!(
        matches!(waited, Err(StorageError::Conflict(_))),
        "{waited:?}"
    );
    let late = queued.await.unwrap();
    assert!(matches!(late, Err(StorageError::Conflict(_))), "{late:?}");
    let stored = storage.events_after(&"c1".into(), 0, 10).await.unwrap();
    assert_eq!(stored.len(), 1, "nothing of the ended term: {stored:?}");
    // The new term's own writes commit.
    storage.write(append(message("c1", 2, "m2"))).await.unwrap();
    storage.close().await;
}
