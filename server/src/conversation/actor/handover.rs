//! Who holds the conversation: assignment (and reopen) to a professional, transfer to a team
//! or a colleague, close, and requeue (grace period over, or handed back). Each is one stored
//! `system` event with the new state; its effect runs after the commit.

use super::*;

impl Conversation {
    /// Subscribes the holder's sessions and sends them `assigned`, whose `last_seq` is the
    /// last event they have from it: with `event_follows` the `assigned` event being fanned
    /// out right after is not counted (they get it next); a rejoin without a new event counts
    /// every committed one.
    pub(super) fn join_professional(
        &mut self,
        links: Vec<SessionLink>,
        req: Option<String>,
        event_follows: bool,
    ) {
        for l in links {
            if !self.pros.iter().any(|p| p.id == l.id) {
                self.pros.push(l);
            }
        }
        let r = &self.record;
        let assigned = ServerFrame::Assigned(Assigned {
            conversation: r.id.clone(),
            service: r.service.clone(),
            topic: r.topic.clone(),
            team: Some(r.state.team.clone()),
            client: client_info(r),
            questionnaire: r.questionnaire.clone(),
            last_seq: if event_follows {
                self.committed_seq.saturating_sub(1)
            } else {
                self.committed_seq
            },
            status: Some(r.state.status),
            contact_at: Some(rfc3339_of_ms(r.created_at_ms)),
            due_at: r
                .state
                .due_at_ms
                .map(|ms| self.deps.organisation.due_at_text(ms)),
        });
        let f = SharedFrame::new(console_protocol::Envelope::reply(req, assigned));
        for l in &self.pros {
            l.frame(f.clone());
        }
    }

    pub(super) fn release_professionals(&mut self, reason: &'static str, req: Option<String>) {
        let f = SharedFrame::new(console_protocol::Envelope::reply(
            req,
            ServerFrame::Released(Released {
                conversation: self.record.id.clone(),
                reason: Some(reason.into()),
            }),
        ));
        for l in self.pros.drain(..) {
            l.frame(f.clone());
        }
    }

    pub(super) async fn assign(
        &mut self,
        p: ProfessionalRef,
        links: Vec<SessionLink>,
        req: Option<String>,
        reopen: bool,
        reply: Reply<()>,
    ) {
        if reopen && !p.teams.contains(&self.record.state.team) {
            // Outside the team the conversation's existence and status stay hidden.
            let _ = reply.send(Err(ConvError::NotFound));
            return;
        }
        // An asynchronous matter of theirs, joined again (after a reconnect): no new event.
        if !reopen
            && self.is_async()
            && self.record.state.status == ConversationStatus::InProgress
            && self.record.state.assigned_to.as_ref() == Some(&p.id)
        {
            self.join_professional(links, req, false);
            let _ = reply.send(Ok(()));
            return;
        }
        let expected = if reopen {
            ConversationStatus::Complete
        } else {
            ConversationStatus::Queued
        };
        if self.record.state.status != expected {
            let _ = reply.send(Err(ConvError::BadState(if reopen {
                "conversation is not complete"
            } else {
                "conversation is not waiting"
            })));
            return;
        }
        let reserved_for_other = !reopen
            && self
                .record
                .state
                .reserved_for
                .as_ref()
                .is_some_and(|r| r != &p.id);
        if reserved_for_other || (reopen && !p.teams.contains(&self.record.state.team)) {
            let _ = reply.send(Err(ConvError::Forbidden));
            return;
        }
        let s = &mut self.record.state;
        s.status = ConversationStatus::InProgress;
        s.assigned_to = Some(p.id.clone());
        s.reserved_for = None;
        s.priority = 0;
        s.summary = None;
        self.active_gauge().inc();
        let mut detail = serde_json::Map::new();
        detail.insert("professional".into(), p.id.to_string().into());
        detail.insert("name".into(), p.name.clone().into());
        detail.insert("team".into(), self.record.state.team.to_string().into());
        let kind = if reopen {
            SystemKind::Reopened
        } else {
            SystemKind::Assigned
        };
        let event = self.system(kind, detail);
        self.write(
            event,
            true,
            Effect::Assigned { links, req, reply },
            Instant::now(),
        )
        .await;
    }

    pub(super) fn assigned_professional(
        &self,
        origin: &Origin,
    ) -> Result<ProfessionalRef, ConvError> {
        match &origin.who {
            Who::Professional(p) if self.record.state.assigned_to.as_ref() == Some(&p.id) => {
                Ok(p.clone())
            }
            _ => Err(ConvError::Forbidden),
        }
    }

