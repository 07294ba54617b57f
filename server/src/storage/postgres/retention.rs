//! The SQL of retention on PostgreSQL (as in SQLite): a conversation's purge runs in the
//! fenced writer as one statement; legal holds and the access log's prune are written from any
//! node through the read pool, the prune under the access log's append lock.

use super::ops::Answer;
use super::reads::Reads;
use super::{col, describe};
use crate::storage::retention::{AccessAnchor, LegalHold, RetentionCounts};
use crate::storage::StorageError;
use console_protocol::{ConversationId, ProfessionalId, ServiceId};
use tokio_postgres::Client;

/// Whether conversation `c` is complete, closed before `$2` and held by nothing.
const DUE: &str = "c.status = 'complete' AND c.closed_at_ms < $2::bigint AND NOT EXISTS \
    (SELECT 1 FROM legal_holds h WHERE h.conversation = c.id AND h.released_at_ms IS NULL)";

/// The conversation is locked (a hold being placed waits for it, or finds it gone) and removed
/// with all its content in one statement, if it is due. Answers whether it was.
fn purge_sql() -> String {
    format!(
        "WITH c AS (
            SELECT c.id FROM conversations c WHERE c.id = $1::text AND {DUE} FOR UPDATE
        ), e AS (
            DELETE FROM events WHERE conversation IN (SELECT id FROM c)
        ), a AS (
            DELETE FROM attachments WHERE conversation IN (SELECT id FROM c)
        ), f AS (
            DELETE FROM feedback WHERE conversation IN (SELECT id FROM c)
        ), o AS (
            DELETE FROM outbox WHERE conversation IN (SELECT id FROM c)
        ), s AS (
            DELETE FROM sms_messages WHERE conversation IN (SELECT id FROM c)
        ), r AS (
            DELETE FROM record_deliveries WHERE conversation IN (SELECT id FROM c)
        ), d AS (
            DELETE FROM conversations WHERE id IN (SELECT id FROM c) RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM d)"
    )
}

/// In the writer's transaction: removes the conversation if it is due, else `NotFound`.
pub(super) async fn purge(
    client: &Client,
    conversation: &ConversationId,
    closed_before_ms: i64,
) -> Answer {
    let row = client
        .query_one(&purge_sql(), &[&conversation.as_str(), &closed_before_ms])
        .await?;
    let purged: bool = row.get(0);
    Ok(if purged {
        Ok(())
    } else {
        Err(StorageError::NotFound(format!(
            "{conversation} is not due for purging"
        )))
    })
}

pub(super) async fn due(
    reads: &Reads,
    service: &ServiceId,
    before_ms: i64,
    limit: u32,
) -> Result<Vec<ConversationId>, StorageError> {
    let sql = format!(
        "SELECT c.id FROM conversations c WHERE c.service = $1::text AND {DUE} \
         ORDER BY c.closed_at_ms, c.id LIMIT $3::bigint"
    );
    let rows = reads
        .rows(&sql, &[&service.as_str(), &before_ms, &i64::from(limit)])
        .await?;
    rows.iter()
        .map(|r| col::<String>(r, 0).map(ConversationId))
        .collect()
}

pub(super) async fn counts(
    reads: &Reads,
    service: &ServiceId,
    before_ms: i64,
) -> Result<RetentionCounts, StorageError> {
    let rows = reads
        .rows(
            "SELECT count(*), count(h.conversation) FROM conversations c \
             LEFT JOIN legal_holds h ON h.conversation = c.id AND h.released_at_ms IS NULL \
             WHERE c.service = $1::text AND c.status = 'complete' AND c.closed_at_ms < $2::bigint",
            &[&service.as_str(), &before_ms],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| StorageError::Database("count returned no row".into()))?;
    let (total, held) = (col::<i64>(row, 0)?, col::<i64>(row, 1)?);
    Ok(RetentionCounts {
        due: u64::try_from(total - held).unwrap_or(0),
        held: u64::try_from(held).unwrap_or(0),
    })
}

/// The hold goes in only while the conversation exists (its row share-locked, so a purge
/// waits or has already removed it) and no hold is in force.
const SET_HOLD: &str = "
WITH c AS (
    SELECT id FROM conversations WHERE id = $1::text FOR SHARE
), ins AS (
    INSERT INTO legal_holds (conversation, set_by, reason, set_at_ms)
    SELECT id, $2::text, $3::text, $4::bigint FROM c
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM c), EXISTS (SELECT 1 FROM ins)";

