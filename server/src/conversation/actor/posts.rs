//! Messages and notes: the checks before a post, the answer to a resent `client_msg_id` (the
//! original ack, or a wait for it while the original is in flight), and the stored event.

use super::*;
use crate::storage::SmsOut;
use console_protocol::SmsInfo;

pub(crate) use crate::conversation::MAX_BODY_CHARS;

/// Most documents one message carries.
const MAX_ATTACHMENTS: usize = 10;

/// A message or note as its sender asked for it.
pub(super) struct Post {
    pub kind: PostKind,
    pub id: ClientMsgId,
    pub body: String,
    /// Tickets of documents to attach.
    pub attachments: Vec<String>,
    /// A professional's message goes to the client's phone by SMS too (always so in an `sms`
    /// conversation).
    pub sms: bool,
}

impl Conversation {
    pub(super) async fn post(
        &mut self,
        origin: &Origin,
        post: Post,
        received: Instant,
    ) -> Result<(), ConvError> {
        let role = self.role_of(origin)?;
        self.store_post(origin, role, post, None, received).await
    }

    /// Stores a message or note of `role` (checked by the caller) and acks it to the origin
    /// after the commit.
    pub(super) async fn store_post(
        &mut self,
        origin: &Origin,
        role: Role,
        post: Post,
        inbound: Option<SmsInfo>,
        received: Instant,
    ) -> Result<(), ConvError> {
        let Post {
            kind,
            id,
            body,
            attachments,
            sms,
        } = post;
        if kind == PostKind::Note && role != Role::Professional {
            return Err(ConvError::Forbidden);
        }
        if self.record.state.status == ConversationStatus::Complete {
            return Err(ConvError::Closed);
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(ConvError::TooLarge);
        }
        let attachments = self.documents(kind, &attachments)?;
        if body.trim().is_empty() && attachments.is_empty() {
            return Err(ConvError::BadState("empty message body"));
        }
        let by_sms = kind == PostKind::Message
            && role == Role::Professional
            && (sms || self.record.channel == "sms");
        if self.is_duplicate(origin, &id).await? {
            return Ok(());
        }
        let plan = if by_sms {
            Some(self.sms_plan(&body, &attachments)?)
        } else {
            None
        };
        let (at, _) = now();
        let from = self.author(&origin.who);
        let seq = self.take_seq();
        let m = MessageEvent {
            conversation: self.record.id.clone(),
            seq,
            at,
            from,
            body,
            client_msg_id: Some(id.clone()),
            attachments,
            sms: plan.as_ref().map(|p| p.info.clone()).or(inbound),
        };
        self.count_post(kind, role);
        let state_changed = kind == PostKind::Message && self.owed_reply_changes(role);
        let event = if kind == PostKind::Note {
            Event::Note(m)
        } else {
            Event::Message(m)
        };
        self.msg_ids.insert(id.clone(), None);
        let effect = Effect::Ack {
            link: origin.link.clone(),
            req: origin.req.clone(),
            client_msg_id: id,
        };
        // A message that goes by SMS needs no "you have a new message" besides.
        let notifications =
            if kind == PostKind::Message && role == Role::Professional && plan.is_none() {
                self.notifications_of_reply()
            } else {
                Vec::new()
            };
        let sms = plan
            .map(|p| SmsOut {
                id: uuid::Uuid::new_v4().simple().to_string(),
                conversation: self.record.id.clone(),
                seq,
                recipient: p.recipient,
                body: match &event {
                    Event::Message(m) => m.body.clone(),
                    _ => String::new(),
                },
                created_at_ms: super::view::now_ms(),
            })
            .into_iter()
            .collect();
        self.write_sending(event, state_changed, effect, received, notifications, sms)
            .await;
        Ok(())
    }

    /// The documents `tickets` name, when the service takes documents and every ticket is the
    /// upload endpoint's for this conversation.
    fn documents(
        &self,
        kind: PostKind,
        tickets: &[String],
    ) -> Result<Vec<console_protocol::AttachmentRef>, ConvError> {
        if tickets.is_empty() {
            return Ok(Vec::new());
        }
        if kind == PostKind::Note {
            return Err(ConvError::BadState("documents go with messages, not notes"));
        }
        let takes = self
            .deps
            .organisation
            .service(&self.record.service)
            .is_some_and(|s| s.attachments);
        if !takes {
            return Err(ConvError::BadState("this service does not take documents"));
        }
        if tickets.len() > MAX_ATTACHMENTS {
            return Err(ConvError::TooLarge);
        }
        tickets
            .iter()
            .map(|t| {
                self.deps
                    .auth
                    .check_attachment_ticket(&self.record.id, t)
                    .ok_or(ConvError::BadState(
                        "an attachment is not a document uploaded to this conversation",
                    ))
            })
            .collect()
    }

