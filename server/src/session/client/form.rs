//! `submit_form`: a contact form's whole matter in one frame. The answers and contact details
//! are checked (every problem named by its field), a retried submission is recognised by its
//! `client_ref`, and the conversation is stored with its `queued` event and the submission as
//! the client's first message (both durable before the reply), then handed to the router.
//! The reply is `form_received` with the sender's reference number and the reply deadline.

use super::*;
use crate::organisation::form::{self, Form};
use crate::organisation::Service;
use crate::storage::{Contact, SharedStorage, StorageError, WriteOp};
use console_protocol::{
    Answers, Author, ClientMsgId, FormReceived, MessageEvent, Role, SubmitForm,
};
use std::collections::BTreeMap;

/// The `client_msg_id` of the submission's message: one per conversation, so a resend of the
/// same message is recognised like any other.
const SUBMISSION_MSG_ID: &str = "form-submission";

impl ClientSession {
    pub(super) async fn submit_form<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        submit: SubmitForm,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let org = &ctx.config.organisation;
        let Some(service) = org.service(&submit.service) else {
            return conn
                .error(req, ErrorCode::NotFound, "no such service")
                .await
                .map_err(gone);
        };
        let Some(form) = service.form.as_ref().filter(|_| service.channel == "form") else {
            return conn
                .error(
                    req,
                    ErrorCode::BadFrame,
                    "not a form service: start a conversation with start",
                )
                .await
                .map_err(gone);
        };
        if let Some(t) = submit.team.as_ref().filter(|t| !service.teams.contains(t)) {
            return conn
                .error(
                    req,
                    ErrorCode::NotFound,
                    format!("service does not route to team {t}"),
                )
                .await
                .map_err(gone);
        }
        let (answers, contact) = match self.check(form, &submit) {
            Ok(checked) => checked,
            Err(problems) => return refuse(conn, req, problems).await,
        };
        if let Some(r) = &submit.client_ref {
            match ctx.storage.conversation_by_client_ref(r).await {
                Ok(Some(existing)) => return self.received_again(conn, req, existing).await,
                Ok(None) => {}
                Err(_) => return storage_down(conn, req).await,
            }
        }
        let record = self.record(conn, service, &submit, answers.clone(), contact);
        let id = record.id.clone();
        let body = form.render(&answers, &org.default_language, &org.default_language);
        match Self::store(&ctx.storage, record.clone(), body).await {
            Ok(()) => {}
            Err(StorageError::Duplicate(_)) => {
                // The same client_ref raced in from another session: answer as it was stored.
                let r = submit.client_ref.as_deref().unwrap_or_default();
                return match ctx.storage.conversation_by_client_ref(r).await {
                    Ok(Some(existing)) => self.received_again(conn, req, existing).await,
                    _ => storage_down(conn, req).await,
                };
            }
            Err(_) => return storage_down(conn, req).await,
        }
        ctx.metrics.count_started(service, &record.state.team);
        let handle = match ctx.hub.get_or_load(&id).await {
            Ok(Some(h)) => h,
            _ => return storage_down(conn, req).await,
        };
        ctx.router.enqueue(QueueTicket::of(&record)).await;
        self.received(conn, req, handle, record.state.due_at_ms)
            .await
    }

    /// The answers as stored and the contact, or every problem by field id (`contact` when an
    /// anonymous sender gave no way to reach them).
    #[allow(clippy::type_complexity)]
    fn check(
        &self,
        form: &Form,
        submit: &SubmitForm,
    ) -> Result<(Answers, Option<Contact>), BTreeMap<String, String>> {
        let given = submit.contact.clone().unwrap_or_default();
        let answers = form.validate(&submit.fields);
        let contact = form::contact(given.email.as_deref(), given.phone.as_deref());
        let mut problems = BTreeMap::new();
        if let Err(p) = &answers {
            problems.extend(p.clone());
        }
        match &contact {
            Err(p) => problems.extend(p.clone()),
            Ok((None, None)) if self.identity.is_none() => {
                problems.insert(
                    "contact".to_owned(),
                    "give an e-mail address or a phone number so that we can reply".to_owned(),
                );
            }
            Ok(_) => {}
        }
        let (answers, contact) = match (answers, contact) {
            (Ok(a), Ok(c)) if problems.is_empty() => (a, c),
            _ => return Err(problems),
        };
        let contact = match contact {
            (None, None) => None,
            (email, phone) => Some(Contact { email, phone }),
        };
        Ok((answers, contact))
    }

    /// The new conversation: queued for the chosen (or the service's first) team, with its
    /// reply deadline.
    fn record<S>(
        &self,
        conn: &Conn<S>,
        service: &Service,
        submit: &SubmitForm,
        answers: Answers,
        contact: Option<Contact>,
    ) -> ConversationRecord {
        let org = &conn.ctx.config.organisation;
        let team = submit
            .team
            .clone()
            .unwrap_or_else(|| service.teams[0].clone());
        let mut record =
            crate::conversation::new_waiting(org, service, team, self.client_identity(), now().1);
        record.questionnaire = Some(answers);
        record.client_ref = submit.client_ref.clone();
        record.lang = submit
            .lang
            .as_deref()
            .and_then(super::start::supported_lang);
        record.contact = contact;
        record
    }

    /// Stores the conversation with its `queued` event, then the submission as the client's
    /// first message (seq 2); returns once both are durable.
    async fn store(
        storage: &SharedStorage,
        record: ConversationRecord,
        body: String,
    ) -> Result<(), StorageError> {
        let first = crate::conversation::opening_event(&record);
        let message = submission(&record, body);
        storage
            .write(WriteOp::Create {
                record: Box::new(record),
                first,
            })
            .await?;
        storage
            .write(WriteOp::Append {
                event: message,
                state: None,
            })
            .await
    }

    /// A retried submission (a known `client_ref`): the same answer, nothing stored.
    async fn received_again<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        existing: ConversationRecord,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let same_client = existing.client.subject == self.identity.as_ref().map(|c| c.sub.clone());
        if !same_client || existing.channel != "form" {
            return conn
                .error(
                    req,
                    ErrorCode::Forbidden,
                    "client_ref belongs to another conversation",
                )
                .await
                .map_err(gone);
        }
        let ctx = conn.ctx.clone();
        // The first try stored the conversation but failed before its message: finish it (no
        // actor has run for it, so nobody can have taken it meanwhile).
        if existing.last_seq == 1 && ctx.hub.get(&existing.id).is_none() {
            let org = &ctx.config.organisation;
            let form = org.service(&existing.service).and_then(|s| s.form.as_ref());
            let (Some(form), Some(answers)) = (form, existing.questionnaire.as_ref()) else {
                return storage_down(conn, req).await;
            };
            let body = form.render(answers, &org.default_language, &org.default_language);
            let write = ctx.storage.write(WriteOp::Append {
                event: submission(&existing, body),
                state: None,
            });
            match write.await {
                Ok(()) | Err(StorageError::Duplicate(_)) => {}
                Err(_) => return storage_down(conn, req).await,
            }
            ctx.router.enqueue(QueueTicket::of(&existing)).await;
        }
        match ctx.hub.get_or_load(&existing.id).await {
            Ok(Some(h)) => self.received(conn, req, h, existing.state.due_at_ms).await,
            _ => storage_down(conn, req).await,
        }
    }

    /// Joins the sender's session to the conversation (a widget hears the reply while it stays
    /// open) and answers `form_received`.
    async fn received<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        handle: ConversationHandle,
        due_at_ms: Option<i64>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let token = ctx.auth.resume_token(&handle.id);
        // Nothing to replay: the sender knows what they sent.
        if handle
            .attach_client(conn.link.clone(), token.clone(), None, None)
            .await
            .is_ok()
        {
            self.members.insert(handle.id.clone(), handle.clone());
        }
        let received = FormReceived {
            reference: form::reference(handle.id.as_str()),
            conversation: handle.id.clone(),
            due_at: due_at_ms.map(|ms| ctx.config.organisation.due_at_text(ms)),
            resume_token: token,
        };
        conn.send(req, ServerFrame::FormReceived(received))
            .await
            .map_err(gone)
    }
}

