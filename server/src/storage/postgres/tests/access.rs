//! The access log on PostgreSQL: what no code path may do to it is refused by the database
//! itself, a change made behind the triggers' back is found by the chain, and two nodes
//! appending at once make one chain.

use super::*;
use crate::storage::access::{verify, ChainBreak, GENESIS};
use crate::storage::contract::access::{entry, whole_log};

/// Runs `sql` on the test's database outside the backend; its error, if any.
async fn try_sql(db: &TestDatabase, sql: &str) -> Result<(), String> {
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let result = client.batch_execute(sql).await.map_err(|e| {
        e.as_db_error()
            .map_or(e.to_string(), |d| d.message().to_owned())
    });
    drop(client);
    let _ = connection.await;
    result
}

#[tokio::test]
async fn the_log_refuses_change_and_a_change_behind_its_back_breaks_the_chain() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage
        .append_access(vec![
            entry("nurse-a", Some("subject-1"), Some("c1")),
            entry("nurse-b", Some("subject-1"), Some("c1")),
            entry("nurse-c", Some("subject-1"), Some("c1")),
        ])
        .await
        .unwrap();
    for sql in [
        "UPDATE access_log SET actor = 'nobody' WHERE seq = 2",
        "DELETE FROM access_log WHERE seq = 2",
        "TRUNCATE access_log",
    ] {
        let refused = try_sql(&db, sql).await.unwrap_err();
        assert!(refused.contains("append-only"), "{sql}: {refused}");
    }
    assert_eq!(db.count("SELECT count(*) FROM access_log").await, 3);
    assert!(verify((0, GENESIS.into()), &whole_log(&storage).await).is_ok());

    // A superuser can switch triggers off; the chain still tells.
    try_sql(
        &db,
        "SET session_replication_role = replica; \
         UPDATE access_log SET actor = 'nobody' WHERE seq = 2",
    )
    .await
    .unwrap();
    let all = whole_log(&storage).await;
    assert_eq!(all[1].entry.actor, "nobody");
    assert_eq!(
        verify((0, GENESIS.into()), &all),
        Err(ChainBreak::Changed { seq: 2 })
    );
    try_sql(
        &db,
        "SET session_replication_role = replica; DELETE FROM access_log WHERE seq = 2",
    )
    .await
    .unwrap();
    assert!(matches!(
        verify((0, GENESIS.into()), &whole_log(&storage).await),
        Err(ChainBreak::Gap { seq: 3, .. })
    ));
    storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_appending_at_once_make_one_chain() {
    let db = TestDatabase::create().await;
    let nodes = [Arc::new(open(&db).await), Arc::new(open(&db).await)];
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for t in 0..10 {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..5 {
                    let actor = format!("nurse-{n}-{t}-{i}");
                    node.append_access(vec![entry(&actor, None, None)])
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = whole_log(nodes[0].as_ref()).await;
    assert_eq!(all.len(), 100);
    assert_eq!(verify((0, GENESIS.into()), &all).unwrap().0, 100);
    for node in nodes {
        node.close().await;
    }
}
