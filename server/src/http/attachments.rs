//! Documents over HTTP. `POST /api/v1/conversations/{id}/attachments?name=&client_msg_id=`
//! with the file as the body sends a message carrying it; `GET /api/v1/attachments/{id}`
//! downloads one. Callers authenticate as on the WebSocket: a professional with
//! `Authorization: Bearer <console JWT>`, a client with `X-Luukku-Resume-Token` (the
//! conversation's resume token).
//!
//! An upload is checked here (size and type from the content, against the organisation's
//! `[attachments]`), stored (any node may: nobody sees a document before a message names it),
//! and then sent as a message through a session (`bridge`), so the conversation's own checks
//! decide — a participant, an open conversation, a service that takes documents — and only the
//! primary writes the message. The message carries a ticket the server signed for this
//! conversation; a refused message takes its document with it.
//!
//! A download is answered only to whoever may read the message that names the document: a
//! client holding the conversation's resume token; a professional whose `history` read of that
//! message, through a session, succeeds. It is always sent as an attachment, never cached,
//! never sniffed or rendered by the browser.

use super::bridge::{self, Answer};
use super::json_error;
use crate::context::ServerCtx;
use crate::organisation::documents::{self, Refusal};
use crate::session::Endpoint;
use crate::storage::Attachment;
use crate::tunnel::Exchange;
use bytes::Buf;
use console_protocol::{
    AttachmentRef, ClientFrame, ClientHello, ConsoleFrame, ConsoleHello, ConversationId, ErrorCode,
    Event, HistoryRequest, Resume, ResumeToken, SendMessage, ServerFrame,
};
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Longest `client_msg_id`, as elsewhere an opaque id (a UUID is 36).
const MAX_ID_CHARS: usize = 100;

/// The resume `after_seq` of a bridged client session: past any conversation's end, so that
/// joining replays nothing.
const NO_REPLAY: u64 = i64::MAX as u64;

mod download;

type Shared = (Arc<ServerCtx>, Option<Arc<Exchange>>);

/// Who is asking, by their credentials.
enum Caller {
    /// A professional's console token.
    Professional(String),
    /// A client holding a conversation's resume token.
    Client(ResumeToken),
}

impl Caller {
    fn of(authorization: Option<String>, resume: Option<String>) -> Option<Caller> {
        if let Some(token) = resume.filter(|t| !t.trim().is_empty()) {
            return Some(Caller::Client(ResumeToken(token.trim().to_owned())));
        }
        authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(|t| Caller::Professional(t.trim().to_owned()))
            .filter(|c| matches!(c, Caller::Professional(t) if !t.is_empty()))
    }

    /// The session `hello` that authenticates this caller for `conversation`.
    fn hello(&self, conversation: &ConversationId) -> (Endpoint, String) {
        match self {
            Caller::Professional(token) => (
                Endpoint::Console,
                bridge::greeting(ConsoleFrame::Hello(ConsoleHello {
                    token: Some(token.clone()),
                    resume: Vec::new(),
                })),
            ),
            Caller::Client(token) => (
                Endpoint::Client,
                bridge::greeting(ClientFrame::Hello(ClientHello {
                    token: None,
                    resume: vec![Resume {
                        conversation: conversation.clone(),
                        resume_token: Some(token.clone()),
                        after_seq: NO_REPLAY,
                    }],
                })),
            ),
        }
    }
}

