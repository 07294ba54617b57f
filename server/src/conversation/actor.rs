//! The conversation actor: its state, its mailbox loop and its exit. It writes events to
//! storage in seq order (many commits in flight, completed in order through `FuturesOrdered`)
//! and fans each event out to the subscribed sessions only after its commit; `dispatch` sends
//! each command to the file that handles it.

use super::command::{Cmd, Reply, MAILBOX_CAPACITY};
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
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tracing::Instrument;

mod attach;
mod commits;
mod corrections;
mod dispatch;
mod handover;
mod posts;
mod records;
mod sms;
mod writes;

use writes::{CommitFuture, Effect, Pending};

/// Committed events kept in memory for cheap resumes; older ones come from storage.
const RECENT_EVENTS: usize = 64;

/// Where an actor is registered (the hub): what it needs from there when it stops.
pub(super) trait Registry: Send + Sync {
    /// Removes the exiting actor of `id` (only if it is still the registered one).
    fn forget(&self, id: &ConversationId, generation: u64);
    /// Hands a command that reached an exiting actor to a fresh one.
    fn redispatch(self: Arc<Self>, id: ConversationId, cmd: Cmd);
}

/// One conversation's actor: its record, subscribed sessions, seqs and writes in flight.
pub(super) struct Conversation {
    record: ConversationRecord,
    deps: Arc<HubDeps>,
    registry: Arc<dyn Registry>,
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
    /// When the client's oldest message without a professional reply after it was stored.
    awaiting_reply_since: Option<std::time::Instant>,
    /// A write failed: later seqs cannot commit (storage refuses gaps), so before the next
    /// command the actor waits for its writes in flight and reloads itself from storage.
    resync: bool,
    /// Removed from storage by retention: the actor ends.
    purged: bool,
}

impl Conversation {
    pub(super) fn spawn(
        deps: Arc<HubDeps>,
        registry: Arc<dyn Registry>,
        record: ConversationRecord,
        restored: bool,
        generation: u64,
    ) -> ConversationHandle {
        let (tx, rx) = mpsc::channel(MAILBOX_CAPACITY);
        let id = record.id.clone();
        let is_async = crate::organisation::is_async_channel(&record.channel);
        let span = tracing::info_span!("conversation", conversation = %id);
        let actor = Conversation {
            next_seq: record.last_seq + 1,
            committed_seq: record.last_seq,
            first_response_seen: restored,
            awaiting_reply_since: None,
            record,
            deps: deps.clone(),
            registry,
            rx,
            generation,
            clients: Vec::new(),
            pros: Vec::new(),
            recent: VecDeque::new(),
            pending: FuturesOrdered::new(),
            msg_ids: HashMap::new(),
            purged: false,
            waiting_acks: HashMap::new(),
            restored,
            resync: false,
        };
        deps.metrics.conversation_actors.inc();
        if actor.record.state.status == ConversationStatus::InProgress {
            actor.active_gauge().inc();
        }
        tokio::spawn(actor.run().instrument(span));
        ConversationHandle {
            id,
            tx,
            generation,
            is_async,
        }
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
        if self.purged {
            return true;
        }
        self.pending.is_empty()
            && self.record.state.status == ConversationStatus::Complete
            && self.clients.iter().all(SessionLink::is_gone)
            && self.pros.iter().all(SessionLink::is_gone)
    }

    /// Leaves the hub; commands that raced with the exit are handed to a fresh actor.
    async fn stop(mut self) {
        self.registry.forget(&self.record.id, self.generation);
        self.rx.close();
        while let Some(cmd) = self.rx.recv().await {
            self.registry
                .clone()
                .redispatch(self.record.id.clone(), cmd);
        }
        self.deps.metrics.conversation_actors.dec();
    }

    /// Marks the case complete (closed, or left while waiting) and counts it.
    fn complete(&mut self) {
        self.record.state.status = ConversationStatus::Complete;
        let r = &self.record;
        self.deps
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
        self.deps
            .metrics
            .active_conversations
            .with_label_values(&[self.record.state.team.as_str()])
    }

    /// A message, form or SMS matter of a team inbox.
    fn is_async(&self) -> bool {
        crate::organisation::is_async_channel(&self.record.channel)
    }

    /// Tells the team inbox how an asynchronous matter stands after `event` was committed.
    fn tell_inbox(&self, event: &Event) {
        if !self.is_async() {
            return;
        }
        let client_wrote =
            matches!(event, Event::Message(m) if m.from.role == console_protocol::Role::Client);
        self.deps.inbox.tell(InboxChange {
            item: InboxItem::of(&self.record, super::view::now_ms()),
            client_wrote,
        });
    }

    fn ticket(&self) -> QueueTicket {
        QueueTicket::of(&self.record)
    }

    /// Who `origin` is in this conversation, if it may act in it at all: a client through a
    /// session attached to it, a professional as [`crate::access::decide`] says.
    fn role_of(&self, origin: &Origin) -> Result<Role, ConvError> {
        match &origin.who {
            Who::Client if self.clients.iter().any(|l| l.id == origin.link.id) => Ok(Role::Client),
            Who::Professional(p) if self.may(p, crate::access::Act::Write) => {
                Ok(Role::Professional)
            }
            _ => Err(ConvError::Forbidden),
        }
    }

    /// Whether the professional `p` may do `act` here, by the one access policy.
    fn may(&self, p: &ProfessionalRef, act: crate::access::Act) -> bool {
        self.may_stating(p, act, false)
    }

    /// [`Self::may`] for a professional who stated (or not) why they read it.
    fn may_stating(&self, p: &ProfessionalRef, act: crate::access::Act, stated: bool) -> bool {
        let facts = crate::access::Facts {
            team: &self.record.state.team,
            assigned_to: self.record.state.assigned_to.as_ref(),
            stated_reason: stated,
        };
        crate::access::decide(&p.id, &p.teams, act, facts).allowed()
    }
}
