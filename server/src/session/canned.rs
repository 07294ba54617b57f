//! The console's canned-response frames (`canned`, `canned_save`, `canned_delete`): each is
//! answered with the professional's full `canned` list, echoing `req`. Storage is reached
//! directly (a write through the group-committing writer, a read on the read pool).

use super::{CloseReason, Conn};
use crate::canned;
use crate::conversation::view::now_ms;
use crate::conversation::ProfessionalRef;
use crate::storage::{PersonalCanned, StorageError, WriteOp};
use console_protocol::{CannedList, CannedSave, ErrorCode, ServerFrame};
use futures_util::Sink;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Io = Result<(), CloseReason>;

fn gone(_: WsError) -> CloseReason {
    CloseReason(1000, "")
}

/// `canned` → the list.
pub(super) async fn list<S>(conn: &mut Conn<S>, me: &ProfessionalRef, req: Option<String>) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let ctx = conn.ctx.clone();
    match ctx.storage.canned_responses(&me.id).await {
        Ok(personal) => {
            let responses = canned::list(&ctx.config.organisation, &me.teams, personal);
            conn.send(req, ServerFrame::Canned(CannedList { responses }))
                .await
                .map_err(gone)
        }
        Err(e) => refuse(conn, req, &e).await,
    }
}

/// `canned_save` → stored, then the list.
pub(super) async fn save<S>(
    conn: &mut Conn<S>,
    me: &ProfessionalRef,
    req: Option<String>,
    save: CannedSave,
) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let ctx = conn.ctx.clone();
    if let Err(problem) = canned::check_personal(&ctx.config.organisation, &save) {
        return conn
            .error(req, ErrorCode::BadFrame, problem)
            .await
            .map_err(gone);
    }
    let replace = save.id.is_some();
    if save.id.as_deref().is_some_and(canned::is_team_id) {
        return team_response(conn, req).await;
    }
    let existing = match ctx.storage.canned_responses(&me.id).await {
        Ok(existing) => existing,
        Err(e) => return refuse(conn, req, &e).await,
    };
    if let Err(problem) = canned::check_room(&existing, &save) {
        return conn
            .error(req, ErrorCode::BadFrame, problem)
            .await
            .map_err(gone);
    }
    let id = save.id.unwrap_or_else(canned::new_personal_id);
    let response = PersonalCanned {
        id,
        professional: me.id.clone(),
        code: save.code,
        title: save.title,
        lang: save.lang,
        body: save.body,
        updated_at_ms: now_ms(),
    };
    let op = WriteOp::SaveCanned {
        response: Box::new(response),
        replace,
    };
    match ctx.storage.write(op).await {
        Ok(()) => list(conn, me, req).await,
        Err(e) => refuse(conn, req, &e).await,
    }
}

/// `canned_delete` → deleted, then the list.
pub(super) async fn delete<S>(
    conn: &mut Conn<S>,
    me: &ProfessionalRef,
    req: Option<String>,
    id: String,
) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    if canned::is_team_id(&id) {
        return team_response(conn, req).await;
    }
    let op = WriteOp::DeleteCanned {
        id,
        professional: me.id.clone(),
    };
    match conn.ctx.storage.write(op).await {
        Ok(()) => list(conn, me, req).await,
        Err(e) => refuse(conn, req, &e).await,
    }
}

async fn team_response<S>(conn: &mut Conn<S>, req: Option<String>) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let why = "team responses are changed in the organisation configuration";
    conn.error(req, ErrorCode::BadFrame, why)
        .await
        .map_err(gone)
}

/// Answers a storage failure: another professional's or an unknown id is `not_found` (the
/// same words for both), a second response with the same code and language `bad_frame`.
async fn refuse<S>(conn: &mut Conn<S>, req: Option<String>, e: &StorageError) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let (code, message) = match e {
        StorageError::NotFound(_) => (ErrorCode::NotFound, "no such canned response"),
        StorageError::Duplicate(_) => (
            ErrorCode::BadFrame,
            "code: you already have a response with this code in this language",
        ),
        _ => {
            tracing::warn!(error = %e, "canned responses: storage failed");
            (ErrorCode::Internal, "storage failed")
        }
    };
    conn.error(req, code, message).await.map_err(gone)
}
