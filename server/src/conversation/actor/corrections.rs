//! Ways out and second thoughts: the client leaves (gives up waiting, or ends the chat) and a
//! professional takes back a message sent by mistake. Both are stored `system` events, so the
//! record and both sides stay consistent.

use super::{Conversation, Effect};
use crate::conversation::command::Reply;
use crate::conversation::view::now_ms;
use crate::conversation::{ConvError, Origin, Who};
use console_protocol::{ConversationStatus, Event, SystemKind};
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

impl Conversation {
    /// The client leaves. A waiting conversation becomes complete (an abandoned wait); in a
    /// chat in progress the professional is told and still closes the case. Answers after the
    /// commit whether the conversation was waiting.
    pub(super) async fn leave(&mut self, origin: Origin, reply: Reply<bool>) {
        if !matches!(origin.who, Who::Client)
            || !self.clients.iter().any(|l| l.id == origin.link.id)
        {
            return drop(reply.send(Err(ConvError::Forbidden)));
        }
        let mut detail = serde_json::Map::new();
        let waiting = match self.record.state.status {
            ConversationStatus::Complete => return drop(reply.send(Err(ConvError::Closed))),
            ConversationStatus::Queued => {
                let waited_ms = (now_ms() - self.record.state.queued_at_ms).max(0);
                detail.insert("waited_s".into(), (waited_ms / 1000).into());
                self.record.state.reserved_for = None;
                self.complete();
                true
            }
            ConversationStatus::InProgress => false,
        };
        let event = self.system(SystemKind::Left, detail);
        let effect = Effect::EventAck {
            link: origin.link,
            req: origin.req,
            reply: Some(reply),
            answer: waiting,
        };
        self.write(event, waiting, effect, Instant::now()).await;
    }

    /// The assigned professional takes back their own message `seq` within the retract window:
    /// the stored `retracted` event tells both sides to withdraw it. The original stays in the
    /// record. Taking back the same message again answers with the first `retracted` event.
    pub(super) async fn retract(&mut self, origin: &Origin, seq: u64) -> Result<(), ConvError> {
        let me = self.assigned_professional(origin)?;
        if self.record.state.status == ConversationStatus::Complete {
            return Err(ConvError::Closed);
        }
        if let Some(earlier) = self.retraction_of(seq) {
            origin.link.reply(
                origin.req.clone(),
                console_protocol::ServerFrame::Ack(console_protocol::Ack {
                    conversation: self.record.id.clone(),
                    client_msg_id: None,
                    seq: Some(earlier),
                    at: None,
                }),
            );
            return Ok(());
        }
        let message = match self.committed_event(seq).await? {
            Some(Event::Message(m)) if m.from.id.as_deref() == Some(me.id.as_str()) => m,
            _ => {
                return Err(ConvError::BadState(
                    "only your own message can be taken back",
                ))
            }
        };
        if message.sms.is_some() {
            return Err(ConvError::BadState(
                "an SMS cannot be taken back: it went to the client's phone",
            ));
        }
        let sent = OffsetDateTime::parse(&message.at, &Rfc3339)
            .map_err(|_| ConvError::BadState("message time unreadable"))?;
        let window = self.deps.retract_window;
        if OffsetDateTime::now_utc() - sent > window {
            return Err(ConvError::BadState("too late to take back this message"));
        }
        let mut detail = serde_json::Map::new();
        detail.insert("seq".into(), seq.into());
        detail.insert("name".into(), me.name.clone().into());
        self.deps
            .metrics
            .retracted
            .with_label_values(&[self.record.state.team.as_str()])
            .inc();
        let event = self.system(SystemKind::Retracted, detail);
        let effect = Effect::EventAck {
            link: origin.link.clone(),
            req: origin.req.clone(),
            reply: None,
            answer: false,
        };
        self.write(event, false, effect, Instant::now()).await;
        Ok(())
    }

    /// The seq of an earlier `retracted` event for message `seq`, among the recent events.
    fn retraction_of(&self, seq: u64) -> Option<u64> {
        self.recent.iter().find_map(|e| match &**e {
            Event::System(s)
                if s.event == SystemKind::Retracted
                    && s.detail.get("seq").and_then(|v| v.as_u64()) == Some(seq) =>
            {
                Some(s.seq)
            }
            _ => None,
        })
    }

    /// The committed event `seq`, from memory or storage.
    async fn committed_event(&mut self, seq: u64) -> Result<Option<Event>, ConvError> {
        if seq == 0 || seq > self.committed_seq {
            return Ok(None);
        }
        if let Some(e) = self.recent.iter().find(|e| e.seq() == seq) {
            return Ok(Some((**e).clone()));
        }
        let events = self
            .deps
            .storage
            .events_after(&self.record.id, seq - 1, 1)
            .await?;
        Ok(events.into_iter().find(|e| e.seq() == seq))
    }
}
