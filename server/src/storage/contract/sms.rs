//! The contract for SMS: an SMS stored in the same commit as the message it carries (and only
//! with it), an automatic reply queued once, the worker's progress (due, accepted, retried,
//! given up, announced), delivery reports that only move forward, inbound SMS stored once and
//! pending until handled, and the cases found by a patient's number; all kept over a reopen.

use super::fixtures::{create, message, queued, seqs, system};
use super::ContractBackend;
use crate::storage::{InboundSms, SmsOut, SmsRecord, SmsState, Storage, WriteOp};
use console_protocol::{ConversationId, ConversationStatus, SystemKind};

const NUMBER: &str = "+358401234567";

fn sms(id: &str, conversation: &str, seq: u64, created_at_ms: i64) -> SmsOut {
    SmsOut {
        id: id.into(),
        conversation: conversation.into(),
        seq,
        recipient: NUMBER.into(),
        body: format!("Reply {id}"),
        created_at_ms,
    }
}

/// The message `seq` of `conversation` with the SMS that carry it.
fn message_with_sms(conversation: &str, seq: u64, msg: &str, sms: Vec<SmsOut>) -> WriteOp {
    WriteOp::AppendNotify {
        event: message(conversation, seq, msg),
        state: None,
        notifications: Vec::new(),
        sms,
        records: Vec::new(),
    }
}

/// The stored SMS `id`, which must exist.
async fn stored(storage: &dyn Storage, id: &str) -> SmsRecord {
    let found = storage.sms(id).await.unwrap();
    found.unwrap_or_else(|| panic!("sms {id} is not stored"))
}

fn ids(records: &[SmsRecord]) -> Vec<&str> {
    records.iter().map(|r| r.sms.id.as_str()).collect()
}

/// A delivery report without a reason.
async fn report(
    storage: &dyn Storage,
    id: &str,
    provider_ref: Option<&str>,
    state: SmsState,
) -> bool {
    let answer = storage.sms_report(id, provider_ref, state, None, 9_000);
    answer.await.unwrap()
}

/// An SMS comes with its message, queued and due; a refused message (its seq is taken) takes
/// its SMS with it; both are there after a reopen.
pub(crate) async fn an_sms_is_stored_only_with_its_message(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    let op = message_with_sms("c1", 2, "m2", vec![sms("s1", "c1", 2, 1_000)]);
    storage.write(op).await.unwrap();
    let op = message_with_sms("c1", 2, "m2-again", vec![sms("s-lost", "c1", 2, 1_000)]);
    assert!(storage.write(op).await.is_err(), "seq 2 is taken");
    storage.close().await;

    let storage = backend.open().await;
    assert_eq!(storage.sms("s-lost").await.unwrap(), None);
    let s1 = stored(&*storage, "s1").await;
    assert_eq!(
        s1,
        SmsRecord {
            sms: sms("s1", "c1", 2, 1_000),
            state: SmsState::Queued,
            reason: None,
            provider_ref: None,
            attempts: 0,
            announced: SmsState::Queued,
        }
    );
    assert_eq!(ids(&storage.sms_due(1_000, 10).await.unwrap()), ["s1"]);
    assert!(storage.sms_due(999, 10).await.unwrap().is_empty());
    assert!(
        storage.sms_unannounced(10).await.unwrap().is_empty(),
        "nothing changed since it was queued"
    );
    storage.close().await;
}

/// `QueueSms` stores an automatic reply with no event; the same id again keeps the first.
pub(crate) async fn a_queued_sms_is_stored_once(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    storage
        .write(WriteOp::QueueSms(sms("auto-1", "c1", 0, 2_000)))
        .await
        .unwrap();
    let mut again = sms("auto-1", "c1", 0, 3_000);
    again.body = "another body".into();
    storage.write(WriteOp::QueueSms(again)).await.unwrap();
    storage.close().await;

    let storage = backend.open().await;
    let due = storage.sms_due(10_000, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].sms, sms("auto-1", "c1", 0, 2_000));
    assert_eq!(seqs(&*storage, "c1").await, [1], "no event");
    storage.close().await;
}

