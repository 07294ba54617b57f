//! The contract for what is stored beside the events: a conversation's one rating, and the
//! personal canned responses that belong to one professional each, and the routing supervisors
//! set per team.

use super::fixtures::{canned, canned_bodies, create, save_canned};
use super::ContractBackend;
use crate::storage::{StorageError, WriteOp};
use console_protocol::ConversationId;

/// A conversation is rated once: the first rating stays, a second is a duplicate.
pub(crate) async fn feedback_is_stored_once(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    let id = ConversationId::from("c1");
    assert_eq!(storage.feedback(&id).await.unwrap(), None);
    let feedback = |rating, comment: Option<&str>| WriteOp::Feedback {
        conversation: "c1".into(),
        rating,
        comment: comment.map(Into::into),
        at_ms: 5_000,
    };
    storage.write(feedback(5, Some("thank you"))).await.unwrap();
    let stored = storage.feedback(&id).await.unwrap();
    assert_eq!(stored, Some((5, Some("thank you".to_owned()))));

    let again = storage.write(feedback(1, None)).await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
    assert_eq!(storage.feedback(&id).await.unwrap(), stored);
    storage.close().await;
}

/// Personal canned responses belong to one professional: listed for them only (by code and
/// language), edited and deleted by them only, one per code and language, and kept across a
/// reopen.
pub(crate) async fn canned_responses_belong_to_their_professional(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    let mine = |id, code, lang, body| save_canned(canned(id, "nurse-1", code, lang, body), false);
    for op in [
        mine("p-2", "labs", "fi", "Ei vielä"),
        mine("p-1", "bye", "fi", "Hei hei"),
        mine("p-3", "labs", "sv", "Inte än"),
        save_canned(canned("p-9", "nurse-2", "labs", "fi", "Toisen"), false),
    ] {
        storage.write(op).await.unwrap();
    }

    let listed = storage.canned_responses(&"nurse-1".into()).await.unwrap();
    let order: Vec<_> = listed
        .iter()
        .map(|c| (c.code.as_str(), c.lang.as_str()))
        .collect();
    assert_eq!(order, [("bye", "fi"), ("labs", "fi"), ("labs", "sv")]);
    assert_eq!(listed[0], canned("p-1", "nurse-1", "bye", "fi", "Hei hei"));

    let twice = storage.write(mine("p-4", "labs", "fi", "again")).await;
    assert!(
        matches!(twice, Err(StorageError::Duplicate(_))),
        "{twice:?}"
    );

    let edit = canned("p-2", "nurse-1", "labs", "fi", "Tulokset tulevat huomenna");
    storage.write(save_canned(edit, true)).await.unwrap();
    let hijack = canned("p-9", "nurse-1", "labs", "en", "mine now");
    let refused = storage.write(save_canned(hijack, true)).await;
    assert!(
        matches!(refused, Err(StorageError::NotFound(_))),
        "{refused:?}"
    );
    let delete = |id: &str, professional: &str| WriteOp::DeleteCanned {
        id: id.into(),
        professional: professional.into(),
    };
    let refused = storage.write(delete("p-9", "nurse-1")).await;
    assert!(
        matches!(refused, Err(StorageError::NotFound(_))),
        "{refused:?}"
    );
    storage.write(delete("p-1", "nurse-1")).await.unwrap();
    let again = storage.write(delete("p-1", "nurse-1")).await;
    assert!(matches!(again, Err(StorageError::NotFound(_))), "{again:?}");
    storage.close().await;

    let storage = backend.open().await;
    assert_eq!(
        canned_bodies(&*storage, "nurse-1").await,
        [
            ("labs".to_owned(), "Tulokset tulevat huomenna".to_owned()),
            ("labs".to_owned(), "Inte än".to_owned())
        ]
    );
    assert_eq!(
        canned_bodies(&*storage, "nurse-2").await,
        [("labs".to_owned(), "Toisen".to_owned())]
    );
    assert!(canned_bodies(&*storage, "nurse-3").await.is_empty());
    storage.close().await;
}

/// A team's routing set by a supervisor is kept across a reopen, and the latest setting wins.
pub(crate) async fn team_routing_is_kept_and_the_latest_wins(backend: &dyn ContractBackend) {
    let storage = backend.open().await;
    assert!(storage.team_routing().await.unwrap().is_empty());
    let set = |team: &str, routing: &str, at_ms| WriteOp::SetRouting {
        team: team.into(),
        routing: routing.into(),
        by: "lead-1".into(),
        at_ms,
    };
    storage.write(set("station-a", "manual", 1)).await.unwrap();
    storage.write(set("station-b", "manual", 2)).await.unwrap();
    storage.write(set("station-a", "auto", 3)).await.unwrap();
    let refused = storage.write(set("station-c", "whenever", 4)).await;
    assert!(
        refused.is_err(),
        "an unknown routing is refused: {refused:?}"
    );
    storage.close().await;

    let storage = backend.open().await;
    let routing = storage.team_routing().await.unwrap();
    let routing: Vec<(&str, &str)> = routing
        .iter()
        .map(|(t, r)| (t.as_str(), r.as_str()))
        .collect();
    assert_eq!(routing, [("station-a", "auto"), ("station-b", "manual")]);
    storage.close().await;
}