pub fn routes(
    ctx: Arc<ServerCtx>,
    exchange: Option<Arc<Exchange>>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let shared = warp::any().map(move || (ctx.clone(), exchange.clone()));
    let upload = warp::path!("api" / "v1" / "conversations" / String / "attachments")
        .and(warp::post())
        .and(shared.clone())
        .and(super::api::query_or_empty())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("x-luukku-resume-token"))
        .and(warp::header::optional::<u64>("content-length"))
        .and(warp::body::stream())
        .then(
            |conversation: String,
             shared: Shared,
             query: HashMap<String, String>,
             authorization,
             resume,
             length,
             body| async move {
                let caller = Caller::of(authorization, resume);
                let upload = Upload {
                    conversation: ConversationId::from(conversation),
                    query,
                    caller,
                };
                any_origin(upload.run(&shared, length, body).await)
            },
        );
    let download = warp::path!("api" / "v1" / "attachments" / String)
        .and(warp::get())
        .and(shared)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("x-luukku-resume-token"))
        .then(
            |id: String, shared: Shared, authorization, resume| async move {
                let caller = Caller::of(authorization, resume);
                any_origin(download::download(&shared, &id, caller).await)
            },
        );
    // Only OPTIONS; any other method is not this route's (a method rejection here would
    // outrank the answers of the routes that do serve the path).
    let options_only = || {
        warp::method()
            .and_then(|m: warp::http::Method| async move {
                if m == warp::http::Method::OPTIONS {
                    Ok(())
                } else {
                    Err(warp::reject::not_found())
                }
            })
            .untuple_one()
    };
    let preflight_upload = warp::path!("api" / "v1" / "conversations" / String / "attachments")
        .map(|_| ())
        .untuple_one()
        .and(options_only())
        .map(preflight);
    let preflight_download = warp::path!("api" / "v1" / "attachments" / String)
        .map(|_| ())
        .untuple_one()
        .and(options_only())
        .map(preflight);
    upload
        .or(download)
        .unify()
        .or(preflight_upload)
        .unify()
        .or(preflight_download)
        .unify()
}

/// The answer to a browser's CORS preflight: the widget uploads and downloads from the sites
/// that embed it. Credentials travel in headers the page sets, never in cookies.
fn preflight() -> warp::reply::Response {
    let r = warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT);
    let r = warp::reply::with_header(r, "access-control-allow-methods", "GET, POST");
    let r = warp::reply::with_header(
        r,
        "access-control-allow-headers",
        "authorization, x-luukku-resume-token, content-type",
    );
    let r = warp::reply::with_header(r, "access-control-max-age", "600");
    any_origin(r.into_response())
}

fn any_origin(r: warp::reply::Response) -> warp::reply::Response {
    let r = warp::reply::with_header(r, "access-control-allow-origin", "*");
    warp::reply::with_header(r, "access-control-expose-headers", "content-disposition")
        .into_response()
}

fn no_credentials() -> warp::reply::Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "send Authorization: Bearer <console token>, or X-Luukku-Resume-Token with the \
         conversation's resume token",
    )
}

/// One upload.
struct Upload {
    conversation: ConversationId,
    query: HashMap<String, String>,
    caller: Option<Caller>,
}

