//! The contract for retention: a conversation is purged whole (events, documents, rating,
//! notifications, SMS) only when complete, closed before the cut-off and held by nothing;
//! legal holds are placed once, released, and kept as history; the access log is pruned from
//! its start behind an anchor so that what stays still verifies, and nothing else of it can be
//! deleted; handled patients' SMS are removed past a cut-off.

use super::access::entry;
use super::fixtures::{create, message, queued, seqs, system};
use super::ContractBackend;
use crate::storage::access::verify_stored;
use crate::storage::retention::LegalHold;
use crate::storage::{
    Attachment, ConversationState, InboundSms, Notification, SmsOut, StorageError, WriteOp,
};
use console_protocol::{ConversationId, ConversationStatus, SystemKind};

fn closed() -> ConversationState {
    ConversationState {
        status: ConversationStatus::Complete,
        ..queued()
    }
}

/// `id` created, given a message with a notification, an SMS and a document, rated, closed.
async fn closed_conversation(storage: &dyn crate::storage::Storage, id: &str) {
    storage.write(create(id, None)).await.unwrap();
    let notification = Notification {
        id: format!("n-{id}"),
        conversation: id.into(),
        channel: "email".into(),
        recipient: "client@example.org".into(),
        subject: "New message".into(),
        body: "You have a new message.".into(),
        created_at_ms: 1_000,
        first_of_channel: false,
    };
    let sms = SmsOut {
        id: format!("s-{id}"),
        conversation: id.into(),
        seq: 2,
        recipient: "+358401234567".into(),
        body: "Reply".into(),
        created_at_ms: 1_000,
    };
    storage
        .write(WriteOp::AppendNotify {
            event: message(id, 2, "m2"),
            state: None,
            notifications: vec![notification],
            sms: vec![sms],
            records: Vec::new(),
        })
        .await
        .unwrap();
    storage
        .put_attachment(Attachment {
            id: format!("d-{id}"),
            conversation: id.into(),
            client_msg_id: "m2".into(),
            name: "results.pdf".into(),
            mime: "application/pdf".into(),
            sha256: "ab".repeat(32),
            data: b"%PDF-1.4".to_vec(),
            uploaded_at_ms: 1_000,
        })
        .await
        .unwrap();
    storage
        .write(WriteOp::AppendNotify {
            event: system(id, 3, SystemKind::Closed),
            state: Some(closed()),
            notifications: Vec::new(),
            sms: Vec::new(),
            records: vec![crate::storage::record::RecordDelivery {
                id: format!("r-{id}"),
                conversation: id.into(),
                close_seq: 3,
                created_at_ms: 1_000,
            }],
        })
        .await
        .unwrap();
    storage
        .write(WriteOp::Feedback {
            conversation: id.into(),
            rating: 5,
            comment: None,
            at_ms: 2_000,
        })
        .await
        .unwrap();
}

fn purge(id: &str, closed_before_ms: i64) -> WriteOp {
    WriteOp::Purge {
        conversation: id.into(),
        closed_before_ms,
    }
}

fn hold(id: &str) -> LegalHold {
    LegalHold {
        conversation: id.into(),
        set_by: "dpo-1".into(),
        reason: "complaint 2026/17".into(),
        set_at_ms: 5_000,
        released_by: None,
        released_at_ms: None,
    }
}

