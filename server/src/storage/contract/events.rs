//! The contract for events: each conversation's seqs are gap-free and never reused, pages
//! come back in seq order within their limits, and the `client_msg_id`s of a conversation are
//! listed for its actor.

use super::fixtures::{append, create, create_with, find, message, record, seqs, system};
use super::ContractBackend;
use crate::storage::{ConversationRecord, StorageError};
use console_protocol::{ConversationId, Event, SystemKind};

/// `events_after` and `events_before` page through a conversation in seq order, at most
/// `limit` at a time, and the record's `last_seq` follows the appends.
pub(crate) async fn events_come_back_in_order_within_limits(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    for seq in 2..=10 {
        let op = append(message("c1", seq, &format!("m{seq}")));
        storage.write(op).await.unwrap();
    }
    let id = ConversationId::from("c1");
    let seqs_of = |events: Vec<Event>| events.iter().map(Event::seq).collect::<Vec<_>>();
    let all = storage.events_after(&id, 0, 100).await.unwrap();
    assert_eq!(all.first(), Some(&message("c1", 1, "m1")));
    assert_eq!(all.last(), Some(&message("c1", 10, "m10")));
    assert_eq!(seqs_of(all), (1..=10).collect::<Vec<_>>());
    let page = storage.events_after(&id, 3, 4).await.unwrap();
    assert_eq!(seqs_of(page), [4, 5, 6, 7]);
    let older = storage.events_before(&id, 8, 3).await.unwrap();
    assert_eq!(seqs_of(older), [5, 6, 7]);
    let newest = storage.events_before(&id, u64::MAX, 2).await.unwrap();
    assert_eq!(seqs_of(newest), [9, 10]);
    let oldest = storage.events_before(&id, 3, 10).await.unwrap();
    assert_eq!(seqs_of(oldest), [1, 2]);
    assert!(storage.events_before(&id, 1, 5).await.unwrap().is_empty());
    assert!(storage.events_after(&id, 10, 5).await.unwrap().is_empty());
    let ghost = ConversationId::from("ghost");
    assert!(storage.events_after(&ghost, 0, 5).await.unwrap().is_empty());

    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    let expected = ConversationRecord {
        last_seq: 10,
        ..record("c1", None)
    };
    assert_eq!(loaded, expected);
    storage.close().await;
}

/// A seq already stored is a duplicate, a seq past the next one or below 1 is refused, an
/// append to an unknown conversation is refused; none of them stores anything.
pub(crate) async fn seqs_stay_gap_free(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();

    let same_seq = storage.write(append(message("c1", 1, "m9"))).await;
    assert!(
        matches!(same_seq, Err(StorageError::Duplicate(_))),
        "{same_seq:?}"
    );
    let gap = storage.write(append(message("c1", 3, "m3"))).await;
    assert!(matches!(gap, Err(StorageError::Database(_))), "{gap:?}");
    let zero = storage.write(append(message("c1", 0, "m0"))).await;
    assert!(zero.is_err());
    let unknown = storage.write(append(message("ghost", 1, "m1"))).await;
    assert!(
        matches!(unknown, Err(StorageError::Database(_))),
        "{unknown:?}"
    );
    assert_eq!(seqs(&*storage, "c1").await, [1]);
    assert!(seqs(&*storage, "ghost").await.is_empty());
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 1);

    storage.write(append(message("c1", 2, "m2"))).await.unwrap();
    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    assert_eq!(seqs(&*storage, "c1").await, [1, 2, 3]);
    storage.close().await;
}

/// `client_msg_ids` lists (client_msg_id, seq, at) of one conversation's messages by seq:
/// no system events, nothing of another conversation.
pub(crate) async fn client_msg_ids_lists_the_messages_of_one_conversation_by_seq(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    let id = ConversationId::from("c1");
    storage.write(create("c1", None)).await.unwrap();
    let other = create_with(record("c2", None), message("c2", 1, "other"));
    storage.write(other).await.unwrap();
    let assigned = system("c1", 2, SystemKind::Assigned);
    storage.write(append(assigned)).await.unwrap();
    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    assert_eq!(
        storage.client_msg_ids(&id).await.unwrap(),
        vec![
            ("m1".to_owned(), 1, "2026-11-21T10:00:01Z".to_owned()),
            ("m3".to_owned(), 3, "2026-11-21T10:00:03Z".to_owned()),
        ],
    );
    assert_eq!(find(&*storage, &id, "other").await, None);
    let ghost = storage.client_msg_ids(&"ghost".into()).await.unwrap();
    assert!(ghost.is_empty());
    storage.close().await;
}
