//! The commands of professionals' sessions: connect and disconnect (the grace period
//! starts), availability and capacity, accepting from a queue and reopening.

use super::*;

impl Router {
    pub(super) async fn connect(
        &mut self,
        who: ProfessionalRef,
        link: SessionLink,
        resume: HashMap<ConversationId, u64>,
    ) -> ConnectReply {
        // A professional the configuration does not list (signed in through the identity
        // provider) is present from their first session on, with the default capacity.
        let p = self.pros.entry(who.id.clone()).or_insert_with(|| {
            super::super::presence::Presence::new(&crate::organisation::Professional {
                id: who.id.clone(),
                name: who.name.clone(),
                teams: who.teams.clone(),
                capacity: crate::organisation::DEFAULT_CAPACITY,
                roles: Vec::new(),
            })
        });
        // One the configuration does not list is who their token says (a presence restored at
        // start knew only their id and a chat's team).
        if self.org.professional(&who.id).is_none() {
            p.who = who.clone();
        }
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

    pub(super) fn disconnect(&mut self, professional: &ProfessionalId, session: &SessionId) {
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

    pub(super) async fn status(
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

    pub(super) async fn accept(
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

    pub(super) async fn reopen(
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
        let (who, links, full) = (
            p.who.clone(),
            p.live_links(),
            p.active.len() as u32 >= p.capacity,
        );
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
        // An asynchronous matter goes back to the inbox as theirs: it takes no live-chat place.
        if full && !handle.is_async {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::CapacityFull,
                "capacity full",
                Some(conv),
            );
        }
        if let (false, Some(p)) = (handle.is_async, self.pros.get_mut(&pro)) {
            p.active.insert(conv.clone());
        }
        let rx = handle.assign(who, links, req.clone(), true).await;
        self.watch(rx, pro, conv, Some(link), req, false);
    }

    fn update_gauges(&mut self) {
        self.set_gauges();
        self.tell_supervisors();
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
