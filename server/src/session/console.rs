//! The professional side of a session: its frames (availability, queues, accept, and frames
//! for assigned conversations only) and the outbound frames it admits. The `hello` with a
//! professional JWT (else close 4401) is in `hello`; transfer, close and hand-back in `handover`;
//! a supervisor's frames in `supervision`.

use super::{CloseReason, Conn, Handler};
use crate::conversation::{
    ConvError, ConversationHandle, Origin, PostKind, ProfessionalRef, RequeueReason, Who,
};
use console_protocol::{
    ConsoleFrame, ConsoleHello, ConversationId, Envelope, ErrorCode, ProfessionalInfo, ServerFrame,
    StatusUpdate, TeamId, Transfer, Welcome,
};
use futures_util::{Sink, Stream};
use std::collections::{HashMap, HashSet};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

mod handover;
mod hello;
mod inbox;
mod supervision;
mod thread;

type Io = Result<(), CloseReason>;

/// A professional's session.
pub(crate) struct ConsoleSession {
    me: ProfessionalRef,
    members: HashMap<ConversationId, ConversationHandle>,
    /// Conversations this professional closed while the session was open: acting on one again
    /// is `conversation_closed`, told without a storage read (a flood of frames naming unknown
    /// conversations must stay cheap).
    closed: HashSet<ConversationId>,
    /// Has the supervisor role (from the organisation's configuration).
    supervisor: bool,
    /// Logs the client data this session shows before it is written (703/2023).
    gate: crate::access::gate::Gate,
}

/// How many closed conversations a session remembers (a shift's worth, and then some).
const CLOSED_REMEMBERED: usize = 1024;

fn gone(_: WsError) -> CloseReason {
    CloseReason(1000, "")
}

/// The access log could not be written: nothing is shown and the session ends; the console
/// reconnects and resumes.
fn log_unwritten(e: crate::storage::StorageError) -> CloseReason {
    tracing::warn!(error = %e, "access log not written; the session ends");
    CloseReason(1011, "access log unavailable")
}

/// Whether a frame about a conversation the session has not joined may join it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    /// A message or note: joins a conversation its professional holds (a matter taken in
    /// another session), as the conversation itself decides.
    IfHeld,
    /// Typing, read, retract: refused at once, without a lookup.
    Never,
}

impl ConsoleSession {
    fn origin<S>(&self, conn: &Conn<S>, req: Option<String>) -> Origin {
        Origin {
            who: Who::Professional(self.me.clone()),
            link: conn.link.clone(),
            req,
        }
    }

