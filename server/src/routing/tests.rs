//! The router through its handle, on storage that fails on demand.
#![allow(clippy::unwrap_used)]

use super::RouterHandle;
use crate::conversation::tests::{link, next_frame, Setup};
use crate::conversation::{ProfessionalRef, QueueTicket};
use crate::organisation::Organisation;
use crate::storage::{Storage, WriteOp};
use console_protocol::{ConversationStatus, Event, ServerFrame, SystemKind};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A router for the demo organisation over `t`'s hub, starting empty.
fn demo_router(t: &Setup) -> RouterHandle {
    RouterHandle::spawn(
        t.hub.clone(),
        Arc::new(Organisation::demo()),
        t.metrics.clone(),
        Duration::from_secs(120),
        100,
        super::Restored::default(),
        CancellationToken::new(),
    )
}

#[tokio::test]
async fn a_chat_whose_assignment_failed_to_store_goes_back_to_the_queue() {
    let t = Setup::new();
    t.conversation("c1").await;
    let router = demo_router(&t);
    let (nurse, mut rx) = link();
    let me = ProfessionalRef {
        id: "nurse-1".into(),
        name: "Nurse One".into(),
        teams: vec!["station-a".into()],
    };
    router.connect(me, nurse, HashMap::new()).await.unwrap();

    t.storage.fail_next(1, |op| matches!(op, WriteOp::Append { event: Event::System(s), .. } if s.event == SystemKind::Assigned));
    let ticket = QueueTicket {
        conversation: "c1".into(),
        team: "station-a".into(),
        service: "health-chat".into(),
        topic: None,
        identified: false,
        priority: 0,
        queued_at_ms: 0,
        for_professional: None,
        contact_at_ms: 0,
        lang: None,
        due_at_ms: None,
    };
    router.enqueue(ticket).await.unwrap();

    let mut buf = Vec::new();
    loop {
        if let ServerFrame::Assigned(a) = next_frame(&mut rx, &mut buf).await.frame {
            assert_eq!(a.conversation.as_str(), "c1");
            break;
        }
    }
    let status = router.status("nurse-1".into(), None, None).await.unwrap();
    assert_eq!(status.active, Some(1));
    let stored = t.storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(stored.state.status, ConversationStatus::InProgress);
    assert_eq!(
        stored.last_seq, 2,
        "queued, assigned: the failed attempt left no trace"
    );
    let active = t
        .metrics
        .active_conversations
        .with_label_values(&["station-a"])
        .get();
    assert_eq!(active, 1, "the failed attempt is not counted");
}

#[tokio::test]
async fn a_waiting_matter_past_its_reply_deadline_is_counted_as_a_breach_once() {
    let t = Setup::new();
    t.conversation("c1").await;
    let router = demo_router(&t);
    let now_ms = crate::conversation::view::now_ms();
    let ticket = |id: &str, due_at_ms| QueueTicket {
        conversation: id.into(),
        team: "station-b".into(),
        service: "health-chat".into(),
        topic: None,
        identified: true,
        priority: 0,
        queued_at_ms: now_ms,
        for_professional: None,
        contact_at_ms: now_ms,
        lang: None,
        due_at_ms,
    };
    // station-b routes manually and nobody is there: both keep waiting.
    router
        .enqueue(ticket("c1", Some(now_ms - 1_000)))
        .await
        .unwrap();
    router
        .enqueue(ticket("c2", Some(now_ms + 3_600_000)))
        .await
        .unwrap();
    let breaches = |service: &str| {
        t.metrics
            .promise_breaches
            .with_label_values(&[service, "station-b"])
            .get()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while breaches("health-chat") == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(breaches("health-chat"), 1, "the overdue one, once");
    // Several ticks later: still once, and the one not yet due is not counted.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(breaches("health-chat"), 1);
}

#[tokio::test]
async fn an_inbox_deadline_that_passes_is_a_breach_and_a_restarted_one_counts_again() {
    let t = Setup::new();
    let _router = demo_router(&t);
    let now_ms = crate::conversation::view::now_ms();
    let item = |due_at_ms| crate::conversation::InboxItem {
        conversation: "m1".into(),
        team: "station-a".into(),
        service: "health-chat".into(),
        channel: "message".into(),
        topic: None,
        status: ConversationStatus::InProgress,
        assigned_to: Some("nurse-1".into()),
        reserved_for: None,
        identified: true,
        due_at_ms,
        contact_at_ms: now_ms,
        updated_at_ms: now_ms,
    };
    let tell = |due| {
        t.hub.deps.inbox.tell(crate::conversation::InboxChange {
            item: item(due),
            client_wrote: true,
        })
    };
    let breaches = || {
        t.metrics
            .promise_breaches
            .with_label_values(&["health-chat", "station-a"])
            .get()
    };
    let overdue = || {
        t.metrics
            .inbox_overdue
            .with_label_values(&["station-a"])
            .get()
    };
    let wait_for = |want: u64| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while breaches() < want && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    // Taken but not answered, past its deadline: a breach, once, and overdue.
    tell(Some(now_ms - 1_000));
    wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(breaches(), 1);
    assert_eq!(overdue(), 1);
    // Answered: nothing owed, nothing overdue.
    tell(None);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(overdue(), 0);
    // The client wrote again and that deadline passed too: a second breach.
    tell(Some(now_ms - 500));
    wait_for(2).await;
    assert_eq!(breaches(), 2);
}
