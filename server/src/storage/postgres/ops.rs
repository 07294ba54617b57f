//! The SQL of each write, prepared once per writer connection, and what its answer means
//! (the append, nearly every write, has `append` to itself).
//!
//! Every write is one statement that reports its expected refusals (a duplicate seq or
//! `client_msg_id`, a seq gap, a lost fence, an unknown row) as data instead of raising an
//! error, because any error aborts the whole transaction and so the whole group commit: the
//! writer then has to roll back and run the group again without the failing op (`writer`).
//! A resend is routine; it must not cost that.

use super::append::{Append, EventColumns, APPEND, SET_CLIENT, SET_STATE};
use super::{col, describe, Fence};
use crate::storage::{Contact, ConversationRecord, PersonalCanned, StorageError, WriteOp};
use console_protocol::{ConversationId, Event, ProfessionalId};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Statement};

/// What one op's statement answered: `Err` when the statement itself failed (the transaction
/// is then aborted), else the op's own outcome.
pub(super) type Answer = Result<Result<(), StorageError>, tokio_postgres::Error>;

/// A new conversation and its first event, both or neither (one statement); an existing id
/// or `client_ref` inserts nothing. Answers whether they were stored.
const CREATE: &str = "
WITH conv AS (
    INSERT INTO conversations (id, service, topic, channel, client_subject, client_name,
        client_identified, questionnaire, resume_token_hash, client_ref, created_at_ms,
        status, team, assigned_to, queued_at_ms, priority, summary, reserved_for, lang,
        last_seq, last_writer, due_at_ms, contact, closed_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $21::bigint, $20::bigint, $26::bigint, $27::text,
        CASE WHEN $12::text = 'complete' THEN $11::bigint END)
    ON CONFLICT DO NOTHING
    RETURNING id
), first AS (
    INSERT INTO events (conversation, seq, kind, client_msg_id, body, at)
    SELECT id, $21::bigint, $22::text, $23::text, $24::text, $25::text FROM conv
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM first)";

/// A rating: (the conversation exists, the rating was stored). A second one stores nothing.
const FEEDBACK: &str = "
WITH conv AS (
    SELECT id FROM conversations WHERE id = $1::text
), ins AS (
    INSERT INTO feedback (conversation, rating, comment, at_ms)
    SELECT id, $2::smallint, $3::text, $4::bigint FROM conv
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM conv), EXISTS (SELECT 1 FROM ins)";

