//! SMS: the writer's statements (an SMS with the event that carries it, or alone; the worker's
//! progress), the two writes every node makes through the read pool (a delivery report, an
//! inbound SMS: no part of a conversation's fenced event order), and the reads.

use super::col;
use super::ops::Answer;
use super::reads::Reads;
use crate::storage::{InboundSms, SmsOut, SmsRecord, SmsState, StorageError};
use console_protocol::{ConversationId, ConversationStatus, Event};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

/// An SMS with no event (`QueueSms`): `queued`, due at once; an `id` stored already keeps its
/// row.
const INSERT: &str = "INSERT INTO sms_messages (id, conversation, seq, recipient, body, state, \
    next_attempt_ms, created_at_ms, state_at_ms, announced) \
    VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6, $6, 'queued') ON CONFLICT (id) DO NOTHING";

/// An SMS of the event `AppendNotify` just appended: stored only if that event is there as
/// the op wrote it (its conversation `$7`, seq `$8` and `client_msg_id` `$9`).
const INSERT_WITH_EVENT: &str = "INSERT INTO sms_messages (id, conversation, seq, recipient, \
    body, state, next_attempt_ms, created_at_ms, state_at_ms, announced) \
    SELECT $1::text, $2::text, $3::bigint, $4::text, $5::text, 'queued', $6::bigint, \
    $6::bigint, $6::bigint, 'queued' \
    WHERE EXISTS (SELECT 1 FROM events WHERE conversation = $7::text AND seq = $8::bigint \
      AND client_msg_id IS NOT DISTINCT FROM $9::text) \
    ON CONFLICT (id) DO NOTHING";

const ACCEPTED: &str = "UPDATE sms_messages SET provider_ref = coalesce(provider_ref, $2), \
    state_at_ms = CASE WHEN state = 'queued' THEN $3 ELSE state_at_ms END, \
    state = CASE WHEN state = 'queued' THEN 'sent' ELSE state END WHERE id = $1";

const RETRY: &str = "UPDATE sms_messages SET attempts = $2, next_attempt_ms = $3, \
    last_error = $4 WHERE id = $1 AND state = 'queued'";

const FAILED: &str = "UPDATE sms_messages SET state = 'failed', reason = $2, state_at_ms = $3 \
    WHERE id = $1 AND state IN ('queued', 'sent')";

const ANNOUNCED: &str = "UPDATE sms_messages SET announced = $2 WHERE id = $1";

/// A delivery report: the state moves only to a higher rank (`$4`, [`SmsState::rank`]; the
/// CASE is the stored state's), `reason` comes with a move to `failed`, and a `provider_ref`
/// is kept when none is stored. A row for a known id, none for an unknown one.
const REPORT: &str = "UPDATE sms_messages SET provider_ref = coalesce(provider_ref, $2::text), \
    reason = CASE WHEN $4::integer > (CASE state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 \
      ELSE 2 END) AND $3::text = 'failed' THEN $5::text ELSE reason END, \
    state_at_ms = CASE WHEN $4::integer > (CASE state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 \
      ELSE 2 END) THEN $6::bigint ELSE state_at_ms END, \
    state = CASE WHEN $4::integer > (CASE state WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 \
      ELSE 2 END) THEN $3::text ELSE state END \
    WHERE id = $1::text RETURNING 1";

/// A row when the inbound SMS was new.
const PUT_INBOUND: &str = "INSERT INTO sms_inbound (provider_ref, sender, receiver, body, \
    received_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider_ref) DO NOTHING \
    RETURNING 1";

/// The first handling stands.
const INBOUND_HANDLED: &str = "UPDATE sms_inbound SET handled = true, outcome = $2, \
    handled_at_ms = $3 WHERE provider_ref = $1 AND NOT handled";

/// The columns of an SMS, in the order [`record_from_row`] decodes.
const COLUMNS: &str = "id, conversation, seq, recipient, body, created_at_ms, state, reason, \
    provider_ref, attempts, announced";

const PENDING: &str = "SELECT provider_ref, sender, receiver, body, received_at_ms \
    FROM sms_inbound WHERE NOT handled ORDER BY received_at_ms, provider_ref LIMIT $1";

const CASES: &str = "SELECT s.conversation, c.status FROM sms_messages AS s \
    JOIN conversations AS c ON c.id = s.conversation \
    WHERE s.recipient = $1 AND s.seq > 0 GROUP BY s.conversation, c.status \
    ORDER BY max(s.created_at_ms) DESC, s.conversation";

