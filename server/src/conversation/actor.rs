//! The conversation actor: reads its mailbox, writes events to storage in seq order (many
//! commits in flight, completed in order through `FuturesOrdered`) and fans each event out to
//! the subscribed sessions only after its commit.

use super::command::{Cmd, Reply, MAILBOX_CAPACITY};
use super::hub::Hub;
use super::view::{client_info, client_view, now, rfc3339_of_ms};
use super::*;
use crate::delivery::{Outbound, SharedFrame};
use crate::storage::{ClientIdentity, ConversationRecord, StorageError, WriteOp};
use console_protocol::{
    Ack, Assigned, Author, ClientMsgId, Closed, ConversationStatus, ConversationSummary,
    ErrorFrame, Event, History, MessageEvent, ProfessionalId, QueuePosition, ReadReceipt, Released,
    ResumeToken, Role, ServerFrame, SystemEvent, SystemKind, TeamId, Typing,
};
use futures_util::stream::{FuturesOrdered, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tracing::Instrument;

mod attach;
mod commits;
mod corrections;
mod handover;
mod records;

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

    /// Marks the case complete (closed, or left while waiting) and counts it.
    fn complete(&mut self) {
        self.record.state.status = ConversationStatus::Complete;
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
}

fn frame_to_event(f: ServerFrame) -> Option<Event> {
    match f {
        ServerFrame::Message(m) => Some(Event::Message(m)),
        ServerFrame::System(s) => Some(Event::System(s)),
        _ => None,
    }
}