const CANNED_INSERT: &str = "
INSERT INTO canned_responses (id, professional, code, title, lang, body, updated_at_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT DO NOTHING
RETURNING 1";

/// Takes the insert's parameters; it must hit the professional's own row. A code and language
/// the professional already uses elsewhere fails the statement (unique index): rare enough
/// to take the writer's slow path.
const CANNED_UPDATE: &str = "
UPDATE canned_responses SET code = $3, title = $4, lang = $5, body = $6, updated_at_ms = $7
WHERE id = $1 AND professional = $2
RETURNING 1";

const CANNED_DELETE: &str =
    "DELETE FROM canned_responses WHERE id = $1 AND professional = $2 RETURNING 1";

/// The writer's prepared statements (prepared per connection).
pub(super) struct Statements {
    pub(super) append: Statement,
    pub(super) append_state: Statement,
    pub(super) identify: Statement,
    create: Statement,
    feedback: Statement,
    canned_insert: Statement,
    canned_update: Statement,
    canned_delete: Statement,
}

impl Statements {
    /// Prepares every statement, pipelined: one round trip.
    pub(super) async fn prepare(client: &Client) -> Result<Statements, tokio_postgres::Error> {
        use futures_util::future::{try_join, try_join4};
        let (append, append_state, identify) = (
            APPEND.replace("{SET}", ""),
            APPEND.replace("{SET}", SET_STATE),
            APPEND.replace("{SET}", SET_CLIENT),
        );
        let ((append, append_state, identify, create), (feedback, insert, update, delete)) =
            try_join(
                try_join4(
                    client.prepare(&append),
                    client.prepare(&append_state),
                    client.prepare(&identify),
                    client.prepare(CREATE),
                ),
                try_join4(
                    client.prepare(FEEDBACK),
                    client.prepare(CANNED_INSERT),
                    client.prepare(CANNED_UPDATE),
                    client.prepare(CANNED_DELETE),
                ),
            )
            .await?;
        Ok(Statements {
            append,
            append_state,
            identify,
            create,
            feedback,
            canned_insert: insert,
            canned_update: update,
            canned_delete: delete,
        })
    }
}

/// Runs `op` as one statement; `writer` is the tag stored as `last_writer` when no fence
/// names one. The query is sent when this future is first polled.
pub(super) async fn run(
    client: &Client,
    statements: &Statements,
    op: &WriteOp,
    fence: Option<Fence>,
    writer: i64,
) -> Answer {
    let writer = fence.map_or(writer, |f| f.writer);
    match op {
        WriteOp::Create { record, first } => {
            create(client, statements, record, first, writer).await
        }
        WriteOp::Append { event, state } => {
            let append = Append {
                event,
                fence,
                writer,
            };
            append.run(client, statements, state.as_ref(), None).await
        }
        WriteOp::AppendNotify {
            event,
            state,
            notifications,
            sms,
            records,
        } => {
            let append = Append {
                event,
                fence,
                writer,
            };
            let stored = append.run(client, statements, state.as_ref(), None).await?;
            if stored.is_ok() {
                for n in notifications {
                    insert_notification(client, n, event).await?;
                }
                for s in sms {
                    super::sms::insert_with_event(client, s, event).await?;
                }
                for r in records {
                    super::record::insert(client, r).await?;
                }
            }
            Ok(stored)
        }
        WriteOp::QueueSms(s) => super::sms::queue(client, s).await,
        WriteOp::SmsAccepted {
            id,
            provider_ref,
            at_ms,
        } => super::sms::accepted(client, id, provider_ref, *at_ms).await,
        WriteOp::SmsRetry {
            id,
            attempts,
            next_attempt_ms,
            error,
        } => super::sms::retry(client, id, *attempts, *next_attempt_ms, error).await,
        WriteOp::SmsFailed { id, reason, at_ms } => {
            super::sms::failed(client, id, reason, *at_ms).await
        }
        WriteOp::SmsAnnounced { id, state } => super::sms::announced(client, id, *state).await,
        WriteOp::SmsReport {
            id,
            provider_ref,
            state,
            reason,
            at_ms,
        } => {
            let report = super::sms::Report::new(
                id,
                provider_ref.as_deref(),
                *state,
                reason.as_deref(),
                *at_ms,
            );
            report.write(client).await
        }
        WriteOp::PutInboundSms(inbound) => super::sms::put_inbound(client, inbound).await,
        WriteOp::SmsInboundHandled {
            provider_ref,
            outcome,
        } => super::sms::inbound_handled(client, provider_ref, outcome).await,
        WriteOp::OutboxSent { id, at_ms } => {
            client
                .execute(
                    "UPDATE outbox SET sent_at_ms = $2 WHERE id = $1",
                    &[id, at_ms],
                )
                .await?;
            Ok(Ok(()))
        }
        WriteOp::OutboxRetry {
            id,
            attempts,
            next_attempt_ms,
            error,
            give_up,
        } => {
            let attempts = i32::try_from(*attempts).unwrap_or(i32::MAX);
            client
                .execute(
                    "UPDATE outbox SET attempts = $2, next_attempt_ms = $3, last_error = $4, \
                     given_up = $5 WHERE id = $1",
                    &[id, &attempts, next_attempt_ms, error, give_up],
                )
                .await?;
            Ok(Ok(()))
        }
        WriteOp::Identify { event, client: who } => {
            let append = Append {
                event,
                fence,
                writer,
            };
            append.run(client, statements, None, Some(who)).await
        }
        WriteOp::Feedback {
            conversation,
            rating,
            comment,
            at_ms,
        } => {
            let rating = i16::from(*rating);
            let row = client
                .query_one(
                    &statements.feedback,
                    &[&conversation.as_str(), &rating, comment, at_ms],
                )
                .await?;
            Ok(feedback_outcome(&row, conversation))
        }
        WriteOp::SaveCanned { response, replace } => {
            save_canned(client, statements, response, *replace).await
        }
        WriteOp::DeleteCanned { id, professional } => {
            delete_canned(client, statements, id, professional).await
        }
        WriteOp::SetRouting {
            team,
            routing,
            by,
            at_ms,
        } => {
            client
                .execute(
                    "INSERT INTO team_routing (team, routing, set_by, set_at_ms) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (team) DO UPDATE SET \
                     routing = excluded.routing, set_by = excluded.set_by, \
                     set_at_ms = excluded.set_at_ms",
                    &[&team.as_str(), routing, &by.as_str(), at_ms],
                )
                .await?;
            Ok(Ok(()))
        }
        WriteOp::PutAttachment(a) => {
            let params = super::attachments::InsertParams::of(a);
            client
                .execute(super::attachments::INSERT, &params.list())
                .await?;
            Ok(Ok(()))
        }
        // Appended by `PostgresStorage::append_access` under its lock, never by the writer.
        WriteOp::AppendAccess(_) => Ok(Err(StorageError::Database(
            "access-log entries are appended by append_access".into(),
        ))),
        WriteOp::DeleteAttachment { id } => {
            client.execute(super::attachments::DELETE, &[id]).await?;
            Ok(Ok(()))
        }
        WriteOp::SweepAttachments { before_ms } => {
            client
                .execute(super::attachments::SWEEP, &[before_ms])
                .await?;
            Ok(Ok(()))
        }
        WriteOp::Purge {
            conversation,
            closed_before_ms,
        } => super::retention::purge(client, conversation, *closed_before_ms).await,
        WriteOp::RecordOutcome {
            id,
            state,
            attempts,
            next_attempt_ms,
            reason,
            at_ms,
        } => {
            let attempts = i32::try_from(*attempts).unwrap_or(i32::MAX);
            client
                .execute(
                    "UPDATE record_deliveries SET state = $2, attempts = $3, \
                     next_attempt_ms = $4, reason = $5, state_at_ms = $6 \
                     WHERE id = $1 AND state = 'queued'",
                    &[
                        id,
                        &state.as_str(),
                        &attempts,
                        next_attempt_ms,
                        reason,
                        at_ms,
                    ],
                )
                .await?;
            Ok(Ok(()))
        }
        WriteOp::RecordAnnounced { id, state } => {
            client
                .execute(
                    "UPDATE record_deliveries SET announced = $2 WHERE id = $1",
                    &[id, &state.as_str()],
                )
                .await?;
            Ok(Ok(()))
        }
        // Written from any node through the read pool (`PostgresStorage`), never the writer.
        WriteOp::SetLegalHold(_)
        | WriteOp::ReleaseLegalHold { .. }
        | WriteOp::PruneAccess { .. }
        | WriteOp::PurgeInboundSms { .. } => Ok(Err(StorageError::Database(
            "retention bookkeeping is not written through the writer".into(),
        ))),
    }
}

/// Stores a notification of `event`, in the transaction that just appended it: only if the
/// event is there as this op wrote it (its seq with its `client_msg_id`), and a
/// `first_of_channel` one only when the conversation has none of that channel yet.
async fn insert_notification(
    client: &Client,
    n: &crate::storage::Notification,
    event: &Event,
) -> Result<(), tokio_postgres::Error> {
    let seq = i64::try_from(event.seq()).unwrap_or(i64::MAX);
    let msg_id = match event {
        Event::Message(m) | Event::Note(m) => m.client_msg_id.as_ref().map(|c| c.to_string()),
        Event::System(_) => None,
    };
    client
        .execute(
            "INSERT INTO outbox (id, conversation, channel, recipient, subject, body, \
             created_at_ms, next_attempt_ms) SELECT $1, $2, $3, $4, $5, $6, $7, $7 \
             WHERE EXISTS (SELECT 1 FROM events WHERE conversation = $2 AND seq = $9 \
               AND client_msg_id IS NOT DISTINCT FROM $10) \
             AND (NOT $8 OR NOT EXISTS \
               (SELECT 1 FROM outbox WHERE conversation = $2 AND channel = $3))",
            &[
                &n.id,
                &n.conversation.as_str(),
                &n.channel,
                &n.recipient,
                &n.subject,
                &n.body,
                &n.created_at_ms,
                &n.first_of_channel,
                &seq,
                &msg_id,
            ],
        )
        .await?;
    Ok(())
}

/// (the conversation exists, the rating was stored) as the rating's outcome.
fn feedback_outcome(row: &Row, conversation: &ConversationId) -> Result<(), StorageError> {
    match (col(row, 0)?, col(row, 1)?) {
        (false, _) => Err(StorageError::Database(format!(
            "feedback for unknown conversation {conversation}"
        ))),
        (true, false) => Err(StorageError::Duplicate(format!(
            "feedback for {conversation}"
        ))),
        (true, true) => Ok(()),
    }
}

async fn create(
    client: &Client,
    statements: &Statements,
    r: &ConversationRecord,
    first: &Event,
    writer: i64,
) -> Answer {
    if first.conversation() != &r.id {
        return Ok(Err(StorageError::Database(format!(
            "first event of {} given to create {}",
            first.conversation(),
            r.id
        ))));
    }
    let event = match EventColumns::of(first) {
        Ok(event) if event.seq == 1 => event,
        Ok(event) => {
            return Ok(Err(StorageError::Database(format!(
                "seq gap in {}: expected 1, got {}",
                r.id, event.seq
            ))))
        }
        Err(refused) => return Ok(Err(refused)),
    };
    let questionnaire = match r.questionnaire.as_ref().map(serde_json::to_string) {
        None => None,
        Some(Ok(json)) => Some(json),
        Some(Err(e)) => {
            return Ok(Err(StorageError::Database(format!(
                "encode questionnaire: {e}"
            ))))
        }
    };
    let contact = match Contact::to_column(&r.contact) {
        Ok(contact) => contact,
        Err(e) => return Ok(Err(e)),
    };
    let params: [&(dyn ToSql + Sync); 27] = [
        &r.id.as_str(),
        &r.service.as_str(),
        &r.topic.as_ref().map(|t| t.as_str()),
        &r.channel,
        &r.client.subject,
        &r.client.name,
        &r.client.identified,
        &questionnaire,
        &r.resume_token_hash,
        &r.client_ref,
        &r.created_at_ms,
        &r.state.status.as_str(),
        &r.state.team.as_str(),
        &r.state.assigned_to.as_ref().map(|p| p.as_str()),
        &r.state.queued_at_ms,
        &r.state.priority,
        &r.state.summary,
        &r.state.reserved_for.as_ref().map(|p| p.as_str()),
        &r.lang,
        &writer,
        &event.seq,
        &event.kind,
        &event.client_msg_id,
        &event.body,
        &event.at,
        &r.state.due_at_ms,
        &contact,
    ];
    let row = client.query_one(&statements.create, &params).await?;
    let stored: bool = match col(&row, 0) {
        Ok(stored) => stored,
        Err(e) => return Ok(Err(e)),
    };
    Ok(if !stored {
        Err(StorageError::Duplicate(format!(
            "conversation {} or its client_ref exists",
            r.id
        )))
    } else {
        Ok(())
    })
}

async fn save_canned(
    client: &Client,
    statements: &Statements,
    r: &PersonalCanned,
    replace: bool,
) -> Answer {
    let statement = if replace {
        &statements.canned_update
    } else {
        &statements.canned_insert
    };
    let params: [&(dyn ToSql + Sync); 7] = [
        &r.id,
        &r.professional.as_str(),
        &r.code,
        &r.title,
        &r.lang,
        &r.body,
        &r.updated_at_ms,
    ];
    let rows = client.query(statement, &params).await?;
    Ok(match (rows.is_empty(), replace) {
        (false, _) => Ok(()),
        (true, true) => Err(StorageError::NotFound(format!("canned response {}", r.id))),
        (true, false) => Err(StorageError::Duplicate(format!(
            "canned response {} or its code {} ({})",
            r.id, r.code, r.lang
        ))),
    })
}

async fn delete_canned(
    client: &Client,
    statements: &Statements,
    id: &str,
    professional: &ProfessionalId,
) -> Answer {
    let rows = client
        .query(&statements.canned_delete, &[&id, &professional.as_str()])
        .await?;
    Ok(if rows.is_empty() {
        Err(StorageError::NotFound(format!("canned response {id}")))
    } else {
        Ok(())
    })
}

/// The error an op gets when its statement failed: a unique violation is a duplicate.
pub(super) fn statement_error(e: &tokio_postgres::Error) -> StorageError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        return StorageError::Duplicate(
            e.as_db_error()
                .map_or_else(|| e.to_string(), |db| db.message().to_owned()),
        );
    }
    describe("write", e)
}
