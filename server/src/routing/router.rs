//! The router actor: its state, its mailbox loop, the queues restored at start-up and the
//! assignments (commits awaited off the loop, failures reported back as commands). What
//! waiting clients and subscribed consoles are told is in `places`; the commands of
//! professionals' sessions in `professionals`.

mod places;
mod professionals;

use super::*;
use console_protocol::{Event, Role};

/// How many of a waiting conversation's latest events are read back for its preview.
const PREVIEW_SCAN: u32 = 20;
use presence::Presence;
use queue::TeamQueue;

pub(super) struct Router {
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
    /// Builds the router, restores `open` conversations and runs it on its own task; returns
    /// its mailbox.
    pub(super) fn spawn(
        hub: Arc<Hub>,
        org: Arc<Organisation>,
        metrics: Arc<Metrics>,
        grace: Duration,
        max_capacity: u32,
        open: Vec<ConversationRecord>,
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
            hub,
            org,
            metrics,
            grace,
            max_capacity,
        };
        router.restore(open);
        tokio::spawn(async move { router.run(cancel).await });
        tx
    }

    fn restore(&mut self, open: Vec<ConversationRecord>) {
        let now = Instant::now();
        let mut waiting = Vec::new();
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
                        waiting.push(ticket.conversation.clone());
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
        self.restore_previews(waiting);
    }

    /// Reads back, off the router's loop, what each waiting client last wrote, so the queue's
    /// previews survive a restart. Best effort: a failed read leaves the entry without one.
    fn restore_previews(&self, waiting: Vec<ConversationId>) {
        let (Some(tx), false) = (self.tx.upgrade(), waiting.is_empty()) else {
            return;
        };
        let storage = self.hub.deps.storage.clone();
        tokio::spawn(async move {
            for conversation in waiting {
                let Ok(events) = storage
                    .events_before(&conversation, u64::MAX, PREVIEW_SCAN)
                    .await
                else {
                    continue;
                };
                let last = events.into_iter().rev().find_map(|e| match e {
                    Event::Message(m) if m.from.role == Role::Client => Some(m.body),
                    _ => None,
                });
                if let Some(text) = last {
                    let cmd = RouterCmd::Preview { conversation, text };
                    if tx.send(cmd).await.is_err() {
                        return;
                    }
                }
            }
        });
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
            RouterCmd::Preview { conversation, text } => self.preview(conversation, &text),
            RouterCmd::Withdraw { conversation } => self.withdraw(conversation),
            RouterCmd::Colleagues { lang, reply } => {
                let _ = reply.send(self.colleagues(lang));
            }
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

    fn update_gauges(&self) {
        for t in &self.org.teams {
            self.metrics
                .available_professionals
                .with_label_values(&[t.id.as_str()])
                .set(self.available_in(&t.id) as i64);
        }
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
