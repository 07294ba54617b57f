//! The contract for transcript deliveries to the patient record: stored only with the
//! `closed` event that starts them, due until an outcome, retried when told, final once
//! delivered or failed, announced once; all kept over a reopen.

use super::fixtures::{create, queued, system};
use super::ContractBackend;
use crate::storage::record::{DeliveryState, RecordDelivery};
use crate::storage::{ConversationState, WriteOp};
use console_protocol::{ConversationId, ConversationStatus, SystemKind};

fn close_with(seq: u64, id: &str) -> WriteOp {
    WriteOp::AppendNotify {
        event: system("c1", seq, SystemKind::Closed),
        state: Some(ConversationState {
            status: ConversationStatus::Complete,
            ..queued()
        }),
        notifications: Vec::new(),
        sms: Vec::new(),
        records: vec![RecordDelivery {
            id: id.into(),
            conversation: "c1".into(),
            close_seq: seq,
            created_at_ms: 1_000,
        }],
    }
}

fn outcome(
    id: &str,
    state: DeliveryState,
    attempts: u32,
    next: i64,
    reason: Option<&str>,
) -> WriteOp {
    WriteOp::RecordOutcome {
        id: id.into(),
        state,
        attempts,
        next_attempt_ms: next,
        reason: reason.map(Into::into),
        at_ms: 2_000,
    }
}

pub(crate) async fn a_delivery_is_stored_with_its_close_and_moves_to_a_final_state(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    // A refused close (its seq is taken) takes its delivery with it.
    assert!(storage.write(close_with(1, "r0")).await.is_err());
    assert!(storage.record_due(i64::MAX, 10).await.unwrap().is_empty());
    storage.write(close_with(2, "r1")).await.unwrap();
    let due = storage.record_due(1_000, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].delivery.close_seq, due[0].state, due[0].attempts),
        (2, DeliveryState::Queued, 0)
    );
    assert!(storage.record_due(999, 10).await.unwrap().is_empty());
    // Nothing to announce while queued.
    assert!(storage.record_unannounced(10).await.unwrap().is_empty());

    // A failed attempt: due again later, with the reason kept.
    storage
        .write(outcome(
            "r1",
            DeliveryState::Queued,
            1,
            5_000,
            Some("HTTP 503: busy"),
        ))
        .await
        .unwrap();
    assert!(storage.record_due(4_999, 10).await.unwrap().is_empty());
    let due = storage.record_due(5_000, 10).await.unwrap();
    assert_eq!(
        (due[0].attempts, due[0].reason.as_deref()),
        (1, Some("HTTP 503: busy"))
    );
    storage
        .write(outcome("r1", DeliveryState::Delivered, 2, 6_000, None))
        .await
        .unwrap();
    // Final: a late outcome (a retry racing) changes nothing.
    storage
        .write(outcome("r1", DeliveryState::Failed, 3, 7_000, Some("late")))
        .await
        .unwrap();
    drop(storage);
    let storage = backend.open().await;
    assert!(storage.record_due(i64::MAX, 10).await.unwrap().is_empty());
    let told = storage.record_unannounced(10).await.unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].state, told[0].reason.as_deref()),
        (DeliveryState::Delivered, None)
    );
    storage
        .write(WriteOp::RecordAnnounced {
            id: "r1".into(),
            state: DeliveryState::Delivered,
        })
        .await
        .unwrap();
    assert!(storage.record_unannounced(10).await.unwrap().is_empty());
    let all = storage
        .record_deliveries(&ConversationId::from("c1"))
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].announced, DeliveryState::Delivered);
}
