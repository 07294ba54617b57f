//! The SQL of the access log (table `access_log`): appended by the writer thread, which
//! chains each entry after the last stored one; read on the read pool. Triggers refuse every
//! `UPDATE` and `DELETE` of the table.

use crate::storage::access::{chain, AccessEntry, AccessQuery, AccessRecord, GENESIS};
use crate::storage::StorageError;
use console_protocol::ConversationId;
use rusqlite::{params, Connection, OptionalExtension, Row};

/// The columns of an entry, in the order [`record_from_row`] decodes.
const COLUMNS: &str = "seq, at_ms, actor, role, client, conversation, action, purpose, basis, \
    reason, outcome, node, prev_hash, hash";

/// Appends `entries` after the last stored entry (inside the writer's savepoint).
pub(super) fn append(conn: &Connection, entries: &[AccessEntry]) -> Result<(), StorageError> {
    let head = conn
        .prepare_cached("SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .optional()?
        .unwrap_or((0, GENESIS.to_owned()));
    let mut insert = conn.prepare_cached(
        "INSERT INTO access_log (seq, at_ms, actor, role, client, conversation, action, purpose, \
         basis, reason, outcome, node, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for r in chain(head, entries.to_vec()) {
        let e = &r.entry;
        insert.execute(params![
            r.seq,
            e.at_ms,
            e.actor,
            e.role,
            e.client,
            e.conversation.as_ref().map(|c| c.as_str()),
            e.action,
            e.purpose,
            e.basis,
            e.reason,
            e.outcome,
            e.node,
            r.prev_hash,
            r.hash
        ])?;
    }
    Ok(())
}

/// The entries matching `q`, oldest first (a client's: named in the entry, or about a
/// conversation identified as theirs).
pub(super) fn query(conn: &Connection, q: &AccessQuery) -> Result<Vec<AccessRecord>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_log WHERE seq > ?1 \
         AND (?2 IS NULL OR client = ?2 OR conversation IN \
              (SELECT id FROM conversations WHERE client_subject = ?2)) \
         AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR conversation = ?4) \
         AND (?5 IS NULL OR at_ms >= ?5) AND (?6 IS NULL OR at_ms < ?6) \
         ORDER BY seq LIMIT ?7"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(
        params![
            q.after_seq,
            q.client,
            q.actor,
            q.conversation.as_ref().map(|c| c.as_str()),
            q.from_ms,
            q.to_ms,
            i64::from(q.limit)
        ],
        record_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<AccessRecord> {
    Ok(AccessRecord {
        seq: row.get(0)?,
        entry: AccessEntry {
            at_ms: row.get(1)?,
            actor: row.get(2)?,
            role: row.get(3)?,
            client: row.get(4)?,
            conversation: row.get::<_, Option<String>>(5)?.map(ConversationId),
            action: row.get(6)?,
            purpose: row.get(7)?,
            basis: row.get(8)?,
            reason: row.get(9)?,
            outcome: row.get(10)?,
            node: row.get(11)?,
        },
        prev_hash: row.get(12)?,
        hash: row.get(13)?,
    })
}
