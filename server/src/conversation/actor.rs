//! The conversation actor: reads its mailbox, writes events to storage in seq order (many
//! commits in flight, completed in order through `FuturesOrdered`) and fans each event out to
//! the subscribed sessions only after its commit.

use super::hub::Hub;
use super::view::{client_info, client_view, now, rfc3339_of_ms};
use super::*;
use crate::session::outbound::{Outbound, SharedFrame};
use crate::storage::{ClientIdentity, ConversationRecord, StorageError, WriteOp};
use console_protocol::{
    Ack, Assigned, Author, Closed, ConversationStatus, ErrorFrame, Event, History, MessageEvent,
    QueuePosition, ReadReceipt, Released, Role, ServerFrame, SystemEvent, SystemKind, Typing,
};
use futures_util::stream::{FuturesOrdered, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tracing::Instrument;

mod corrections;

/// Longest message or note body, in characters (a chat message, not a document).
const MAX_BODY_CHARS: usize = 10_000;
/// Committed events kept in memory for cheap resumes; older ones come from storage.
const RECENT_EVENTS: usize = 64;
/// Largest replay or history page read from storage at once.
const MAX_REPLAY: u32 = 10_000;

type CommitFuture = Pin<Box<dyn Future<Output = (Pending, Result<(), StorageError>)> + Send>>;

/// What to do once a write is committed.
enum Effect {
    Ack {
        link: SessionLink,
        req: Option<String>,
        client_msg_id: ClientMsgId,
    },
    Assigned {
        links: Vec<SessionLink>,
        req: Option<String>,
        reply: Reply<()>,
    },
    Released {
        reason: &'static str,
        reply: Reply<QueueTicket>,
        ticket: QueueTicket,
        req: Option<String>,
    },
    Closed {
        reply: Reply<()>,
        link: SessionLink,
        req: Option<String>,
    },
    FeedbackAck {
        link: SessionLink,
        req: Option<String>,
        rating: u8,
    },
    /// Acknowledge a stored event to its sender (with its seq) after the fan-out.
    EventAck {
        link: SessionLink,
        req: Option<String>,
        reply: Option<Reply<bool>>,
        answer: bool,
    },
}

struct Pending {
    event: Option<Arc<Event>>,
    effect: Option<Effect>,
    started: Instant,
}

pub(super) struct Conversation {
    record: ConversationRecord,
    hub: Arc<Hub>,
    rx: mpsc::Receiver<Cmd>,
    generation: u64,
    next_seq: u64,
    committed_seq: u64,
    clients: Vec<SessionLink>,
    pros: Vec<SessionLink>,
    recent: VecDeque<Arc<Event>>,
    pending: FuturesOrdered<CommitFuture>,
    /// client_msg_id → (seq, at) of stored messages; `None` seq while in flight.
    msg_ids: HashMap<ClientMsgId, Option<(u64, String)>>,
    /// Duplicates that arrived while the original was in flight.
    waiting_acks: HashMap<ClientMsgId, Vec<(SessionLink, Option<String>)>>,
    /// Loaded from storage (or resynced) and the stored `client_msg_id`s not yet read into
    /// `msg_ids`.
    restored: bool,
    first_response_seen: bool,
    /// A write failed: later seqs cannot commit (storage refuses gaps), so before the next
    /// command the actor waits for its writes in flight and reloads itself from storage.
    resync: bool,
}

impl Conversation {
    pub(super) fn spawn(
        hub: Arc<Hub>,
        record: ConversationRecord,
        restored: bool,
        generation: u64,
    ) -> ConversationHandle {
        let (tx, rx) = mpsc::channel(MAILBOX_CAPACITY);
        let id = record.id.clone();
        let span = tracing::info_span!("conversation", conversation = %id);
        let actor = Conversation {
            next_seq: record.last_seq + 1,
            committed_seq: record.last_seq,
            first_response_seen: restored,
            record,
            hub: hub.clone(),
            rx,
            generation,
            clients: Vec::new(),
            pros: Vec::new(),
            recent: VecDeque::new(),
            pending: FuturesOrdered::new(),
            msg_ids: HashMap::new(),
            waiting_acks: HashMap::new(),
            restored,
            resync: false,
        };
        hub.deps.metrics.conversation_actors.inc();
        if actor.record.state.status == ConversationStatus::InProgress {
            actor.active_gauge().inc();
        }
        tokio::spawn(actor.run().instrument(span));
        ConversationHandle { id, tx, generation }
    }

    async fn run(mut self) {
        loop {
            tokio::select! {
                Some((pending, result)) = self.pending.next(), if !self.pending.is_empty() => {
                    self.committed(pending, result);
                }
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => {
                        if self.resync {
                            self.reload().await;
                        }
                        self.handle(cmd).await
                    }
                    None => break,
                },
            }
            if self.should_stop() {
                break;
            }
        }
        self.stop().await;
    }

    fn should_stop(&self) -> bool {
        self.pending.is_empty()
            && self.record.state.status == ConversationStatus::Complete
            && self.clients.iter().all(SessionLink::is_gone)
            && self.pros.iter().all(SessionLink::is_gone)
    }

    /// Leaves the hub; commands that raced with the exit are handed to a fresh actor.
    async fn stop(mut self) {
        self.hub.forget(&self.record.id, self.generation);
        self.rx.close();
        while let Some(cmd) = self.rx.recv().await {
            self.hub.redispatch(self.record.id.clone(), cmd);
        }
        self.hub.deps.metrics.conversation_actors.dec();
    }

    fn active_gauge(&self) -> prometheus::IntGauge {
        self.hub
            .deps
            .metrics
            .active_conversations
            .with_label_values(&[self.record.state.team.as_str()])
    }

    async fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::AttachClient {
                link,
                token,
                after_seq,
                identity,
                reply,
            } => {
                let r = self.attach_client(link, token, after_seq, identity).await;
                let _ = reply.send(r);
            }
            Cmd::AttachProfessional {
                link,
                professional,
                after_seq,
                reply,
            } => {
                let r = self
                    .attach_professional(link, professional, after_seq)
                    .await;
                let _ = reply.send(r);
            }
            Cmd::Detach { link } => {
                self.clients.retain(|l| l.id != link.id);
                self.pros.retain(|l| l.id != link.id);
            }
            Cmd::Post {
                origin,
                kind,
                client_msg_id,
                body,
                received,
            } => {
                if let Err(e) = self
                    .post(&origin, kind, client_msg_id, body, received)
                    .await
                {
                    self.error(&origin, e);
                }
            }
            Cmd::Typing { origin, active } => self.relay(&origin, |role| {
                ServerFrame::Typing(Typing {
                    conversation: self.record.id.clone(),
                    active,
                    role: Some(role),
                })
            }),
            Cmd::Read { origin, seq } => self.relay(&origin, |role| {
                ServerFrame::Read(ReadReceipt {
                    conversation: self.record.id.clone(),
                    seq,
                    role: Some(role),
                })
            }),
            Cmd::Assign {
                professional,
                links,
                req,
                reopen,
                reply,
            } => self.assign(professional, links, req, reopen, reply).await,
            Cmd::Transfer {
                origin,
                to_team,
                to_professional,
                note,
                reply,
            } => {
                self.transfer(origin, to_team, to_professional, note, reply)
                    .await
            }
            Cmd::Close {
                origin,
                summary,
                reply,
            } => self.close(origin, summary, reply).await,
            Cmd::Requeue {
                professional,
                reason,
                req,
                reply,
            } => self.requeue(professional, reason, req, reply).await,
            Cmd::Leave { origin, reply } => self.leave(origin, reply).await,
            Cmd::Retract { origin, seq } => {
                if let Err(e) = self.retract(&origin, seq).await {
                    self.error(&origin, e);
                }
            }
            Cmd::StatusFor {
                professional,
                reply,
            } => {
                let s = &self.record.state;
                let _ = reply.send(if s.assigned_to.as_ref() == Some(&professional) {
                    Ok(s.status)
                } else {
                    Err(ConvError::Forbidden)
                });
            }
            Cmd::Feedback {
                origin,
                rating,
                comment,
            } => {
                if let Err(e) = self.feedback(&origin, rating, comment).await {
                    self.error(&origin, e);
                }
            }
            Cmd::History {
                origin,
                before_seq,
                limit,
            } => {
                if let Err(e) = self.history(&origin, before_seq, limit).await {
                    self.error(&origin, e);
                }
            }
            Cmd::QueuePosition { place } => {
                if self.record.state.status == ConversationStatus::Queued {
                    let f = SharedFrame::plain(ServerFrame::Queue(QueuePosition {
                        conversation: self.record.id.clone(),
                        position: place.position,
                        estimated_wait_s: place.estimated_wait_s,
                        staffed: Some(place.staffed),
                        waited_s: Some(place.waited_s),
                    }));
                    for l in &self.clients {
                        l.frame(f.clone());
                    }
                }
            }
            Cmd::Ticket { reply } => {
                let waiting = self.record.state.status == ConversationStatus::Queued;
                let _ = reply.send(if waiting {
                    Ok(self.ticket())
                } else {
                    Err(ConvError::BadState("conversation is not waiting"))
                });
            }
        }
    }

    fn error(&self, origin: &Origin, e: ConvError) {
        self.hub
            .deps
            .metrics
            .frames_rejected
            .with_label_values(&[e.code().as_str()])
            .inc();
        origin.link.reply(
            origin.req.clone(),
            ServerFrame::Error(ErrorFrame {
                code: e.code(),
                message: e.to_string(),
                conversation: Some(self.record.id.clone()),
            }),
        );
    }

    fn summary(&self, professional: bool) -> ConversationSummary {
        let r = &self.record;
        ConversationSummary {
            conversation: r.id.clone(),
            status: r.state.status,
            last_seq: self.committed_seq,
            service: professional.then(|| r.service.clone()),
            topic: if professional { r.topic.clone() } else { None },
            team: professional.then(|| r.state.team.clone()),
            client: professional.then(|| client_info(r)),
            questionnaire: if professional {
                r.questionnaire.clone()
            } else {
                None
            },
            contact_at: professional.then(|| rfc3339_of_ms(r.created_at_ms)),
        }
    }

    fn ticket(&self) -> QueueTicket {
        QueueTicket::of(&self.record)
    }

    async fn attach_client(
        &mut self,
        link: SessionLink,
        token: ResumeToken,
        after_seq: Option<u64>,
        identity: Option<ClientIdentity>,
    ) -> Result<ConversationSummary, ConvError> {
        if !self.hub.deps.auth.check_resume(&self.record.id, &token) {
            return Err(ConvError::Forbidden);
        }
        let identify = match identity {
            Some(identity) => self.identity_change(identity)?,
            None => None,
        };
        if let Some(after) = after_seq {
            let frames = self
                .replay(after)
                .await?
                .iter()
                .filter_map(|e| client_view(e))
                .map(SharedFrame::plain)
                .collect();
            link.deliver(Outbound::Batch(frames));
        }
        self.clients.retain(|l| l.id != link.id && !l.is_gone());
        self.clients.push(link);
        let summary = self.summary(false);
        if let Some(client) = identify {
            // The session is subscribed: it gets the event with everybody else, after the commit.
            self.identify(client).await;
        }
        Ok(summary)
    }

    /// What a client session authenticated as `identity` changes: `Some` when the anonymous
    /// client of an open conversation becomes identified, `None` when nothing changes (the same
    /// subject again, or a complete conversation). Another subject than the one the
    /// conversation is identified with is refused.
    fn identity_change(
        &self,
        identity: ClientIdentity,
    ) -> Result<Option<ClientIdentity>, ConvError> {
        let current = &self.record.client;
        if current.identified {
            return if current.subject.is_some() && current.subject == identity.subject {
                Ok(None)
            } else {
                Err(ConvError::Forbidden)
            };
        }
        if !identity.identified
            || identity.subject.is_none()
            || self.record.state.status == ConversationStatus::Complete
        {
            return Ok(None);
        }
        Ok(Some(identity))
    }

    /// Stores the client's new identity and the `identified` event in one write; both sides get
    /// the event only after the commit. A failed write resyncs the record (still anonymous).
    async fn identify(&mut self, client: ClientIdentity) {
        let mut detail = serde_json::Map::new();
        // The display name only: the subject (a personal id) never leaves the server.
        if let Some(name) = &client.name {
            detail.insert("name".into(), name.clone().into());
        }
        self.record.client = client.clone();
        let event = Arc::new(self.system(SystemKind::Identified, detail));
        let op = WriteOp::Identify {
            event: (*event).clone(),
            client,
        };
        self.submit(
            op,
            Pending {
                event: Some(event),
                effect: None,
                started: Instant::now(),
            },
        )
        .await;
    }

    async fn attach_professional(
        &mut self,
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
    ) -> Result<ConversationSummary, ConvError> {
        if self.record.state.assigned_to.as_ref() != Some(&professional) {
            return Err(ConvError::Forbidden);
        }
        if let Some(after) = after_seq {
            let frames = self
                .replay(after)
                .await?
                .iter()
                .map(|e| SharedFrame::plain(ServerFrame::from((**e).clone())))
                .collect();
            link.deliver(Outbound::Batch(frames));
        }
        self.pros.retain(|l| l.id != link.id && !l.is_gone());
        self.pros.push(link);
        Ok(self.summary(true))
    }

    /// Committed events with seq > `after`, in order.
    async fn replay(&mut self, after: u64) -> Result<Vec<Arc<Event>>, ConvError> {
        if after >= self.committed_seq {
            return Ok(Vec::new());
        }
        if self.recent.front().is_some_and(|e| e.seq() <= after + 1) {
            return Ok(self
                .recent
                .iter()
                .filter(|e| e.seq() > after)
                .cloned()
                .collect());
        }
        let events = self
            .hub
            .deps
            .storage
            .events_after(&self.record.id, after, MAX_REPLAY)
            .await?;
        Ok(events
            .into_iter()
            .filter(|e| e.seq() <= self.committed_seq)
            .map(Arc::new)
            .collect())
    }

    fn role_of(&self, origin: &Origin) -> Result<Role, ConvError> {
        match &origin.who {
            Who::Client if self.clients.iter().any(|l| l.id == origin.link.id) => Ok(Role::Client),
            Who::Professional(p) if self.record.state.assigned_to.as_ref() == Some(&p.id) => {
                Ok(Role::Professional)
            }
            _ => Err(ConvError::Forbidden),
        }
    }

    fn relay(&self, origin: &Origin, make: impl Fn(Role) -> ServerFrame) {
        let Ok(role) = self.role_of(origin) else {
            return self.error(origin, ConvError::Forbidden);
        };
        let f = SharedFrame::plain(make(role));
        let targets = if role == Role::Client {
            &self.pros
        } else {
            &self.clients
        };
        for l in targets {
            l.frame(f.clone());
        }
    }

    async fn post(
        &mut self,
        origin: &Origin,
        kind: PostKind,
        id: ClientMsgId,
        body: String,
        received: Instant,
    ) -> Result<(), ConvError> {
        let role = self.role_of(origin)?;
        if kind == PostKind::Note && role != Role::Professional {
            return Err(ConvError::Forbidden);
        }
        if self.record.state.status == ConversationStatus::Complete {
            return Err(ConvError::Closed);
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(ConvError::TooLarge);
        }
        if body.trim().is_empty() {
            return Err(ConvError::BadState("empty message body"));
        }
        if self.is_duplicate(origin, &id).await? {
            return Ok(());
        }
        let (at, _) = now();
        let from = match &origin.who {
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
        };
        let seq = self.take_seq();
        let m = MessageEvent {
            conversation: self.record.id.clone(),
            seq,
            at,
            from,
            body,
            client_msg_id: Some(id.clone()),
        };
        let metrics = &self.hub.deps.metrics;
        let event = if kind == PostKind::Note {
            metrics
                .notes
                .with_label_values(&[self.record.state.team.as_str()])
                .inc();
            Event::Note(m)
        } else {
            metrics
                .messages
                .with_label_values(&[if role == Role::Client {
                    "client"
                } else {
                    "professional"
                }])
                .inc();
            if role == Role::Professional && !self.first_response_seen {
                self.first_response_seen = true;
                let waited =
                    (super::view::now_ms() - self.record.created_at_ms).max(0) as f64 / 1000.0;
                metrics
                    .first_response
                    .with_label_values(&[self.record.state.team.as_str()])
                    .observe(waited);
            }
            Event::Message(m)
        };
        self.msg_ids.insert(id.clone(), None);
        let effect = Effect::Ack {
            link: origin.link.clone(),
            req: origin.req.clone(),
            client_msg_id: id,
        };
        self.write(event, false, effect, received).await;
        Ok(())
    }

    /// Answers a resend of a known `client_msg_id` with the original ack.
    async fn is_duplicate(&mut self, origin: &Origin, id: &ClientMsgId) -> Result<bool, ConvError> {
        if self.restored {
            // Once per incarnation: the ids stored before this actor started (or before a
            // resync). From then on every id of the conversation passes through `msg_ids`.
            let stored = self
                .hub
                .deps
                .storage
                .client_msg_ids(&self.record.id)
                .await?;
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

    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    fn system(
        &mut self,
        kind: SystemKind,
        detail: serde_json::Map<String, serde_json::Value>,
    ) -> Event {
        let seq = self.take_seq();
        Event::System(SystemEvent {
            conversation: self.record.id.clone(),
            seq,
            at: now().0,
            event: kind,
            detail,
        })
    }

    /// Hands a write to storage now (so commits keep seq order) and parks its effect.
    async fn write(&mut self, event: Event, state_changed: bool, effect: Effect, started: Instant) {
        let state = state_changed.then(|| self.record.state.clone());
        let event = Arc::new(event);
        let op = WriteOp::Append {
            event: (*event).clone(),
            state,
        };
        self.submit(
            op,
            Pending {
                event: Some(event),
                effect: Some(effect),
                started,
            },
        )
        .await;
    }

    async fn submit(&mut self, op: WriteOp, pending: Pending) {
        let receipt = self.hub.deps.storage.submit(op).await;
        self.pending.push_back(Box::pin(async move {
            let result = match receipt {
                Ok(rx) => rx.await.unwrap_or(Err(StorageError::Closed)),
                Err(e) => Err(e),
            };
            (pending, result)
        }));
    }

    /// A write finished: on success deliver its event and run its effect, in seq order.
    fn committed(&mut self, p: Pending, result: Result<(), StorageError>) {
        // One rating per conversation: a repeated one (a retry whose ack was lost, a double
        // click) is acknowledged and the first rating stands. Not a server failure.
        let repeated_feedback = matches!(
            (&result, &p.effect),
            (
                Err(StorageError::Duplicate(_)),
                Some(Effect::FeedbackAck { .. })
            )
        );
        if result.is_err() && !repeated_feedback {
            tracing::error!("storage write failed; the sender gets an error and may retry");
            self.fail(p);
            return;
        }
        if let Some(event) = &p.event {
            self.committed_seq = event.seq();
            self.recent.push_back(event.clone());
            if self.recent.len() > RECENT_EVENTS {
                self.recent.pop_front();
            }
        }
        // Effects that change who listens run around the fan-out so each side sees exactly
        // the events of its membership.
        match p.effect {
            Some(Effect::Assigned { links, req, reply }) => {
                self.join_professional(links, req);
                self.fan_out(p.event.as_deref(), p.started);
                let _ = reply.send(Ok(()));
            }
            Some(Effect::Released {
                reason,
                reply,
                ticket,
                req,
            }) => {
                self.fan_out(p.event.as_deref(), p.started);
                self.release_professionals(reason, req);
                let _ = reply.send(Ok(ticket));
            }
            Some(Effect::Closed { reply, link, req }) => {
                self.fan_out(p.event.as_deref(), p.started);
                let closed = SharedFrame::plain(ServerFrame::Closed(Closed {
                    conversation: self.record.id.clone(),
                    message: self
                        .hub
                        .deps
                        .organisation
                        .closing_message(self.record.lang.as_deref()),
                }));
                for l in &self.clients {
                    l.frame(closed.clone());
                }
                let seq = p.event.as_deref().map(Event::seq);
                link.reply(
                    req,
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: None,
                        seq,
                        at: None,
                    }),
                );
                self.release_professionals("closed", None);
                let _ = reply.send(Ok(()));
            }
            Some(Effect::Ack {
                link,
                req,
                client_msg_id,
            }) => {
                let (seq, at) = match p.event.as_deref() {
                    Some(Event::Message(m) | Event::Note(m)) => (m.seq, m.at.clone()),
                    _ => (0, String::new()),
                };
                let ack = || {
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: Some(client_msg_id.clone()),
                        seq: Some(seq),
                        at: Some(at.clone()),
                    })
                };
                link.reply(req, ack());
                for (l, r) in self.waiting_acks.remove(&client_msg_id).unwrap_or_default() {
                    l.reply(r, ack());
                }
                self.msg_ids.insert(client_msg_id, Some((seq, at.clone())));
                self.fan_out(p.event.as_deref(), p.started);
            }
            Some(Effect::FeedbackAck { link, req, rating }) => {
                if !repeated_feedback {
                    self.hub
                        .deps
                        .metrics
                        .feedback
                        .with_label_values(&[self.record.service.as_str(), &rating.to_string()])
                        .inc();
                }
                link.reply(
                    req,
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: None,
                        seq: None,
                        at: None,
                    }),
                );
            }
            Some(Effect::EventAck {
                link,
                req,
                reply,
                answer,
            }) => {
                self.fan_out(p.event.as_deref(), p.started);
                link.reply(
                    req,
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: None,
                        seq: p.event.as_deref().map(Event::seq),
                        at: None,
                    }),
                );
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(answer));
                }
            }
            None => self.fan_out(p.event.as_deref(), p.started),
        }
    }

    /// A failed write: tell whoever waits (they may retry: `internal`), and when it was an
    /// event, resync from storage before the next command. Nobody saw the event, so the
    /// subscribers stay.
    fn fail(&mut self, p: Pending) {
        let conv = self.record.id.clone();
        let err = || {
            ServerFrame::Error(ErrorFrame {
                code: console_protocol::ErrorCode::Internal,
                message: "storage failed, retry".into(),
                conversation: Some(conv.clone()),
            })
        };
        match p.effect {
            Some(Effect::Ack {
                link,
                req,
                client_msg_id,
            }) => {
                self.msg_ids.remove(&client_msg_id);
                for (l, r) in self.waiting_acks.remove(&client_msg_id).unwrap_or_default() {
                    l.reply(r, err());
                }
                link.reply(req, err());
            }
            Some(Effect::FeedbackAck { link, req, .. }) => {
                link.reply(req, err());
            }
            Some(Effect::EventAck {
                link, req, reply, ..
            }) => match reply {
                // The session answers with the error it gets back.
                Some(reply) => drop(reply.send(Err(ConvError::Storage))),
                None => {
                    link.reply(req, err());
                }
            },
            // The session answers these with the error it gets back.
            Some(Effect::Closed { reply, .. }) | Some(Effect::Assigned { reply, .. }) => {
                let _ = reply.send(Err(ConvError::Storage));
            }
            Some(Effect::Released { reply, .. }) => {
                let _ = reply.send(Err(ConvError::Storage));
            }
            None => {}
        }
        if p.event.is_some() {
            self.resync = true;
        }
    }

    /// Waits for the writes in flight, then replaces the in-memory state (which may hold
    /// changes that were never stored) with what storage holds.
    async fn reload(&mut self) {
        while let Some((p, result)) = self.pending.next().await {
            self.committed(p, result);
        }
        let record = match self.hub.deps.storage.conversation(&self.record.id).await {
            Ok(Some(r)) => r,
            _ => return tracing::warn!("storage unavailable; resync retried on the next command"),
        };
        if self.record.state.status == ConversationStatus::InProgress {
            self.active_gauge().dec();
        }
        self.next_seq = record.last_seq + 1;
        self.committed_seq = record.last_seq;
        self.record = record;
        if self.record.state.status == ConversationStatus::InProgress {
            self.active_gauge().inc();
        }
        let committed = self.committed_seq;
        self.recent.retain(|e| e.seq() <= committed);
        self.msg_ids.retain(|_, v| v.is_some());
        self.restored = true;
        self.resync = false;
        tracing::info!(
            last_seq = committed,
            "resynced from storage after a failed write"
        );
    }

    fn fan_out(&self, event: Option<&Event>, started: Instant) {
        let Some(event) = event else { return };
        let pro = SharedFrame::plain(ServerFrame::from(event.clone()));
        for l in &self.pros {
            l.frame(pro.clone());
        }
        if let Some(cv) = client_view(event) {
            let cf = SharedFrame::plain(cv);
            for l in &self.clients {
                l.frame(cf.clone());
            }
        }
        self.hub
            .deps
            .metrics
            .delivery_latency
            .observe(started.elapsed().as_secs_f64());
    }

    fn join_professional(&mut self, links: Vec<SessionLink>, req: Option<String>) {
        for l in links {
            if !self.pros.iter().any(|p| p.id == l.id) {
                self.pros.push(l);
            }
        }
        let r = &self.record;
        let assigned = ServerFrame::Assigned(Assigned {
            conversation: r.id.clone(),
            service: r.service.clone(),
            topic: r.topic.clone(),
            team: Some(r.state.team.clone()),
            client: client_info(r),
            questionnaire: r.questionnaire.clone(),
            last_seq: self.committed_seq.saturating_sub(1),
            status: Some(r.state.status),
            contact_at: Some(rfc3339_of_ms(r.created_at_ms)),
        });
        let f = SharedFrame::new(console_protocol::Envelope::reply(req, assigned));
        for l in &self.pros {
            l.frame(f.clone());
        }
    }

    fn release_professionals(&mut self, reason: &'static str, req: Option<String>) {
        let f = SharedFrame::new(console_protocol::Envelope::reply(
            req,
            ServerFrame::Released(Released {
                conversation: self.record.id.clone(),
                reason: Some(reason.into()),
            }),
        ));
        for l in self.pros.drain(..) {
            l.frame(f.clone());
        }
    }

    async fn assign(
        &mut self,
        p: ProfessionalRef,
        links: Vec<SessionLink>,
        req: Option<String>,
        reopen: bool,
        reply: Reply<()>,
    ) {
        if reopen && !p.teams.contains(&self.record.state.team) {
            // Outside the team the conversation's existence and status stay hidden.
            let _ = reply.send(Err(ConvError::NotFound));
            return;
        }
        let expected = if reopen {
            ConversationStatus::Complete
        } else {
            ConversationStatus::Queued
        };
        if self.record.state.status != expected {
            let _ = reply.send(Err(ConvError::BadState(if reopen {
                "conversation is not complete"
            } else {
                "conversation is not waiting"
            })));
            return;
        }
        let reserved_for_other = !reopen
            && self
                .record
                .state
                .reserved_for
                .as_ref()
                .is_some_and(|r| r != &p.id);
        if reserved_for_other || (reopen && !p.teams.contains(&self.record.state.team)) {
            let _ = reply.send(Err(ConvError::Forbidden));
            return;
        }
        let s = &mut self.record.state;
        s.status = ConversationStatus::InProgress;
        s.assigned_to = Some(p.id.clone());
        s.reserved_for = None;
        s.priority = 0;
        s.summary = None;
        self.active_gauge().inc();
        let mut detail = serde_json::Map::new();
        detail.insert("professional".into(), p.id.to_string().into());
        detail.insert("name".into(), p.name.clone().into());
        detail.insert("team".into(), self.record.state.team.to_string().into());
        let kind = if reopen {
            SystemKind::Reopened
        } else {
            SystemKind::Assigned
        };
        let event = self.system(kind, detail);
        self.write(
            event,
            true,
            Effect::Assigned { links, req, reply },
            Instant::now(),
        )
        .await;
    }

    fn assigned_professional(&self, origin: &Origin) -> Result<ProfessionalRef, ConvError> {
        match &origin.who {
            Who::Professional(p) if self.record.state.assigned_to.as_ref() == Some(&p.id) => {
                Ok(p.clone())
            }
            _ => Err(ConvError::Forbidden),
        }
    }

    async fn transfer(
        &mut self,
        origin: Origin,
        to_team: TeamId,
        to: Option<ProfessionalId>,
        note: Option<String>,
        reply: Reply<QueueTicket>,
    ) {
        let p = match self.assigned_professional(&origin) {
            Ok(p) => p,
            Err(e) => return drop(reply.send(Err(e))),
        };
        if self.record.state.status != ConversationStatus::InProgress {
            return drop(reply.send(Err(ConvError::Closed)));
        }
        let mut detail = serde_json::Map::new();
        detail.insert("from_professional".into(), p.id.to_string().into());
        detail.insert("team".into(), to_team.to_string().into());
        if let Some(to) = &to {
            detail.insert("to_professional".into(), to.to_string().into());
        }
        if let Some(n) = note {
            detail.insert("note".into(), n.into());
        }
        self.active_gauge().dec();
        let (_, ms) = now();
        let s = &mut self.record.state;
        s.status = ConversationStatus::Queued;
        s.assigned_to = None;
        s.team = to_team;
        s.priority = 1;
        s.queued_at_ms = ms;
        s.reserved_for = to;
        let ticket = self.ticket();
        let event = self.system(SystemKind::Transferred, detail);
        let effect = Effect::Released {
            reason: "transferred",
            reply,
            ticket,
            req: origin.req,
        };
        self.write(event, true, effect, Instant::now()).await;
    }

    async fn close(&mut self, origin: Origin, summary: Option<String>, reply: Reply<()>) {
        if let Err(e) = self.assigned_professional(&origin) {
            return drop(reply.send(Err(e)));
        }
        if self.record.state.status == ConversationStatus::Complete {
            return drop(reply.send(Err(ConvError::Closed)));
        }
        self.active_gauge().dec();
        let mut detail = serde_json::Map::new();
        if let Some(s) = &summary {
            detail.insert("summary".into(), s.clone().into());
        }
        let s = &mut self.record.state;
        s.status = ConversationStatus::Complete;
        s.summary = summary;
        let r = &self.record;
        self.hub
            .deps
            .metrics
            .conversations_completed
            .with_label_values(&[
                r.service.as_str(),
                r.state.team.as_str(),
                r.channel.as_str(),
            ])
            .inc();
        let event = self.system(SystemKind::Closed, detail);
        let effect = Effect::Closed {
            reply,
            link: origin.link,
            req: origin.req,
        };
        self.write(event, true, effect, Instant::now()).await;
    }

    async fn requeue(
        &mut self,
        professional: ProfessionalId,
        reason: RequeueReason,
        req: Option<String>,
        reply: Reply<QueueTicket>,
    ) {
        if self.record.state.assigned_to.as_ref() != Some(&professional)
            || self.record.state.status != ConversationStatus::InProgress
        {
            return drop(reply.send(Err(ConvError::BadState(
                "not assigned to that professional",
            ))));
        }
        self.active_gauge().dec();
        let mut detail = serde_json::Map::new();
        detail.insert("reason".into(), reason.detail().into());
        detail.insert("team".into(), self.record.state.team.to_string().into());
        let (_, ms) = now();
        let s = &mut self.record.state;
        s.status = ConversationStatus::Queued;
        s.assigned_to = None;
        s.priority = 2;
        s.queued_at_ms = ms;
        s.reserved_for = None;
        let ticket = self.ticket();
        let event = self.system(SystemKind::Queued, detail);
        if reason == RequeueReason::HandedBack {
            self.hub
                .deps
                .metrics
                .handed_back
                .with_label_values(&[self.record.state.team.as_str()])
                .inc();
        }
        let effect = Effect::Released {
            reason: reason.released(),
            reply,
            ticket,
            req,
        };
        self.write(event, true, effect, Instant::now()).await;
    }

    async fn feedback(
        &mut self,
        origin: &Origin,
        rating: u8,
        comment: Option<String>,
    ) -> Result<(), ConvError> {
        if self.role_of(origin)? != Role::Client {
            return Err(ConvError::Forbidden);
        }
        if self.record.state.status != ConversationStatus::Complete {
            return Err(ConvError::BadState("conversation is not complete"));
        }
        if !(1..=5).contains(&rating) {
            return Err(ConvError::BadState("rating must be 1-5"));
        }
        let op = WriteOp::Feedback {
            conversation: self.record.id.clone(),
            rating,
            comment,
            at_ms: now().1,
        };
        let effect = Effect::FeedbackAck {
            link: origin.link.clone(),
            req: origin.req.clone(),
            rating,
        };
        self.submit(
            op,
            Pending {
                event: None,
                effect: Some(effect),
                started: Instant::now(),
            },
        )
        .await;
        Ok(())
    }

    async fn history(
        &mut self,
        origin: &Origin,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<(), ConvError> {
        let allowed = match &origin.who {
            Who::Professional(p) => {
                self.record.state.assigned_to.as_ref() == Some(&p.id)
                    || p.teams.contains(&self.record.state.team)
            }
            Who::Client => self.clients.iter().any(|l| l.id == origin.link.id),
        };
        if !allowed {
            return Err(ConvError::Forbidden);
        }
        let before = before_seq.unwrap_or(u64::MAX).min(self.committed_seq + 1);
        let events = self
            .hub
            .deps
            .storage
            .events_before(&self.record.id, before, limit.clamp(1, 200))
            .await?;
        let events = match origin.who {
            Who::Professional(_) => events,
            Who::Client => events
                .iter()
                .filter_map(|e| client_view(e).and_then(frame_to_event))
                .collect(),
        };
        origin.link.reply(
            origin.req.clone(),
            ServerFrame::History(History {
                conversation: self.record.id.clone(),
                events,
            }),
        );
        Ok(())
    }
}

fn frame_to_event(f: ServerFrame) -> Option<Event> {
    match f {
        ServerFrame::Message(m) => Some(Event::Message(m)),
        ServerFrame::System(s) => Some(Event::System(s)),
        _ => None,
    }
}