impl Upload {
    async fn run<S, B>(self, shared: &Shared, length: Option<u64>, body: S) -> warp::reply::Response
    where
        S: Stream<Item = Result<B, warp::Error>> + Unpin,
        B: Buf,
    {
        let (ctx, exchange) = shared;
        let policy = &ctx.config.organisation.attachments;
        let Some(caller) = &self.caller else {
            return no_credentials();
        };
        let Some(client_msg_id) = self
            .query
            .get("client_msg_id")
            .filter(|id| !id.trim().is_empty() && id.chars().count() <= MAX_ID_CHARS)
        else {
            return bad_request(&format!(
                "client_msg_id is required (1 to {MAX_ID_CHARS} characters)"
            ));
        };
        let Some(given_name) = self.query.get("name").filter(|n| !n.trim().is_empty()) else {
            return bad_request("name (the file's name) is required");
        };
        let caption = self.query.get("body").cloned().unwrap_or_default();
        let count = |outcome: &str| ctx.metrics.documents.with_label_values(&[outcome]).inc();
        if let Err(refusal) = self.allowed(ctx, caller).await {
            count("refused");
            return refusal;
        }
        if let Some(length) = length {
            if let Err(r) = policy.check_size(length) {
                count(r.outcome());
                return refused(&r);
            }
        }
        let data = match read_limited(body, policy.max_bytes).await {
            Ok(data) => data,
            Err(Some(r)) => {
                count(r.outcome());
                return refused(&r);
            }
            Err(None) => return bad_request("the upload was cut off"),
        };
        let kind = match policy.check(&data) {
            Ok(kind) => kind,
            Err(r) => {
                count(r.outcome());
                return refused(&r);
            }
        };
        let reference = AttachmentRef {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name: documents::file_name(given_name, kind),
            mime: kind.mime.to_owned(),
            size: data.len() as u64,
        };
        let stored = Attachment {
            id: reference.id.clone(),
            conversation: self.conversation.clone(),
            client_msg_id: client_msg_id.clone(),
            name: reference.name.clone(),
            mime: reference.mime.clone(),
            sha256: sha256_hex(&data),
            data,
            uploaded_at_ms: crate::conversation::view::now_ms(),
        };
        if let Err(e) = ctx.storage.put_attachment(stored).await {
            tracing::warn!(error = %e, "a document could not be stored");
            count("failed");
            return unavailable("the document could not be stored; send it again");
        }
        let ticket = ctx.auth.attachment_ticket(&self.conversation, &reference);
        let send = SendMessage {
            conversation: self.conversation.clone(),
            client_msg_id: client_msg_id.as_str().into(),
            body: caption,
            attachments: vec![ticket],
            sms: false,
        };
        let (endpoint, hello) = caller.hello(&self.conversation);
        let request = match caller {
            Caller::Professional(_) => bridge::encode(ConsoleFrame::Send(send)),
            Caller::Client(_) => bridge::encode(ClientFrame::Send(send)),
        };
        let answer = bridge::ask(ctx, exchange, endpoint, hello, request).await;
        self.answered(ctx, answer, &reference).await
    }

    /// The caller may upload here: a client's resume token is the conversation's, and the
    /// conversation's service takes documents (whether a professional is a participant, the
    /// conversation decides when the message is sent).
    async fn allowed(&self, ctx: &ServerCtx, caller: &Caller) -> Result<(), warp::reply::Response> {
        let not_yours = || {
            json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "not a participant of this conversation",
            )
        };
        if let Caller::Client(token) = caller {
            if !ctx.auth.check_resume(&self.conversation, token) {
                return Err(not_yours());
            }
        }
        let record = match ctx.storage.conversation(&self.conversation).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err(not_yours()),
            Err(e) => {
                tracing::warn!(error = %e, "upload: the conversation could not be read");
                return Err(unavailable("the conversation could not be read; try again"));
            }
        };
        let org = &ctx.config.organisation;
        if !org.service(&record.service).is_some_and(|s| s.attachments) {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this service does not take documents",
            ));
        }
        Ok(())
    }

    /// Turns the session's answer to the message into the HTTP answer; a refused message takes
    /// its document with it, and a resent one (a known `client_msg_id`) answers with the
    /// document its first sending stored.
    async fn answered(
        &self,
        ctx: &ServerCtx,
        answer: Answer,
        uploaded: &AttachmentRef,
    ) -> warp::reply::Response {
        let ack = match answer {
            Answer::Reply(frame) => match *frame {
                ServerFrame::Ack(ack) => Ok(ack),
                other => Err(Answer::Reply(Box::new(other))),
            },
            other => Err(other),
        };
        let documents = &ctx.metrics.documents;
        let ack = match ack {
            Ok(ack) => ack,
            Err(refusal) => {
                if let Err(e) = ctx.storage.delete_attachment(&uploaded.id).await {
                    tracing::warn!(error = %e, "a refused document could not be removed");
                }
                let outcome = match refusal {
                    Answer::Reply(_) | Answer::Unauthorized | Answer::TooLarge => "refused",
                    Answer::Unavailable(_) => "failed",
                };
                documents.with_label_values(&[outcome]).inc();
                return refused_message(refusal);
            }
        };
        let seq = ack.seq.unwrap_or_default();
        let stored = message_at(ctx, &self.conversation, seq).await;
        let attachment = stored
            .as_ref()
            .and_then(|m| m.attachments.first().cloned())
            .unwrap_or_else(|| uploaded.clone());
        if attachment.id != uploaded.id {
            // A resend: the first upload is the message's document; this one is nobody's.
            if let Err(e) = ctx.storage.delete_attachment(&uploaded.id).await {
                tracing::warn!(error = %e, "a resent document could not be removed");
            }
        } else {
            documents.with_label_values(&["sent"]).inc();
            ctx.metrics.document_bytes.inc_by(attachment.size);
        }
        let body = serde_json::json!({
            "conversation": self.conversation, "seq": seq, "at": ack.at,
            "client_msg_id": ack.client_msg_id, "attachment": attachment,
        });
        warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response()
    }
}

