use super::*;
use crate::accounting::Tally;
use console_protocol::{Ack, Author, ErrorCode, ErrorFrame, MessageEvent, StatusUpdate};

fn key(conv: u32, dir: Direction) -> StreamKey {
    StreamKey { conv, dir }
}

fn conv(id: &str) -> ConversationId {
    ConversationId::from(id)
}

#[test]
fn plan_sends_in_time_order_at_the_rate() {
    let period = 100_000_000;
    let streams = vec![
        PlannedStream::spread(conv("a"), key(0, Direction::ClientToProfessional), period),
        PlannedStream::spread(conv("b"), key(1, Direction::ClientToProfessional), period),
        PlannedStream::spread(conv("c"), key(2, Direction::ClientToProfessional), period),
    ];
    let plan = SendPlan::new(streams, 5_000, 10.0, Duration::from_secs(1), 0);
    let sends: Vec<_> = plan.sends().collect();
    assert_eq!(sends.len(), 30);
    assert!(sends.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
    assert!(sends
        .iter()
        .all(|&(due, _, _)| (5_000..1_000_005_000).contains(&due)));
    for i in 0..3 {
        let counters: Vec<u64> = sends.iter().filter(|s| s.1 == i).map(|s| s.2).collect();
        assert_eq!(counters, (0..10).collect::<Vec<_>>());
    }
}

#[test]
fn phases_spread_over_one_period() {
    let period = 1_000_000;
    let phases: Vec<u64> = (0..100)
        .map(|c| PlannedStream::spread(conv("x"), key(c, Direction::ProfessionalToClient), period))
        .map(|s| s.phase_ns)
        .collect();
    assert!(phases.iter().all(|&p| p < period));
    let early = phases.iter().filter(|&&p| p < period / 2).count();
    assert!(
        (35..=65).contains(&early),
        "{early} of 100 in the first half"
    );
}

fn message(conversation: &str, role: Role, body: &str) -> ServerFrame {
    ServerFrame::Message(MessageEvent {
        conversation: conv(conversation),
        seq: 1,
        at: "2026-11-21T10:00:00Z".into(),
        from: Author {
            role,
            id: None,
            name: None,
        },
        body: body.into(),
        client_msg_id: None,
        attachments: Vec::new(),
        sms: None,
    })
}

#[test]
fn recorder_matches_acks_and_counts_deliveries() {
    let clock = RunClock::start();
    let pending = Arc::new(PendingAcks::default());
    let owns: Ownership = Box::new(|c: &ConversationId| c.as_str() != "not-mine");
    let mut rec = TrafficRecorder::new(Role::Client, owns, clock, pending.clone());
    let sent_key = key(4, Direction::ProfessionalToClient);
    let id = ClientMsgId::from("m-1");
    pending.insert(
        id.clone(),
        Pending {
            key: sent_key,
            n: 0,
            due: clock.at(0),
        },
    );
    let ack = |id: &str| {
        ServerFrame::Ack(Ack {
            conversation: conv("c4"),
            client_msg_id: Some(ClientMsgId::from(id)),
            seq: Some(2),
            at: None,
        })
    };
    let later = clock.at(3_000_000);
    assert!(rec.on_frame(&ack("m-1"), later).is_none());
    assert!(
        rec.on_frame(&ack("m-1"), later).is_none(),
        "second ack is unmatched"
    );
    rec.on_frame(&message("c4", Role::Client, "c=4;n=0;t=1000000"), later);
    rec.on_frame(&message("c4", Role::Client, "c=4;n=0;t=1000000"), later);
    rec.on_frame(
        &message("c4", Role::Professional, "c=4;n=1;t=1000000"),
        later,
    );
    rec.on_frame(&message("not-mine", Role::Client, "c=9;n=0;t=1"), later);
    rec.on_frame(&message("c4", Role::Client, "hello"), later);
    let error = ServerFrame::Error(ErrorFrame {
        code: ErrorCode::RateLimited,
        message: "slow down".into(),
        conversation: None,
        fields: None,
    });
    assert!(rec.on_frame(&error, later).is_none());
    let status = ServerFrame::Status(StatusUpdate::default());
    assert_eq!(rec.on_frame(&status, later), Some(&status));

    let stats = rec.stats;
    assert_eq!(stats.ack.summary().count, 1);
    assert!((stats.ack.summary().p50_ms - 3.0).abs() < 0.01);
    assert_eq!(stats.e2e.summary().count, 2);
    assert!((stats.e2e.summary().p50_ms - 2.0).abs() < 0.01);
    let errors: Vec<(&str, u64)> = stats.errors.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        errors,
        [
            ("foreign_body", 1),
            ("rate_limited", 1),
            ("unmatched_ack", 1)
        ]
    );
    let mut ledger = stats.ledger;
    ledger.sent.insert(sent_key, 1);
    let tally = Tally::merge(&ledger);
    // Conversation 4 client→professional was delivered twice; our own message was acked
    // but (in this one-sided test) never delivered.
    assert_eq!(
        (tally.delivered, tally.duplicated, tally.acked, tally.lost),
        (1, 1, 1, 1)
    );
}
