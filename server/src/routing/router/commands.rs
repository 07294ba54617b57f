//! The command dispatch: each command off the router's mailbox goes to the method that
//! handles it, here or in the sibling files.

use super::*;

impl Router {
    /// Runs one command off the mailbox.
    pub(super) async fn handle(&mut self, cmd: RouterCmd) {
        match cmd {
            RouterCmd::Enqueue { ticket, reply } => self.queue(ticket, reply).await,
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
            RouterCmd::Identified { conversation } => self.identified(&conversation),
            RouterCmd::Colleagues { lang, reply } => {
                let _ = reply.send(self.colleagues(lang));
            }
            RouterCmd::Supervise {
                link,
                teams,
                lang,
                req,
            } => self.supervise(link, teams, lang, req),
            RouterCmd::SetRouting {
                by,
                team,
                routing,
                link,
                req,
            } => self.set_routing(by, team, routing, link, req),
            RouterCmd::RoutingStored {
                team,
                routing,
                stored,
                link,
                req,
            } => self.routing_stored(team, routing, stored, link, req).await,
            RouterCmd::Move {
                by,
                mine,
                conversation,
                to_team,
                link,
                req,
            } => self.move_waiting(by, mine, conversation, to_team, link, req),
            RouterCmd::MoveDone {
                conversation,
                old,
                moved,
                link,
                req,
            } => self.move_done(conversation, *old, *moved, link, req).await,
            RouterCmd::SubscribeInbox {
                professional,
                link,
                teams,
                req,
            } => self.subscribe_inbox(professional, link, teams, req),
            RouterCmd::Take {
                professional,
                link,
                conversation,
                req,
            } => self.take(professional, link, conversation, req).await,
        }
    }

    /// Queues a conversation, hands out what its team can take now and, when asked, answers
    /// with its place.
    async fn queue(&mut self, ticket: QueueTicket, reply: Option<oneshot::Sender<Place>>) {
        if self
            .org
            .service(&ticket.service)
            .is_some_and(|s| s.is_async())
        {
            // A matter for the team's inbox, not the live queue: no place to tell.
            self.inbox_new(&ticket);
            if let Some(reply) = reply {
                let _ = reply.send(Place {
                    position: 0,
                    estimated_wait_s: 0,
                    staffed: true,
                    waited_s: 0,
                });
            }
            return;
        }
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
}