    /// Refuses an action on a conversation that is not (or no longer) assigned to this
    /// professional: `conversation_closed` when they closed it, otherwise `forbidden`, word for
    /// word as for an id that does not exist.
    async fn refuse<S>(&self, conn: &mut Conn<S>, req: Option<String>, id: &ConversationId) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        if self.closed.contains(id) {
            return conn
                .error_about(req, id.clone(), &ConvError::Closed)
                .await
                .map_err(gone);
        }
        conn.error(req, ErrorCode::Forbidden, "not assigned to you")
            .await
            .map_err(gone)
    }

    /// Logs what `frame` shows before it is sent directly (not through the outbound queue):
    /// `Ok(false)` when the policy refused it (nothing may be sent), `Err` when the log could
    /// not be written (the session ends).
    async fn log_shown(
        &mut self,
        ctx: &crate::context::ServerCtx,
        frame: &ServerFrame,
    ) -> Result<bool, CloseReason> {
        let members = &self.members;
        let allowed = self
            .gate
            .check(ctx, &[frame], |c| members.contains_key(c))
            .await
            .map_err(log_unwritten)?;
        Ok(allowed.first().copied().unwrap_or(true))
    }

    async fn on_conversation<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: &ConversationId,
        join: Join,
        act: impl AsyncFnOnce(ConversationHandle, Origin) -> Result<(), ConvError>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let h = match self.members.get(id).cloned() {
            Some(h) => h,
            None if join == Join::Never => return self.refuse(conn, req, id).await,
            None => match self
                .join_own(conn.ctx.hub.clone(), conn.link.clone(), id)
                .await
            {
                Some(h) => h,
                None => return self.refuse(conn, req, id).await,
            },
        };
        if join == Join::IfHeld {
            // Writing in it (a message, a note): logged before it is done.
            let allowed = self
                .gate
                .write(&conn.ctx, id, true)
                .await
                .map_err(log_unwritten)?;
            if !allowed {
                return self.refuse(conn, req, id).await;
            }
        }
        let origin = self.origin(conn, req.clone());
        if let Err(e) = act(h, origin).await {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        Ok(())
    }

    /// Joins a conversation this session has not joined but its professional holds (an
    /// asynchronous matter taken in another session, which takes no place in `welcome`): the
    /// conversation itself checks that it is assigned to them.
    async fn join_own(
        &mut self,
        hub: std::sync::Arc<crate::conversation::hub::Hub>,
        link: crate::delivery::SessionLink,
        id: &ConversationId,
    ) -> Option<ConversationHandle> {
        let h = hub.get_or_load(id).await.ok().flatten()?;
        h.attach_professional(link, self.me.id.clone(), None)
            .await
            .ok()?;
        self.members.insert(id.clone(), h.clone());
        Some(h)
    }

    async fn history<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        request: console_protocol::inbound::HistoryRequest,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let id = request.conversation;
        let reason = request.reason.map(|r| r.trim().to_owned());
        if let Some(r) = &reason {
            if r.is_empty() || r.chars().count() > 300 || r.chars().any(char::is_control) {
                return conn
                    .error(
                        req,
                        ErrorCode::BadFrame,
                        "reason: 1 to 300 characters, no control characters",
                    )
                    .await
                    .map_err(gone);
            }
            self.gate.state_reason(&id, r.clone());
        }
        let (before, limit) = (request.before_seq, request.limit);
        // Decided (and a refusal logged) before the conversation is asked: an attempt to read
        // what is not one's own shows in the access report.
        let assigned = self.members.contains_key(&id);
        match self
            .gate
            .attempt(&conn.ctx, &id, crate::access::Purpose::History, assigned)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return conn
                    .error_about(req, id, &ConvError::Forbidden)
                    .await
                    .map_err(gone)
            }
            Err(e) => return Err(log_unwritten(e)),
        }
        let handle = match self.members.get(&id) {
            Some(h) => Some(h.clone()),
            None => conn.ctx.hub.get_or_load(&id).await.ok().flatten(),
        };
        let Some(h) = handle else {
            // Word for word the refusal of an existing conversation the professional may not
            // see, so the answer does not tell whether the conversation exists.
            return conn
                .error_about(req, id, &ConvError::Forbidden)
                .await
                .map_err(gone);
        };
        if let Err(e) = h
            .history(
                self.origin(conn, req.clone()),
                before,
                limit.unwrap_or(50),
                reason.is_some(),
            )
            .await
        {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        Ok(())
    }

    /// Changes availability and/or capacity; the answer is the new status.
    async fn status<S>(&self, conn: &mut Conn<S>, req: Option<String>, s: StatusUpdate) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let me = self.me.id.clone();
        match conn.ctx.router.status(me, s.availability, s.capacity).await {
            Some(st) => conn.send(req, ServerFrame::Status(st)).await.map_err(gone),
            None => conn
                .error(req, ErrorCode::Internal, "router unavailable")
                .await
                .map_err(gone),
        }
    }

    /// Subscribes the session to queue snapshots of its own teams only.
    async fn subscribe<S>(&self, conn: &mut Conn<S>, req: Option<String>, teams: Vec<TeamId>) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        if let Some(t) = teams.iter().find(|t| !self.me.teams.contains(t)) {
            return conn
                .error(
                    req,
                    ErrorCode::Forbidden,
                    format!("not a member of team {t}"),
                )
                .await
                .map_err(gone);
        }
        conn.ctx
            .router
            .subscribe(conn.link.clone(), teams, req)
            .await;
        Ok(())
    }

    /// The teams (named in `lang`) and every colleague with presence and load.
    async fn colleagues<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        lang: Option<String>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        match conn.ctx.router.colleagues(lang).await {
            Some(c) => conn
                .send(req, ServerFrame::Colleagues(c))
                .await
                .map_err(gone),
            None => conn
                .error(req, ErrorCode::Internal, "router unavailable")
                .await
                .map_err(gone),
        }
    }
}

