//! The SQL of retention: purging a conversation past its period, legal holds, and pruning the
//! access log from its start behind an anchor. Writes run in the writer's savepoint, reads on
//! the read pool.

use crate::storage::retention::{AccessAnchor, LegalHold, RetentionCounts};
use crate::storage::StorageError;
use console_protocol::{ConversationId, ProfessionalId, ServiceId};
use rusqlite::{params, Connection, OptionalExtension};

/// The tables that hold a conversation's content, each with its conversation column; the
/// conversation's own row goes last.
const CONTENT: &[&str] = &[
    "DELETE FROM events WHERE conversation = ?1",
    "DELETE FROM attachments WHERE conversation = ?1",
    "DELETE FROM feedback WHERE conversation = ?1",
    "DELETE FROM outbox WHERE conversation = ?1",
    "DELETE FROM sms_messages WHERE conversation = ?1",
    "DELETE FROM record_deliveries WHERE conversation = ?1",
    "DELETE FROM conversations WHERE id = ?1",
];

/// Whether `conversation` is complete, closed before `before_ms` and held by nothing.
const DUE: &str = "c.status = 'complete' AND c.closed_at_ms < ?2 AND NOT EXISTS \
    (SELECT 1 FROM legal_holds h WHERE h.conversation = c.id AND h.released_at_ms IS NULL)";

/// Removes the conversation with its content if it is due; else `NotFound`.
pub(super) fn purge(
    conn: &Connection,
    conversation: &ConversationId,
    closed_before_ms: i64,
) -> Result<(), StorageError> {
    let due = conn
        .prepare_cached(&format!(
            "SELECT 1 FROM conversations c WHERE c.id = ?1 AND {DUE}"
        ))?
        .query_row(params![conversation.as_str(), closed_before_ms], |_| Ok(()))
        .optional()?;
    if due.is_none() {
        return Err(StorageError::NotFound(format!(
            "{conversation} is not due for purging"
        )));
    }
    for sql in CONTENT {
        conn.prepare_cached(sql)?
            .execute(params![conversation.as_str()])?;
    }
    Ok(())
}

/// Conversations of `service` due at `before_ms`, oldest close first.
pub(super) fn due(
    conn: &Connection,
    service: &ServiceId,
    before_ms: i64,
    limit: u32,
) -> Result<Vec<ConversationId>, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.id FROM conversations c WHERE c.service = ?1 AND {DUE} \
         ORDER BY c.closed_at_ms, c.id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![service.as_str(), before_ms, limit], |row| {
        Ok(ConversationId(row.get(0)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Due and held conversations of `service` closed before `before_ms`.
pub(super) fn counts(
    conn: &Connection,
    service: &ServiceId,
    before_ms: i64,
) -> Result<RetentionCounts, StorageError> {
    let (total, held): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), count(h.conversation) FROM conversations c \
             LEFT JOIN legal_holds h ON h.conversation = c.id AND h.released_at_ms IS NULL \
             WHERE c.service = ?1 AND c.status = 'complete' AND c.closed_at_ms < ?2",
        )?
        .query_row(params![service.as_str(), before_ms], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok(RetentionCounts {
        due: u64::try_from(total - held).unwrap_or(0),
        held: u64::try_from(held).unwrap_or(0),
    })
}

/// Places a hold: `NotFound` for an unknown conversation, `Duplicate` when one is in force.
pub(super) fn set_hold(conn: &Connection, hold: &LegalHold) -> Result<(), StorageError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1")?
        .query_row([hold.conversation.as_str()], |_| Ok(()))
        .optional()?;
    if exists.is_none() {
        return Err(StorageError::NotFound(format!(
            "conversation {}",
            hold.conversation
        )));
    }
    let inserted = conn
        .prepare_cached(
            "INSERT INTO legal_holds (conversation, set_by, reason, set_at_ms) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            hold.conversation.as_str(),
            hold.set_by.as_str(),
            hold.reason,
            hold.set_at_ms
        ])?;
    if inserted == 0 {
        return Err(StorageError::Duplicate(format!(
            "a legal hold on {} is in force",
            hold.conversation
        )));
    }
    Ok(())
}

/// Releases the hold in force: `NotFound` when there is none.
pub(super) fn release_hold(
    conn: &Connection,
    conversation: &ConversationId,
    by: &ProfessionalId,
    at_ms: i64,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached(
            "UPDATE legal_holds SET released_by = ?2, released_at_ms = ?3 \
             WHERE conversation = ?1 AND released_at_ms IS NULL",
        )?
        .execute(params![conversation.as_str(), by.as_str(), at_ms])?;
    if changed == 0 {
        return Err(StorageError::NotFound(format!(
            "no legal hold on {conversation}"
        )));
    }
    Ok(())
}

/// The holds of a conversation, oldest first.
pub(super) fn holds(
    conn: &Connection,
    conversation: &ConversationId,
) -> Result<Vec<LegalHold>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT conversation, set_by, reason, set_at_ms, released_by, released_at_ms \
         FROM legal_holds WHERE conversation = ?1 ORDER BY set_at_ms, rowid",
    )?;
    let rows = stmt.query_map([conversation.as_str()], |row| {
        Ok(LegalHold {
            conversation: ConversationId(row.get(0)?),
            set_by: ProfessionalId::from(row.get::<_, String>(1)?),
            reason: row.get(2)?,
            set_at_ms: row.get(3)?,
            released_by: row.get::<_, Option<String>>(4)?.map(ProfessionalId::from),
            released_at_ms: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The last entry a prune at `before_ms` may remove: the one before the first entry at or
/// after the cut-off (all of them when none is), never the newest (appends chain onto it).
pub(super) fn prune_upto(conn: &Connection, before_ms: i64) -> Result<i64, StorageError> {
    let (newest, first_kept): (i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT ifnull(max(seq), 0), \
             (SELECT min(seq) FROM access_log WHERE at_ms >= ?1) FROM access_log",
        )?
        .query_row([before_ms], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(first_kept.map_or(newest, |s| s - 1).min(newest - 1))
}

/// Removes the entries up to [`prune_upto`] behind a new anchor (nothing when that is not past
/// the last anchor).
pub(super) fn prune_access(
    conn: &Connection,
    before_ms: i64,
    at_ms: i64,
) -> Result<(), StorageError> {
    let upto = prune_upto(conn, before_ms)?;
    let anchored = anchor(conn)?.map_or(0, |a| a.seq);
    if upto <= anchored {
        return Ok(());
    }
    let hash: String = conn
        .prepare_cached("SELECT hash FROM access_log WHERE seq = ?1")?
        .query_row([upto], |row| row.get(0))?;
    conn.prepare_cached(
        "INSERT INTO access_log_anchor (seq, hash, before_ms, at_ms) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![upto, hash, before_ms, at_ms])?;
    conn.prepare_cached("DELETE FROM access_log WHERE seq <= ?1")?
        .execute([upto])?;
    Ok(())
}

/// The latest anchor.
pub(super) fn anchor(conn: &Connection) -> Result<Option<AccessAnchor>, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, hash, before_ms, at_ms FROM access_log_anchor ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([], |row| {
            Ok(AccessAnchor {
                seq: row.get(0)?,
                hash: row.get(1)?,
                before_ms: row.get(2)?,
                at_ms: row.get(3)?,
            })
        })
        .optional()?)
}
