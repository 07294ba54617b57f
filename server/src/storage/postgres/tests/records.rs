//! What is stored about conversations beside their events: state, identity, client_ref,
//! ratings, canned responses; and what survives a reconnect.

use super::*;

#[tokio::test]
async fn acknowledged_writes_survive_close_and_reconnect() {
    let db = TestDatabase::create().await;
    let id = ConversationId::from("c1");
    let storage = open(&db).await;
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    storage.write(append(message("c1", 2, "m2"))).await.unwrap();
    storage.ping().await.unwrap();
    storage.close().await;
    storage.close().await;
    let late = storage.write(append(message("c1", 3, "m3"))).await;
    assert!(matches!(late, Err(StorageError::Closed)), "{late:?}");
    assert!(matches!(storage.ping().await, Err(StorageError::Closed)));
    let read = storage.events_after(&id, 0, 10).await;
    assert!(matches!(read, Err(StorageError::Closed)), "{read:?}");

    let storage = open(&db).await;
    let loaded = storage.conversation(&id).await.unwrap().unwrap();
    assert_eq!(loaded.last_seq, 2);
    storage.write(append(message("c1", 3, "m3"))).await.unwrap();
    assert_eq!(seqs(&storage, "c1").await, [1, 2, 3]);
    storage.close().await;
}

#[tokio::test]
async fn open_conversations_excludes_complete_and_keeps_state() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    for id in ["c1", "c2", "c3"] {
        storage.write(create(id, None)).await.unwrap();
    }
    let assigned = ConversationState {
        status: ConversationStatus::InProgress,
        assigned_to: Some("nurse-1".into()),
        summary: Some("asked about doses".into()),
        priority: 2,
        reserved_for: Some("nurse-2".into()),
        ..queued()
    };
    let event = system("c2", 2, SystemKind::Assigned);
    let state = Some(assigned.clone());
    storage
        .write(WriteOp::Append { event, state })
        .await
        .unwrap();
    let complete = ConversationState {
        status: ConversationStatus::Complete,
        ..assigned.clone()
    };
    let event = system("c3", 2, SystemKind::Closed);
    let state = Some(complete);
    storage
        .write(WriteOp::Append { event, state })
        .await
        .unwrap();

    let open = storage.open_conversations().await.unwrap();
    let ids: Vec<&str> = open.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    assert_eq!(open[1].state, assigned);
    assert_eq!(open[1].last_seq, 2);
    let closed = storage.conversation(&"c3".into()).await.unwrap().unwrap();
    assert_eq!(closed.state.status, ConversationStatus::Complete);
    storage.close().await;
}

#[tokio::test]
async fn a_client_ref_or_an_id_is_taken_once() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", Some("ref-1"))).await.unwrap();
    let found = storage.conversation_by_client_ref("ref-1").await.unwrap();
    assert_eq!(found.map(|r| r.id), Some("c1".into()));
    assert_eq!(
        storage.conversation_by_client_ref("ref-2").await.unwrap(),
        None
    );

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
    storage.close().await;
}

#[tokio::test]
async fn feedback_is_stored_once() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();
    let id = ConversationId::from("c1");
    assert_eq!(storage.feedback(&id).await.unwrap(), None);
    let feedback = |conversation: &str, rating, comment: Option<&str>| WriteOp::Feedback {
        conversation: conversation.into(),
        rating,
        comment: comment.map(Into::into),
        at_ms: 5_000,
    };
    storage
        .write(feedback("c1", 5, Some("kiitos")))
        .await
        .unwrap();
    let stored = storage.feedback(&id).await.unwrap();
    assert_eq!(stored, Some((5, Some("kiitos".to_owned()))));
    let again = storage.write(feedback("c1", 1, None)).await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
    let unknown = storage.write(feedback("ghost", 1, None)).await;
    assert!(
        matches!(unknown, Err(StorageError::Database(_))),
        "{unknown:?}"
    );
    assert_eq!(storage.feedback(&id).await.unwrap(), stored);
    storage.close().await;
}