/// Due oldest first until accepted or given up; a retry is due again at its next attempt with
/// its attempts counted; acceptance keeps the provider's reference; giving up fails a queued or
/// sent one but never a delivered one.
pub(crate) async fn the_worker_moves_an_sms_along(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    let batch = vec![
        sms("s2", "c1", 2, 1_200),
        sms("s1", "c1", 2, 1_100),
        sms("s3", "c1", 2, 1_300),
    ];
    storage
        .write(message_with_sms("c1", 2, "m2", batch))
        .await
        .unwrap();
    let due = storage.sms_due(5_000, 10).await.unwrap();
    assert_eq!(ids(&due), ["s1", "s2", "s3"], "oldest first");
    assert_eq!(ids(&storage.sms_due(5_000, 2).await.unwrap()), ["s1", "s2"]);

    let retry = WriteOp::SmsRetry {
        id: "s1".into(),
        attempts: 1,
        next_attempt_ms: 8_000,
        error: "gateway timed out".into(),
    };
    storage.write(retry).await.unwrap();
    let accepted = WriteOp::SmsAccepted {
        id: "s2".into(),
        provider_ref: "p-2".into(),
        at_ms: 5_100,
    };
    storage.write(accepted).await.unwrap();
    let failed = WriteOp::SmsFailed {
        id: "s3".into(),
        reason: "invalid number".into(),
        at_ms: 5_200,
    };
    storage.write(failed).await.unwrap();
    storage.close().await;

    let storage = backend.open().await;
    assert!(storage.sms_due(7_999, 10).await.unwrap().is_empty());
    let due = storage.sms_due(8_000, 10).await.unwrap();
    assert_eq!(ids(&due), ["s1"]);
    assert_eq!((due[0].state, due[0].attempts), (SmsState::Queued, 1));
    assert_eq!(due[0].reason, None, "a retry is no failure");

    let s2 = stored(&*storage, "s2").await;
    assert_eq!(s2.state, SmsState::Sent);
    assert_eq!(s2.provider_ref.as_deref(), Some("p-2"));
    let by_ref = storage.sms_by_provider_ref("p-2").await.unwrap();
    assert_eq!(by_ref, Some(s2));
    assert_eq!(storage.sms_by_provider_ref("p-none").await.unwrap(), None);
    let s3 = stored(&*storage, "s3").await;
    assert_eq!(s3.state, SmsState::Failed);
    assert_eq!(s3.reason.as_deref(), Some("invalid number"));

    // Delivered is final: giving up later changes nothing; a sent one can still fail.
    assert!(report(&*storage, "s2", None, SmsState::Delivered).await);
    let give_up = |id: &str| WriteOp::SmsFailed {
        id: id.into(),
        reason: "too many attempts".into(),
        at_ms: 9_500,
    };
    storage.write(give_up("s2")).await.unwrap();
    assert_eq!(stored(&*storage, "s2").await.state, SmsState::Delivered);
    storage.write(give_up("s1")).await.unwrap();
    let s1 = stored(&*storage, "s1").await;
    assert_eq!(s1.state, SmsState::Failed);
    assert_eq!(s1.reason.as_deref(), Some("too many attempts"));
    assert!(storage.sms_due(100_000, 10).await.unwrap().is_empty());
    storage.close().await;
}