    pub(super) async fn transfer(
        &mut self,
        origin: Origin,
        to_team: TeamId,
        to: Option<ProfessionalId>,
        note: Option<String>,
        reply: Reply<QueueTicket>,
    ) {
        let p = match self.assigned_professional(&origin) {
            Ok(p) => p,
            Err(e) => return drop(reply.send(Err(e))),
        };
        if self.record.state.status != ConversationStatus::InProgress {
            return drop(reply.send(Err(ConvError::Closed)));
        }
        let mut detail = serde_json::Map::new();
        detail.insert("from_professional".into(), p.id.to_string().into());
        detail.insert("team".into(), to_team.to_string().into());
        if let Some(to) = &to {
            detail.insert("to_professional".into(), to.to_string().into());
        }
        if let Some(n) = note {
            detail.insert("note".into(), n.into());
        }
        self.active_gauge().dec();
        let (_, ms) = now();
        let s = &mut self.record.state;
        s.status = ConversationStatus::Queued;
        s.assigned_to = None;
        s.team = to_team;
        s.priority = 1;
        s.queued_at_ms = ms;
        s.reserved_for = to;
        let ticket = self.ticket();
        let event = self.system(SystemKind::Transferred, detail);
        let effect = Effect::Released {
            reason: "transferred",
            reply,
            ticket,
            req: origin.req,
        };
        self.write(event, true, effect, Instant::now()).await;
    }

    /// A supervisor moves the waiting conversation to `to_team`: it keeps its place in time
    /// (`queued_at_ms`) and priority, so it is not sent to the back of the other queue.
    pub(super) async fn move_to(
        &mut self,
        supervisor: ProfessionalId,
        to_team: TeamId,
        reply: Reply<QueueTicket>,
    ) {
        if self.record.state.status != ConversationStatus::Queued {
            return drop(reply.send(Err(ConvError::BadState("conversation is not waiting"))));
        }
        let mut detail = serde_json::Map::new();
        detail.insert("supervisor".into(), supervisor.to_string().into());
        detail.insert(
            "from_team".into(),
            self.record.state.team.to_string().into(),
        );
        detail.insert("team".into(), to_team.to_string().into());
        self.record.state.team = to_team;
        self.record.state.reserved_for = None;
        let ticket = self.ticket();
        let event = self.system(SystemKind::Transferred, detail);
        let effect = Effect::Released {
            reason: "moved",
            reply,
            ticket,
            req: None,
        };
        self.write(event, true, effect, Instant::now()).await;
    }

    pub(super) async fn close(
        &mut self,
        origin: Origin,
        summary: Option<String>,
        reply: Reply<()>,
    ) {
        if let Err(e) = self.assigned_professional(&origin) {
            return drop(reply.send(Err(e)));
        }
        if self.record.state.status == ConversationStatus::Complete {
            return drop(reply.send(Err(ConvError::Closed)));
        }
        self.active_gauge().dec();
        let mut detail = serde_json::Map::new();
        if let Some(s) = &summary {
            detail.insert("summary".into(), s.clone().into());
        }
        self.record.state.summary = summary;
        self.complete();
        let event = self.system(SystemKind::Closed, detail);
        let effect = Effect::Closed {
            reply,
            link: origin.link,
            req: origin.req,
        };
        let carried = super::writes::Carried {
            records: self.record_delivery(event.seq()).into_iter().collect(),
            ..Default::default()
        };
        self.write_carrying(event, true, effect, Instant::now(), carried)
            .await;
    }

    pub(super) async fn requeue(
        &mut self,
        professional: ProfessionalId,
        reason: RequeueReason,
        req: Option<String>,
        reply: Reply<QueueTicket>,
    ) {
        if self.record.state.assigned_to.as_ref() != Some(&professional)
            || self.record.state.status != ConversationStatus::InProgress
        {
            return drop(reply.send(Err(ConvError::BadState(
                "not assigned to that professional",
            ))));
        }
        self.active_gauge().dec();
        let mut detail = serde_json::Map::new();
        detail.insert("reason".into(), reason.detail().into());
        detail.insert("team".into(), self.record.state.team.to_string().into());
        let (_, ms) = now();
        let s = &mut self.record.state;
        s.status = ConversationStatus::Queued;
        s.assigned_to = None;
        s.priority = 2;
        s.queued_at_ms = ms;
        s.reserved_for = None;
        let ticket = self.ticket();
        let event = self.system(SystemKind::Queued, detail);
        if reason == RequeueReason::HandedBack {
            self.deps
                .metrics
                .handed_back
                .with_label_values(&[self.record.state.team.as_str()])
                .inc();
        }
        let effect = Effect::Released {
            reason: reason.released(),
            reply,
            ticket,
            req,
        };
        self.write(event, true, effect, Instant::now()).await;
    }
}
