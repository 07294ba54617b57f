//! The bus between nodes over a real Redis: per-channel delivery in order, reference-counted
//! subscriptions, and a Redis restart that is noticed and reported so the gap can be filled.

mod support;

use bytes::Bytes;
use luukku::bus::{Inbound, RedisBus};
use std::sync::Arc;
use support::redis::{fresh_prefix, shared_url, PrivateRedis};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn node(url: &str, prefix: &str, name: &str) -> (Arc<RedisBus>, mpsc::Receiver<Inbound>) {
    RedisBus::connect(url, prefix, name, CancellationToken::new())
        .await
        .expect("redis answers")
}

async fn next(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("something arrives in time")
        .expect("bus running")
}

async fn next_message(rx: &mut mpsc::Receiver<Inbound>) -> (String, String) {
    match next(rx).await {
        Inbound::Message { channel, payload } => {
            (channel, String::from_utf8(payload.to_vec()).expect("utf-8"))
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_node_receives_in_order_only_the_conversations_it_subscribed_to() {
    let prefix = fresh_prefix();
    let (a, mut a_rx) = node(&shared_url(), &prefix, "a").await;
    let (b, _b_rx) = node(&shared_url(), &prefix, "b").await;
    let c1 = a.channels.conversation("c1");
    a.subscribe(c1.clone()).await.expect("subscribed");
    for n in 0..200 {
        b.publish(
            b.channels.conversation("c2"),
            Bytes::from(format!("other {n}")),
        );
        b.publish(b.channels.conversation("c1"), Bytes::from(n.to_string()));
    }
    for n in 0..200 {
        assert_eq!(next_message(&mut a_rx).await, (c1.clone(), n.to_string()));
    }
    assert_eq!(a.channels.conversation_of(&c1), Some("c1"));
    assert!(a_rx.try_recv().is_err(), "nothing of c2 reached node a");
}

#[tokio::test]
async fn a_channel_stays_subscribed_until_its_last_holder_lets_go() {
    let prefix = fresh_prefix();
    let (a, mut a_rx) = node(&shared_url(), &prefix, "a").await;
    let (b, _b_rx) = node(&shared_url(), &prefix, "b").await;
    let ch = a.channels.conversation("c1");
    a.subscribe(ch.clone()).await.expect("first holder");
    a.subscribe(ch.clone()).await.expect("second holder");
    a.unsubscribe(ch.clone()).await;
    b.publish(ch.clone(), Bytes::from("still here"));
    assert_eq!(next_message(&mut a_rx).await.1, "still here");
    a.unsubscribe(ch.clone()).await;
    a.ping().await.expect("the unsubscribe went through");
    b.publish(ch.clone(), Bytes::from("gone"));
    b.publish(b.channels.node("a"), Bytes::from("not subscribed either"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        a_rx.try_recv().is_err(),
        "no message after the last unsubscribe"
    );
}

#[tokio::test]
async fn a_redis_restart_is_reported_and_delivery_resumes_on_every_channel() {
    let mut redis = PrivateRedis::start();
    let prefix = fresh_prefix();
    let (a, mut a_rx) = node(&redis.url(), &prefix, "a").await;
    let (b, _b_rx) = node(&redis.url(), &prefix, "b").await;
    let ch = a.channels.conversation("c1");
    a.subscribe(ch.clone()).await.expect("subscribed");
    b.publish(ch.clone(), Bytes::from("before"));
    assert_eq!(next_message(&mut a_rx).await.1, "before");

    redis.kill();
    assert_eq!(next(&mut a_rx).await, Inbound::Lost);
    assert!(a.ping().await.is_err(), "not ready while Redis is down");
    redis.restart();
    assert_eq!(next(&mut a_rx).await, Inbound::Resubscribed);
    a.ping().await.expect("ready again");
    b.publish(ch.clone(), Bytes::from("after"));
    assert_eq!(next_message(&mut a_rx).await.1, "after");
}

#[tokio::test]
async fn a_silent_subscription_is_noticed_by_its_probe() {
    let redis = PrivateRedis::start();
    let prefix = fresh_prefix();
    let (a, mut a_rx) = node(&redis.url(), &prefix, "a").await;
    let ch = a.channels.conversation("c1");
    a.subscribe(ch.clone()).await.expect("subscribed");
    redis.signal("STOP");
    assert_eq!(next(&mut a_rx).await, Inbound::Lost, "no probe came back");
    redis.signal("CONT");
    assert_eq!(next(&mut a_rx).await, Inbound::Resubscribed);
    a.publish(ch.clone(), Bytes::from("after"));
    assert_eq!(next_message(&mut a_rx).await.1, "after");
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_at_connect() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("redis://127.0.0.1:{port}");
    let err = RedisBus::connect(&url, "x", "a", CancellationToken::new())
        .await
        .err()
        .expect("nothing listens there");
    assert!(err.to_string().starts_with("redis:"), "{err}");
}