    /// The client is told of the organisation's message when no session of theirs is
    /// connected and they left a way to reach them.
    fn notifications_of_reply(&self) -> Vec<crate::storage::Notification> {
        let r = &self.record;
        let Some(contact) = &r.contact else {
            return Vec::new();
        };
        if self.clients.iter().any(|l| !l.is_gone()) {
            return Vec::new();
        }
        crate::notify::of_message(
            &self.deps.notifications,
            &self.deps.organisation,
            &r.service,
            r.lang.as_deref(),
            &r.id,
            contact,
            super::view::now_ms(),
        )
    }

    /// In an asynchronous matter the reply deadline (`due_at_ms`) stands while the organisation
    /// owes a reply: its message meets it (cleared), and the client's next message after that
    /// starts a new one from the service's promise. Returns whether the state changed.
    fn owed_reply_changes(&mut self, role: Role) -> bool {
        if !self.is_async() {
            return false;
        }
        let state = &mut self.record.state;
        match (role, state.due_at_ms) {
            (Role::Professional, Some(_)) => {
                state.due_at_ms = None;
                true
            }
            (Role::Client, None) => {
                let org = &self.deps.organisation;
                let due = org.service(&self.record.service).and_then(|service| {
                    let now = jiff::Timestamp::from_millisecond(super::view::now_ms()).ok()?;
                    org.due(service, now)
                });
                state.due_at_ms = due.map(|d| d.as_millisecond());
                state.due_at_ms.is_some()
            }
            _ => false,
        }
    }

    /// Answers a resend of a known `client_msg_id` with the original ack.
    async fn is_duplicate(&mut self, origin: &Origin, id: &ClientMsgId) -> Result<bool, ConvError> {
        if self.restored {
            // Once per incarnation: the ids stored before this actor started (or before a
            // resync). From then on every id of the conversation passes through `msg_ids`.
            let stored = self.deps.storage.client_msg_ids(&self.record.id).await?;
            for (client_msg_id, seq, at) in stored {
                self.msg_ids
                    .entry(ClientMsgId::from(client_msg_id))
                    .or_insert(Some((seq, at)));
            }
            self.restored = false;
        }
        match self.msg_ids.get(id) {
            None => Ok(false),
            Some(Some((seq, at))) => {
                origin.link.reply(
                    origin.req.clone(),
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: Some(id.clone()),
                        seq: Some(*seq),
                        at: Some(at.clone()),
                    }),
                );
                Ok(true)
            }
            Some(None) => {
                self.waiting_acks
                    .entry(id.clone())
                    .or_default()
                    .push((origin.link.clone(), origin.req.clone()));
                Ok(true)
            }
        }
    }

    /// The author of a post by `who`, as its event names them.
    fn author(&self, who: &Who) -> Author {
        match who {
            Who::Client => Author {
                role: Role::Client,
                id: None,
                name: self.record.client.name.clone(),
            },
            Who::Professional(p) => Author {
                role: Role::Professional,
                id: Some(p.id.to_string()),
                name: Some(p.name.clone()),
            },
        }
    }

    /// Counts a post: notes by team, messages by side, service, team and channel, the team's
    /// first response (the conversation answered) and later reply times.
    fn count_post(&mut self, kind: PostKind, role: Role) {
        let metrics = &self.deps.metrics;
        if kind == PostKind::Note {
            metrics
                .notes
                .with_label_values(&[self.record.state.team.as_str()])
                .inc();
            return;
        }
        let r = &self.record;
        let labels = [
            if role == Role::Client {
                "client"
            } else {
                "professional"
            },
            r.service.as_str(),
            r.state.team.as_str(),
            r.channel.as_str(),
        ];
        metrics.messages.with_label_values(&labels).inc();
        let now = std::time::Instant::now();
        if role == Role::Client {
            self.awaiting_reply_since.get_or_insert(now);
            return;
        }
        let awaited = self.awaiting_reply_since.take();
        if !self.first_response_seen {
            self.first_response_seen = true;
            let waited = (super::view::now_ms() - r.created_at_ms).max(0) as f64 / 1000.0;
            metrics
                .first_response
                .with_label_values(&[r.state.team.as_str()])
                .observe(waited);
            metrics
                .conversations_answered
                .with_label_values(&labels[1..])
                .inc();
        } else if let Some(since) = awaited {
            metrics
                .reply_seconds
                .with_label_values(&[r.state.team.as_str()])
                .observe(now.duration_since(since).as_secs_f64());
        }
    }
}
