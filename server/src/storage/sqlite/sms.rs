//! The SQL of SMS (tables `sms_messages` and `sms_inbound`): written by the writer thread
//! inside its savepoints, read on the read pool.

use crate::storage::{InboundSms, SmsOut, SmsRecord, SmsState, StorageError};
use console_protocol::{ConversationId, ConversationStatus};
use rusqlite::{params, Connection, Row};

/// The columns of an SMS, in the order [`record_from_row`] decodes.
const COLUMNS: &str = "id, conversation, seq, recipient, body, created_at_ms, state, reason, \
    provider_ref, attempts, announced";

/// Stores `sms` as `queued`, due at once; an `id` stored already keeps its row.
pub(super) fn insert(conn: &Connection, sms: &SmsOut) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT INTO sms_messages (id, conversation, seq, recipient, body, state, \
         next_attempt_ms, created_at_ms, state_at_ms, announced) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?6, ?6, 'queued') ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![
        sms.id,
        sms.conversation.as_str(),
        to_i64(sms.seq)?,
        sms.recipient,
        sms.body,
        sms.created_at_ms
    ])?;
    Ok(())
}

/// The gateway accepted `id` as `provider_ref`: a `queued` one becomes `sent`.
pub(super) fn accepted(
    conn: &Connection,
    id: &str,
    provider_ref: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "UPDATE sms_messages SET provider_ref = coalesce(provider_ref, ?2), \
         state_at_ms = CASE WHEN state = 'queued' THEN ?3 ELSE state_at_ms END, \
         state = CASE WHEN state = 'queued' THEN 'sent' ELSE state END WHERE id = ?1",
    )?
    .execute(params![id, provider_ref, at_ms])?;
    Ok(())
}

/// A failed attempt at handing `id` to the gateway; it is due again at `next_attempt_ms`.
pub(super) fn retry(
    conn: &Connection,
    id: &str,
    attempts: u32,
    next_attempt_ms: i64,
    error: &str,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "UPDATE sms_messages SET attempts = ?2, next_attempt_ms = ?3, last_error = ?4 \
         WHERE id = ?1 AND state = 'queued'",
    )?
    .execute(params![id, attempts, next_attempt_ms, error])?;
    Ok(())
}

/// `id` is given up: `failed` with `reason`, unless it reached a final state already.
pub(super) fn failed(
    conn: &Connection,
    id: &str,
    reason: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "UPDATE sms_messages SET state = 'failed', reason = ?2, state_at_ms = ?3 \
         WHERE id = ?1 AND state IN ('queued', 'sent')",
    )?
    .execute(params![id, reason, at_ms])?;
    Ok(())
}

/// The conversation was told that `id` is in `state`.
pub(super) fn announced(conn: &Connection, id: &str, state: SmsState) -> Result<(), StorageError> {
    conn.prepare_cached("UPDATE sms_messages SET announced = ?2 WHERE id = ?1")?
        .execute(params![id, state.as_str()])?;
    Ok(())
}

/// A delivery report: the state moves only to a higher rank ([`SmsState::rank`]; the CASE
/// below is the stored state's), `reason` comes with a move to `failed`, and a
/// `provider_ref` is kept when none is stored. [`StorageError::NotFound`] for an unknown `id`.
pub(super) fn report(
    conn: &Connection,
    id: &str,
    provider_ref: Option<&str>,
    state: SmsState,
    reason: Option<&str>,
    at_ms: i64,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached(
            "UPDATE sms_messages SET provider_ref = coalesce(provider_ref, ?2), \
             reason = CASE WHEN ?4 > (CASE state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 \
               ELSE 2 END) AND ?3 = 'failed' THEN ?5 ELSE reason END, \
             state_at_ms = CASE WHEN ?4 > (CASE state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 \
               ELSE 2 END) THEN ?6 ELSE state_at_ms END, \
             state = CASE WHEN ?4 > (CASE state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 \
               ELSE 2 END) THEN ?3 ELSE state END \
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            provider_ref,
            state.as_str(),
            state.rank(),
            reason,
            at_ms
        ])?;
    if changed == 0 {
        return Err(StorageError::NotFound(format!("sms {id}")));
    }
    Ok(())
}