/// `QueueSms`.
pub(super) async fn queue(client: &Client, s: &SmsOut) -> Answer {
    let seq = match seq_column(s.seq) {
        Ok(seq) => seq,
        Err(refused) => return Ok(Err(refused)),
    };
    let params: [&(dyn ToSql + Sync); 6] = [
        &s.id,
        &s.conversation.as_str(),
        &seq,
        &s.recipient,
        &s.body,
        &s.created_at_ms,
    ];
    client.execute(INSERT, &params).await?;
    Ok(Ok(()))
}

/// Stores an SMS of `event`, in the transaction that just appended it, only if the event is
/// there as this op wrote it (as the notifications are).
pub(super) async fn insert_with_event(
    client: &Client,
    s: &SmsOut,
    event: &Event,
) -> Result<(), tokio_postgres::Error> {
    let seq = i64::try_from(s.seq).unwrap_or(i64::MAX);
    let event_seq = i64::try_from(event.seq()).unwrap_or(i64::MAX);
    let msg_id = match event {
        Event::Message(m) | Event::Note(m) => m.client_msg_id.as_ref().map(|c| c.as_str()),
        Event::System(_) => None,
    };
    let params: [&(dyn ToSql + Sync); 9] = [
        &s.id,
        &s.conversation.as_str(),
        &seq,
        &s.recipient,
        &s.body,
        &s.created_at_ms,
        &event.conversation().as_str(),
        &event_seq,
        &msg_id,
    ];
    client.execute(INSERT_WITH_EVENT, &params).await?;
    Ok(())
}

pub(super) async fn accepted(client: &Client, id: &str, provider_ref: &str, at_ms: i64) -> Answer {
    client
        .execute(ACCEPTED, &[&id, &provider_ref, &at_ms])
        .await?;
    Ok(Ok(()))
}

pub(super) async fn retry(
    client: &Client,
    id: &str,
    attempts: u32,
    next_attempt_ms: i64,
    error: &str,
) -> Answer {
    let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
    client
        .execute(RETRY, &[&id, &attempts, &next_attempt_ms, &error])
        .await?;
    Ok(Ok(()))
}

pub(super) async fn failed(client: &Client, id: &str, reason: &str, at_ms: i64) -> Answer {
    client.execute(FAILED, &[&id, &reason, &at_ms]).await?;
    Ok(Ok(()))
}

pub(super) async fn announced(client: &Client, id: &str, state: SmsState) -> Answer {
    client.execute(ANNOUNCED, &[&id, &state.as_str()]).await?;
    Ok(Ok(()))
}

pub(super) async fn inbound_handled(client: &Client, provider_ref: &str, outcome: &str) -> Answer {
    let at_ms = crate::storage::now_ms();
    client
        .execute(INBOUND_HANDLED, &[&provider_ref, &outcome, &at_ms])
        .await?;
    Ok(Ok(()))
}

/// A delivery report ([`REPORT`] and its parameters).
pub(super) struct Report<'a> {
    id: &'a str,
    provider_ref: Option<&'a str>,
    state: &'static str,
    rank: i32,
    reason: Option<&'a str>,
    at_ms: i64,
}

