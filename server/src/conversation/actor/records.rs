//! What a client leaves on the record after the case (a rating), and the stored events read
//! back for `history`.

use super::*;

impl Conversation {
    pub(super) async fn feedback(
        &mut self,
        origin: &Origin,
        rating: u8,
        comment: Option<String>,
    ) -> Result<(), ConvError> {
        if self.role_of(origin)? != Role::Client {
            return Err(ConvError::Forbidden);
        }
        if self.record.state.status != ConversationStatus::Complete {
            return Err(ConvError::BadState("conversation is not complete"));
        }
        if !(1..=5).contains(&rating) {
            return Err(ConvError::BadState("rating must be 1-5"));
        }
        let op = WriteOp::Feedback {
            conversation: self.record.id.clone(),
            rating,
            comment,
            at_ms: now().1,
        };
        let effect = Effect::FeedbackAck {
            link: origin.link.clone(),
            req: origin.req.clone(),
            rating,
        };
        self.submit(
            op,
            Pending {
                event: None,
                effect: Some(effect),
                started: Instant::now(),
            },
        )
        .await;
        Ok(())
    }

    /// Shows the professionals where the transcript up to `close_seq` is in the patient record;
    /// a state the conversation already shows last for it (a repeat after a restart) is
    /// answered without a new event.
    pub(super) async fn record_state(
        &mut self,
        close_seq: u64,
        state: &'static str,
        reason: Option<String>,
        reply: super::command::Reply<()>,
    ) {
        let of = (SystemKind::Record, "close_seq", close_seq);
        self.delivery_state(of, state, reason, reply).await;
    }

    /// Records a new delivery state of something the conversation sent out — the `kind`
    /// event whose `detail[key]` is `id` (an SMS of a message, a transcript to the record);
    /// a state it already shows last for it (a repeat after a restart) is answered without a
    /// new event. Answers after the commit.
    pub(super) async fn delivery_state(
        &mut self,
        (kind, key, id): (SystemKind, &str, u64),
        state: &'static str,
        reason: Option<String>,
        reply: super::command::Reply<()>,
    ) -> bool {
        let shown = self.recent.iter().rev().find_map(|e| match &**e {
            Event::System(s)
                if s.event == kind && s.detail.get(key).and_then(|v| v.as_u64()) == Some(id) =>
            {
                s.detail
                    .get("state")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            }
            _ => None,
        });
        if shown.as_deref() == Some(state) {
            let _ = reply.send(Ok(()));
            return false;
        }
        let mut detail = serde_json::Map::new();
        detail.insert(key.into(), id.into());
        detail.insert("state".into(), state.into());
        if let Some(reason) = reason {
            detail.insert("reason".into(), reason.into());
        }
        let event = self.system(kind, detail);
        self.write(event, false, Effect::Done { reply }, Instant::now())
            .await;
        true
    }

    /// The delivery of the transcript to the patient record that a close at `close_seq`
    /// starts: only for a client identified with a valid identity code and a service the
    /// record takes (never for an anonymous client).
    pub(super) fn record_delivery(
        &self,
        close_seq: u64,
    ) -> Option<crate::storage::record::RecordDelivery> {
        let config = self.deps.record.as_ref()?;
        if !config.covers(&self.record.service) {
            return None;
        }
        crate::record::delivery::patient_code(&self.record)?;
        Some(crate::storage::record::RecordDelivery {
            id: uuid::Uuid::new_v4().simple().to_string(),
            conversation: self.record.id.clone(),
            close_seq,
            created_at_ms: now().1,
        })
    }

    /// Retention: hands storage the removal of this conversation, which it carries out only
    /// if the conversation is complete, was closed before `closed_before_ms` and is held by
    /// nothing — checked in the same commit, so a hold placed meanwhile wins. Going through
    /// the actor keeps the one-writer rule: nothing of this conversation is in flight, and
    /// once removed the actor ends, so no later write can bring back a part of it.
    pub(super) async fn purge(
        &mut self,
        closed_before_ms: i64,
        reply: super::command::Reply<bool>,
    ) {
        if self.record.state.status != ConversationStatus::Complete {
            let _ = reply.send(Ok(false));
            return;
        }
        let op = WriteOp::Purge {
            conversation: self.record.id.clone(),
            closed_before_ms,
        };
        self.submit(
            op,
            Pending {
                event: None,
                effect: Some(Effect::Purged { reply }),
                started: Instant::now(),
            },
        )
        .await;
    }

    pub(super) async fn history(
        &mut self,
        origin: &Origin,
        before_seq: Option<u64>,
        limit: u32,
        stated: bool,
    ) -> Result<(), ConvError> {
        let allowed = match &origin.who {
            Who::Professional(p) => self.may_stating(p, crate::access::Act::Browse, stated),
            Who::Client => self.clients.iter().any(|l| l.id == origin.link.id),
        };
        if !allowed {
            return Err(ConvError::Forbidden);
        }
        let before = before_seq.unwrap_or(u64::MAX).min(self.committed_seq + 1);
        let events = self
            .deps
            .storage
            .events_before(&self.record.id, before, limit.clamp(1, 200))
            .await?;
        let events = match origin.who {
            Who::Professional(_) => events,
            Who::Client => events
                .iter()
                .filter_map(|e| client_view(e).and_then(frame_to_event))
                .collect(),
        };
        origin.link.reply(
            origin.req.clone(),
            ServerFrame::History(History {
                conversation: self.record.id.clone(),
                events,
            }),
        );
        Ok(())
    }
}

fn frame_to_event(f: ServerFrame) -> Option<Event> {
    match f {
        ServerFrame::Message(m) => Some(Event::Message(m)),
        ServerFrame::System(s) => Some(Event::System(s)),
        _ => None,
    }
}
