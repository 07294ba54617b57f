//! Routing: one router actor owns every team queue, professional presence (sessions,
//! availability, capacity, assigned conversations) and the assignment decisions. Sessions
//! `send().await` into it; it sends to conversation actors in order (assign, attach) and to
//! sessions with `try_send` only. Spawned waiters report assignment failures back to it.

mod presence;
pub mod queue;
#[cfg(test)]
mod tests;

use crate::conversation::{ConvError, ConversationHandle, Hub, ProfessionalRef, QueueTicket};
use crate::metrics::Metrics;
use crate::organisation::{Organisation, Routing};
use crate::session::outbound::SessionLink;
use crate::storage::ConversationRecord;
use console_protocol::{
    Availability, Colleague, Colleagues, ConversationId, ConversationStatus, ConversationSummary,
    ErrorCode, ErrorFrame, ProfessionalId, QueueSnapshot, ServerFrame, SessionId, StatusUpdate,
    TeamId, TeamInfo,
};
use presence::Presence;
use queue::TeamQueue;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Router commands that may wait. Every session and start goes through here, so it is roomy.
const ROUTER_MAILBOX: usize = 4096;
/// How often grace periods are checked and dead subscribers pruned.
const TICK: Duration = Duration::from_secs(1);
/// Wait before a conversation whose assignment failed is queued again.
const REQUEUE_PAUSE: Duration = Duration::from_secs(1);

/// What a reconnecting professional gets back.
pub struct ConnectReply {
    pub availability: Availability,
    pub capacity: u32,
    /// Attaches to their assigned conversations, answered in order by each actor.
    pub attaches: Vec<oneshot::Receiver<Result<ConversationSummary, ConvError>>>,
}

pub use queue::Place;

enum RouterCmd {
    Enqueue {
        ticket: QueueTicket,
        reply: Option<oneshot::Sender<Place>>,
    },
    Place {
        conversation: ConversationId,
        reply: oneshot::Sender<Option<Place>>,
    },
    PickTeam {
        teams: Vec<TeamId>,
        reply: oneshot::Sender<TeamId>,
    },
    Connect {
        professional: ProfessionalRef,
        link: SessionLink,
        resume: HashMap<ConversationId, u64>,
        reply: oneshot::Sender<ConnectReply>,
    },
    Disconnect {
        professional: ProfessionalId,
        session: SessionId,
    },
    Status {
        professional: ProfessionalId,
        availability: Option<Availability>,
        capacity: Option<u32>,
        reply: oneshot::Sender<StatusUpdate>,
    },
    Subscribe {
        link: SessionLink,
        teams: Vec<TeamId>,
        req: Option<String>,
    },
    Accept {
        professional: ProfessionalId,
        link: SessionLink,
        team: Option<TeamId>,
        conversation: Option<ConversationId>,
        req: Option<String>,
    },
    Released {
        professional: ProfessionalId,
        conversation: ConversationId,
    },
    Reopen {
        professional: ProfessionalId,
        link: SessionLink,
        conversation: ConversationId,
        req: Option<String>,
    },
    AssignFailed {
        professional: ProfessionalId,
        conversation: ConversationId,
    },
    Preview {
        conversation: ConversationId,
        text: String,
    },
    Withdraw {
        conversation: ConversationId,
    },
    Colleagues {
        lang: Option<String>,
        reply: oneshot::Sender<Colleagues>,
    },
}

/// A cloneable handle to the router.
#[derive(Clone)]
pub struct RouterHandle {
    tx: mpsc::Sender<RouterCmd>,
}

