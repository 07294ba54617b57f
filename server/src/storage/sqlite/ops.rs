//! What each [`WriteOp`] writes: its SQL, run by the writer thread inside the batch's
//! transaction, and the savepoint that makes a failing op fail alone. Stored seqs stay
//! gap-free per conversation; a conversation is created together with its first event.

use super::canned;
use super::schema::{last_seq_of_c, CONVERSATION_COLUMNS};
use super::sms;
use crate::storage::{
    ClientIdentity, Contact, ConversationRecord, ConversationState, Notification, StorageError,
    WriteOp,
};
use console_protocol::{ConversationId, Event};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// Applies one op inside a savepoint, so that its failure undoes only its own changes.
///
/// A plain append (a message, most writes by far) needs none: its checks read before anything
/// is written and its one `INSERT` is atomic by itself (a failing statement undoes only its
/// own changes), which saves two statements per message.
pub(super) fn apply_isolated(tx: &mut Transaction<'_>, op: &WriteOp) -> Result<(), StorageError> {
    if let WriteOp::Append { event, state: None } = op {
        return append_event(tx, event, None);
    }
    let savepoint = tx.savepoint()?;
    match op {
        WriteOp::Create { record, first } => create_conversation(&savepoint, record, first)?,
        WriteOp::Append { event, state } => append_event(&savepoint, event, state.as_ref())?,
        WriteOp::AppendNotify {
            event,
            state,
            notifications,
            sms,
            records,
        } => {
            append_event(&savepoint, event, state.as_ref())?;
            for n in notifications {
                insert_notification(&savepoint, n)?;
            }
            for s in sms {
                sms::insert(&savepoint, s)?;
            }
            for r in records {
                super::record::insert(&savepoint, r)?;
            }
        }
        WriteOp::RecordOutcome {
            id,
            state,
            attempts,
            next_attempt_ms,
            reason,
            at_ms,
        } => super::record::outcome(
            &savepoint,
            id,
            *state,
            *attempts,
            *next_attempt_ms,
            reason.as_deref(),
            *at_ms,
        )?,
        WriteOp::RecordAnnounced { id, state } => {
            savepoint
                .prepare_cached("UPDATE record_deliveries SET announced = ?2 WHERE id = ?1")?
                .execute(params![id, state.as_str()])?;
        }
        WriteOp::OutboxSent { id, at_ms } => {
            savepoint
                .prepare_cached("UPDATE outbox SET sent_at_ms = ?2 WHERE id = ?1")?
                .execute(params![id, at_ms])?;
        }
        WriteOp::OutboxRetry {
            id,
            attempts,
            next_attempt_ms,
            error,
            give_up,
        } => {
            savepoint
                .prepare_cached(
                    "UPDATE outbox SET attempts = ?2, next_attempt_ms = ?3, last_error = ?4, \
                     given_up = ?5 WHERE id = ?1",
                )?
                .execute(params![id, attempts, next_attempt_ms, error, give_up])?;
        }
        WriteOp::QueueSms(s) => sms::insert(&savepoint, s)?,
        WriteOp::SmsAccepted {
            id,
            provider_ref,
            at_ms,
        } => sms::accepted(&savepoint, id, provider_ref, *at_ms)?,
        WriteOp::SmsRetry {
            id,
            attempts,
            next_attempt_ms,
            error,
        } => sms::retry(&savepoint, id, *attempts, *next_attempt_ms, error)?,
        WriteOp::SmsFailed { id, reason, at_ms } => sms::failed(&savepoint, id, reason, *at_ms)?,
        WriteOp::SmsAnnounced { id, state } => sms::announced(&savepoint, id, *state)?,
        WriteOp::SmsReport {
            id,
            provider_ref,
            state,
            reason,
            at_ms,
        } => sms::report(
            &savepoint,
            id,
            provider_ref.as_deref(),
            *state,
            reason.as_deref(),
            *at_ms,
        )?,
        WriteOp::PutInboundSms(inbound) => sms::put_inbound(&savepoint, inbound)?,
        WriteOp::SmsInboundHandled {
            provider_ref,
            outcome,
        } => sms::inbound_handled(&savepoint, provider_ref, outcome, crate::storage::now_ms())?,
        WriteOp::Identify { event, client } => {
            append_event(&savepoint, event, None)?;
            set_client(&savepoint, event.conversation(), client)?;
        }
        WriteOp::Feedback {
            conversation,
            rating,
            comment,
            at_ms,
        } => {
            savepoint
                .prepare_cached(
                    "INSERT INTO feedback (conversation, rating, comment, at_ms) \
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![conversation.as_str(), rating, comment, at_ms])?;
        }
        WriteOp::SaveCanned { response, replace } => canned::save(&savepoint, response, *replace)?,
        WriteOp::DeleteCanned { id, professional } => canned::delete(&savepoint, id, professional)?,
        WriteOp::SetRouting {
            team,
            routing,
            by,
            at_ms,
        } => {
            savepoint
                .prepare_cached(
                    "INSERT INTO team_routing (team, routing, set_by, set_at_ms) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (team) DO UPDATE SET \
                     routing = excluded.routing, set_by = excluded.set_by, \
                     set_at_ms = excluded.set_at_ms",
                )?
                .execute(params![team.as_str(), routing, by.as_str(), at_ms])?;
        }
        WriteOp::PutAttachment(a) => {
            savepoint
                .prepare_cached(
                    "INSERT INTO attachments (id, conversation, client_msg_id, name, mime, \
                     size, sha256, data, uploaded_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    a.id,
                    a.conversation.as_str(),
                    a.client_msg_id,
                    a.name,
                    a.mime,
                    a.data.len() as i64,
                    a.sha256,
                    a.data,
                    a.uploaded_at_ms
                ])?;
        }
        WriteOp::AppendAccess(entries) => super::access::append(&savepoint, entries)?,
        WriteOp::DeleteAttachment { id } => {
            savepoint
                .prepare_cached("DELETE FROM attachments WHERE id = ?1")?
                .execute(params![id])?;
        }
        WriteOp::SweepAttachments { before_ms } => {
            savepoint
                .prepare_cached(
                    "DELETE FROM attachments AS a WHERE a.uploaded_at_ms < ?1 AND NOT EXISTS \
                     (SELECT 1 FROM events AS e WHERE e.conversation = a.conversation \
                      AND e.client_msg_id = a.client_msg_id AND instr(e.body, a.id) > 0)",
                )?
                .execute(params![before_ms])?;
        }
        WriteOp::Purge {
            conversation,
            closed_before_ms,
        } => super::retention::purge(&savepoint, conversation, *closed_before_ms)?,
        WriteOp::SetLegalHold(hold) => super::retention::set_hold(&savepoint, hold)?,
        WriteOp::ReleaseLegalHold {
            conversation,
            by,
            at_ms,
        } => super::retention::release_hold(&savepoint, conversation, by, *at_ms)?,
        WriteOp::PruneAccess { before_ms, at_ms } => {
            super::retention::prune_access(&savepoint, *before_ms, *at_ms)?
        }
        WriteOp::PurgeInboundSms { before_ms } => {
            savepoint
                .prepare_cached(
                    "DELETE FROM sms_inbound WHERE handled = 1 AND received_at_ms < ?1",
                )?
                .execute(params![before_ms])?;
        }
    }
    // On any error above the savepoint is dropped, which rolls it back.
    savepoint.commit()?;
    Ok(())
}

