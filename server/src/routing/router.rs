//! The router actor: its state, its mailbox loop and its tick (grace periods, places). Each
//! command is dispatched in `commands`; `assignment` hands waiting conversations to
//! professionals (commits awaited off the loop, failures reported back as commands); `restore`
//! rebuilds the queues at start-up; `places` is what waiting clients and subscribed consoles
//! are told; `professionals` the commands of professionals' sessions.

mod assignment;
mod commands;
mod inbox;
mod places;
mod professionals;
mod restore;
mod supervision;

use super::command::RouterCmd;
use super::presence::Presence;
use super::queue::TeamQueue;
use super::{ConnectReply, Place};
use crate::conversation::{ConvError, ConversationHandle, Hub, ProfessionalRef, QueueTicket};
use crate::delivery::SessionLink;
use crate::metrics::Metrics;
use crate::organisation::{Organisation, Routing};
use console_protocol::{
    Availability, Colleague, Colleagues, ConversationId, ConversationStatus, ConversationSummary,
    ErrorCode, ErrorFrame, Presence as PresenceKind, ProfessionalId, QueueSnapshot, ServerFrame,
    SessionId, StatusUpdate, TeamId, TeamInfo, TeamOverview,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Router commands that may wait. Every session and start goes through here, so it is roomy.
const ROUTER_MAILBOX: usize = 4096;
/// How often grace periods are checked and dead subscribers pruned.
const TICK: Duration = Duration::from_secs(1);

/// The router actor's state: team queues, presence, queue subscribers, and the queue each
/// waiting conversation is in.
pub(super) struct Router {
    rx: mpsc::Receiver<RouterCmd>,
    /// For waiters spawned by the router to report back; weak so the router can stop.
    tx: mpsc::WeakSender<RouterCmd>,
    teams: HashMap<TeamId, TeamQueue>,
    pros: HashMap<ProfessionalId, Presence>,
    subscribers: HashMap<TeamId, Vec<SessionLink>>,
    queued_in: HashMap<ConversationId, TeamId>,
    /// Supervisors' sessions following each team's overview.
    supervisors: HashMap<TeamId, Vec<(SessionLink, Option<String>)>>,
    /// The overview each team's supervisors were last told, waits aside.
    overview_told: HashMap<TeamId, TeamOverview>,
    /// Waiting conversations a supervisor is moving to another team, while the move is stored.
    moving: HashMap<ConversationId, supervision::Moving>,
    /// Reply deadlines that passed (counted once each): a conversation and its deadline, as a
    /// client's later message restarts it.
    breached: std::collections::HashSet<(ConversationId, i64)>,
    /// Open asynchronous matters (messages, forms, SMS), the teams' inboxes.
    inbox: HashMap<ConversationId, crate::conversation::InboxItem>,
    /// Consoles following each team's inbox.
    inbox_subs: HashMap<TeamId, Vec<SessionLink>>,
    /// The actors' reports of their committed changes, for the inbox.
    inbox_rx: Option<mpsc::UnboundedReceiver<crate::conversation::InboxChange>>,
    hub: Arc<Hub>,
    org: Arc<Organisation>,
    metrics: Arc<Metrics>,
    grace: Duration,
    max_capacity: u32,
}

/// The next inbox change, or never without a feed.
async fn recv_change(
    rx: &mut Option<mpsc::UnboundedReceiver<crate::conversation::InboxChange>>,
) -> Option<crate::conversation::InboxChange> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Refuses a command: counts it by code and answers the session.
fn error(
    metrics: &Metrics,
    link: &SessionLink,
    req: Option<String>,
    code: ErrorCode,
    message: &str,
    conversation: Option<ConversationId>,
) {
    metrics
        .frames_rejected
        .with_label_values(&[code.as_str()])
        .inc();
    link.reply(
        req,
        ServerFrame::Error(ErrorFrame {
            code,
            message: message.into(),
            conversation,
            fields: None,
        }),
    );
}

impl Router {
    /// Builds the router, restores `open` conversations and runs it on its own task; returns
    /// its mailbox.
    pub(super) fn spawn(
        hub: Arc<Hub>,
        org: Arc<Organisation>,
        metrics: Arc<Metrics>,
        grace: Duration,
        max_capacity: u32,
        restored: super::Restored,
        cancel: CancellationToken,
    ) -> mpsc::Sender<RouterCmd> {
        let (tx, rx) = mpsc::channel(ROUTER_MAILBOX);
        let mut router = Router {
            rx,
            tx: tx.downgrade(),
            teams: org
                .teams
                .iter()
                .map(|t| (t.id.clone(), TeamQueue::new(t.routing)))
                .collect(),
            pros: org
                .professionals
                .iter()
                .map(|p| (p.id.clone(), Presence::new(p)))
                .collect(),
            subscribers: HashMap::new(),
            queued_in: HashMap::new(),
            supervisors: HashMap::new(),
            overview_told: HashMap::new(),
            moving: HashMap::new(),
            breached: std::collections::HashSet::new(),
            inbox: HashMap::new(),
            inbox_subs: HashMap::new(),
            inbox_rx: hub.deps.inbox.connect(),
            hub,
            org,
            metrics,
            grace,
            max_capacity,
        };
        router.restore_routing(restored.routing);
        router.restore(restored.open);
        tokio::spawn(async move { router.run(cancel).await });
        tx
    }

    async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => self.tick().await,
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => break,
                },
                Some(change) = recv_change(&mut self.inbox_rx) => self.inbox_changed(change),
            }
        }
        // A node that stops running the queues (a cluster's primary losing its lease) must not
        // report them any more.
        self.metrics.reset_router_gauges(&self.org);
    }

    async fn tick(&mut self) {
        let now = Instant::now();
        let expired: Vec<(ProfessionalId, Vec<ConversationId>)> = self
            .pros
            .values_mut()
            .filter(|p| {
                p.gone_since
                    .is_some_and(|g| now.duration_since(g) >= self.grace)
                    && !p.active.is_empty()
            })
            .map(|p| (p.who.id.clone(), p.active.drain().collect()))
            .collect();
        for (pro, convs) in expired {
            tracing::info!(professional = %pro, conversations = convs.len(), "grace period over; requeueing");
            for conv in convs {
                if let Ok(Some(h)) = self.hub.get_or_load(&conv).await {
                    self.requeue_later(h, pro.clone());
                }
            }
        }
        for subs in self.subscribers.values_mut() {
            subs.retain(|l| !l.is_gone());
        }
        // Estimates grow while a queue stalls; availability changes without a command when a
        // session drops.
        let teams: Vec<TeamId> = self.teams.keys().cloned().collect();
        for t in &teams {
            self.tell_places(t);
        }
        self.set_gauges();
        self.count_breaches();
        self.count_inbox_breaches();
        for subs in self.inbox_subs.values_mut() {
            subs.retain(|l| !l.is_gone());
        }
        for subs in self.supervisors.values_mut() {
            subs.retain(|(l, _)| !l.is_gone());
        }
        self.tell_supervisors();
    }

    pub(super) fn available_in(&self, team: &TeamId) -> usize {
        self.pros
            .values()
            .filter(|p| p.serves(team) && p.is_available())
            .count()
    }
}
