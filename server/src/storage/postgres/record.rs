//! The SQL of transcript deliveries to the patient record (as in SQLite): inserted in the
//! writer's transaction with the `closed` event, updated by the writer, read on the pool.

use super::col;
use super::reads::Reads;
use crate::storage::record::{DeliveryState, RecordDelivery, RecordDeliveryRow};
use crate::storage::StorageError;
use console_protocol::ConversationId;
use tokio_postgres::{Client, Row};

const COLUMNS: &str =
    "id, conversation, close_seq, created_at_ms, state, attempts, reason, announced";

/// Stores a delivery, `queued` and due at once; the same close again keeps the first.
pub(super) async fn insert(
    client: &Client,
    r: &RecordDelivery,
) -> Result<(), tokio_postgres::Error> {
    let close_seq = i64::try_from(r.close_seq).unwrap_or(i64::MAX);
    client
        .execute(
            "INSERT INTO record_deliveries (id, conversation, close_seq, state, next_attempt_ms, \
             created_at_ms, state_at_ms, announced) \
             VALUES ($1, $2, $3, 'queued', $4, $4, $4, 'queued') ON CONFLICT DO NOTHING",
            &[
                &r.id,
                &r.conversation.as_str(),
                &close_seq,
                &r.created_at_ms,
            ],
        )
        .await?;
    Ok(())
}

fn row_of(row: &Row) -> Result<RecordDeliveryRow, StorageError> {
    let state = |i: usize| -> Result<DeliveryState, StorageError> {
        let s: String = col(row, i)?;
        DeliveryState::parse(&s)
            .ok_or_else(|| StorageError::Corrupt(format!("record delivery state {s}")))
    };
    Ok(RecordDeliveryRow {
        delivery: RecordDelivery {
            id: col(row, 0)?,
            conversation: ConversationId(col(row, 1)?),
            close_seq: col::<i64>(row, 2)?.max(0).unsigned_abs(),
            created_at_ms: col(row, 3)?,
        },
        state: state(4)?,
        attempts: col::<i32>(row, 5)?.max(0).unsigned_abs(),
        reason: col(row, 6)?,
        announced: state(7)?,
    })
}

pub(super) async fn due(
    reads: &Reads,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM record_deliveries WHERE state = 'queued' \
         AND next_attempt_ms <= $1 ORDER BY next_attempt_ms, id LIMIT $2"
    );
    let rows = reads.rows(&sql, &[&now_ms, &i64::from(limit)]).await?;
    rows.iter().map(row_of).collect()
}

pub(super) async fn unannounced(
    reads: &Reads,
    limit: u32,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM record_deliveries WHERE announced <> state \
         ORDER BY created_at_ms, id LIMIT $1"
    );
    let rows = reads.rows(&sql, &[&i64::from(limit)]).await?;
    rows.iter().map(row_of).collect()
}

pub(super) async fn of_conversation(
    reads: &Reads,
    conversation: &ConversationId,
) -> Result<Vec<RecordDeliveryRow>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM record_deliveries WHERE conversation = $1 ORDER BY close_seq"
    );
    let rows = reads.rows(&sql, &[&conversation.as_str()]).await?;
    rows.iter().map(row_of).collect()
}
