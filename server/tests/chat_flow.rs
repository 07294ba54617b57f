//! End-to-end flows over real WebSockets against the real server.

mod support;

use support::*;

#[tokio::test]
async fn anonymous_client_is_auto_assigned_and_both_sides_chat() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(q["team"], "station-a");
    assert!(q["resume_token"].as_str().is_some_and(|t| !t.is_empty()));

    let assigned = nurse.recv_type("assigned").await;
    assert_eq!(assigned["conversation"], c.as_str());
    assert_eq!(assigned["service"], "health-chat");
    assert_eq!(assigned["client"]["identified"], false);
    assert_eq!(assigned["questionnaire"]["duration"], "1-3 days");
    let sys = client.recv_where(|v| v["type"] == "system" && v["event"] == "assigned").await.expect("assigned event");
    assert_eq!(sys["detail"]["name"], "Nurse One");
    assert!(sys["detail"].get("professional").is_none(), "client must not see the professional's id");

    let ack = client.say(&c, "I have a fever").await;
    let seq = ack["seq"].as_u64().expect("seq");
    let m = nurse.heard(&c, "I have a fever").await;
    assert_eq!(m["seq"].as_u64(), Some(seq));
    assert_eq!(m["from"]["role"], "client");

    let ack2 = nurse.say(&c, "How high?").await;
    assert_eq!(ack2["seq"].as_u64(), Some(seq + 1));
    let m = client.heard(&c, "How high?").await;
    assert_eq!(m["from"]["name"], "Nurse One");
    assert!(m["from"].get("id").is_none(), "client must not see the professional's id");
}