/// The submission as the client's first message (seq 2) of `record`.
fn submission(record: &ConversationRecord, body: String) -> Event {
    Event::Message(MessageEvent {
        conversation: record.id.clone(),
        seq: 2,
        at: now().0,
        from: Author {
            role: Role::Client,
            id: None,
            name: record.client.name.clone(),
        },
        body,
        client_msg_id: Some(ClientMsgId(SUBMISSION_MSG_ID.to_owned())),
        attachments: Vec::new(),
        sms: None,
    })
}

/// The `error` frame of a refused submission: `bad_frame` with the problems by field id.
pub(super) async fn refuse<S>(
    conn: &mut Conn<S>,
    req: Option<String>,
    problems: BTreeMap<String, String>,
) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    conn.ctx
        .metrics
        .frames_rejected
        .with_label_values(&[ErrorCode::BadFrame.as_str()])
        .inc();
    let names: Vec<&str> = problems.keys().map(String::as_str).collect();
    let f = ErrorFrame {
        code: ErrorCode::BadFrame,
        message: format!("the form is not filled in right: {}", names.join(", ")),
        conversation: None,
        fields: Some(problems),
    };
    conn.send(req, ServerFrame::Error(f)).await.map_err(gone)
}

async fn storage_down<S>(conn: &mut Conn<S>, req: Option<String>) -> Io
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    conn.error(req, ErrorCode::Internal, "storage unavailable")
        .await
        .map_err(gone)
}