/// The stored message `seq` of `conversation`.
async fn message_at(
    ctx: &ServerCtx,
    conversation: &ConversationId,
    seq: u64,
) -> Option<console_protocol::MessageEvent> {
    let events = ctx
        .storage
        .events_after(conversation, seq.saturating_sub(1), 1)
        .await
        .ok()?;
    events.into_iter().find_map(|e| match e {
        Event::Message(m) if m.seq == seq => Some(m),
        _ => None,
    })
}

/// The HTTP answer to a message the session refused.
fn refused_message(answer: Answer) -> warp::reply::Response {
    match answer {
        Answer::Reply(frame) if matches!(*frame, ServerFrame::Error(_)) => {
            let ServerFrame::Error(e) = *frame else {
                return unavailable("the message was not answered as expected; send it again");
            };
            let status = match e.code {
                ErrorCode::Forbidden | ErrorCode::NotFound => StatusCode::FORBIDDEN,
                ErrorCode::ConversationClosed => StatusCode::CONFLICT,
                ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::Internal | ErrorCode::CapacityFull | ErrorCode::ServiceClosed => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            let code = serde_json::to_value(e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "bad_request".into());
            json_error(status, &code, &e.message)
        }
        Answer::Unauthorized => json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the token was refused",
        ),
        Answer::TooLarge => json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the message is larger than this server accepts",
        ),
        Answer::Reply(_) => unavailable("the message was not answered as expected; send it again"),
        Answer::Unavailable(why) => unavailable(why),
    }
}

/// Reads `body` up to `max` bytes: `Err(Some(too large))` past it, `Err(None)` when the
/// stream failed.
async fn read_limited<S, B>(mut body: S, max: u64) -> Result<Vec<u8>, Option<Refusal>>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let mut data = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| None)?;
        let size = (data.len() + chunk.remaining()) as u64;
        if size > max {
            return Err(Some(Refusal::TooLarge { size, max }));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            data.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(data)
}

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn refused(r: &Refusal) -> warp::reply::Response {
    let (status, code) = match r {
        Refusal::Empty => (StatusCode::BAD_REQUEST, "bad_request"),
        Refusal::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Refusal::Unsupported { .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
    };
    json_error(status, code, &r.to_string())
}

fn bad_request(message: &str) -> warp::reply::Response {
    json_error(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn unavailable(message: &str) -> warp::reply::Response {
    json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
}

/// How often documents whose upload never became a message are looked for.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// How old such a document must be to go: an upload becomes its message within seconds.
const UNSENT_FOR_MS: i64 = 60 * 60 * 1000;

/// Removes, every [`SWEEP_EVERY`] until `cancel`, the documents whose upload ended before
/// their message was sent (the node died, the message was never answered) — nobody can see
/// them, and they should not be kept. Runs where the router runs (one node, the primary).
pub(crate) fn sweep_unsent(storage: crate::storage::SharedStorage, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = every.tick() => {
                    let before = crate::conversation::view::now_ms() - UNSENT_FOR_MS;
                    if let Err(e) = storage.sweep_attachments(before).await {
                        tracing::warn!(error = %e, "unsent documents could not be swept");
                    }
                }
            }
        }
    });
}
