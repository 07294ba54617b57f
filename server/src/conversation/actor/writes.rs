//! Writing: the next seq, `system` events, and handing a write to storage at once (so commits
//! keep seq order) with what waits for its commit: the event to fan out and the [`Effect`].

use super::*;
use std::future::Future;
use std::pin::Pin;

pub(super) type CommitFuture =
    Pin<Box<dyn Future<Output = (Pending, Result<(), StorageError>)> + Send>>;

/// What to do once a write is committed.
pub(super) enum Effect {
    Ack {
        link: SessionLink,
        req: Option<String>,
        client_msg_id: ClientMsgId,
    },
    Assigned {
        links: Vec<SessionLink>,
        req: Option<String>,
        reply: Reply<()>,
    },
    Released {
        reason: &'static str,
        reply: Reply<QueueTicket>,
        ticket: QueueTicket,
        req: Option<String>,
    },
    Closed {
        reply: Reply<()>,
        link: SessionLink,
        req: Option<String>,
    },
    FeedbackAck {
        link: SessionLink,
        req: Option<String>,
        rating: u8,
    },
    /// Answer an internal caller (no session) after the fan-out.
    Done { reply: Reply<()> },
    /// The conversation was purged (true) or storage found it not due (false).
    Purged { reply: Reply<bool> },
    /// Acknowledge a stored event to its sender (with its seq) after the fan-out.
    EventAck {
        link: SessionLink,
        req: Option<String>,
        reply: Option<Reply<bool>>,
        answer: bool,
    },
}

/// What an event carries out of the conversation, stored in its commit.
#[derive(Default)]
pub(super) struct Carried {
    pub(super) notifications: Vec<crate::storage::Notification>,
    pub(super) sms: Vec<crate::storage::SmsOut>,
    pub(super) records: Vec<crate::storage::record::RecordDelivery>,
}

pub(super) struct Pending {
    pub(super) event: Option<Arc<Event>>,
    pub(super) effect: Option<Effect>,
    pub(super) started: Instant,
}

impl Conversation {
    pub(super) fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    pub(super) fn system(
        &mut self,
        kind: SystemKind,
        detail: serde_json::Map<String, serde_json::Value>,
    ) -> Event {
        let seq = self.take_seq();
        Event::System(SystemEvent {
            conversation: self.record.id.clone(),
            seq,
            at: now().0,
            event: kind,
            detail,
        })
    }

    /// Hands a write to storage now (so commits keep seq order) and parks its effect.
    pub(super) async fn write(
        &mut self,
        event: Event,
        state_changed: bool,
        effect: Effect,
        started: Instant,
    ) {
        self.write_notifying(event, state_changed, effect, started, Vec::new())
            .await;
    }

    /// Like [`Self::write`], with notifications of the event stored in the same commit.
    pub(super) async fn write_notifying(
        &mut self,
        event: Event,
        state_changed: bool,
        effect: Effect,
        started: Instant,
        notifications: Vec<crate::storage::Notification>,
    ) {
        self.write_sending(
            event,
            state_changed,
            effect,
            started,
            notifications,
            Vec::new(),
        )
        .await;
    }

    /// Like [`Self::write_notifying`], with the SMS the event goes out as stored in the same
    /// commit (the worker sends it from there).
    pub(super) async fn write_sending(
        &mut self,
        event: Event,
        state_changed: bool,
        effect: Effect,
        started: Instant,
        notifications: Vec<crate::storage::Notification>,
        sms: Vec<crate::storage::SmsOut>,
    ) {
        let carried = Carried {
            notifications,
            sms,
            records: Vec::new(),
        };
        self.write_carrying(event, state_changed, effect, started, carried)
            .await;
    }

    /// Like [`Self::write`], with what the event carries out of the conversation (notifications,
    /// SMS, the transcript to the patient record) stored in the same commit.
    pub(super) async fn write_carrying(
        &mut self,
        event: Event,
        state_changed: bool,
        effect: Effect,
        started: Instant,
        carried: Carried,
    ) {
        let state = state_changed.then(|| self.record.state.clone());
        let event = Arc::new(event);
        let Carried {
            notifications,
            sms,
            records,
        } = carried;
        let op = if notifications.is_empty() && sms.is_empty() && records.is_empty() {
            WriteOp::Append {
                event: (*event).clone(),
                state,
            }
        } else {
            WriteOp::AppendNotify {
                event: (*event).clone(),
                state,
                notifications,
                sms,
                records,
            }
        };
        self.submit(
            op,
            Pending {
                event: Some(event),
                effect: Some(effect),
                started,
            },
        )
        .await;
    }

    pub(super) async fn submit(&mut self, op: WriteOp, pending: Pending) {
        let receipt = self.deps.storage.submit(op).await;
        self.pending.push_back(Box::pin(async move {
            let result = match receipt {
                Ok(rx) => rx.await.unwrap_or(Err(StorageError::Closed)),
                Err(e) => Err(e),
            };
            (pending, result)
        }));
    }
}
