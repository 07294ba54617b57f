//! Documents: stored from any node through the read pool (a door receives uploads too, and a
//! document is no part of a conversation's fenced event order), and read back by id.

use super::col;
use crate::storage::{Attachment, StorageError};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Idempotent: storing the same document again (a retried statement) changes nothing.
pub(super) const INSERT: &str = "INSERT INTO attachments (id, conversation, client_msg_id, \
    name, mime, size, sha256, data, uploaded_at_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING";

pub(super) const DELETE: &str = "DELETE FROM attachments WHERE id = $1";

/// The documents uploaded before `$1` that no stored message names.
pub(super) const SWEEP: &str = "DELETE FROM attachments AS a WHERE a.uploaded_at_ms < $1 \
    AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.conversation = a.conversation \
    AND e.client_msg_id = a.client_msg_id AND strpos(e.body, a.id) > 0)";

pub(super) const SELECT: &str = "SELECT id, conversation, client_msg_id, name, mime, sha256, \
    data, uploaded_at_ms FROM attachments WHERE id = $1";

/// The parameters of [`INSERT`] for one document.
pub(super) struct InsertParams<'a> {
    a: &'a Attachment,
    conversation: &'a str,
    size: i64,
}

impl<'a> InsertParams<'a> {
    pub(super) fn of(a: &'a Attachment) -> Self {
        InsertParams {
            a,
            conversation: a.conversation.as_str(),
            size: i64::try_from(a.data.len()).unwrap_or(i64::MAX),
        }
    }

    pub(super) fn list(&self) -> [&(dyn ToSql + Sync); 9] {
        let a = self.a;
        [
            &a.id,
            &self.conversation,
            &a.client_msg_id,
            &a.name,
            &a.mime,
            &self.size,
            &a.sha256,
            &a.data,
            &a.uploaded_at_ms,
        ]
    }
}

/// A row of [`SELECT`].
pub(super) fn from_row(row: &Row) -> Result<Attachment, StorageError> {
    Ok(Attachment {
        id: col(row, 0)?,
        conversation: col::<String>(row, 1)?.into(),
        client_msg_id: col(row, 2)?,
        name: col(row, 3)?,
        mime: col(row, 4)?,
        sha256: col(row, 5)?,
        data: col(row, 6)?,
        uploaded_at_ms: col(row, 7)?,
    })
}