pub(crate) async fn a_conversation_past_its_period_is_purged_whole_unless_held(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    let service = "health-chat".into();
    let before_close = crate::storage::now_ms() - 1;
    closed_conversation(&*storage, "c1").await;
    closed_conversation(&*storage, "c2").await;
    // c3 is still open: never due, whatever the cut-off.
    storage.write(create("c3", None)).await.unwrap();
    let after_close = crate::storage::now_ms() + 60_000;

    // Closed after the cut-off: not due, the purge changes nothing.
    let due = storage
        .retention_due(&service, before_close, 10)
        .await
        .unwrap();
    assert!(due.is_empty(), "{due:?}");
    let refused = storage.write(purge("c1", before_close)).await;
    assert!(
        matches!(refused, Err(StorageError::NotFound(_))),
        "{refused:?}"
    );
    assert_eq!(seqs(&*storage, "c1").await, vec![1, 2, 3]);

    // Later both are due; a hold keeps c2 (and is counted), an open one is never due.
    storage.set_legal_hold(hold("c2")).await.unwrap();
    let due = storage
        .retention_due(&service, after_close, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![ConversationId::from("c1")]);
    let counts = storage
        .retention_counts(&service, after_close)
        .await
        .unwrap();
    assert_eq!((counts.due, counts.held), (1, 1));
    for (id, expected) in [("c3", false), ("c2", false), ("c1", true)] {
        let result = storage.write(purge(id, after_close)).await;
        assert_eq!(result.is_ok(), expected, "{id}: {result:?}");
    }

    // c1 is gone whole; c2 and c3 are untouched.
    let c1 = ConversationId::from("c1");
    assert!(storage.conversation(&c1).await.unwrap().is_none());
    assert!(seqs(&*storage, "c1").await.is_empty());
    assert!(storage.attachment("d-c1").await.unwrap().is_none());
    assert!(storage.sms("s-c1").await.unwrap().is_none());
    assert!(storage.feedback(&c1).await.unwrap().is_none());
    assert!(storage.record_deliveries(&c1).await.unwrap().is_empty());
    let pending: Vec<_> = storage.outbox_due(i64::MAX, 100).await.unwrap();
    assert!(pending.iter().all(|n| n.notification.conversation != c1));
    assert_eq!(seqs(&*storage, "c2").await, vec![1, 2, 3]);
    assert!(storage.attachment("d-c2").await.unwrap().is_some());
    assert_eq!(seqs(&*storage, "c3").await, vec![1]);

    // Released, c2 is due and goes too; its hold history stays.
    assert!(storage
        .release_legal_hold(&"c2".into(), &"dpo-1".into(), 6_000)
        .await
        .unwrap());
    storage.write(purge("c2", after_close)).await.unwrap();
    assert!(storage.conversation(&"c2".into()).await.unwrap().is_none());
    let history = storage.legal_holds(&"c2".into()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].released_at_ms, Some(6_000));
    let counts = storage
        .retention_counts(&service, after_close)
        .await
        .unwrap();
    assert_eq!((counts.due, counts.held), (0, 0));
}

pub(crate) async fn a_reopened_conversation_is_not_due_until_closed_again(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    closed_conversation(&*storage, "c1").await;
    let reopened = ConversationState {
        status: ConversationStatus::InProgress,
        assigned_to: Some("nurse-1".into()),
        ..queued()
    };
    storage
        .write(WriteOp::Append {
            event: system("c1", 4, SystemKind::Reopened),
            state: Some(reopened),
        })
        .await
        .unwrap();
    let later = crate::storage::now_ms() + 60_000;
    let refused = storage.write(purge("c1", later)).await;
    assert!(
        matches!(refused, Err(StorageError::NotFound(_))),
        "{refused:?}"
    );
    // Closed again now: due only after this close, not the first one.
    let before_second_close = crate::storage::now_ms() - 1;
    storage
        .write(WriteOp::Append {
            event: system("c1", 5, SystemKind::Closed),
            state: Some(closed()),
        })
        .await
        .unwrap();
    let due = storage
        .retention_due(&"health-chat".into(), before_second_close, 10)
        .await
        .unwrap();
    assert!(due.is_empty(), "{due:?}");
    storage.write(purge("c1", later)).await.unwrap();
}

