//! The contract for the outbox: notifications stored in the same commit as the event they
//! announce (and only with it), the SMS of a thread only once, and what is due, sent and
//! retried.

use super::fixtures::{create, message};
use super::ContractBackend;
use crate::storage::{Notification, WriteOp};

fn notification(id: &str, channel: &str, first_of_channel: bool) -> Notification {
    Notification {
        id: id.into(),
        conversation: "c1".into(),
        channel: channel.into(),
        recipient: "client@example.org".into(),
        subject: "New message".into(),
        body: "You have a new message.".into(),
        created_at_ms: 1_000,
        first_of_channel,
    }
}

fn notify(seq: u64, msg: &str, notifications: Vec<Notification>) -> WriteOp {
    WriteOp::AppendNotify {
        event: message("c1", seq, msg),
        state: None,
        notifications,
        sms: Vec::new(),
        records: Vec::new(),
    }
}

/// Stored with their event, due from their creation, once per thread for `first_of_channel`;
/// a refused event stores none; sent ones and given-up ones are no longer due, retried ones are
/// due again at their next attempt.
pub(crate) async fn notifications_are_stored_with_their_event(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    storage
        .write(notify(
            2,
            "m2",
            vec![
                notification("n1", "email", false),
                notification("s1", "sms", true),
            ],
        ))
        .await
        .unwrap();
    // The event is refused (seq 2 again): its notification is not stored.
    assert!(storage
        .write(notify(
            2,
            "m2-again",
            vec![notification("n-lost", "email", false)]
        ))
        .await
        .is_err());
    storage
        .write(notify(
            3,
            "m3",
            vec![
                notification("n2", "email", false),
                notification("s2", "sms", true),
            ],
        ))
        .await
        .unwrap();
    let ids = |items: Vec<crate::storage::OutboxItem>| -> Vec<String> {
        items.into_iter().map(|i| i.notification.id).collect()
    };
    let due = storage.outbox_due(1_000, 10).await.unwrap();
    assert_eq!(due[0].notification.recipient, "client@example.org");
    assert_eq!(due[0].attempts, 0);
    assert_eq!(ids(due), ["n1", "n2", "s1"], "the thread's SMS once");
    assert!(storage.outbox_due(999, 10).await.unwrap().is_empty());
    assert_eq!(storage.outbox_due(1_000, 1).await.unwrap().len(), 1);

    storage
        .write(WriteOp::OutboxSent {
            id: "n1".into(),
            at_ms: 2_000,
        })
        .await
        .unwrap();
    storage
        .write(WriteOp::OutboxRetry {
            id: "n2".into(),
            attempts: 1,
            next_attempt_ms: 5_000,
            error: "refused".into(),
            give_up: false,
        })
        .await
        .unwrap();
    storage
        .write(WriteOp::OutboxRetry {
            id: "s1".into(),
            attempts: 1,
            next_attempt_ms: 5_000,
            error: "permanent".into(),
            give_up: true,
        })
        .await
        .unwrap();
    assert!(storage.outbox_due(4_999, 10).await.unwrap().is_empty());
    let again = storage.outbox_due(5_000, 10).await.unwrap();
    assert_eq!(ids(again.clone()), ["n2"]);
    assert_eq!(again[0].attempts, 1);
    storage.close().await;
}
