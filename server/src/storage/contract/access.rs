//! The contract for the access log: entries chained in the order they were appended, from
//! any number of tasks at once, the chain verifying end to end; a client's report finds the
//! entries naming them and those about conversations identified as theirs.

use super::fixtures::{create, create_with, message, record};
use super::ContractBackend;
use crate::storage::access::{verify, AccessEntry, AccessQuery, AccessRecord, GENESIS};
use crate::storage::Storage;
use console_protocol::ConversationId;

pub(crate) fn entry(actor: &str, client: Option<&str>, conversation: Option<&str>) -> AccessEntry {
    AccessEntry {
        at_ms: 1_000,
        actor: actor.into(),
        role: "nurse".into(),
        client: client.map(Into::into),
        conversation: conversation.map(|c| ConversationId(c.into())),
        action: "view".into(),
        purpose: "assignment".into(),
        basis: "care".into(),
        reason: None,
        outcome: "allowed".into(),
        node: "n1".into(),
    }
}

/// The whole log, page by page.
pub(crate) async fn whole_log(storage: &dyn Storage) -> Vec<AccessRecord> {
    let mut all = Vec::new();
    loop {
        let after_seq = all.last().map_or(0, |r: &AccessRecord| r.seq);
        let page = storage
            .access_log(&AccessQuery {
                after_seq,
                limit: 7,
                ..AccessQuery::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Appended entries come back in order with gap-free seqs and a chain that verifies, also
/// after the storage is opened again; the filters of a report select what they name.
pub(crate) async fn entries_are_chained_and_found_by_client_actor_and_time(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    // c1 is identified as subject-1 (the fixture); an entry about it names no client (it was
    // written while the conversation was anonymous) and is still in subject-1's report.
    storage.write(create("c1", None)).await.unwrap();
    let mut other = record("c2", None);
    other.client.subject = Some("subject-2".into());
    storage
        .write(create_with(other, message("c2", 1, "m1")))
        .await
        .unwrap();
    let mut late = entry("nurse-b", None, Some("c1"));
    late.at_ms = 5_000;
    storage
        .append_access(vec![
            entry("nurse-a", Some("subject-1"), Some("c1")),
            entry("nurse-a", Some("subject-2"), Some("c2")),
        ])
        .await
        .unwrap();
    storage.append_access(vec![late]).await.unwrap();
    storage.append_access(Vec::new()).await.unwrap();
    storage.close().await;

    let storage = backend.open().await;
    let all = whole_log(storage.as_ref()).await;
    assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[0].prev_hash, GENESIS);
    assert_eq!(verify((0, GENESIS.into()), &all).unwrap().0, 3);

    let seqs = |q: AccessQuery| {
        let storage = storage.clone();
        async move {
            let q = AccessQuery { limit: 100, ..q };
            let found = storage.access_log(&q).await.unwrap();
            found.iter().map(|r| r.seq).collect::<Vec<_>>()
        }
    };
    let by_client = |c: &str| AccessQuery {
        client: Some(c.into()),
        ..AccessQuery::default()
    };
    assert_eq!(seqs(by_client("subject-1")).await, [1, 3]);
    assert_eq!(seqs(by_client("subject-2")).await, [2]);
    assert!(seqs(by_client("subject-3")).await.is_empty());
    let actor = AccessQuery {
        actor: Some("nurse-a".into()),
        ..AccessQuery::default()
    };
    assert_eq!(seqs(actor).await, [1, 2]);
    let conversation = AccessQuery {
        conversation: Some(ConversationId("c2".into())),
        ..AccessQuery::default()
    };
    assert_eq!(seqs(conversation).await, [2]);
    let window = AccessQuery {
        from_ms: Some(2_000),
        to_ms: Some(6_000),
        ..AccessQuery::default()
    };
    assert_eq!(seqs(window).await, [3]);
    let before = AccessQuery {
        to_ms: Some(5_000),
        ..AccessQuery::default()
    };
    assert_eq!(seqs(before).await, [1, 2]);
}

/// Fifty tasks appending at once leave one unbroken chain holding every entry once.
pub(crate) async fn concurrent_appends_make_one_chain(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let mut tasks = Vec::new();
    for t in 0..50 {
        let storage = storage.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..4 {
                let actor = format!("nurse-{t}-{i}");
                storage
                    .append_access(vec![entry(&actor, None, None), entry(&actor, None, None)])
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = whole_log(storage.as_ref()).await;
    assert_eq!(all.len(), 400);
    assert_eq!(verify((0, GENESIS.into()), &all).unwrap().0, 400);
    // The two entries of one append are neighbours.
    for pair in all.chunks(2) {
        assert_eq!(pair[0].entry.actor, pair[1].entry.actor);
    }
}
