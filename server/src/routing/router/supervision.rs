//! Supervision: the live overview of a team for its supervisors (the queue in summary, never
//! content or a client's name; presence and load; routing), a team's routing set at run time
//! (stored first, so it holds on every node and after restarts), and a waiting conversation
//! moved to another team's queue with its waiting time kept.

use super::*;
use crate::storage::WriteOp;
use console_protocol::{Moved, OverviewEntry, RoutingMode, SetRouting, TeamMember, TeamOverview};

/// Routing as the protocol names it.
pub(super) fn mode(r: Routing) -> RoutingMode {
    match r {
        Routing::Auto => RoutingMode::Auto,
        Routing::Manual => RoutingMode::Manual,
    }
}

fn routing_of(m: RoutingMode) -> Routing {
    match m {
        RoutingMode::Auto => Routing::Auto,
        RoutingMode::Manual => Routing::Manual,
    }
}

/// What a supervisor sees change: the overview without the waits, which the console counts
/// on by itself between frames.
fn shape(o: &TeamOverview) -> TeamOverview {
    let mut o = o.clone();
    o.oldest_wait_s = 0;
    o.estimated_wait_s = 0;
    for e in &mut o.queue {
        e.waiting_s = 0;
    }
    o
}

/// A supervisor's move in progress: out of its old queue, not yet in the new one.
pub(super) struct Moving {
    pub from: TeamId,
    pub since: Instant,
}

impl Router {
    /// Refuses a supervisor's frame naming a team the organisation does not have.
    fn no_such_team(&self, link: &SessionLink, req: Option<String>) {
        error(
            &self.metrics,
            link,
            req,
            ErrorCode::NotFound,
            "no such team",
            None,
        );
    }

    /// The overview of `team` now, its name in `lang`.
    pub(super) fn overview(&self, team: &TeamId, lang: Option<&str>) -> Option<TeamOverview> {
        let q = self.teams.get(team)?;
        let t = self.org.team(team)?;
        let now = Instant::now();
        let servers = self.available_in(team);
        let channel_of = |s: &console_protocol::ServiceId| {
            self.org
                .service(s)
                .map_or_else(|| "chat".to_owned(), |s| s.channel.clone())
        };
        let queue: Vec<OverviewEntry> = q
            .entries()
            .iter()
            .map(|w| OverviewEntry {
                conversation: w.ticket.conversation.clone(),
                service: w.ticket.service.clone(),
                topic: w.ticket.topic.clone(),
                channel: channel_of(&w.ticket.service),
                waiting_s: now.saturating_duration_since(w.since).as_secs(),
                identified: w.ticket.identified,
            })
            .collect();
        let mut professionals: Vec<TeamMember> = self
            .pros
            .values()
            .filter(|p| p.serves(team))
            .map(|p| TeamMember {
                id: p.who.id.clone(),
                name: p.who.name.clone(),
                presence: p.presence(),
                active: p.active.len() as u32,
                capacity: p.capacity,
            })
            .collect();
        professionals.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let signed_in = |m: &&TeamMember| m.presence != PresenceKind::Offline;
        let active = professionals
            .iter()
            .filter(signed_in)
            .map(|m| m.active)
            .sum();
        let capacity = professionals
            .iter()
            .filter(|m| m.presence == PresenceKind::Available)
            .map(|m| m.capacity)
            .sum();
        Some(TeamOverview {
            team: team.clone(),
            name: self.org.text(&t.name, lang).to_owned(),
            routing: mode(q.routing),
            waiting: q.len() as u32,
            oldest_wait_s: q.oldest_wait(now).as_secs(),
            estimated_wait_s: q.estimate_wait_s(q.len() as u32 + 1, now, servers),
            unstaffed: !q.is_empty() && servers == 0,
            available: servers as u32,
            active,
            capacity,
            queue,
            professionals,
        })
    }

