//! [`ConversationHandle`], the cloneable way in to one conversation actor: each method sends
//! one command to its mailbox and, where the caller needs it, waits for the answer.

use super::command::{Cmd, Reply};
use super::{ConvError, Origin, Place, PostKind, ProfessionalRef, QueueTicket, RequeueReason};
use crate::delivery::SessionLink;
use crate::storage::ClientIdentity;
use console_protocol::{
    ClientMsgId, ConversationId, ConversationSummary, ProfessionalId, ResumeToken, TeamId,
};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// A cloneable handle to one conversation actor.
#[derive(Clone)]
pub struct ConversationHandle {
    pub id: ConversationId,
    pub(super) tx: mpsc::Sender<Cmd>,
    pub(super) generation: u64,
    /// A message, form or SMS matter (team inbox), not a live chat (queue).
    pub is_async: bool,
}

impl ConversationHandle {
    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, ConvError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| ConvError::Gone)?;
        rx.await.map_err(|_| ConvError::Gone)?
    }

    async fn tell(&self, cmd: Cmd) -> Result<(), ConvError> {
        self.tx.send(cmd).await.map_err(|_| ConvError::Gone)
    }

    /// Subscribes a client session holding `token`; events after `after_seq` are replayed first.
    ///
    /// `identity` is who the session authenticated as (`None`: anonymous). It identifies a
    /// conversation whose client is still anonymous (the `identified` event follows after its
    /// commit); a conversation identified as another subject refuses it with `Forbidden`.
    pub async fn attach_client(
        &self,
        link: SessionLink,
        token: ResumeToken,
        after_seq: Option<u64>,
        identity: Option<ClientIdentity>,
    ) -> Result<ConversationSummary, ConvError> {
        self.call(|reply| Cmd::AttachClient {
            link,
            token,
            after_seq,
            identity,
            reply,
        })
        .await
    }

    /// Subscribes a session of the assigned professional.
    pub async fn attach_professional(
        &self,
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
    ) -> Result<ConversationSummary, ConvError> {
        self.call(|reply| Cmd::AttachProfessional {
            link,
            professional,
            after_seq,
            reply,
        })
        .await
    }

    /// Queues an attach of the assigned professional without waiting (the router uses this to
    /// keep attaches ordered after its assignments); the answer arrives on the returned receiver.
    pub async fn attach_professional_ordered(
        &self,
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
    ) -> oneshot::Receiver<Result<ConversationSummary, ConvError>> {
        let (reply, rx) = oneshot::channel();
        let _ = self
            .tx
            .send(Cmd::AttachProfessional {
                link,
                professional,
                after_seq,
                reply,
            })
            .await;
        rx
    }

    /// Unsubscribes a session.
    pub async fn detach(&self, link: SessionLink) {
        let _ = self.tell(Cmd::Detach { link }).await;
    }

    /// Stores and delivers a message or note; the ack (or error) goes to the origin's session.
    pub async fn post(
        &self,
        origin: Origin,
        kind: PostKind,
        client_msg_id: ClientMsgId,
        body: String,
        attachments: Vec<String>,
        sms: bool,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::Post {
            origin,
            kind,
            client_msg_id,
            body,
            attachments,
            sms,
            received: Instant::now(),
        })
        .await
    }

    /// Posts a patient's SMS as the client's message; the ack (or `conversation_closed`) goes
    /// to the origin's link.
    pub async fn inbound_sms(
        &self,
        origin: Origin,
        provider_ref: String,
        number: String,
        body: String,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::InboundSms {
            origin,
            provider_ref,
            number,
            body,
            received: Instant::now(),
        })
        .await
    }

    /// Removes the conversation with all its content if it is complete, was closed before
    /// `closed_before_ms` and no legal hold keeps it (storage decides, in one commit);
    /// answers whether it was removed. A removed conversation's actor ends.
    pub async fn purge(&self, closed_before_ms: i64) -> Result<bool, ConvError> {
        self.call(|reply| Cmd::Purge {
            closed_before_ms,
            reply,
        })
        .await
    }

    /// Records that the transcript up to `close_seq` is now `state` in the patient record
    /// (`delivered`, `failed` with `reason`); answers after the commit.
    pub async fn record_state(
        &self,
        close_seq: u64,
        state: &'static str,
        reason: Option<String>,
    ) -> Result<(), ConvError> {
        self.call(|reply| Cmd::RecordState {
            close_seq,
            state,
            reason,
            reply,
        })
        .await
    }

    /// Records that the SMS of message `seq` is now `state`; answers after the commit.
    pub async fn sms_state(
        &self,
        seq: u64,
        state: &'static str,
        reason: Option<String>,
    ) -> Result<(), ConvError> {
        self.call(|reply| Cmd::SmsState {
            seq,
            state,
            reason,
            reply,
        })
        .await
    }

    /// Relays a typing indicator to the other side.
    pub async fn typing(&self, origin: Origin, active: bool) -> Result<(), ConvError> {
        self.tell(Cmd::Typing { origin, active }).await
    }

    /// Relays a read receipt to the other side.
    pub async fn read(&self, origin: Origin, seq: u64) -> Result<(), ConvError> {
        self.tell(Cmd::Read { origin, seq }).await
    }

    /// Queues an assignment (or a reopen) to `professional`; answered after the commit.
    pub async fn assign(
        &self,
        professional: ProfessionalRef,
        links: Vec<SessionLink>,
        req: Option<String>,
        reopen: bool,
    ) -> oneshot::Receiver<Result<(), ConvError>> {
        let (reply, rx) = oneshot::channel();
        let _ = self
            .tx
            .send(Cmd::Assign {
                professional,
                links,
                req,
                reopen,
                reply,
            })
            .await;
        rx
    }

    /// Takes the conversation from its professional and returns what to queue it with.
    pub async fn transfer(
        &self,
        origin: Origin,
        to_team: TeamId,
        to_professional: Option<ProfessionalId>,
        note: Option<String>,
    ) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Transfer {
            origin,
            to_team,
            to_professional,
            note,
            reply,
        })
        .await
    }

    /// Moves the waiting conversation to `to_team`'s queue (a supervisor's decision); returns
    /// what to queue it with there. Not waiting: [`ConvError::BadState`].
    pub async fn move_to(
        &self,
        supervisor: ProfessionalId,
        to_team: TeamId,
    ) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Move {
            supervisor,
            to_team,
            reply,
        })
        .await
    }

    /// Closes the case.
    pub async fn close(&self, origin: Origin, summary: Option<String>) -> Result<(), ConvError> {
        self.call(|reply| Cmd::Close {
            origin,
            summary,
            reply,
        })
        .await
    }

    /// Takes the conversation from its professional (who did not come back, or handed it
    /// back) and returns what to queue it with.
    pub async fn requeue(
        &self,
        professional: ProfessionalId,
        reason: RequeueReason,
        req: Option<String>,
    ) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Requeue {
            professional,
            reason,
            req,
            reply,
        })
        .await
    }

    /// The client leaves; answers after the commit whether it was still waiting (and so must
    /// leave its queue). The client's session gets the ack.
    pub async fn leave(&self, origin: Origin) -> Result<bool, ConvError> {
        self.call(|reply| Cmd::Leave { origin, reply }).await
    }

    /// A professional takes back their message `seq` (the ack or error goes to the session).
    pub async fn retract(&self, origin: Origin, seq: u64) -> Result<(), ConvError> {
        self.tell(Cmd::Retract { origin, seq }).await
    }

    /// Stores a client's rating.
    pub async fn feedback(
        &self,
        origin: Origin,
        rating: u8,
        comment: Option<String>,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::Feedback {
            origin,
            rating,
            comment,
        })
        .await
    }

    /// Sends stored events to the origin's session.
    pub async fn history(
        &self,
        origin: Origin,
        before_seq: Option<u64>,
        limit: u32,
        stated: bool,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::History {
            origin,
            before_seq,
            limit,
            stated,
        })
        .await
    }

    /// Tells waiting clients their place in the queue (never blocks the router).
    pub fn queue_position(&self, place: Place) {
        let _ = self.tx.try_send(Cmd::QueuePosition { place });
    }

    /// What to queue this conversation with, if it is waiting.
    pub async fn ticket(&self) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Ticket { reply }).await
    }
}
