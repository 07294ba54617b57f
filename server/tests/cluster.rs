//! A node of a cluster (PostgreSQL + Redis) publishes what its conversations commit, for the
//! other nodes: every event once, in seq order, on the conversation's own channel, with the
//! new state when the event changed it.

mod support;

use luukku::bus::message::Published;
use luukku::bus::{Inbound, RedisBus};
use serde_json::json;
use support::{conv, TestServer};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn every_committed_event_is_published_once_in_order_on_its_conversation_channel() {
    let database = support::postgres::fresh_database().await;
    let prefix = support::redis::fresh_prefix().replace(':', "-");
    let redis = support::redis::shared_url();
    let (url, p) = (redis.clone(), prefix.clone());
    let s = TestServer::start_with(|c| {
        c.cluster.database_url = Some(database);
        c.cluster.redis_url = Some(url);
        c.cluster.redis_prefix = Some(p);
        c.cluster.node_id = Some("node-a".into());
    })
    .await;
    let (listener, mut inbound) =
        RedisBus::connect(&redis, &prefix, "listener", CancellationToken::new())
            .await
            .expect("redis answers");

    let (mut patient, queued) = s.started("health-chat", "station-a").await;
    let c = conv(&queued);
    listener
        .subscribe(listener.channels.conversation(&c))
        .await
        .expect("subscribed");
    let mut acked = Vec::new();
    for n in 0..20 {
        let ack = patient.say(&c, &format!("message {n}")).await;
        acked.push(ack["seq"].as_u64().expect("seq"));
    }
    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, c);
    nurse.say(&c, "hello from the nurse").await;

    let mut seen = Vec::new();
    let mut assigned_state = None;
    while seen.len() < 22 {
        let item = tokio::time::timeout(support::WAIT, inbound.recv())
            .await
            .expect("a publication in time")
            .expect("bus running");
        let Inbound::Message { channel, payload } = item else {
            panic!("unexpected {item:?}");
        };
        assert_eq!(channel, listener.channels.conversation(&c));
        let p = Published::decode(&payload).expect("a publication");
        assert_eq!(p.node, "node-a");
        let e = serde_json::to_value(&p.event).expect("json");
        if e["event"] == "assigned" {
            assigned_state = p.state.clone();
        } else if e["type"] == "message" {
            assert_eq!(p.state, None, "a message changes no state");
        }
        seen.push(p.event.seq());
    }
    let first = seen[0];
    assert_eq!(
        seen,
        (first..first + 22).collect::<Vec<_>>(),
        "each seq once, in order"
    );
    assert!(
        acked.iter().all(|s| seen.contains(s)),
        "every acked message went out"
    );
    let state = assigned_state.expect("the assignment carries the state");
    assert_eq!(
        state.assigned_to.as_ref().map(|p| p.as_str()),
        Some("nurse-1")
    );
    assert_eq!(
        serde_json::to_value(state.status).expect("json"),
        json!("in_progress")
    );
}