    /// Starts live overviews of `teams` for a supervisor's session (checked by the session:
    /// a supervisor of each), with one overview of each now.
    pub(super) fn supervise(
        &mut self,
        link: SessionLink,
        teams: Vec<TeamId>,
        lang: Option<String>,
        req: Option<String>,
    ) {
        for team in teams {
            let Some(o) = self.overview(&team, lang.as_deref()) else {
                self.no_such_team(&link, req.clone());
                continue;
            };
            link.reply(req.clone(), ServerFrame::TeamOverview(o));
            let subs = self.supervisors.entry(team).or_default();
            subs.retain(|(l, _)| l.id != link.id && !l.is_gone());
            subs.push((link.clone(), lang.clone()));
        }
    }

    /// Sends each supervised team's overview to its supervisors when it changed (waits aside).
    pub(super) fn tell_supervisors(&mut self) {
        let teams: Vec<TeamId> = self.supervisors.keys().cloned().collect();
        for team in &teams {
            self.tell_supervisors_of(team);
        }
        self.supervisors.retain(|_, subs| !subs.is_empty());
    }

    /// Sends `team`'s overview to its supervisors when it changed (waits aside).
    pub(super) fn tell_supervisors_of(&mut self, team: &TeamId) {
        if self.supervisors.get(team).is_none_or(|s| s.is_empty()) {
            return;
        }
        let Some(o) = self.overview(team, None) else {
            return;
        };
        let s = shape(&o);
        if self.overview_told.get(team) == Some(&s) {
            return;
        }
        self.overview_told.insert(team.clone(), s);
        // One frame per language asked for (a console's language: usually one).
        let langs: Vec<Option<String>> = self.supervisors.get(team).map_or_else(Vec::new, |subs| {
            let mut langs: Vec<Option<String>> = subs.iter().map(|(_, l)| l.clone()).collect();
            langs.sort();
            langs.dedup();
            langs
        });
        let frames: Vec<(Option<String>, Arc<crate::delivery::SharedFrame>)> = langs
            .into_iter()
            .filter_map(|lang| {
                let o = self.overview(team, lang.as_deref())?;
                Some((
                    lang,
                    crate::delivery::SharedFrame::plain(ServerFrame::TeamOverview(o)),
                ))
            })
            .collect();
        if let Some(subs) = self.supervisors.get_mut(team) {
            subs.retain(|(l, lang)| {
                let f = frames
                    .iter()
                    .find(|(fl, _)| fl == lang)
                    .map(|(_, f)| f.clone());
                !l.is_gone() && f.is_some_and(|f| l.frame(f))
            });
        }
    }

    /// A supervisor sets `team`'s routing: stored first (off the loop), applied when stored.
    pub(super) fn set_routing(
        &mut self,
        by: ProfessionalId,
        team: TeamId,
        routing: RoutingMode,
        link: SessionLink,
        req: Option<String>,
    ) {
        if !self.teams.contains_key(&team) {
            return self.no_such_team(&link, req);
        }
        let Some(tx) = self.tx.upgrade() else { return };
        let storage = self.hub.deps.storage.clone();
        let op = WriteOp::SetRouting {
            team: team.clone(),
            routing: routing.as_str().to_owned(),
            by,
            at_ms: crate::conversation::view::now_ms(),
        };
        tokio::spawn(async move {
            let stored = storage.write(op).await.map_err(|e| e.to_string());
            let _ = tx
                .send(RouterCmd::RoutingStored {
                    team,
                    routing,
                    stored,
                    link,
                    req,
                })
                .await;
        });
    }

