//! The SQL of transcript deliveries to the patient record (table `record_deliveries`):
//! written by the writer thread, read on the read pool.

use crate::storage::record::{DeliveryState, RecordDelivery, RecordDeliveryRow};
use crate::storage::StorageError;
use console_protocol::ConversationId;
use rusqlite::{params, Connection, Row};

const COLUMNS: &str =
    "id, conversation, close_seq, created_at_ms, state, attempts, reason, announced";

/// Stores a delivery, `queued` and due at once; the same close again keeps the first.
pub(super) fn insert(conn: &Connection, r: &RecordDelivery) -> Result<(), StorageError> {
    let close_seq = i64::try_from(r.close_seq)
        .map_err(|_| StorageError::Database("close seq out of range".into()))?;
    conn.prepare_cached(
        "INSERT INTO record_deliveries (id, conversation, close_seq, state, next_attempt_ms, \
         created_at_ms, state_at_ms, announced) \
         VALUES (?1, ?2, ?3, 'queued', ?4, ?4, ?4, 'queued') ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        r.id,
        r.conversation.as_str(),
        close_seq,
        r.created_at_ms
    ])?;
    Ok(())
}

/// An attempt's outcome; only a `queued` delivery changes.
pub(super) fn outcome(
    conn: &Connection,
    id: &str,
    state: DeliveryState,
    attempts: u32,
    next_attempt_ms: i64,
    reason: Option<&str>,
    at_ms: i64,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "UPDATE record_deliveries SET state = ?2, attempts = ?3, next_attempt_ms = ?4, \
         reason = ?5, state_at_ms = ?6 WHERE id = ?1 AND state = 'queued'",
    )?
    .execute(params![
        id,
        state.as_str(),
        attempts,
        next_attempt_ms,
        reason,
        at_ms
    ])?;
    Ok(())
}

fn row_of(row: &Row<'_>) -> rusqlite::Result<(RecordDeliveryRow, String, String)> {
    let state: String = row.get(4)?;
    let announced: String = row.get(7)?;
    Ok((
        RecordDeliveryRow {
            delivery: RecordDelivery {
                id: row.get(0)?,
                conversation: ConversationId(row.get(1)?),
                close_seq: row.get::<_, i64>(2)?.max(0).unsigned_abs(),
                created_at_ms: row.get(3)?,
            },
            state: DeliveryState::Queued,
            attempts: row.get::<_, i64>(5)?.clamp(0, i64::from(u32::MAX)) as u32,
            reason: row.get(6)?,
            announced: DeliveryState::Queued,
        },
        state,
        announced,
    ))
}

fn rows(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM record_deliveries WHERE {filter}"
    ))?;
    let found = stmt.query_map(params, row_of)?;
    let mut out = Vec::new();
    for r in found {
        let (mut row, state, announced) = r?;
        let corrupt = |s: &str| StorageError::Corrupt(format!("record delivery state {s}"));
        row.state = DeliveryState::parse(&state).ok_or_else(|| corrupt(&state))?;
        row.announced = DeliveryState::parse(&announced).ok_or_else(|| corrupt(&announced))?;
        out.push(row);
    }
    Ok(out)
}

pub(super) fn due(
    conn: &Connection,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    rows(
        conn,
        "state = 'queued' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id LIMIT ?2",
        params![now_ms, limit],
    )
}

pub(super) fn unannounced(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    rows(
        conn,
        "announced <> state ORDER BY created_at_ms, id LIMIT ?1",
        params![limit],
    )
}

pub(super) fn of_conversation(
    conn: &Connection,
    conversation: &ConversationId,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    rows(
        conn,
        "conversation = ?1 ORDER BY close_seq",
        params![conversation.as_str()],
    )
}