impl RouterHandle {
    /// Starts the router, restoring queues and assignments from `open` conversations.
    pub fn spawn(
        hub: Arc<Hub>,
        org: Arc<Organisation>,
        metrics: Arc<Metrics>,
        grace: Duration,
        max_capacity: u32,
        open: Vec<ConversationRecord>,
        cancel: CancellationToken,
    ) -> Self {
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
            hub,
            org,
            metrics,
            grace,
            max_capacity,
        };
        router.restore(open);
        tokio::spawn(async move { router.run(cancel).await });
        RouterHandle { tx }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RouterCmd) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.ok()?;
        rx.await.ok()
    }

    /// Queues a conversation; returns its place.
    pub async fn enqueue(&self, ticket: QueueTicket) -> Option<Place> {
        self.ask(|reply| RouterCmd::Enqueue {
            ticket,
            reply: Some(reply),
        })
        .await
    }

    /// Queues a conversation again (a transfer, a hand-back): its client is told the place
    /// with a `queue` frame, as there is no `queued` reply to carry it.
    pub async fn requeue(&self, ticket: QueueTicket) {
        let _ = self
            .tx
            .send(RouterCmd::Enqueue {
                ticket,
                reply: None,
            })
            .await;
    }

    /// The place of a waiting conversation.
    pub async fn place(&self, conversation: ConversationId) -> Option<Place> {
        self.ask(|reply| RouterCmd::Place {
            conversation,
            reply,
        })
        .await
        .flatten()
    }

    /// The least-loaded of `teams` for a new conversation.
    pub async fn pick_team(&self, teams: Vec<TeamId>) -> Option<TeamId> {
        self.ask(|reply| RouterCmd::PickTeam { teams, reply }).await
    }

    /// Registers a professional's session and attaches it to their conversations.
    pub async fn connect(
        &self,
        professional: ProfessionalRef,
        link: SessionLink,
        resume: HashMap<ConversationId, u64>,
    ) -> Option<ConnectReply> {
        self.ask(|reply| RouterCmd::Connect {
            professional,
            link,
            resume,
            reply,
        })
        .await
    }

    /// A professional's session ended.
    pub async fn disconnect(&self, professional: ProfessionalId, session: SessionId) {
        let _ = self
            .tx
            .send(RouterCmd::Disconnect {
                professional,
                session,
            })
            .await;
    }

    /// Changes availability and/or capacity.
    pub async fn status(
        &self,
        professional: ProfessionalId,
        availability: Option<Availability>,
        capacity: Option<u32>,
    ) -> Option<StatusUpdate> {
        self.ask(|reply| RouterCmd::Status {
            professional,
            availability,
            capacity,
            reply,
        })
        .await
    }

    /// Sends queue snapshots of `teams` to the session now and on every change.
    pub async fn subscribe(&self, link: SessionLink, teams: Vec<TeamId>, req: Option<String>) {
        let _ = self
            .tx
            .send(RouterCmd::Subscribe { link, teams, req })
            .await;
    }

    /// Takes the next conversation of a team or a chosen one (answers go to the session).
    pub async fn accept(
        &self,
        professional: ProfessionalId,
        link: SessionLink,
        team: Option<TeamId>,
        conversation: Option<ConversationId>,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Accept {
                professional,
                link,
                team,
                conversation,
                req,
            })
            .await;
    }

    /// A conversation left a professional (closed or transferred).
    pub async fn released(&self, professional: ProfessionalId, conversation: ConversationId) {
        let _ = self
            .tx
            .send(RouterCmd::Released {
                professional,
                conversation,
            })
            .await;
    }

    /// A waiting client wrote: the start of it is shown in the console's queue.
    pub async fn preview(&self, conversation: ConversationId, text: String) {
        let _ = self
            .tx
            .send(RouterCmd::Preview { conversation, text })
            .await;
    }

    /// The client left a waiting conversation: it leaves the queue.
    pub async fn withdraw(&self, conversation: ConversationId) {
        let _ = self.tx.send(RouterCmd::Withdraw { conversation }).await;
    }

    /// The teams (named in `lang`) and every professional with presence and load.
    pub async fn colleagues(&self, lang: Option<String>) -> Option<Colleagues> {
        self.ask(|reply| RouterCmd::Colleagues { lang, reply })
            .await
    }

    /// Reopens a complete conversation for the professional (answers go to the session).
    pub async fn reopen(
        &self,
        professional: ProfessionalId,
        link: SessionLink,
        conversation: ConversationId,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Reopen {
                professional,
                link,
                conversation,
                req,
            })
            .await;
    }
}

