//! A professional opens a thread with a registered client — a `message` service of their
//! team, the client known by the identity provider's subject (someone who has identified with
//! the organisation before) — or a new SMS conversation to a mobile number (an `sms`
//! service). The thread is theirs and In progress from the start, with a first message (by
//! SMS in an `sms` one); closed right after it when it only delivers something.

use super::*;
use crate::conversation::view::{now, now_ms};
use crate::storage::{ClientIdentity, ConversationRecord, ConversationState};
use console_protocol::{ConversationStatus, Event, StartThread, SystemEvent, SystemKind};

impl ConsoleSession {
    pub(super) async fn start_thread<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        t: StartThread,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let org = &ctx.config.organisation;
        // Each refusal names its field (`fields`, as a form's do), so the console shows it there.
        let refuse = |code: ErrorCode, field: &str, message: String| {
            let fields = std::collections::BTreeMap::from([(field.to_owned(), message.clone())]);
            ServerFrame::Error(console_protocol::ErrorFrame {
                code,
                message,
                conversation: None,
                fields: Some(fields),
            })
        };
        let service = match org.service(&t.service) {
            None => Err((ErrorCode::NotFound, "no such service".to_owned())),
            Some(s) if s.channel != "message" && s.channel != "sms" => Err((
                ErrorCode::BadFrame,
                format!(
                    "a thread needs a message or sms service; {} is {}",
                    s.id, s.channel
                ),
            )),
            Some(s) => match s.teams.iter().find(|t| self.me.teams.contains(t)) {
                Some(team) => Ok((s, team.clone())),
                None => Err((
                    ErrorCode::Forbidden,
                    format!("service {} is not one of your teams'", s.id),
                )),
            },
        };
        let (service, team) = match service {
            Ok(found) => found,
            Err((code, message)) => {
                let frame = refuse(code, "service", message);
                return conn.send(req, frame).await.map_err(gone);
            }
        };
        if let Some(topic) = &t.topic {
            if !service.topics.iter().any(|x| &x.id == topic) {
                let frame = refuse(
                    ErrorCode::NotFound,
                    "topic",
                    format!("unknown topic {topic}"),
                );
                return conn.send(req, frame).await.map_err(gone);
            }
        }
        if t.body.trim().is_empty() {
            let frame = refuse(ErrorCode::BadFrame, "body", "empty message body".into());
            return conn.send(req, frame).await.map_err(gone);
        }
        // Checked here too, so that a refused message leaves no empty thread behind.
        if t.body.chars().count() > crate::conversation::MAX_BODY_CHARS {
            let frame = refuse(
                ErrorCode::TooLarge,
                "body",
                format!(
                    "the message is longer than {} characters",
                    crate::conversation::MAX_BODY_CHARS
                ),
            );
            return conn.send(req, frame).await.map_err(gone);
        }
        let sms_thread = service.channel == "sms";
        let (client, contact, lang) = if sms_thread {
            // A new SMS conversation: the number is the client, checked before anything is
            // stored, and the first message must fit the longest SMS allowed.
            let Some(config) = &ctx.config.sms else {
                let frame = refuse(
                    ErrorCode::BadFrame,
                    "service",
                    "SMS is not available: no SMS gateway is configured".into(),
                );
                return conn.send(req, frame).await.map_err(gone);
            };
            let number = match crate::sms::number::mobile(
                t.phone.as_deref().unwrap_or(""),
                &config.countries,
            ) {
                Ok(number) => number,
                Err(e) => {
                    let frame = refuse(ErrorCode::BadFrame, "phone", e.to_string());
                    return conn.send(req, frame).await.map_err(gone);
                }
            };
            let length = crate::sms::text::length(&t.body);
            if length.segments > config.max_segments {
                let frame = refuse(
                    ErrorCode::TooLarge,
                    "body",
                    format!(
                        "the SMS would be {} messages; at most {} are allowed",
                        length.segments, config.max_segments
                    ),
                );
                return conn.send(req, frame).await.map_err(gone);
            }
            let client = ClientIdentity {
                subject: None,
                name: None,
                identified: false,
            };
            let contact = crate::storage::Contact {
                email: None,
                phone: Some(number),
            };
            (client, Some(contact), None)
        } else {
            match self.registered_client(conn, &t.client).await {
                Ok(Some(previous)) => (
                    ClientIdentity {
                        subject: Some(t.client.clone()),
                        name: previous.client.name.clone(),
                        identified: true,
                    },
                    previous.contact.clone(),
                    previous.lang.clone(),
                ),
                Ok(None) => {
                    let frame = refuse(
                        ErrorCode::NotFound,
                        "client",
                        "no such client: they must have identified with us before".into(),
                    );
                    return conn.send(req, frame).await.map_err(gone);
                }
                Err(_) => {
                    return conn
                        .error(req, ErrorCode::Internal, "storage unavailable")
                        .await
                        .map_err(gone)
                }
            }
        };
        let id = ConversationId(uuid::Uuid::new_v4().simple().to_string());
        let (at, ms) = now();
        let record = ConversationRecord {
            id: id.clone(),
            service: service.id.clone(),
            topic: t.topic.clone(),
            channel: service.channel.clone(),
            client,
            questionnaire: None,
            resume_token_hash: String::new(),
            client_ref: None,
            created_at_ms: ms,
            lang,
            state: ConversationState {
                status: ConversationStatus::InProgress,
                team: team.clone(),
                assigned_to: Some(self.me.id.clone()),
                queued_at_ms: ms,
                priority: 0,
                summary: None,
                reserved_for: None,
                due_at_ms: None,
            },
            last_seq: 0,
            contact,
        };
        let mut detail = serde_json::Map::new();
        detail.insert("professional".into(), self.me.id.to_string().into());
        detail.insert("name".into(), self.me.name.clone().into());
        detail.insert("team".into(), team.to_string().into());
        detail.insert("initiated".into(), true.into());
        let first = Event::System(SystemEvent {
            conversation: id.clone(),
            seq: 1,
            at,
            event: SystemKind::Assigned,
            detail,
        });
        let handle = match ctx.hub.create(record, first).await {
            Ok(h) => h,
            Err(_) => {
                return conn
                    .error(req, ErrorCode::Internal, "storage unavailable")
                    .await
                    .map_err(gone)
            }
        };
        ctx.metrics.count_started(service, &team);
        // A member before its events can reach the session: a thread closed at once may be out of
        // the hub before `assigned` passes through the outbound queue.
        self.members.insert(id.clone(), handle.clone());
        // Joined as the holder: `assigned` answers the request.
        let joined = handle
            .assign(self.me.clone(), vec![conn.link.clone()], req.clone(), false)
            .await
            .await
            .unwrap_or(Err(ConvError::Gone));
        if let Err(e) = joined {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        let origin = self.origin(conn, None);
        let posted = handle
            .post(
                origin.clone(),
                PostKind::Message,
                t.client_msg_id,
                t.body,
                Vec::new(),
                sms_thread,
            )
            .await;
        if let Err(e) = posted {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        if t.close_after {
            if let Err(e) = handle.close(origin, None).await {
                return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
            }
            conn.ctx
                .router
                .released(self.me.id.clone(), id.clone())
                .await;
        }
        tracing::debug!(started_at = now_ms(), "a professional opened a thread");
        Ok(())
    }

    /// A registered client: the latest conversation of someone who has identified with the
    /// organisation before as `subject`.
    async fn registered_client<S>(
        &self,
        conn: &mut Conn<S>,
        subject: &str,
    ) -> Result<Option<ConversationRecord>, crate::storage::StorageError>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        if subject.trim().is_empty() {
            return Ok(None);
        }
        conn.ctx
            .storage
            .client_conversations(subject, 1)
            .await
            .map(|found| found.into_iter().next())
    }
}