    /// The routing is stored (or not): applied, answered, and the team dispatched under it.
    pub(super) async fn routing_stored(
        &mut self,
        team: TeamId,
        routing: RoutingMode,
        stored: Result<(), String>,
        link: SessionLink,
        req: Option<String>,
    ) {
        if let Err(why) = stored {
            tracing::warn!(%team, error = %why, "team routing not stored");
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::Internal,
                "the routing could not be stored; it is unchanged",
                None,
            );
        }
        if let Some(q) = self.teams.get_mut(&team) {
            q.routing = routing_of(routing);
        }
        tracing::info!(%team, routing = routing.as_str(), "team routing set by a supervisor");
        link.reply(
            req,
            ServerFrame::Routing(SetRouting {
                team: team.clone(),
                routing,
            }),
        );
        self.dispatch(&team).await;
        self.publish(&team);
        self.tell_supervisors();
    }

    /// Routing a supervisor stored earlier replaces the configured one.
    pub(super) fn restore_routing(&mut self, stored: Vec<(TeamId, String)>) {
        for (team, routing) in stored {
            let r = match routing.as_str() {
                "auto" => Routing::Auto,
                "manual" => Routing::Manual,
                other => {
                    tracing::warn!(%team, routing = other, "unknown stored routing ignored");
                    continue;
                }
            };
            if let Some(q) = self.teams.get_mut(&team) {
                q.routing = r;
            }
        }
    }

    /// A supervisor of `mine` moves `conversation` (waiting in one of those teams) to
    /// `to_team`: out of its queue now, into the other once its actor stored the move.
    pub(super) fn move_waiting(
        &mut self,
        by: ProfessionalId,
        mine: Vec<TeamId>,
        conversation: ConversationId,
        to_team: TeamId,
        link: SessionLink,
        req: Option<String>,
    ) {
        let from = self.queued_in.get(&conversation).cloned();
        let Some(from) = from.filter(|t| mine.contains(t)) else {
            // Word for word for a conversation that does not exist: not waiting in a queue
            // of this supervisor's tells nothing more.
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::NotFound,
                "no such conversation waiting in a queue of yours",
                Some(conversation),
            );
        };
        if !self.teams.contains_key(&to_team) {
            return self.no_such_team(&link, req);
        }
        if from == to_team {
            link.reply(
                req,
                ServerFrame::Moved(Moved {
                    conversation,
                    team: to_team,
                }),
            );
            return;
        }
        let Some(w) = self
            .teams
            .get_mut(&from)
            .and_then(|q| q.remove(&conversation))
        else {
            return;
        };
        self.queued_in.remove(&conversation);
        self.moving.insert(
            conversation.clone(),
            Moving {
                from: from.clone(),
                since: w.since,
            },
        );
        self.publish(&from);
        let Some(tx) = self.tx.upgrade() else { return };
        let hub = self.hub.clone();
        let old = w.ticket;
        tokio::spawn(async move {
            let moved = match hub.get_or_load(&conversation).await {
                Ok(Some(h)) => h.move_to(by, to_team).await,
                Ok(None) => Err(ConvError::NotFound),
                Err(_) => Err(ConvError::Storage),
            };
            let _ = tx
                .send(RouterCmd::MoveDone {
                    conversation,
                    old: Box::new(old),
                    moved: Box::new(moved),
                    link,
                    req,
                })
                .await;
        });
    }

    /// A move's outcome: queued in the new team with its waiting time; back in the old queue
    /// when the move was not stored and it still waits; nowhere when the client left meanwhile.
    pub(super) async fn move_done(
        &mut self,
        conversation: ConversationId,
        old: QueueTicket,
        moved: Result<QueueTicket, ConvError>,
        link: SessionLink,
        req: Option<String>,
    ) {
        let Some(m) = self.moving.remove(&conversation) else {
            // The client left while the move was being stored (`withdraw` counted it).
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::ConversationClosed,
                "the client left the queue",
                Some(conversation),
            );
        };
        let (ticket, answer) = match moved {
            Ok(ticket) => (ticket, Ok(())),
            Err(e @ (ConvError::BadState(_) | ConvError::NotFound)) => {
                return error(
                    &self.metrics,
                    &link,
                    req,
                    e.code(),
                    &e.to_string(),
                    Some(conversation),
                );
            }
            Err(e) => (old, Err(e)),
        };
        let team = ticket.team.clone();
        self.queued_in.insert(conversation.clone(), team.clone());
        if let Some(q) = self.teams.get_mut(&team) {
            q.push(ticket, m.since);
        }
        match answer {
            Ok(()) => {
                tracing::info!(from = %m.from, to = %team, "waiting conversation moved by a supervisor");
                link.reply(
                    req,
                    ServerFrame::Moved(Moved {
                        conversation,
                        team: team.clone(),
                    }),
                );
            }
            Err(e) => error(
                &self.metrics,
                &link,
                req,
                e.code(),
                &e.to_string(),
                Some(conversation),
            ),
        }
        self.dispatch(&team).await;
        self.publish(&team);
        self.tell_supervisors();
    }
}