pub(super) async fn set_hold(reads: &Reads, hold: &LegalHold) -> Result<(), StorageError> {
    let rows = reads
        .rows(
            SET_HOLD,
            &[
                &hold.conversation.as_str(),
                &hold.set_by.as_str(),
                &hold.reason,
                &hold.set_at_ms,
            ],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| StorageError::Database("legal hold returned no row".into()))?;
    match (col::<bool>(row, 0)?, col::<bool>(row, 1)?) {
        (false, _) => Err(StorageError::NotFound(format!(
            "conversation {}",
            hold.conversation
        ))),
        (true, false) => Err(StorageError::Duplicate(format!(
            "a legal hold on {} is in force",
            hold.conversation
        ))),
        (true, true) => Ok(()),
    }
}

pub(super) async fn release_hold(
    reads: &Reads,
    conversation: &ConversationId,
    by: &ProfessionalId,
    at_ms: i64,
) -> Result<bool, StorageError> {
    let rows = reads
        .rows(
            "UPDATE legal_holds SET released_by = $2::text, released_at_ms = $3::bigint \
             WHERE conversation = $1::text AND released_at_ms IS NULL RETURNING 1",
            &[&conversation.as_str(), &by.as_str(), &at_ms],
        )
        .await?;
    Ok(!rows.is_empty())
}

pub(super) async fn holds(
    reads: &Reads,
    conversation: &ConversationId,
) -> Result<Vec<LegalHold>, StorageError> {
    let rows = reads
        .rows(
            "SELECT conversation, set_by, reason, set_at_ms, released_by, released_at_ms \
             FROM legal_holds WHERE conversation = $1::text ORDER BY set_at_ms, id",
            &[&conversation.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LegalHold {
                conversation: ConversationId(col(r, 0)?),
                set_by: ProfessionalId(col(r, 1)?),
                reason: col(r, 2)?,
                set_at_ms: col(r, 3)?,
                released_by: col::<Option<String>>(r, 4)?.map(ProfessionalId),
                released_at_ms: col(r, 5)?,
            })
        })
        .collect()
}

pub(super) async fn anchor(reads: &Reads) -> Result<Option<AccessAnchor>, StorageError> {
    let rows = reads
        .rows(
            "SELECT seq, hash, before_ms, at_ms FROM access_log_anchor \
             ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?;
    rows.first()
        .map(|r| {
            Ok(AccessAnchor {
                seq: col(r, 0)?,
                hash: col(r, 1)?,
                before_ms: col(r, 2)?,
                at_ms: col(r, 3)?,
            })
        })
        .transpose()
}

/// Prunes the log's start behind a new anchor, in one transaction under the append lock (no
/// entry is chained meanwhile). Answers how many entries were removed.
pub(super) async fn prune_access(
    reads: &Reads,
    before_ms: i64,
    at_ms: i64,
) -> Result<u64, StorageError> {
    let mut client = reads.client().await?;
    let fail = |e: tokio_postgres::Error| describe("access log prune", &e);
    let tx = client.transaction().await.map_err(fail)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::access::APPEND_LOCK],
    )
    .await
    .map_err(fail)?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(seq), 0), \
             (SELECT min(seq) FROM access_log WHERE at_ms >= $1), \
             (SELECT coalesce(max(seq), 0) FROM access_log_anchor) FROM access_log",
            &[&before_ms],
        )
        .await
        .map_err(fail)?;
    let (newest, first_kept, anchored) = (
        col::<i64>(&row, 0)?,
        col::<Option<i64>>(&row, 1)?,
        col::<i64>(&row, 2)?,
    );
    let upto = first_kept.map_or(newest, |s| s - 1).min(newest - 1);
    if upto <= anchored {
        return Ok(0);
    }
    tx.execute(
        "INSERT INTO access_log_anchor (seq, hash, before_ms, at_ms) \
         SELECT seq, hash, $2, $3 FROM access_log WHERE seq = $1",
        &[&upto, &before_ms, &at_ms],
    )
    .await
    .map_err(fail)?;
    let removed = tx
        .execute("DELETE FROM access_log WHERE seq <= $1", &[&upto])
        .await
        .map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    Ok(removed)
}

pub(super) async fn purge_inbound_sms(reads: &Reads, before_ms: i64) -> Result<u64, StorageError> {
    let rows = reads
        .rows(
            "DELETE FROM sms_inbound WHERE handled AND received_at_ms < $1::bigint RETURNING 1",
            &[&before_ms],
        )
        .await?;
    Ok(rows.len() as u64)
}
