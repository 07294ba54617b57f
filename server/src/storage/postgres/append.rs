//! The conditional append, the one write every message takes: the event is stored and the
//! conversation's `last_seq` / `last_writer` move forward in one statement, only if the event
//! is the next seq (and, fenced, the previous one is the expected writer's). A refusal is
//! reported as data, in SQLite's words where SQLite has them.

use super::ops::{Answer, Statements};
use super::{col, Fence};
use crate::storage::{ClientIdentity, ConversationState, StorageError};
use console_protocol::Event;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

/// The conversation row is locked and read (`cur`); the event goes in only if it is the next
/// seq (and, fenced, the last one was written by the expected writer) and collides with no
/// stored seq or `client_msg_id`; only then do `last_seq`, `last_writer` and the rest move
/// (`bump`). The answer is what the row held before, and whether it moved; no row at all when
/// the conversation does not exist. `{SET}` takes the extra columns of an append with state
/// or of an identification.
///
/// `FOR UPDATE` makes a concurrent writer (another node) wait for this transaction and then
/// read the row as this one left it, so the seq check never passes on a stale `last_seq`.
pub(super) const APPEND: &str = "
WITH cur AS (
    SELECT last_seq, last_writer FROM conversations WHERE id = $1::text FOR UPDATE
), ins AS (
    INSERT INTO events (conversation, seq, kind, client_msg_id, body, at)
    SELECT $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::text FROM cur
    WHERE cur.last_seq = $2::bigint - 1
      AND (NOT $8::boolean OR cur.last_writer IS NOT DISTINCT FROM $9::bigint)
    ON CONFLICT DO NOTHING
    RETURNING seq
), bump AS (
    UPDATE conversations SET last_seq = $2::bigint, last_writer = $7::bigint {SET}
    WHERE id = $1::text AND last_seq = $2::bigint - 1 AND EXISTS (SELECT 1 FROM ins)
    RETURNING 1
)
SELECT cur.last_seq, cur.last_writer, EXISTS (SELECT 1 FROM bump) FROM cur";

/// `{SET}` of an append that replaces the conversation's state.
pub(super) const SET_STATE: &str = ", status = $10::text, team = $11::text, \
    assigned_to = $12::text, queued_at_ms = $13::bigint, priority = $14::integer, \
    summary = $15::text, reserved_for = $16::text, due_at_ms = $17::bigint, \
    closed_at_ms = CASE WHEN $10::text = 'complete' THEN coalesce(conversations.closed_at_ms, \
    (extract(epoch FROM clock_timestamp()) * 1000)::bigint) END";

/// `{SET}` of an identification: the client identity changes with its event.
pub(super) const SET_CLIENT: &str =
    ", client_subject = $10::text, client_name = $11::text, client_identified = $12::boolean";

/// An event as the `events` columns store it.
pub(super) struct EventColumns<'a> {
    pub seq: i64,
    pub kind: &'static str,
    pub client_msg_id: Option<&'a str>,
    pub body: String,
    pub at: &'a str,
}

impl<'a> EventColumns<'a> {
    /// Encodes `event`; a seq below 1 is refused here, before anything is sent.
    pub(super) fn of(event: &'a Event) -> Result<Self, StorageError> {
        let seq = i64::try_from(event.seq())
            .ok()
            .filter(|seq| *seq >= 1)
            .ok_or_else(|| {
                StorageError::Database(format!(
                    "seq {} in {}: seqs start at 1",
                    event.seq(),
                    event.conversation()
                ))
            })?;
        let (kind, client_msg_id, at) = match event {
            Event::Message(m) => ("message", m.client_msg_id.as_ref(), &m.at),
            Event::Note(m) => ("note", m.client_msg_id.as_ref(), &m.at),
            Event::System(s) => ("system", None, &s.at),
        };
        let body = serde_json::to_string(event)
            .map_err(|e| StorageError::Database(format!("encode event: {e}")))?;
        Ok(EventColumns {
            seq,
            kind,
            client_msg_id: client_msg_id.map(|c| c.as_str()),
            body,
            at,
        })
    }
}

/// One event to append, with the fence it must pass and the tag it leaves.
pub(super) struct Append<'a> {
    pub event: &'a Event,
    pub fence: Option<Fence>,
    pub writer: i64,
}

impl Append<'_> {
    /// Runs the conditional append, also replacing the state or the client identity when set.
    pub(super) async fn run(
        &self,
        client: &Client,
        statements: &Statements,
        state: Option<&ConversationState>,
        who: Option<&ClientIdentity>,
    ) -> Answer {
        let columns = match EventColumns::of(self.event) {
            Ok(columns) => columns,
            Err(refused) => return Ok(Err(refused)),
        };
        let id = self.event.conversation().as_str();
        let fenced = self.fence.is_some();
        let previous = self.fence.and_then(|f| f.previous);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &id,
            &columns.seq,
            &columns.kind,
            &columns.client_msg_id,
            &columns.body,
            &columns.at,
            &self.writer,
            &fenced,
            &previous,
        ];
        let state_columns = state.map(|s| {
            (
                s.status.as_str(),
                s.team.as_str(),
                s.assigned_to.as_ref().map(|p| p.as_str()),
                s.reserved_for.as_ref().map(|p| p.as_str()),
            )
        });
        let statement = match (state, &state_columns, who) {
            (Some(s), Some((status, team, assigned_to, reserved_for)), _) => {
                params.extend_from_slice(&[
                    status,
                    team,
                    assigned_to,
                    &s.queued_at_ms,
                    &s.priority,
                    &s.summary,
                    reserved_for,
                    &s.due_at_ms,
                ]);
                &statements.append_state
            }
            (_, _, Some(who)) => {
                params.extend_from_slice(&[&who.subject, &who.name, &who.identified]);
                &statements.identify
            }
            _ => &statements.append,
        };
        let rows = client.query(statement, &params).await?;
        Ok(self.outcome(rows.first(), columns.seq))
    }

    /// Reads the statement's answer: stored, or why not, in SQLite's words where SQLite has
    /// them (a used seq is a duplicate, a seq past the next one a gap) and as a
    /// [`StorageError::Conflict`] where only a fence can fail.
    fn outcome(&self, row: Option<&Row>, seq: i64) -> Result<(), StorageError> {
        let id = self.event.conversation();
        let Some(row) = row else {
            return Err(StorageError::Database(format!(
                "append to unknown conversation {id}"
            )));
        };
        let (last_seq, last_writer, stored): (i64, Option<i64>, bool) =
            (col(row, 0)?, col(row, 1)?, col(row, 2)?);
        if stored {
            return Ok(());
        }
        if seq > last_seq + 1 {
            return Err(StorageError::Database(format!(
                "seq gap in {id}: expected {}, got {seq}",
                last_seq + 1
            )));
        }
        match self.fence {
            Some(fence) if seq <= last_seq || last_writer != fence.previous => {
                Err(StorageError::Conflict(format!(
                    "seq {seq} in {id}: the conversation is at {last_seq}, last written by \
                     another writer"
                )))
            }
            _ if seq <= last_seq => Err(StorageError::Duplicate(format!("seq {seq} in {id}"))),
            _ => Err(StorageError::Duplicate(format!(
                "client_msg_id of seq {seq} in {id}"
            ))),
        }
    }
}