/// Reports move the state only forward, keep the first reference, answer `false` for an
/// unknown id, and a repeated one changes nothing; the gateway's acceptance stored after a
/// delivery report keeps it delivered.
pub(crate) async fn delivery_reports_only_move_forward(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    let batch = vec![
        sms("s1", "c1", 2, 1_000),
        sms("s2", "c1", 2, 1_000),
        sms("s3", "c1", 2, 1_000),
    ];
    storage
        .write(message_with_sms("c1", 2, "m2", batch))
        .await
        .unwrap();

    // s1: the report of its delivery comes before the worker stored the acceptance.
    assert!(report(&*storage, "s1", Some("p-1"), SmsState::Delivered).await);
    let accepted = WriteOp::SmsAccepted {
        id: "s1".into(),
        provider_ref: "p-1".into(),
        at_ms: 9_100,
    };
    storage.write(accepted).await.unwrap();
    let s1 = stored(&*storage, "s1").await;
    assert_eq!(s1.state, SmsState::Delivered);
    assert_eq!(s1.provider_ref.as_deref(), Some("p-1"));
    assert!(report(&*storage, "s1", Some("p-1"), SmsState::Sent).await);
    assert!(report(&*storage, "s1", None, SmsState::Failed).await);
    assert_eq!(stored(&*storage, "s1").await, s1, "delivered is final");

    // s2: failed with the gateway's reason, then a late delivery report.
    let failed = storage.sms_report("s2", Some("p-2"), SmsState::Failed, Some("absent"), 9_000);
    assert!(failed.await.unwrap());
    let s2 = stored(&*storage, "s2").await;
    assert_eq!(s2.state, SmsState::Failed);
    assert_eq!(s2.reason.as_deref(), Some("absent"));
    assert!(report(&*storage, "s2", None, SmsState::Delivered).await);
    assert_eq!(stored(&*storage, "s2").await, s2, "failed is final");

    // s3: sent, the same report again, then a reference that does not replace the first.
    assert!(report(&*storage, "s3", Some("p-3"), SmsState::Sent).await);
    let s3 = stored(&*storage, "s3").await;
    assert_eq!(
        (s3.state, s3.provider_ref.as_deref()),
        (SmsState::Sent, Some("p-3"))
    );
    assert!(report(&*storage, "s3", Some("p-3"), SmsState::Sent).await);
    assert!(report(&*storage, "s3", Some("p-other"), SmsState::Queued).await);
    assert_eq!(
        stored(&*storage, "s3").await,
        s3,
        "a repeat changes nothing"
    );
    assert_eq!(storage.sms_by_provider_ref("p-other").await.unwrap(), None);

    assert!(!report(&*storage, "unknown", Some("p-9"), SmsState::Delivered).await);
    assert_eq!(storage.sms("unknown").await.unwrap(), None);
    storage.close().await;

    let storage = backend.open().await;
    assert_eq!(stored(&*storage, "s1").await, s1);
    assert_eq!(stored(&*storage, "s2").await, s2);
    storage.close().await;
}

/// Each change of a message's SMS is listed until the conversation was told of it; an
/// automatic reply (no message) never is.
pub(crate) async fn each_change_is_announced_once(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    let batch = vec![sms("s1", "c1", 2, 1_000), sms("s2", "c1", 2, 1_100)];
    storage
        .write(message_with_sms("c1", 2, "m2", batch))
        .await
        .unwrap();
    storage
        .write(WriteOp::QueueSms(sms("auto", "c1", 0, 900)))
        .await
        .unwrap();
    for id in ["s2", "s1", "auto"] {
        assert!(report(&*storage, id, None, SmsState::Sent).await);
    }
    let listed = storage.sms_unannounced(10).await.unwrap();
    assert_eq!(
        ids(&listed),
        ["s1", "s2"],
        "oldest first, no automatic reply"
    );
    assert_eq!(listed[0].announced, SmsState::Queued);
    assert_eq!(ids(&storage.sms_unannounced(1).await.unwrap()), ["s1"]);

    let told = |id: &str, state| WriteOp::SmsAnnounced {
        id: id.into(),
        state,
    };
    storage.write(told("s1", SmsState::Sent)).await.unwrap();
    assert_eq!(ids(&storage.sms_unannounced(10).await.unwrap()), ["s2"]);
    storage.write(told("s2", SmsState::Sent)).await.unwrap();
    assert!(storage.sms_unannounced(10).await.unwrap().is_empty());
    storage.close().await;

    let storage = backend.open().await;
    assert!(storage.sms_unannounced(10).await.unwrap().is_empty());
    assert!(report(&*storage, "s2", None, SmsState::Delivered).await);
    let listed = storage.sms_unannounced(10).await.unwrap();
    assert_eq!(ids(&listed), ["s2"]);
    assert_eq!(
        (listed[0].state, listed[0].announced),
        (SmsState::Delivered, SmsState::Sent)
    );
    storage
        .write(told("s2", SmsState::Delivered))
        .await
        .unwrap();
    assert!(storage.sms_unannounced(10).await.unwrap().is_empty());
    storage.close().await;
}

fn inbound(provider_ref: &str, body: &str, received_at_ms: i64) -> InboundSms {
    InboundSms {
        provider_ref: provider_ref.into(),
        sender: NUMBER.into(),
        receiver: "+358501112222".into(),
        body: body.into(),
        received_at_ms,
    }
}

