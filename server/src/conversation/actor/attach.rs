//! Sessions joining the conversation: a client with its resume token (identifying an
//! anonymous conversation when the session is identified), the assigned professional, and
//! the replay of committed events after `after_seq`.

use super::*;

/// Largest replay or history page read from storage at once.
const MAX_REPLAY: u32 = 10_000;

impl Conversation {
    pub(super) async fn attach_client(
        &mut self,
        link: SessionLink,
        token: ResumeToken,
        after_seq: Option<u64>,
        identity: Option<ClientIdentity>,
    ) -> Result<ConversationSummary, ConvError> {
        if !self.deps.auth.check_resume(&self.record.id, &token) {
            return Err(ConvError::Forbidden);
        }
        let identify = match identity {
            Some(identity) => self.identity_change(identity)?,
            None => None,
        };
        if let Some(after) = after_seq {
            let frames = self
                .replay(after)
                .await?
                .iter()
                .filter_map(|e| client_view(e))
                .map(SharedFrame::plain)
                .collect();
            link.deliver(Outbound::Batch(frames));
        }
        self.clients.retain(|l| l.id != link.id && !l.is_gone());
        self.clients.push(link);
        let summary = self.summary(false);
        if let Some(client) = identify {
            // The session is subscribed: it gets the event with everybody else, after the commit.
            self.identify(client).await;
        }
        Ok(summary)
    }

    /// What a client session authenticated as `identity` changes: `Some` when the anonymous
    /// client of an open conversation becomes identified, `None` when nothing changes (the same
    /// subject again, or a complete conversation). Another subject than the one the
    /// conversation is identified with is refused.
    pub(super) fn identity_change(
        &self,
        identity: ClientIdentity,
    ) -> Result<Option<ClientIdentity>, ConvError> {
        let current = &self.record.client;
        if current.identified {
            return if current.subject.is_some() && current.subject == identity.subject {
                Ok(None)
            } else {
                Err(ConvError::Forbidden)
            };
        }
        if !identity.identified
            || identity.subject.is_none()
            || self.record.state.status == ConversationStatus::Complete
        {
            return Ok(None);
        }
        Ok(Some(identity))
    }

    /// Stores the client's new identity and the `identified` event in one write; both sides get
    /// the event only after the commit. A failed write resyncs the record (still anonymous).
    pub(super) async fn identify(&mut self, client: ClientIdentity) {
        let mut detail = serde_json::Map::new();
        // The display name only: the subject (a personal id) never leaves the server.
        if let Some(name) = &client.name {
            detail.insert("name".into(), name.clone().into());
        }
        self.record.client = client.clone();
        let event = Arc::new(self.system(SystemKind::Identified, detail));
        let op = WriteOp::Identify {
            event: (*event).clone(),
            client,
        };
        self.submit(
            op,
            Pending {
                event: Some(event),
                effect: None,
                started: Instant::now(),
            },
        )
        .await;
    }

    pub(super) async fn attach_professional(
        &mut self,
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
    ) -> Result<ConversationSummary, ConvError> {
        if self.record.state.assigned_to.as_ref() != Some(&professional) {
            return Err(ConvError::Forbidden);
        }
        if let Some(after) = after_seq {
            let frames = self
                .replay(after)
                .await?
                .iter()
                .map(|e| SharedFrame::plain(ServerFrame::from((**e).clone())))
                .collect();
            link.deliver(Outbound::Batch(frames));
        }
        self.pros.retain(|l| l.id != link.id && !l.is_gone());
        self.pros.push(link);
        Ok(self.summary(true))
    }

    /// Committed events with seq > `after`, in order.
    pub(super) async fn replay(&mut self, after: u64) -> Result<Vec<Arc<Event>>, ConvError> {
        if after >= self.committed_seq {
            return Ok(Vec::new());
        }
        if self.recent.front().is_some_and(|e| e.seq() <= after + 1) {
            return Ok(self
                .recent
                .iter()
                .filter(|e| e.seq() > after)
                .cloned()
                .collect());
        }
        let events = self
            .deps
            .storage
            .events_after(&self.record.id, after, MAX_REPLAY)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "replay: events could not be read"))?;
        Ok(events
            .into_iter()
            .filter(|e| e.seq() <= self.committed_seq)
            .map(Arc::new)
            .collect())
    }

    /// What an attaching session is told about the conversation (more for a professional).
    fn summary(&self, professional: bool) -> ConversationSummary {
        let r = &self.record;
        ConversationSummary {
            conversation: r.id.clone(),
            status: r.state.status,
            last_seq: self.committed_seq,
            service: professional.then(|| r.service.clone()),
            topic: if professional { r.topic.clone() } else { None },
            team: professional.then(|| r.state.team.clone()),
            client: professional.then(|| client_info(r)),
            questionnaire: if professional {
                r.questionnaire.clone()
            } else {
                None
            },
            contact_at: professional.then(|| rfc3339_of_ms(r.created_at_ms)),
            due_at: r
                .state
                .due_at_ms
                .map(|ms| self.deps.organisation.due_at_text(ms)),
        }
    }
}
