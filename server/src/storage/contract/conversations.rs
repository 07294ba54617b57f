//! The contract for conversation rows: created atomically with their first event, found by
//! id and by `client_ref`, their state replaced by state-changing appends, the open ones
//! listed, the client identified together with its event.

use super::fixtures::{append, create, create_with, message, queued, record, seqs, system};
use super::ContractBackend;
use crate::storage::{
    ClientIdentity, Contact, ConversationRecord, ConversationState, StorageError, WriteOp,
};
use console_protocol::{ConversationId, ConversationStatus, Event, SystemKind};

/// A created conversation reads back as it was written, with its first event as seq 1.
pub(crate) async fn create_stores_the_record_and_its_first_event(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let id = ConversationId::from("c1");
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    let loaded = storage.conversation(&id).await.unwrap();
    let expected = ConversationRecord {
        last_seq: 1,
        ..record("c1", Some("ref-1"))
    };
    assert_eq!(loaded, Some(expected));
    let events = storage.events_after(&id, 0, 10).await.unwrap();
    assert_eq!(events, [message("c1", 1, "m1")]);

    // Every optional field left out round-trips as well.
    let bare = ConversationRecord {
        topic: None,
        client: ClientIdentity::default(),
        questionnaire: None,
        client_ref: None,
        lang: None,
        contact: None,
        ..record("c2", None)
    };
    let first = system("c2", 1, SystemKind::Queued);
    storage
        .write(create_with(bare.clone(), first))
        .await
        .unwrap();
    let loaded = storage.conversation(&"c2".into()).await.unwrap();
    assert_eq!(
        loaded,
        Some(ConversationRecord {
            last_seq: 1,
            ..bare
        })
    );
    assert_eq!(storage.conversation(&"nope".into()).await.unwrap(), None);

    // A contact with only one of its details keeps the other absent.
    let phone_only = ConversationRecord {
        contact: Some(Contact {
            email: None,
            phone: Some("+46701234567".into()),
        }),
        ..record("c3", None)
    };
    let first = system("c3", 1, SystemKind::Queued);
    storage
        .write(create_with(phone_only.clone(), first))
        .await
        .unwrap();
    let loaded = storage.conversation(&"c3".into()).await.unwrap();
    assert_eq!(
        loaded.and_then(|r| r.contact),
        phone_only.contact,
        "the contact reads back as stored"
    );
    storage.close().await;
}

/// A conversation is never stored without its first event: a Create whose event cannot be
/// stored leaves nothing behind, not even its `client_ref`.
pub(crate) async fn a_create_whose_first_event_fails_stores_nothing(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let id = ConversationId::from("c1");
    storage.write(create("other", None)).await.unwrap();
    let refused = [
        // Seqs start at 1.
        message("c1", 2, "m2"),
        // The first event must be the new conversation's own, even where it would fit.
        message("other", 2, "m2"),
        message("c2", 1, "m1"),
    ];
    for first in refused {
        let failed = storage
            .write(create_with(record("c1", Some("ref-1")), first))
            .await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(storage.conversation(&id).await.unwrap(), None);
        let by_ref = storage.conversation_by_client_ref("ref-1").await.unwrap();
        assert_eq!(by_ref, None);
        assert!(storage.events_after(&id, 0, 10).await.unwrap().is_empty());
        assert!(seqs(&*storage, "c2").await.is_empty());
        assert_eq!(seqs(&*storage, "other").await, [1]);
    }

    // A second start with a used client_ref stores neither its row nor its event.
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    let same_ref = storage.write(create("c2", Some("ref-1"))).await;
    assert!(
        matches!(same_ref, Err(StorageError::Duplicate(_))),
        "{same_ref:?}"
    );
    assert_eq!(storage.conversation(&"c2".into()).await.unwrap(), None);
    let c2_events = storage.events_after(&"c2".into(), 0, 10).await.unwrap();
    assert!(c2_events.is_empty());

    let stored = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(stored.last_seq, 1);
    assert_eq!(
        stored.state,
        queued(),
        "the first event keeps the record's state"
    );
    storage.close().await;
}

