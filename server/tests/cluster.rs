//! Races that a cluster must decide once, with the sockets spread over three nodes (two of them
//! doors that tunnel to the primary): 50 concurrent `accept`s of one waiting chat, and 200 chats
//! routed automatically to a team whose professionals have a few places each.

mod support;

use futures_util::future::join_all;
use luukku::Config;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use support::{conv, TestServer};

/// Three nodes of one cluster on a fresh database and Redis prefix (whatever the run's backend).
async fn three_nodes() -> TestServer {
    three_nodes_with(|_| {}).await
}

async fn three_nodes_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = support::temp_dir();
    let mut config = Config::demo(&dir);
    tweak(&mut config);
    config.cluster.database_url = Some(support::postgres::fresh_database().await);
    config.cluster.redis_url = Some(support::redis::shared_url());
    config.cluster.redis_prefix = Some(support::redis::fresh_prefix().replace(':', "-"));
    TestServer::start_cluster(config, 3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_accepts_of_one_chat_through_three_nodes_have_one_winner() {
    let s = three_nodes().await;
    // station-b routes manually: nurse-3 and nurse-4 take chats with `accept`.
    let mut consoles = Vec::new();
    for i in 0..50 {
        let who = if i % 2 == 0 { "nurse-3" } else { "nurse-4" };
        consoles.push(s.console(who).await);
    }
    let (_patient, q) = s.started("stations-chat", "station-b").await;
    let c = conv(&q);
    let replies = join_all(consoles.iter_mut().enumerate().map(|(i, console)| {
        let c = c.clone();
        async move {
            console
                .request(
                    json!({"type": "accept", "conversation": c}),
                    &format!("accept-{i}"),
                )
                .await
        }
    }))
    .await;
    let winners: Vec<_> = replies.iter().filter(|r| r["type"] == "assigned").collect();
    assert_eq!(winners.len(), 1, "{replies:?}");
    assert!(
        replies
            .iter()
            .filter(|r| r["type"] != "assigned")
            .all(|r| r["type"] == "error"),
        "every other accept is refused: {replies:?}"
    );
    let assigned = s
        .stored_events(&c)
        .await
        .iter()
        .filter(|e| e["type"] == "system" && e["event"] == "assigned")
        .count();
    assert_eq!(assigned, 1, "the chat was assigned once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_chats_routed_through_three_nodes_put_nobody_over_capacity() {
    let s = three_nodes().await;
    // station-a: nurse-1 (4 places), nurse-2 (3), nurse-4 (4).
    let capacity: HashMap<&str, usize> = [("nurse-1", 4), ("nurse-2", 3), ("nurse-4", 4)].into();
    let mut nurses = Vec::new();
    for who in capacity.keys() {
        nurses.push((*who, s.console(who).await));
    }
    let mut patients = Vec::new();
    for _ in 0..200 {
        patients.push(s.client().await);
    }
    let queued = join_all(
        patients
            .iter_mut()
            .map(|p| async move { p.start("health-chat", "station-a").await }),
    )
    .await;
    let mut waiting: Vec<String> = queued.iter().map(conv).collect();
    waiting.sort();
    waiting.dedup();
    assert_eq!(waiting.len(), 200, "200 chats");

    let mut taken = HashMap::new();
    for (who, nurse) in &mut nurses {
        let mut chats = Vec::new();
        while let Some(f) = nurse.next_within(Duration::from_secs(2)).await {
            if f["type"] == "assigned" {
                chats.push(f["conversation"].as_str().expect("id").to_owned());
            }
        }
        assert!(
            chats.len() <= capacity[who],
            "{who} got {} chats with {} places",
            chats.len(),
            capacity[who]
        );
        taken.insert(*who, chats);
    }
    let mut all: Vec<&String> = taken.values().flatten().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a chat was given to two nurses");
    assert_eq!(total, 11, "every place was filled: {taken:?}");
}

/// A door counts the sockets it holds (`luukku_tunnelled_connections`), the primary the
/// sessions it runs for them (`luukku_connections`), and a door applies `max_connections` to
/// what it holds.
#[tokio::test]
async fn a_door_counts_and_limits_the_sockets_it_holds() {
    let s = three_nodes_with(|c| c.limits.max_connections = 2).await;
    let (primary, door) = (s.addr, s.others[0].addr);
    let url = format!("ws://{door}/ws/client");
    let mut a = support::Conn::connect(&url, false).await;
    a.send(json!({"type": "hello"})).await;
    a.recv_type("welcome").await;
    let mut b = support::Conn::connect(&url, false).await;
    b.send(json!({"type": "hello"})).await;
    b.recv_type("welcome").await;
    let held = r#"luukku_tunnelled_connections{endpoint="client"}"#;
    let run = r#"luukku_connections{endpoint="client"}"#;
    let door_metrics = support::http_get(door, "/metrics").await.1;
    assert_eq!(support::metric_value(&door_metrics, held), 2.0);
    assert_eq!(support::metric_value(&door_metrics, run), 0.0);
    let primary_metrics = support::http_get(primary, "/metrics").await.1;
    assert_eq!(support::metric_value(&primary_metrics, run), 2.0);

    let third = support::Conn::try_connect(&url, false, None).await;
    assert!(third.is_err(), "a third socket on a door limited to 2");
    drop(a);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = support::http_get(door, "/metrics").await.1;
        if support::metric_value(&m, held) == 1.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the closed socket is still counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(b);
}

/// Dashboards read the queues from whichever node runs them: the primary says it is the
/// primary and reports the queue; the doors report 0 for both, so `max by (team)` over the
/// nodes is the queue and `sum(luukku_cluster_primary)` is 1.
#[tokio::test]
async fn only_the_primary_reports_the_queues_and_calls_itself_primary() {
    let s = three_nodes().await;
    let (_patient, _q) = s.started("health-chat", "station-a").await;
    let queue = r#"luukku_queue_length{team="station-a"}"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = support::http_get(s.addr, "/metrics").await.1;
        if support::metric_value(&m, queue) == 1.0 {
            assert_eq!(support::metric_value(&m, "luukku_cluster_primary"), 1.0);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the primary never reported the queue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for door in &s.others {
        let m = support::http_get(door.addr, "/metrics").await.1;
        assert_eq!(
            support::metric_value(&m, "luukku_cluster_primary"),
            0.0,
            "{}",
            door.addr
        );
        assert_eq!(support::metric_value(&m, queue), 0.0, "{}", door.addr);
        let up = r#"luukku_dependency_up{dependency="bus"}"#;
        assert_eq!(support::metric_value(&m, up), 1.0, "{}", door.addr);
    }
}
