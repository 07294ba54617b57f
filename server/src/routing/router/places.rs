//! What the router tells: places to waiting clients (when they changed enough to matter),
//! queue snapshots to subscribed consoles, previews of what waiting clients wrote, the
//! colleagues list of the transfer form.

use super::*;

impl Router {
    pub(super) fn colleagues(&self, lang: Option<String>) -> Colleagues {
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

    /// Records the place a waiting client was just told.
    pub(super) fn mark_told(&mut self, team: &TeamId, id: &ConversationId, place: Place) {
        if let Some(w) = self.teams.get_mut(team).and_then(|q| {
            q.entries_mut()
                .iter_mut()
                .find(|w| &w.ticket.conversation == id)
        }) {
            w.told = Some(place);
        }
    }

    pub(super) fn place_of(&self, id: &ConversationId) -> Option<Place> {
        let team = self.queued_in.get(id)?;
        let q = self.teams.get(team)?;
        let i = q
            .entries()
            .iter()
            .position(|w| &w.ticket.conversation == id)?;
        q.place_at(i, Instant::now(), self.available_in(team))
    }

    /// Tells waiting clients of `team` their place when it changed enough to matter: a new
    /// position, somebody (or nobody) available now, or an estimate off by half a minute.
    pub(super) fn tell_places(&mut self, team: &TeamId) {
        let servers = self.available_in(team);
        let Some(q) = self.teams.get_mut(team) else {
            return;
        };
        let now = Instant::now();
        let places = q.places(now, servers);
        for (w, place) in q.entries_mut().iter_mut().zip(places) {
            if !place.worth_telling(w.told) {
                continue;
            }
            w.told = Some(place);
            if let Some(h) = self.hub.get(&w.ticket.conversation) {
                h.queue_position(place);
            }
        }
    }

    /// Sends the team's snapshot to subscribers and new places to waiting clients.
    pub(super) fn publish(&mut self, team: &TeamId) {
        self.tell_places(team);
        let Some(q) = self.teams.get_mut(team) else {
            return;
        };
        let now = Instant::now();
        let snapshot =
            crate::delivery::SharedFrame::plain(ServerFrame::QueueSnapshot(QueueSnapshot {
                team: team.clone(),
                entries: q.snapshot(now),
            }));
        if let Some(subs) = self.subscribers.get_mut(team) {
            subs.retain(|l| !l.is_gone() && l.frame(snapshot.clone()));
        }
        self.set_gauges_of(team);
        self.tell_supervisors_of(team);
    }

    /// Counts, once each, the waiting conversations whose reply deadline has passed.
    pub(super) fn count_breaches(&mut self) {
        let now_ms = crate::conversation::view::now_ms();
        for (team, q) in &self.teams {
            for w in q.entries() {
                let t = &w.ticket;
                let Some(due) = t.due_at_ms.filter(|due| *due <= now_ms) else {
                    continue;
                };
                if self.breached.insert((t.conversation.clone(), due)) {
                    self.metrics
                        .promise_breaches
                        .with_label_values(&[t.service.as_str(), team.as_str()])
                        .inc();
                }
            }
        }
    }

    /// Sets every team's queue and staffing gauges: length, oldest wait, the estimate a new
    /// client would get, professionals signed in and available, their capacity; and the
    /// inbox's (overdue matters change with time alone).
    pub(super) fn set_gauges(&self) {
        for team in self.teams.keys() {
            self.set_gauges_of(team);
            self.set_inbox_gauges(team);
        }
    }

    /// Sets `team`'s queue and staffing gauges (after a change to that team's queue).
    pub(super) fn set_gauges_of(&self, team: &TeamId) {
        let now = Instant::now();
        if let Some(q) = self.teams.get(team) {
            let label = [team.as_str()];
            let m = &self.metrics;
            let servers = self.available_in(team);
            m.queue_length.with_label_values(&label).set(q.len() as i64);
            m.queue_oldest_wait
                .with_label_values(&label)
                .set(q.oldest_wait(now).as_secs() as i64);
            m.queue_estimated_wait
                .with_label_values(&label)
                .set(q.estimate_wait_s(q.len() as u32 + 1, now, servers) as i64);
            let members = self.pros.values().filter(|p| p.serves(team));
            let (mut signed_in, mut capacity) = (0, 0);
            for p in members {
                match p.presence() {
                    PresenceKind::Available => {
                        signed_in += 1;
                        capacity += i64::from(p.capacity);
                    }
                    PresenceKind::Away => signed_in += 1,
                    PresenceKind::Offline => {}
                }
            }
            m.available_professionals
                .with_label_values(&label)
                .set(servers as i64);
            m.signed_in_professionals
                .with_label_values(&label)
                .set(signed_in);
            m.available_capacity.with_label_values(&label).set(capacity);
        }
    }

    pub(super) fn subscribe(&mut self, link: SessionLink, teams: Vec<TeamId>, req: Option<String>) {
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

    /// A waiting client wrote: its entry shows the start of it.
    pub(super) fn preview(&mut self, conversation: ConversationId, text: &str) {
        let team = self.queued_in.get(&conversation).cloned();
        let set = team
            .as_ref()
            .and_then(|t| self.teams.get_mut(t))
            .is_some_and(|q| q.set_preview(&conversation, text));
        if let (true, Some(team)) = (set, team) {
            self.publish(&team);
        }
    }

    /// A waiting client identified: its entry shows it.
    pub(super) fn identified(&mut self, conversation: &ConversationId) {
        let Some(team) = self.queued_in.get(conversation).cloned() else {
            return;
        };
        let changed = self
            .teams
            .get_mut(&team)
            .is_some_and(|q| q.set_identified(conversation));
        if changed {
            self.publish(&team);
        }
    }

    /// The client left a waiting conversation: out of the queue, counted as abandoned.
    pub(super) fn withdraw(&mut self, conversation: ConversationId) {
        let team = match self.queued_in.remove(&conversation) {
            Some(team) => team,
            // Left while a supervisor's move was being stored: counted where it waited.
            None => match self.moving.remove(&conversation) {
                Some(m) => m.from,
                None => return,
            },
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
}