/// A retried start finds its conversation by `client_ref`; a second conversation with the
/// same `client_ref` or id is refused as a duplicate.
pub(crate) async fn conversation_by_client_ref_finds_a_retried_start(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    let found = storage.conversation_by_client_ref("ref-1").await.unwrap();
    assert_eq!(found.map(|r| (r.id, r.last_seq)), Some(("c1".into(), 1)));
    let unknown = storage.conversation_by_client_ref("ref-2").await.unwrap();
    assert_eq!(unknown, None);

    let same_ref = storage.write(create("c2", Some("ref-1"))).await;
    assert!(
        matches!(same_ref, Err(StorageError::Duplicate(_))),
        "{same_ref:?}"
    );
    let same_id = storage.write(create("c1", None)).await;
    assert!(
        matches!(same_id, Err(StorageError::Duplicate(_))),
        "{same_id:?}"
    );
    assert_eq!(storage.conversation(&"c2".into()).await.unwrap(), None);
    assert_eq!(
        seqs(&*storage, "c1").await,
        [1],
        "the refused create added nothing"
    );
    storage.close().await;
}

/// An append with a state replaces the whole state (every field); one without leaves it.
pub(crate) async fn a_state_changing_append_replaces_the_state(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let id = ConversationId::from("c1");
    storage.write(create("c1", None)).await.unwrap();
    let assigned = ConversationState {
        status: ConversationStatus::InProgress,
        team: "station-b".into(),
        assigned_to: Some("nurse-1".into()),
        queued_at_ms: 2_000,
        priority: 3,
        summary: Some("asked about doses".into()),
        reserved_for: None,
        // The deadline replaced (the client wrote again after the organisation's reply).
        due_at_ms: Some(9_000_000),
    };
    let op = WriteOp::Append {
        event: system("c1", 2, SystemKind::Assigned),
        state: Some(assigned.clone()),
    };
    storage.write(op).await.unwrap();
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!((loaded.state, loaded.last_seq), (assigned.clone(), 2));

    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!((loaded.state, loaded.last_seq), (assigned, 3));

    // Back in the queue, reserved for a named colleague; cleared fields are cleared.
    let reserved = ConversationState {
        priority: 1,
        reserved_for: Some("nurse-2".into()),
        ..queued()
    };
    let op = WriteOp::Append {
        event: system("c1", 4, SystemKind::Transferred),
        state: Some(reserved.clone()),
    };
    storage.write(op).await.unwrap();
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.state, reserved);
    // A refused append changes no state either.
    let refused = WriteOp::Append {
        event: system("c1", 4, SystemKind::Closed),
        state: Some(ConversationState {
            status: ConversationStatus::Complete,
            ..queued()
        }),
    };
    assert!(storage.write(refused).await.is_err());
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.state, reserved);
    storage.close().await;
}

/// Every conversation that is not complete, with its state and last seq, the longest waiting
/// first (by `queued_at_ms`, then id).
pub(crate) async fn open_conversations_excludes_complete(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    for (id, queued_at_ms) in [("c1", 3_000), ("c2", 1_000), ("c3", 2_000), ("c4", 1_000)] {
        let record = ConversationRecord {
            state: ConversationState {
                queued_at_ms,
                ..queued()
            },
            ..record(id, None)
        };
        let first = system(id, 1, SystemKind::Queued);
        storage.write(create_with(record, first)).await.unwrap();
    }
    let assigned = ConversationState {
        status: ConversationStatus::InProgress,
        assigned_to: Some("nurse-1".into()),
        ..queued()
    };
    let op = WriteOp::Append {
        event: system("c2", 2, SystemKind::Assigned),
        state: Some(assigned.clone()),
    };
    storage.write(op).await.unwrap();
    let complete = ConversationState {
        status: ConversationStatus::Complete,
        ..queued()
    };
    let op = WriteOp::Append {
        event: system("c3", 2, SystemKind::Closed),
        state: Some(complete),
    };
    storage.write(op).await.unwrap();

    let open = storage.open_conversations().await.unwrap();
    let ids: Vec<&str> = open.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["c2", "c4", "c1"]);
    assert_eq!((&open[0].state, open[0].last_seq), (&assigned, 2));
    assert_eq!(open[1].last_seq, 1);
    let closed = storage.conversation(&"c3".into()).await.unwrap().unwrap();
    assert_eq!(closed.state.status, ConversationStatus::Complete);
    storage.close().await;
}