/// A patient's SMS is stored once however often the webhook repeats it, and is pending,
/// oldest first, until the worker handled it.
pub(crate) async fn an_inbound_sms_is_stored_once_and_pending_until_handled(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    assert!(storage
        .put_inbound_sms(inbound("in-2", "second", 2_000))
        .await
        .unwrap());
    assert!(storage
        .put_inbound_sms(inbound("in-1", "first", 1_000))
        .await
        .unwrap());
    assert!(
        !storage
            .put_inbound_sms(inbound("in-1", "repeated", 3_000))
            .await
            .unwrap(),
        "a repeated webhook"
    );
    storage.close().await;

    let storage = backend.open().await;
    let pending = storage.inbound_sms_pending(10).await.unwrap();
    assert_eq!(
        pending,
        [
            inbound("in-1", "first", 1_000),
            inbound("in-2", "second", 2_000)
        ]
    );
    assert_eq!(storage.inbound_sms_pending(1).await.unwrap().len(), 1);
    let handled = WriteOp::SmsInboundHandled {
        provider_ref: "in-1".into(),
        outcome: "posted".into(),
    };
    storage.write(handled.clone()).await.unwrap();
    storage.write(handled).await.unwrap();
    let pending = storage.inbound_sms_pending(10).await.unwrap();
    assert_eq!(pending, [inbound("in-2", "second", 2_000)]);
    assert!(
        !storage
            .put_inbound_sms(inbound("in-1", "again", 4_000))
            .await
            .unwrap(),
        "a handled one is not stored again"
    );
    storage.close().await;

    let storage = backend.open().await;
    let pending = storage.inbound_sms_pending(10).await.unwrap();
    assert_eq!(pending, [inbound("in-2", "second", 2_000)]);
    storage.close().await;
}

/// The conversations that texted a number, each once with its current status, the one that
/// texted last first; not those that texted another number, nor an automatic reply.
pub(crate) async fn the_cases_of_a_number_are_found(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    for id in ["c1", "c2", "c3", "c4"] {
        storage.write(create(id, None)).await.unwrap();
    }
    let text = |c: &str, id: &str, at: i64| message_with_sms(c, 2, "m2", vec![sms(id, c, 2, at)]);
    storage.write(text("c1", "s1", 1_000)).await.unwrap();
    storage.write(text("c2", "s2", 2_000)).await.unwrap();
    let mut other = sms("s3", "c3", 2, 9_000);
    other.recipient = "+358409999999".into();
    let op = message_with_sms("c3", 2, "m2", vec![other]);
    storage.write(op).await.unwrap();
    storage
        .write(WriteOp::QueueSms(sms("auto", "c4", 0, 9_500)))
        .await
        .unwrap();
    // c1 texts again, later than c2, and is then closed.
    let op = message_with_sms("c1", 3, "m3", vec![sms("s1b", "c1", 3, 3_000)]);
    storage.write(op).await.unwrap();
    let closed = crate::storage::ConversationState {
        status: ConversationStatus::Complete,
        ..queued()
    };
    let close = WriteOp::Append {
        event: system("c1", 4, SystemKind::Closed),
        state: Some(closed),
    };
    storage.write(close).await.unwrap();
    storage.close().await;

    let storage = backend.open().await;
    let c = |id: &str| ConversationId::from(id);
    assert_eq!(
        storage.sms_cases(NUMBER).await.unwrap(),
        [
            (c("c1"), ConversationStatus::Complete),
            (c("c2"), ConversationStatus::Queued)
        ]
    );
    assert_eq!(
        storage.sms_cases("+358409999999").await.unwrap(),
        [(c("c3"), ConversationStatus::Queued)]
    );
    assert!(storage.sms_cases("+358400000000").await.unwrap().is_empty());
    // A new SMS matter opened by a patient's SMS (no SMS of ours yet) is their open case too,
    // so a second SMS before the reply joins it; once complete it is not.
    let mut matter = crate::storage::contract::fixtures::record("c5", None);
    matter.channel = "sms".into();
    matter.created_at_ms = 99_000;
    matter.contact = Some(crate::storage::Contact {
        email: None,
        phone: Some("+358400000000".into()),
    });
    let first = system("c5", 1, SystemKind::Queued);
    storage
        .write(crate::storage::contract::fixtures::create_with(
            matter, first,
        ))
        .await
        .unwrap();
    assert_eq!(
        storage.sms_cases("+358400000000").await.unwrap(),
        [(c("c5"), ConversationStatus::Queued)]
    );
    assert!(storage.sms_cases("+358400000001").await.unwrap().is_empty());
    let closed = crate::storage::ConversationState {
        status: ConversationStatus::Complete,
        ..queued()
    };
    let close = WriteOp::Append {
        event: system("c5", 2, SystemKind::Closed),
        state: Some(closed),
    };
    storage.write(close).await.unwrap();
    assert!(storage.sms_cases("+358400000000").await.unwrap().is_empty());
    storage.close().await;
}
