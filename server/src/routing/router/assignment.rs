//! Assignment: waiting conversations handed to the least-loaded professional who may take
//! them (auto routing, or reserved for them), the commit awaited off the router's loop, and
//! conversations taken back after a failed assignment or a grace period that ran out.

use super::*;

/// Wait before a conversation whose assignment failed is queued again.
const REQUEUE_PAUSE: Duration = Duration::from_secs(1);

impl Router {
    pub(super) fn enqueue(&mut self, ticket: QueueTicket) {
        let Some(q) = self.teams.get_mut(&ticket.team) else {
            tracing::warn!(team = %ticket.team, "enqueue to unknown team");
            return;
        };
        self.queued_in
            .insert(ticket.conversation.clone(), ticket.team.clone());
        q.push(ticket, Instant::now());
    }

    /// Lower is better: waiting conversations minus free places of available professionals.
    pub(super) fn load_score(&self, team: &TeamId) -> i64 {
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

    /// Hands waiting conversations of `team` to professionals as routing allows.
    pub(super) async fn dispatch(&mut self, team: &TeamId) {
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

    pub(super) async fn dispatch_for(&mut self, professional: &ProfessionalId) {
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
    pub(super) async fn assign(
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
    pub(super) fn watch(
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

    pub(super) fn requeue_later(&self, h: ConversationHandle, pro: ProfessionalId) {
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