/// Stores a notification (a `first_of_channel` one only when its conversation has none of
/// that channel yet).
fn insert_notification(conn: &Connection, n: &Notification) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT INTO outbox (id, conversation, channel, recipient, subject, body, \
         created_at_ms, next_attempt_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7 \
         WHERE NOT ?8 OR NOT EXISTS \
           (SELECT 1 FROM outbox WHERE conversation = ?2 AND channel = ?3)",
    )?
    .execute(params![
        n.id,
        n.conversation.as_str(),
        n.channel,
        n.recipient,
        n.subject,
        n.body,
        n.created_at_ms,
        n.first_of_channel
    ])?;
    Ok(())
}

/// Stores a new conversation and its first event; the caller's savepoint makes it both or
/// neither. The row already holds the record's state, so the event is appended without one.
fn create_conversation(
    conn: &Connection,
    record: &ConversationRecord,
    first: &Event,
) -> Result<(), StorageError> {
    if first.conversation() != &record.id {
        return Err(StorageError::Database(format!(
            "first event of {} given to create {}",
            first.conversation(),
            record.id
        )));
    }
    insert_conversation(conn, record)?;
    append_event(conn, first, None)
}

fn insert_conversation(conn: &Connection, r: &ConversationRecord) -> Result<(), StorageError> {
    let questionnaire = r
        .questionnaire
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StorageError::Database(format!("encode questionnaire: {e}")))?;
    conn.prepare_cached(&format!(
        "INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
         ?20, ?21)"
    ))?
    .execute(params![
        r.id.as_str(),
        r.service.as_str(),
        r.topic.as_ref().map(|t| t.as_str()),
        r.channel,
        r.client.subject,
        r.client.name,
        r.client.identified,
        questionnaire,
        r.resume_token_hash,
        r.client_ref,
        r.created_at_ms,
        r.state.status.as_str(),
        r.state.team.as_str(),
        r.state.assigned_to.as_ref().map(|p| p.as_str()),
        r.state.queued_at_ms,
        r.state.priority,
        r.state.summary,
        r.state.reserved_for.as_ref().map(|p| p.as_str()),
        r.lang,
        r.state.due_at_ms,
        Contact::to_column(&r.contact)?,
    ])?;
    // A thread closed right after its first message is complete from the start.
    conn.prepare_cached(
        "UPDATE conversations SET closed_at_ms = created_at_ms \
         WHERE id = ?1 AND status = 'complete'",
    )?
    .execute(params![r.id.as_str()])?;
    Ok(())
}