struct Router {
    rx: mpsc::Receiver<RouterCmd>,
    /// For waiters spawned by the router to report back; weak so the router can stop.
    tx: mpsc::WeakSender<RouterCmd>,
    teams: HashMap<TeamId, TeamQueue>,
    pros: HashMap<ProfessionalId, Presence>,
    subscribers: HashMap<TeamId, Vec<SessionLink>>,
    queued_in: HashMap<ConversationId, TeamId>,
    hub: Arc<Hub>,
    org: Arc<Organisation>,
    metrics: Arc<Metrics>,
    grace: Duration,
    max_capacity: u32,
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
        }),
    );
}

impl Router {
    fn restore(&mut self, open: Vec<ConversationRecord>) {
        let now = Instant::now();
        for r in open {
            match (r.state.status, &r.state.assigned_to) {
                (ConversationStatus::InProgress, Some(p)) if self.pros.contains_key(p) => {
                    if let Some(pr) = self.pros.get_mut(p) {
                        pr.active.insert(r.id.clone());
                        pr.gone_since.get_or_insert(now);
                    }
                }
                _ => {
                    let ticket = QueueTicket::of(&r);
                    if let Some(q) = self.teams.get_mut(&ticket.team) {
                        self.queued_in
                            .insert(ticket.conversation.clone(), ticket.team.clone());
                        q.push(ticket, now);
                    }
                }
            }
        }
        for (team, q) in &self.teams {
            self.metrics
                .queue_length
                .with_label_values(&[team.as_str()])
                .set(q.len() as i64);
        }
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
            }
        }
    }

    async fn handle(&mut self, cmd: RouterCmd) {
        match cmd {
            RouterCmd::Enqueue { ticket, reply } => {
                let id = ticket.conversation.clone();
                let team = ticket.team.clone();
                self.enqueue(ticket);
                self.dispatch(&team).await;
                if let Some(reply) = reply {
                    // The `queued` reply tells the client its place: `queue` frames follow
                    // only when it changes.
                    let place = self.place_of(&id);
                    if let Some(place) = place {
                        self.mark_told(&team, &id, place);
                    }
                    let _ = reply.send(place.unwrap_or(Place {
                        position: 0,
                        estimated_wait_s: 0,
                        staffed: true,
                        waited_s: 0,
                    }));
                }
                self.publish(&team);
            }
            RouterCmd::Place {
                conversation,
                reply,
            } => {
                let _ = reply.send(self.place_of(&conversation));
            }
            RouterCmd::PickTeam { teams, reply } => {
                let best = teams.iter().min_by_key(|t| self.load_score(t)).cloned();
                if let Some(t) = best {
                    let _ = reply.send(t);
                }
            }
            RouterCmd::Connect {
                professional,
                link,
                resume,
                reply,
            } => {
                let r = self.connect(professional, link, resume).await;
                let _ = reply.send(r);
            }
            RouterCmd::Disconnect {
                professional,
                session,
            } => self.disconnect(&professional, &session),
            RouterCmd::Status {
                professional,
                availability,
                capacity,
                reply,
            } => {
                let r = self.status(&professional, availability, capacity).await;
                let _ = reply.send(r);
            }
            RouterCmd::Subscribe { link, teams, req } => self.subscribe(link, teams, req),
            RouterCmd::Accept {
                professional,
                link,
                team,
                conversation,
                req,
            } => {
                self.accept(professional, link, team, conversation, req)
                    .await
            }
            RouterCmd::Released {
                professional,
                conversation,
            }
            | RouterCmd::AssignFailed {
                professional,
                conversation,
            } => {
                if let Some(p) = self.pros.get_mut(&professional) {
                    p.active.remove(&conversation);
                }
                self.dispatch_for(&professional).await;
            }
            RouterCmd::Reopen {
                professional,
                link,
                conversation,
                req,
            } => self.reopen(professional, link, conversation, req).await,
            RouterCmd::Preview { conversation, text } => {
                let team = self.queued_in.get(&conversation).cloned();
                let set = team
                    .as_ref()
                    .and_then(|t| self.teams.get_mut(t))
                    .is_some_and(|q| q.set_preview(&conversation, &text));
                if let (true, Some(team)) = (set, team) {
                    self.publish(&team);
                }
            }
            RouterCmd::Withdraw { conversation } => {
                let Some(team) = self.queued_in.remove(&conversation) else {
                    return;
                };
                if let Some(q) = self.teams.get_mut(&team) {
                    q.remove(&conversation);
                }
                self.metrics
                    .queue_abandoned
                    .with_label_values(&[team.as_str()])
                    .inc();
                self.publish(&team);
            }
            RouterCmd::Colleagues { lang, reply } => {
                let _ = reply.send(self.colleagues(lang));
            }
        }
    }

    fn colleagues(&self, lang: Option<String>) -> Colleagues {
        let teams = self
            .org
            .teams
            .iter()
            .map(|t| TeamInfo {
                id: t.id.clone(),
                name: self.org.text(&t.name, lang.as_deref()).to_owned(),
            })
            .collect();
        let mut professionals: Vec<Colleague> = self
            .pros
            .values()
            .map(|p| Colleague {
                id: p.who.id.clone(),
                name: p.who.name.clone(),
                teams: p.who.teams.clone(),
                presence: p.presence(),
                active: p.active.len() as u32,
                capacity: p.capacity,
            })
            .collect();
        professionals.sort_by(|a, b| a.name.cmp(&b.name));
        Colleagues {
            teams,
            professionals,
        }
    }

    fn enqueue(&mut self, ticket: QueueTicket) {
        let Some(q) = self.teams.get_mut(&ticket.team) else {
            tracing::warn!(team = %ticket.team, "enqueue to unknown team");
            return;
        };
        self.queued_in
            .insert(ticket.conversation.clone(), ticket.team.clone());
        q.push(ticket, Instant::now());
    }

    /// Records the place a waiting client was just told.
    fn mark_told(&mut self, team: &TeamId, id: &ConversationId, place: Place) {
        if let Some(w) = self.teams.get_mut(team).and_then(|q| {
            q.entries_mut()
                .iter_mut()
                .find(|w| &w.ticket.conversation == id)
        }) {
            w.told = Some(place);
        }
    }

    fn place_of(&self, id: &ConversationId) -> Option<Place> {
        let team = self.queued_in.get(id)?;
        let q = self.teams.get(team)?;
        let i = q
            .entries()
            .iter()
            .position(|w| &w.ticket.conversation == id)?;
        q.place_at(i, Instant::now(), self.available_in(team))
    }

    /// Lower is better: waiting conversations minus free places of available professionals.
    fn load_score(&self, team: &TeamId) -> i64 {
        let waiting = self
            .teams
            .get(team)
            .map_or(i64::MAX / 2, |q| q.len() as i64);
        let free: i64 = self
            .pros
            .values()
            .filter(|p| p.serves(team) && p.can_take())
            .map(|p| p.free() as i64)
            .sum();
        waiting - free
    }

    fn available_in(&self, team: &TeamId) -> usize {
        self.pros
            .values()
            .filter(|p| p.serves(team) && p.is_available())
            .count()
    }

    /// Hands waiting conversations of `team` to professionals as routing allows.
    async fn dispatch(&mut self, team: &TeamId) {
        loop {
            let Some(q) = self.teams.get(team) else {
                return;
            };
            let auto = q.routing == Routing::Auto;
            let pick = q.entries().iter().find_map(|w| {
                let eligible = |p: &&Presence| {
                    p.serves(team)
                        && p.can_take()
                        && w.ticket
                            .for_professional
                            .as_ref()
                            .is_none_or(|f| f == &p.who.id)
                };
                if !auto && w.ticket.for_professional.is_none() {
                    return None;
                }
                self.pros
                    .values()
                    .filter(eligible)
                    .min_by_key(|p| {
                        (
                            p.active.len() * 1000 / p.capacity.max(1) as usize,
                            p.active.len(),
                        )
                    })
                    .map(|p| (w.ticket.conversation.clone(), p.who.id.clone()))
            });
            let Some((conv, pro)) = pick else { return };
            self.assign(team, &conv, &pro, None, None).await;
        }
    }

    async fn dispatch_for(&mut self, professional: &ProfessionalId) {
        let teams = self
            .pros
            .get(professional)
            .map(|p| p.who.teams.clone())
            .unwrap_or_default();
        for t in teams {
            self.dispatch(&t).await;
            self.publish(&t);
        }
    }

    /// Gives `conv` (waiting in `team`) to `pro`.
    async fn assign(
        &mut self,
        team: &TeamId,
        conv: &ConversationId,
        pro: &ProfessionalId,
        req: Option<String>,
        requester: Option<SessionLink>,
    ) {
        let Some(w) = self.teams.get_mut(team).and_then(|q| q.remove(conv)) else {
            return;
        };
        self.queued_in.remove(conv);
        let now = Instant::now();
        if let Some(q) = self.teams.get_mut(team) {
            q.record_assignment(now);
        }
        self.metrics
            .queue_wait
            .with_label_values(&[team.as_str()])
            .observe(now.duration_since(w.since).as_secs_f64());
        let Some(p) = self.pros.get_mut(pro) else {
            return;
        };
        p.active.insert(conv.clone());
        let (who, links) = (p.who.clone(), p.live_links());
        let handle = match self.hub.get_or_load(conv).await {
            Ok(Some(h)) => h,
            _ => {
                if let Some(p) = self.pros.get_mut(pro) {
                    p.active.remove(conv);
                }
                return;
            }
        };
        let rx = handle.assign(who, links, req.clone(), false).await;
        self.watch(rx, pro.clone(), conv.clone(), requester, req, true);
    }

    /// Waits for an assignment's commit off the router's loop; failures come back as commands.
    /// A conversation taken `from_queue` whose assignment failed but that still waits (a
    /// storage failure, a reservation) goes back into its queue after a pause, so it is not
    /// lost and a failing disk is not retried in a tight loop.
    fn watch(
        &self,
        rx: oneshot::Receiver<Result<(), ConvError>>,
        pro: ProfessionalId,
        conv: ConversationId,
        requester: Option<SessionLink>,
        req: Option<String>,
        from_queue: bool,
    ) {
        let Some(tx) = self.tx.upgrade() else { return };
        let metrics = self.metrics.clone();
        let hub = self.hub.clone();
        tokio::spawn(async move {
            let result = rx.await.unwrap_or(Err(ConvError::Gone));
            let Err(e) = result else { return };
            if let Some(link) = requester {
                error(
                    &metrics,
                    &link,
                    req,
                    e.code(),
                    &e.to_string(),
                    Some(conv.clone()),
                );
            }
            let _ = tx
                .send(RouterCmd::AssignFailed {
                    professional: pro,
                    conversation: conv.clone(),
                })
                .await;
            // `BadState`: the conversation is not waiting any more, so there is nothing to requeue.
            if from_queue && !matches!(e, ConvError::BadState(_)) {
                tokio::time::sleep(REQUEUE_PAUSE).await;
                if let Ok(Some(h)) = hub.get_or_load(&conv).await {
                    if let Ok(ticket) = h.ticket().await {
                        let _ = tx
                            .send(RouterCmd::Enqueue {
                                ticket,
                                reply: None,
                            })
                            .await;
                    }
                }
            }
        });
    }

    /// Tells waiting clients of `team` their place when it changed enough to matter: a new
    /// position, somebody (or nobody) available now, or an estimate off by half a minute.
    fn tell_places(&mut self, team: &TeamId) {
        let servers = self.available_in(team);
        let Some(q) = self.teams.get_mut(team) else {
            return;
        };
        let now = Instant::now();
        let places: Vec<Option<Place>> =
            (0..q.len()).map(|i| q.place_at(i, now, servers)).collect();
        for (w, place) in q.entries_mut().iter_mut().zip(places) {
            let Some(place) = place.filter(|p| p.worth_telling(w.told)) else {
                continue;
            };
            w.told = Some(place);
            if let Some(h) = self.hub.get(&w.ticket.conversation) {
                h.queue_position(place);
            }
        }
    }

    /// Sends the team's snapshot to subscribers and new places to waiting clients.
    fn publish(&mut self, team: &TeamId) {
        self.tell_places(team);
        let Some(q) = self.teams.get_mut(team) else {
            return;
        };
        self.metrics
            .queue_length
            .with_label_values(&[team.as_str()])
            .set(q.len() as i64);
        let now = Instant::now();
        let snapshot = crate::session::outbound::SharedFrame::plain(ServerFrame::QueueSnapshot(
            QueueSnapshot {
                team: team.clone(),
                entries: q.snapshot(now),
            },
        ));
        if let Some(subs) = self.subscribers.get_mut(team) {
            subs.retain(|l| !l.is_gone() && l.frame(snapshot.clone()));
        }
    }

    fn update_gauges(&self) {
        for t in &self.org.teams {
            self.metrics
                .available_professionals
                .with_label_values(&[t.id.as_str()])
                .set(self.available_in(&t.id) as i64);
        }
    }

    async fn connect(
        &mut self,
        who: ProfessionalRef,
        link: SessionLink,
        resume: HashMap<ConversationId, u64>,
    ) -> ConnectReply {
        let Some(p) = self.pros.get_mut(&who.id) else {
            return ConnectReply {
                availability: Availability::Away,
                capacity: 0,
                attaches: Vec::new(),
            };
        };
        p.links.retain(|l| !l.is_gone());
        p.links.push(link.clone());
        p.gone_since = None;
        let (availability, capacity) = (p.availability, p.capacity);
        let active: Vec<ConversationId> = p.active.iter().cloned().collect();
        let mut attaches = Vec::with_capacity(active.len());
        for conv in active {
            if let Ok(Some(h)) = self.hub.get_or_load(&conv).await {
                attaches.push(
                    attach(&h, link.clone(), who.id.clone(), resume.get(&conv).copied()).await,
                );
            }
        }
        self.update_gauges();
        self.dispatch_for(&who.id).await;
        ConnectReply {
            availability,
            capacity,
            attaches,
        }
    }

    fn disconnect(&mut self, professional: &ProfessionalId, session: &SessionId) {
        if let Some(p) = self.pros.get_mut(professional) {
            p.links.retain(|l| &l.id != session && !l.is_gone());
            if p.links.is_empty() {
                p.gone_since = Some(Instant::now());
            }
        }
        for subs in self.subscribers.values_mut() {
            subs.retain(|l| &l.id != session);
        }
        self.update_gauges();
    }

    async fn status(
        &mut self,
        professional: &ProfessionalId,
        availability: Option<Availability>,
        capacity: Option<u32>,
    ) -> StatusUpdate {
        let max = self.max_capacity;
        let Some(p) = self.pros.get_mut(professional) else {
            return StatusUpdate::default();
        };
        if let Some(a) = availability {
            p.availability = a;
        }
        if let Some(c) = capacity {
            p.capacity = c.clamp(1, max);
        }
        let reply = StatusUpdate {
            availability: Some(p.availability),
            capacity: Some(p.capacity),
            active: Some(p.active.len() as u32),
        };
        self.update_gauges();
        self.dispatch_for(professional).await;
        reply
    }

    fn subscribe(&mut self, link: SessionLink, teams: Vec<TeamId>, req: Option<String>) {
        let now = Instant::now();
        for team in teams {
            let Some(q) = self.teams.get(&team) else {
                error(
                    &self.metrics,
                    &link,
                    req.clone(),
                    ErrorCode::NotFound,
                    "no such team",
                    None,
                );
                continue;
            };
            let snap = ServerFrame::QueueSnapshot(QueueSnapshot {
                team: team.clone(),
                entries: q.snapshot(now),
            });
            link.reply(req.clone(), snap);
            let subs = self.subscribers.entry(team).or_default();
            subs.retain(|l| l.id != link.id);
            subs.push(link.clone());
        }
    }

    async fn accept(
        &mut self,
        pro: ProfessionalId,
        link: SessionLink,
        team: Option<TeamId>,
        conv: Option<ConversationId>,
        req: Option<String>,
    ) {
        let Some(p) = self.pros.get(&pro) else { return };
        let (team, conv) = match (team, conv) {
            // Another team's waiting conversation is answered as if it did not exist.
            (_, Some(c)) => match self.queued_in.get(&c).filter(|t| p.serves(t)) {
                Some(t) => (t.clone(), c),
                None => {
                    return error(
                        &self.metrics,
                        &link,
                        req,
                        ErrorCode::NotFound,
                        "conversation is not waiting",
                        Some(c),
                    )
                }
            },
            (Some(t), None) => {
                if !p.serves(&t) {
                    return error(
                        &self.metrics,
                        &link,
                        req,
                        ErrorCode::Forbidden,
                        "not a member of that team",
                        None,
                    );
                }
                match self.teams.get(&t).and_then(|q| q.first_for(&pro)) {
                    Some(w) => (t, w.ticket.conversation.clone()),
                    None => {
                        return error(
                            &self.metrics,
                            &link,
                            req,
                            ErrorCode::NotFound,
                            "the queue is empty",
                            None,
                        )
                    }
                }
            }
            (None, None) => {
                return error(
                    &self.metrics,
                    &link,
                    req,
                    ErrorCode::BadFrame,
                    "accept needs team or conversation",
                    None,
                )
            }
        };
        let reserved_for_other = self
            .teams
            .get(&team)
            .and_then(|q| q.entries().iter().find(|w| w.ticket.conversation == conv))
            .and_then(|w| w.ticket.for_professional.clone())
            .is_some_and(|f| f != pro);
        if !p.serves(&team) || reserved_for_other {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::Forbidden,
                "not a member of that team",
                Some(conv),
            );
        }
        if p.active.len() as u32 >= p.capacity {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::CapacityFull,
                "capacity full",
                Some(conv),
            );
        }
        self.assign(&team, &conv, &pro, req, Some(link)).await;
        self.publish(&team);
    }

    async fn reopen(
        &mut self,
        pro: ProfessionalId,
        link: SessionLink,
        conv: ConversationId,
        req: Option<String>,
    ) {
        let Some(p) = self.pros.get_mut(&pro) else {
            return;
        };
        if p.active.contains(&conv) {
            // Theirs and in progress: a failed reopen must not drop it from their load.
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::BadFrame,
                "conversation is not complete",
                Some(conv),
            );
        }
        if p.active.len() as u32 >= p.capacity {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::CapacityFull,
                "capacity full",
                Some(conv),
            );
        }
        let (who, links) = (p.who.clone(), p.live_links());
        let handle = match self.hub.get_or_load(&conv).await {
            Ok(Some(h)) => h,
            _ => {
                return error(
                    &self.metrics,
                    &link,
                    req,
                    ErrorCode::NotFound,
                    "no such conversation",
                    Some(conv),
                )
            }
        };
        if let Some(p) = self.pros.get_mut(&pro) {
            p.active.insert(conv.clone());
        }
        let rx = handle.assign(who, links, req.clone(), true).await;
        self.watch(rx, pro, conv, Some(link), req, false);
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
    }

    fn requeue_later(&self, h: ConversationHandle, pro: ProfessionalId) {
        let Some(tx) = self.tx.upgrade() else { return };
        tokio::spawn(async move {
            if let Ok(ticket) = h
                .requeue(pro, crate::conversation::RequeueReason::Disconnected, None)
                .await
            {
                let _ = tx
                    .send(RouterCmd::Enqueue {
                        ticket,
                        reply: None,
                    })
                    .await;
            }
        });
    }
}

async fn attach(
    h: &ConversationHandle,
    link: SessionLink,
    pro: ProfessionalId,
    after: Option<u64>,
) -> oneshot::Receiver<Result<ConversationSummary, ConvError>> {
    h.attach_professional_ordered(link, pro, after).await
}
