//! The contract for documents: stored whole (bytes, name, type, digest) for their
//! conversation, read back after a reopen, removed on request, a second store of the same id
//! changes nothing, and the sweep removes old ones no message names.

use super::fixtures::{append, create, message};
use super::ContractBackend;
use crate::storage::Attachment;

fn document(id: &str, data: &[u8]) -> Attachment {
    Attachment {
        id: id.into(),
        conversation: "c1".into(),
        client_msg_id: format!("msg-{id}"),
        name: "lab results.pdf".into(),
        mime: "application/pdf".into(),
        sha256: "ab".repeat(32),
        data: data.to_vec(),
        uploaded_at_ms: 1_000,
    }
}

pub(crate) async fn documents_are_stored_whole_and_removed_on_request(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    // Every byte value, and more than one page of the database.
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    storage.put_attachment(document("d1", &big)).await.unwrap();
    storage
        .put_attachment(document("d2", b"%PDF-1.4"))
        .await
        .unwrap();
    // The same id again (a retried statement) keeps the first.
    storage
        .put_attachment(document("d1", b"other bytes"))
        .await
        .unwrap();
    storage.close().await;

    let storage = backend.open().await;
    assert_eq!(
        storage.attachment("d1").await.unwrap(),
        Some(document("d1", &big))
    );
    storage.delete_attachment("d2").await.unwrap();
    assert_eq!(storage.attachment("d2").await.unwrap(), None);
    assert_eq!(storage.attachment("nope").await.unwrap(), None);
    // Removing what is gone is no error.
    storage.delete_attachment("d2").await.unwrap();
    storage.close().await;
}

/// Old documents no message names go; those a message names, and recent ones still on their
/// way to their message, stay.
pub(crate) async fn the_sweep_removes_only_old_documents_no_message_names(
    backend: &dyn ContractBackend,
) {
    let storage = backend.open().await;
    storage.write(create("c1", None)).await.unwrap();
    for id in ["sent", "unsent", "resent", "recent"] {
        let mut d = document(id, b"%PDF-1.4");
        if id == "recent" {
            d.uploaded_at_ms = 50_000;
        }
        if id == "resent" {
            // A second upload for the message of "sent" that the message does not name.
            d.client_msg_id = "msg-sent".into();
        }
        storage.put_attachment(d).await.unwrap();
    }
    let mut named = message("c1", 2, "msg-sent");
    if let console_protocol::Event::Message(m) = &mut named {
        m.attachments = vec![console_protocol::AttachmentRef {
            id: "sent".into(),
            name: "lab results.pdf".into(),
            mime: "application/pdf".into(),
            size: 8,
        }];
    }
    storage.write(append(named)).await.unwrap();
    storage.sweep_attachments(10_000).await.unwrap();
    let kept = |id: &'static str| {
        let storage = storage.clone();
        async move { storage.attachment(id).await.unwrap().is_some() }
    };
    assert!(kept("sent").await, "a message names it");
    assert!(!kept("unsent").await, "old and nobody's");
    assert!(!kept("resent").await, "its message names another document");
    assert!(kept("recent").await, "uploaded after the cut-off");
    storage.close().await;
}