/// Stores `event` as the next seq of its conversation; a seq already used is a duplicate and
/// a seq past the next one is refused, so stored seqs stay gap-free.
fn append_event(
    conn: &Connection,
    event: &Event,
    state: Option<&ConversationState>,
) -> Result<(), StorageError> {
    let id = event.conversation().as_str();
    let seq = i64::try_from(event.seq())
        .map_err(|_| StorageError::Database(format!("seq {} out of range", event.seq())))?;
    let last_seq: i64 = conn
        .prepare_cached(concat!(
            "SELECT ",
            last_seq_of_c!(),
            " FROM conversations c WHERE c.id = ?1"
        ))?
        .query_row([id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StorageError::Database(format!("append to unknown conversation {id}")))?;
    if seq < 1 {
        return Err(StorageError::Database(format!(
            "seq {seq} in {id}: seqs start at 1"
        )));
    }
    if seq <= last_seq {
        return Err(StorageError::Duplicate(format!("seq {seq} in {id}")));
    }
    if seq != last_seq + 1 {
        return Err(StorageError::Database(format!(
            "seq gap in {id}: expected {}, got {seq}",
            last_seq + 1
        )));
    }
    let (kind, client_msg_id, at) = match event {
        Event::Message(m) => ("message", m.client_msg_id.as_ref(), &m.at),
        Event::Note(m) => ("note", m.client_msg_id.as_ref(), &m.at),
        Event::System(s) => ("system", None, &s.at),
    };
    let body = serde_json::to_string(event)
        .map_err(|e| StorageError::Database(format!("encode event: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO events (conversation, seq, kind, client_msg_id, body, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        seq,
        kind,
        client_msg_id.map(|c| c.as_str()),
        body,
        at
    ])?;
    if let Some(s) = state {
        conn.prepare_cached(
            "UPDATE conversations SET status = ?2, team = ?3, \
             assigned_to = ?4, queued_at_ms = ?5, priority = ?6, summary = ?7, \
             reserved_for = ?8, due_at_ms = ?9, closed_at_ms = CASE WHEN ?2 = 'complete' \
             THEN ifnull(closed_at_ms, ?10) END WHERE id = ?1",
        )?
        .execute(params![
            id,
            s.status.as_str(),
            s.team.as_str(),
            s.assigned_to.as_ref().map(|p| p.as_str()),
            s.queued_at_ms,
            s.priority,
            s.summary,
            s.reserved_for.as_ref().map(|p| p.as_str()),
            s.due_at_ms,
            crate::storage::now_ms(),
        ])?;
    }
    Ok(())
}

/// Replaces the client identity of a conversation (the columns written at create).
fn set_client(
    conn: &Connection,
    id: &ConversationId,
    client: &ClientIdentity,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached(
            "UPDATE conversations SET client_subject = ?2, client_name = ?3, \
             client_identified = ?4 WHERE id = ?1",
        )?
        .execute(params![
            id.as_str(),
            client.subject,
            client.name,
            client.identified
        ])?;
    if changed != 1 {
        return Err(StorageError::Database(format!(
            "identify unknown conversation {id}"
        )));
    }
    Ok(())
}