/// The anonymous client identified inside the chat: the identity and its event are stored
/// together or not at all, and kept across a reopen.
pub(crate) async fn identify_stores_the_identity_and_its_event_together_or_not_at_all(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    let id = ConversationId::from("c1");
    let anonymous = ConversationRecord {
        client: ClientIdentity::default(),
        ..record("c1", None)
    };
    let op = create_with(anonymous, message("c1", 1, "m1"));
    storage.write(op).await.unwrap();
    let identity = ClientIdentity {
        subject: Some("subject-9".into()),
        name: Some("Maija Meikäläinen".into()),
        identified: true,
    };
    let identified = |seq| {
        let mut event = system("c1", seq, SystemKind::Identified);
        if let Event::System(s) = &mut event {
            s.detail.insert("name".into(), "Maija Meikäläinen".into());
        }
        event
    };
    let identify = |event| WriteOp::Identify {
        event,
        client: identity.clone(),
    };

    // A seq gap fails the whole op: neither the identity nor the event is stored.
    assert!(storage.write(identify(identified(3))).await.is_err());
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.client, ClientIdentity::default());
    assert_eq!(seqs(&*storage, "c1").await, [1]);

    storage.write(identify(identified(2))).await.unwrap();
    storage.close().await;

    let storage = backend.open().await;
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!((loaded.client, loaded.last_seq), (identity, 2));
    let events = storage.events_after(&id, 1, 10).await.unwrap();
    assert_eq!(events, [identified(2)]);
    storage.close().await;
}

/// The archive lists complete asynchronous conversations of the asked teams only, newest first,
/// and finds them by reference (id prefix) or by words of the service, topic or summary.
pub(crate) async fn the_archive_finds_complete_matters_of_the_teams(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let matter = |id: &str, channel: &str, team: &str, status, created, summary: Option<&str>| {
        let mut r = record(id, None);
        r.channel = channel.into();
        r.created_at_ms = created;
        r.state.team = team.into();
        r.state.status = status;
        r.state.summary = summary.map(Into::into);
        create_with(r, system(id, 1, SystemKind::Queued))
    };
    use ConversationStatus::{Complete, InProgress};
    for op in [
        matter(
            "aa11",
            "message",
            "station-a",
            Complete,
            10,
            Some("Prescription RENEWED"),
        ),
        matter(
            "bb22",
            "form",
            "station-a",
            Complete,
            20,
            Some("call back booked"),
        ),
        matter("cc33", "message", "station-a", InProgress, 30, None),
        matter(
            "dd44",
            "chat",
            "station-a",
            Complete,
            40,
            Some("renewed too"),
        ),
        matter(
            "ee55",
            "message",
            "station-b",
            Complete,
            50,
            Some("renewed elsewhere"),
        ),
    ] {
        storage.write(op).await.unwrap();
    }
    let ids = |found: Vec<ConversationRecord>| -> Vec<String> {
        found.into_iter().map(|r| r.id.to_string()).collect()
    };
    let a = ["station-a".into()];
    assert_eq!(
        ids(storage.archive(&a, None, 10).await.unwrap()),
        ["bb22", "aa11"]
    );
    assert_eq!(ids(storage.archive(&a, None, 1).await.unwrap()), ["bb22"]);
    assert_eq!(
        ids(storage.archive(&a, Some("renewed"), 10).await.unwrap()),
        ["aa11"]
    );
    assert_eq!(
        ids(storage.archive(&a, Some("M-AA11"), 10).await.unwrap()),
        ["aa11"]
    );
    assert_eq!(
        ids(storage.archive(&a, Some("health"), 10).await.unwrap()),
        ["bb22", "aa11"]
    );
    assert!(storage
        .archive(&a, Some("100%_"), 10)
        .await
        .unwrap()
        .is_empty());
    let both = ["station-a".into(), "station-b".into()];
    assert_eq!(
        ids(storage.archive(&both, Some("renewed"), 10).await.unwrap()),
        ["ee55", "aa11"]
    );
    assert!(storage.archive(&[], None, 10).await.unwrap().is_empty());
    storage.close().await;
}

/// A client's conversations are found by their subject only, newest first.
pub(crate) async fn a_clients_conversations_are_found_by_subject(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    for (id, subject, created) in [("k1", "s-1", 1), ("k2", "s-2", 2), ("k3", "s-1", 3)] {
        let mut r = record(id, None);
        r.client.subject = Some(subject.into());
        r.created_at_ms = created;
        storage
            .write(create_with(r, system(id, 1, SystemKind::Queued)))
            .await
            .unwrap();
    }
    let mine = storage.client_conversations("s-1", 10).await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["k3", "k1"]);
    assert_eq!(mine[0].last_seq, 1);
    assert_eq!(
        storage.client_conversations("s-1", 1).await.unwrap().len(),
        1
    );
    assert!(storage
        .client_conversations("nobody", 10)
        .await
        .unwrap()
        .is_empty());
    storage.close().await;
}