pub(crate) async fn legal_holds_are_placed_once_and_kept_as_history(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    let unknown = storage.set_legal_hold(hold("nope")).await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound(_))),
        "{unknown:?}"
    );
    storage.set_legal_hold(hold("c1")).await.unwrap();
    let again = storage.set_legal_hold(hold("c1")).await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
    let c1 = ConversationId::from("c1");
    assert!(storage
        .release_legal_hold(&c1, &"dpo-2".into(), 7_000)
        .await
        .unwrap());
    assert!(!storage
        .release_legal_hold(&c1, &"dpo-2".into(), 8_000)
        .await
        .unwrap());
    let mut second = hold("c1");
    second.set_at_ms = 9_000;
    storage.set_legal_hold(second).await.unwrap();
    // Over a reopen of the storage.
    drop(storage);
    let storage = backend.open().await;
    let history = storage.legal_holds(&c1).await.unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|h| (h.set_at_ms, h.released_by.clone(), h.released_at_ms))
        .collect();
    assert_eq!(
        summary,
        vec![
            (5_000, Some("dpo-2".into()), Some(7_000)),
            (9_000, None, None)
        ]
    );
    assert_eq!(history[0].reason, "complaint 2026/17");
}

pub(crate) async fn the_access_log_is_pruned_behind_an_anchor_and_still_verifies(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    let mut entries = Vec::new();
    for at in [1_000, 2_000, 3_000, 4_000, 5_000] {
        let mut e = entry("nurse-1", None, Some("c1"));
        e.at_ms = at;
        entries.push(e);
    }
    storage.append_access(entries).await.unwrap();
    assert!(storage.access_anchor().await.unwrap().is_none());

    // Before 3 000: entries 1 and 2 go.
    assert_eq!(storage.prune_access(3_000, 10_000).await.unwrap(), 2);
    let anchor = storage.access_anchor().await.unwrap().unwrap();
    assert_eq!(
        (anchor.seq, anchor.before_ms, anchor.at_ms),
        (2, 3_000, 10_000)
    );
    let v = verify_stored(&*storage, 2).await.unwrap();
    assert_eq!((v.broken, v.entries, v.head.0), (None, 3, 5));
    // The same cut-off again removes nothing; appends chain on as before.
    assert_eq!(storage.prune_access(3_000, 11_000).await.unwrap(), 0);
    storage
        .append_access(vec![entry("nurse-2", None, None)])
        .await
        .unwrap();
    // Everything is old now: all but the newest entry go (appends chain onto it).
    assert_eq!(storage.prune_access(i64::MAX, 12_000).await.unwrap(), 3);
    let v = verify_stored(&*storage, 100).await.unwrap();
    assert_eq!((v.broken, v.entries, v.start.0, v.head.0), (None, 1, 5, 6));
    storage
        .append_access(vec![entry("nurse-3", None, None)])
        .await
        .unwrap();
    let v = verify_stored(&*storage, 100).await.unwrap();
    assert_eq!((v.broken, v.entries, v.head.0), (None, 2, 7));
}

pub(crate) async fn handled_inbound_sms_are_removed_past_the_cut_off(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    for (provider_ref, at) in [("p1", 1_000), ("p2", 2_000), ("p3", 1_500)] {
        let sms = InboundSms {
            provider_ref: provider_ref.into(),
            sender: "+358401234567".into(),
            receiver: "+358451234567".into(),
            body: "Thanks".into(),
            received_at_ms: at,
        };
        assert!(storage.put_inbound_sms(sms).await.unwrap());
    }
    for provider_ref in ["p1", "p2"] {
        storage
            .write(WriteOp::SmsInboundHandled {
                provider_ref: provider_ref.into(),
                outcome: "posted".into(),
            })
            .await
            .unwrap();
    }
    // p1 is handled and old; p2 is recent; p3 is old but not handled yet.
    assert_eq!(storage.purge_inbound_sms(1_800).await.unwrap(), 1);
    let pending = storage.inbound_sms_pending(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].provider_ref, "p3");
    assert_eq!(storage.purge_inbound_sms(1_800).await.unwrap(), 0);
}