impl<'a> Report<'a> {
    pub(super) fn new(
        id: &'a str,
        provider_ref: Option<&'a str>,
        state: SmsState,
        reason: Option<&'a str>,
        at_ms: i64,
    ) -> Self {
        Report {
            id,
            provider_ref,
            state: state.as_str(),
            rank: i32::from(state.rank()),
            reason,
            at_ms,
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 6] {
        [
            &self.id,
            &self.provider_ref,
            &self.state,
            &self.rank,
            &self.reason,
            &self.at_ms,
        ]
    }

    /// Through the writer (`WriteOp::SmsReport`): an unknown id is [`StorageError::NotFound`].
    pub(super) async fn write(&self, client: &Client) -> Answer {
        let rows = client.query(REPORT, &self.params()).await?;
        Ok(if rows.is_empty() {
            Err(StorageError::NotFound(format!("sms {}", self.id)))
        } else {
            Ok(())
        })
    }

    /// From any node, through the read pool: whether an SMS has this id.
    pub(super) async fn through_read_pool(&self, reads: &Reads) -> Result<bool, StorageError> {
        Ok(!reads.rows(REPORT, &self.params()).await?.is_empty())
    }
}

fn inbound_params(s: &InboundSms) -> [&(dyn ToSql + Sync); 5] {
    [
        &s.provider_ref,
        &s.sender,
        &s.receiver,
        &s.body,
        &s.received_at_ms,
    ]
}

/// `PutInboundSms` through the writer: a repeated `provider_ref` is a duplicate.
pub(super) async fn put_inbound(client: &Client, s: &InboundSms) -> Answer {
    let rows = client.query(PUT_INBOUND, &inbound_params(s)).await?;
    Ok(if rows.is_empty() {
        Err(StorageError::Duplicate(format!(
            "inbound sms {}",
            s.provider_ref
        )))
    } else {
        Ok(())
    })
}

/// An inbound SMS from any node, through the read pool: whether it was new.
///
/// A read that found its connection dead runs once more; if the first run had committed, the
/// second answers `false` for an SMS that was in fact new (it is stored and pending all the
/// same).
pub(super) async fn put_inbound_through_read_pool(
    reads: &Reads,
    s: &InboundSms,
) -> Result<bool, StorageError> {
    Ok(!reads
        .rows(PUT_INBOUND, &inbound_params(s))
        .await?
        .is_empty())
}

/// The queued SMS the gateway has not accepted whose next attempt is due at `now_ms`.
pub(super) async fn due(
    reads: &Reads,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<SmsRecord>, StorageError> {
    let filter = "state = 'queued' AND provider_ref IS NULL AND next_attempt_ms <= $1 \
                  ORDER BY created_at_ms, id LIMIT $2";
    records(reads, filter, &[&now_ms, &i64::from(limit)]).await
}

/// The SMS of messages whose state the conversation has not been told of.
pub(super) async fn unannounced(reads: &Reads, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
    let filter = "announced <> state AND seq > 0 ORDER BY created_at_ms, id LIMIT $1";
    records(reads, filter, &[&i64::from(limit)]).await
}

/// The SMS whose `column` (`id` or `provider_ref`) is `value`.
pub(super) async fn one(
    reads: &Reads,
    column: &str,
    value: &str,
) -> Result<Option<SmsRecord>, StorageError> {
    Ok(records(reads, &format!("{column} = $1"), &[&value])
        .await?
        .pop())
}

/// The SMS matching `filter` (which may order and limit them).
async fn records(
    reads: &Reads,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<SmsRecord>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE {filter}");
    reads
        .rows(&sql, params)
        .await?
        .iter()
        .map(record_from_row)
        .collect()
}

fn record_from_row(row: &Row) -> Result<SmsRecord, StorageError> {
    let seq: i64 = col(row, 2)?;
    let attempts: i32 = col(row, 9)?;
    Ok(SmsRecord {
        sms: SmsOut {
            id: col(row, 0)?,
            conversation: col::<String>(row, 1)?.into(),
            seq: u64::try_from(seq).map_err(|_| StorageError::Corrupt(format!("sms seq {seq}")))?,
            recipient: col(row, 3)?,
            body: col(row, 4)?,
            created_at_ms: col(row, 5)?,
        },
        state: state(col(row, 6)?)?,
        reason: col(row, 7)?,
        provider_ref: col(row, 8)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StorageError::Corrupt(format!("sms attempts {attempts}")))?,
        announced: state(col(row, 10)?)?,
    })
}

fn state(stored: &str) -> Result<SmsState, StorageError> {
    SmsState::parse(stored).ok_or_else(|| StorageError::Corrupt(format!("sms state {stored:?}")))
}

/// Inbound SMS not yet handled, oldest first.
pub(super) async fn pending(reads: &Reads, limit: u32) -> Result<Vec<InboundSms>, StorageError> {
    let rows = reads.rows(PENDING, &[&i64::from(limit)]).await?;
    rows.iter()
        .map(|row| {
            Ok(InboundSms {
                provider_ref: col(row, 0)?,
                sender: col(row, 1)?,
                receiver: col(row, 2)?,
                body: col(row, 3)?,
                received_at_ms: col(row, 4)?,
            })
        })
        .collect()
}

/// The conversations that sent a message's SMS to `number`, with their status, the most
/// recent SMS first.
pub(super) async fn cases(
    reads: &Reads,
    number: &str,
) -> Result<Vec<(ConversationId, ConversationStatus)>, StorageError> {
    let rows = reads.rows(CASES, &[&number]).await?;
    rows.iter()
        .map(|row| {
            let status: &str = col(row, 1)?;
            let status = ConversationStatus::parse(status)
                .ok_or_else(|| StorageError::Corrupt(format!("status {status:?}")))?;
            Ok((col::<String>(row, 0)?.into(), status))
        })
        .collect()
}

fn seq_column(seq: u64) -> Result<i64, StorageError> {
    i64::try_from(seq).map_err(|_| StorageError::Database(format!("sms seq {seq} out of range")))
}