/// Stores an inbound SMS; [`StorageError::Duplicate`] (nothing changed) when its
/// `provider_ref` is stored already.
pub(super) fn put_inbound(conn: &Connection, sms: &InboundSms) -> Result<(), StorageError> {
    let stored = conn
        .prepare_cached(
            "INSERT INTO sms_inbound (provider_ref, sender, receiver, body, received_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (provider_ref) DO NOTHING",
        )?
        .execute(params![
            sms.provider_ref,
            sms.sender,
            sms.receiver,
            sms.body,
            sms.received_at_ms
        ])?;
    if stored == 0 {
        return Err(StorageError::Duplicate(format!(
            "inbound sms {}",
            sms.provider_ref
        )));
    }
    Ok(())
}

/// The worker handled an inbound SMS with `outcome`; the first handling stands.
pub(super) fn inbound_handled(
    conn: &Connection,
    provider_ref: &str,
    outcome: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "UPDATE sms_inbound SET handled = 1, outcome = ?2, handled_at_ms = ?3 \
         WHERE provider_ref = ?1 AND handled = 0",
    )?
    .execute(params![provider_ref, outcome, at_ms])?;
    Ok(())
}

/// Queued SMS the gateway has not accepted whose next attempt is due at `now_ms`.
pub(super) fn due(
    conn: &Connection,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<SmsRecord>, StorageError> {
    records(
        conn,
        "state = 'queued' AND provider_ref IS NULL AND next_attempt_ms <= ?1 \
         ORDER BY created_at_ms, id LIMIT ?2",
        params![now_ms, limit],
    )
}

/// SMS of messages whose state the conversation has not been told of.
pub(super) fn unannounced(conn: &Connection, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
    records(
        conn,
        "announced <> state AND seq > 0 ORDER BY created_at_ms, id LIMIT ?1",
        params![limit],
    )
}

/// The SMS whose `column` (`id` or `provider_ref`) is `value`.
pub(super) fn one(
    conn: &Connection,
    column: &str,
    value: &str,
) -> Result<Option<SmsRecord>, StorageError> {
    Ok(records(conn, &format!("{column} = ?1"), params![value])?.pop())
}

fn records(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<SmsRecord>, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sms_messages WHERE {filter}"
    ))?;
    let mut rows = stmt.query(params)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(record_from_row(row)?);
    }
    Ok(found)
}

fn record_from_row(row: &Row<'_>) -> Result<SmsRecord, StorageError> {
    let seq: i64 = row.get(2)?;
    Ok(SmsRecord {
        sms: SmsOut {
            id: row.get(0)?,
            conversation: ConversationId::from(row.get::<_, String>(1)?),
            seq: u64::try_from(seq).map_err(|_| StorageError::Corrupt(format!("sms seq {seq}")))?,
            recipient: row.get(3)?,
            body: row.get(4)?,
            created_at_ms: row.get(5)?,
        },
        state: state(&row.get::<_, String>(6)?)?,
        reason: row.get(7)?,
        provider_ref: row.get(8)?,
        attempts: row.get(9)?,
        announced: state(&row.get::<_, String>(10)?)?,
    })
}

fn state(stored: &str) -> Result<SmsState, StorageError> {
    SmsState::parse(stored).ok_or_else(|| StorageError::Corrupt(format!("sms state {stored:?}")))
}

/// Inbound SMS not yet handled, oldest first.
pub(super) fn pending(conn: &Connection, limit: u32) -> Result<Vec<InboundSms>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_ref, sender, receiver, body, received_at_ms FROM sms_inbound \
         WHERE handled = 0 ORDER BY received_at_ms, provider_ref LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |row| {
        Ok(InboundSms {
            provider_ref: row.get(0)?,
            sender: row.get(1)?,
            receiver: row.get(2)?,
            body: row.get(3)?,
            received_at_ms: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The conversations that sent a message's SMS to `number`, with their status, the most
/// recent SMS first.
pub(super) fn cases(
    conn: &Connection,
    number: &str,
) -> Result<Vec<(ConversationId, ConversationStatus)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.conversation, c.status FROM sms_messages AS s \
         JOIN conversations AS c ON c.id = s.conversation \
         WHERE s.recipient = ?1 AND s.seq > 0 GROUP BY s.conversation, c.status \
         ORDER BY max(s.created_at_ms) DESC, s.conversation",
    )?;
    let mut rows = stmt.query([number])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let status: String = row.get(1)?;
        let status = ConversationStatus::parse(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("status {status:?}")))?;
        found.push((ConversationId::from(row.get::<_, String>(0)?), status));
    }
    Ok(found)
}

fn to_i64(seq: u64) -> Result<i64, StorageError> {
    i64::try_from(seq).map_err(|_| StorageError::Database(format!("sms seq {seq} out of range")))
}
