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

#[tokio::test]
async fn a_chat_whose_assignment_failed_to_store_goes_back_to_the_queue() {
    let t = Setup::new();
    t.conversation("c1").await;
    let router = RouterHandle::spawn(
        t.hub.clone(),
        Arc::new(Organisation::demo()),
        t.metrics.clone(),
        Duration::from_secs(120),
        100,
        super::Restored::default(),
        CancellationToken::new(),
    );
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