impl<S> Handler<S> for ConsoleSession
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
{
    async fn on_frame(&mut self, conn: &mut Conn<S>, bytes: &[u8]) -> Io {
        let Envelope { req, frame } = match conn.codec.decode::<Envelope<ConsoleFrame>>(bytes) {
            Ok(f) => f,
            Err(e) => {
                let req = conn.codec.peek_req(bytes);
                return conn
                    .error(req, ErrorCode::BadFrame, format!("unreadable frame: {e}"))
                    .await
                    .map_err(gone);
            }
        };
        let ctx = conn.ctx.clone();
        let me = self.me.id.clone();
        match frame {
            ConsoleFrame::Hello(_) => conn
                .error(req, ErrorCode::BadFrame, "hello was already received")
                .await
                .map_err(gone),
            // A capacity outside 1 … limits.max_capacity is clamped by the router.
            ConsoleFrame::Status(s) => self.status(conn, req, s).await,
            ConsoleFrame::SubscribeQueue(s) => self.subscribe(conn, req, s.teams).await,
            ConsoleFrame::Accept(a) => {
                ctx.router
                    .accept(me, conn.link.clone(), a.team, a.conversation, req)
                    .await;
                Ok(())
            }
            ConsoleFrame::Send(m) => {
                self.on_conversation(
                    conn,
                    req,
                    &m.conversation.clone(),
                    Join::IfHeld,
                    async |h, o| {
                        h.post(
                            o,
                            PostKind::Message,
                            m.client_msg_id,
                            m.body,
                            m.attachments,
                            m.sms,
                        )
                        .await
                    },
                )
                .await
            }
            ConsoleFrame::Note(m) => {
                self.on_conversation(
                    conn,
                    req,
                    &m.conversation.clone(),
                    Join::IfHeld,
                    async |h, o| {
                        h.post(
                            o,
                            PostKind::Note,
                            m.client_msg_id,
                            m.body,
                            m.attachments,
                            false,
                        )
                        .await
                    },
                )
                .await
            }
            ConsoleFrame::Typing(t) => {
                self.on_conversation(
                    conn,
                    req,
                    &t.conversation.clone(),
                    Join::Never,
                    async |h, o| h.typing(o, t.active).await,
                )
                .await
            }
            ConsoleFrame::Read(r) => {
                self.on_conversation(
                    conn,
                    req,
                    &r.conversation.clone(),
                    Join::Never,
                    async |h, o| h.read(o, r.seq).await,
                )
                .await
            }
            ConsoleFrame::Transfer(t) => self.transfer(conn, req, t).await,
            ConsoleFrame::Close(c) => self.close(conn, req, c.conversation, c.summary).await,
            ConsoleFrame::Reopen(r) => {
                ctx.router
                    .reopen(me, conn.link.clone(), r.conversation, req)
                    .await;
                Ok(())
            }
            ConsoleFrame::History(h) => self.history(conn, req, h).await,
            ConsoleFrame::Retract(r) => {
                self.on_conversation(
                    conn,
                    req,
                    &r.conversation.clone(),
                    Join::Never,
                    async |h, o| h.retract(o, r.seq).await,
                )
                .await
            }
            ConsoleFrame::Release(r) => self.release(conn, req, r.conversation).await,
            ConsoleFrame::Colleagues(c) => self.colleagues(conn, req, c.lang).await,
            ConsoleFrame::Canned(_) => super::canned::list(conn, &self.me, req).await,
            ConsoleFrame::CannedSave(s) => super::canned::save(conn, &self.me, req, s).await,
            ConsoleFrame::CannedDelete(d) => super::canned::delete(conn, &self.me, req, d.id).await,
            ConsoleFrame::Supervise(s) => self.supervise(conn, req, s).await,
            ConsoleFrame::SetRouting(s) => self.set_routing(conn, req, s).await,
            ConsoleFrame::Move(m) => self.move_waiting(conn, req, m).await,
            ConsoleFrame::SubscribeInbox(s) => self.subscribe_inbox(conn, req, s).await,
            ConsoleFrame::Take(t) => self.take(conn, req, t.conversation).await,
            ConsoleFrame::Archive(a) => self.archive(conn, req, a).await,
            ConsoleFrame::StartThread(t) => self.start_thread(conn, req, t).await,
        }
    }

    fn admit(&mut self, conn: &Conn<S>, frame: &ServerFrame) -> bool {
        match frame {
            ServerFrame::Assigned(a) => {
                if let Some(h) = conn.ctx.hub.get(&a.conversation) {
                    self.members.insert(a.conversation.clone(), h);
                }
                true
            }
            ServerFrame::Released(r) => {
                self.members.remove(&r.conversation);
                if r.reason.as_deref() == Some("closed") {
                    if self.closed.len() >= CLOSED_REMEMBERED {
                        self.closed.clear();
                    }
                    self.closed.insert(r.conversation.clone());
                }
                true
            }
            ServerFrame::Message(_)
            | ServerFrame::Note(_)
            | ServerFrame::System(_)
            | ServerFrame::Typing(_)
            | ServerFrame::Read(_) => crate::delivery::frame_conversation(frame)
                .is_some_and(|c| self.members.contains_key(c)),
            _ => true,
        }
    }

    async fn before_write(
        &mut self,
        ctx: &crate::context::ServerCtx,
        frames: &[&ServerFrame],
    ) -> Result<Vec<bool>, CloseReason> {
        let members = &self.members;
        self.gate
            .check(ctx, frames, |c| members.contains_key(c))
            .await
            .map_err(log_unwritten)
    }

    async fn on_end(
        &mut self,
        link: crate::delivery::SessionLink,
        ctx: std::sync::Arc<crate::context::ServerCtx>,
    ) {
        for h in self.members.values() {
            h.detach(link.clone()).await;
        }
        ctx.router
            .disconnect(self.me.id.clone(), link.id.clone())
            .await;
    }
}