#[tokio::test]
async fn damaged_rows_are_reported_as_corrupt() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    storage.write(create("c1", None)).await.unwrap();
    db.execute(
        "UPDATE events SET body = '{\"type\":\"message\"' WHERE conversation = 'c1';
         UPDATE conversations SET status = 'lost' WHERE id = 'c1';",
    )
    .await;
    let id = ConversationId::from("c1");
    let events = storage.events_after(&id, 0, 10).await;
    assert!(
        matches!(events, Err(StorageError::Corrupt(_))),
        "{events:?}"
    );
    let record = storage.conversation(&id).await;
    assert!(
        matches!(record, Err(StorageError::Corrupt(_))),
        "{record:?}"
    );
    storage.close().await;
}

#[tokio::test]
async fn identify_stores_the_identity_and_its_event_together_or_not_at_all() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    let anonymous = ConversationRecord {
        client: ClientIdentity::default(),
        ..record("c1", None)
    };
    let first = message("c1", 1, "m1");
    storage.write(create_with(anonymous, first)).await.unwrap();
    let identity = ClientIdentity {
        subject: Some("subject-9".into()),
        name: Some("Maija Meikäläinen".into()),
        identified: true,
    };
    let identified = |seq| system("c1", seq, SystemKind::Identified);
    let client = identity.clone();
    let gap = storage
        .write(WriteOp::Identify {
            event: identified(3),
            client,
        })
        .await;
    assert!(gap.is_err());
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.client, ClientIdentity::default());
    assert_eq!(seqs(&storage, "c1").await, [1]);

    let client = identity.clone();
    let op = WriteOp::Identify {
        event: identified(2),
        client,
    };
    storage.write(op).await.unwrap();
    let loaded = storage.conversation(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(loaded.client, identity);
    assert_eq!(loaded.last_seq, 2);
    let events = storage.events_after(&"c1".into(), 1, 10).await.unwrap();
    assert_eq!(events, [identified(2)]);
    storage.close().await;
}

fn canned(id: &str, professional: &str, code: &str, lang: &str) -> WriteOp {
    let response = PersonalCanned {
        id: id.into(),
        professional: professional.into(),
        code: code.into(),
        title: format!("{code} title"),
        lang: lang.into(),
        body: format!("{code} in {lang}"),
        updated_at_ms: 1,
    };
    WriteOp::SaveCanned {
        response: Box::new(response),
        replace: false,
    }
}

#[tokio::test]
async fn canned_responses_belong_to_their_professional() {
    let db = TestDatabase::create().await;
    let storage = open(&db).await;
    for op in [
        canned("p-2", "nurse-1", "b", "fi"),
        canned("p-1", "nurse-1", "a", "sv"),
        canned("p-3", "nurse-1", "a", "fi"),
        canned("p-4", "nurse-2", "a", "fi"),
    ] {
        storage.write(op).await.unwrap();
    }
    let same_code = storage.write(canned("p-5", "nurse-1", "a", "fi")).await;
    assert!(
        matches!(same_code, Err(StorageError::Duplicate(_))),
        "{same_code:?}"
    );
    let mut edit = canned("p-2", "nurse-1", "a", "sv");
    if let WriteOp::SaveCanned { replace, .. } = &mut edit {
        *replace = true;
    }
    let clash = storage.write(edit).await;
    assert!(
        matches!(clash, Err(StorageError::Duplicate(_))),
        "{clash:?}"
    );
    let mut foreign = canned("p-4", "nurse-1", "c", "fi");
    if let WriteOp::SaveCanned { replace, .. } = &mut foreign {
        *replace = true;
    }
    let foreign = storage.write(foreign).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound(_))),
        "{foreign:?}"
    );
    let delete = |id: &str, professional: &str| WriteOp::DeleteCanned {
        id: id.into(),
        professional: professional.into(),
    };
    let not_theirs = storage.write(delete("p-4", "nurse-1")).await;
    assert!(
        matches!(not_theirs, Err(StorageError::NotFound(_))),
        "{not_theirs:?}"
    );
    storage.write(delete("p-1", "nurse-1")).await.unwrap();

    let listed = storage.canned_responses(&"nurse-1".into()).await.unwrap();
    let keys: Vec<(&str, &str)> = listed
        .iter()
        .map(|c| (c.code.as_str(), c.lang.as_str()))
        .collect();
    assert_eq!(keys, [("a", "fi"), ("b", "fi")]);
    assert_eq!(listed[1].body, "b in fi");
    storage.close().await;
}
