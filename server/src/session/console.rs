//! The professional side of a session: hello with a professional JWT (else close 4401),
//! availability, queues, accept, and frames for assigned conversations only.

use super::{CloseReason, Conn, Handler};
use crate::conversation::{
    ConvError, ConversationHandle, Origin, PostKind, ProfessionalRef, RequeueReason, Who,
};
use console_protocol::{
    ConsoleFrame, ConsoleHello, ConversationId, Envelope, ErrorCode, ProfessionalInfo, ServerFrame,
    TeamId, Transfer, Welcome,
};
use futures_util::{Sink, Stream};
use std::collections::{HashMap, HashSet};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Io = Result<(), CloseReason>;

/// A professional's session.
pub(crate) struct ConsoleSession {
    me: ProfessionalRef,
    members: HashMap<ConversationId, ConversationHandle>,
    /// Conversations this professional closed while the session was open: acting on one again
    /// is `conversation_closed`, told without a storage read (a flood of frames naming unknown
    /// conversations must stay cheap).
    closed: HashSet<ConversationId>,
}

/// How many closed conversations a session remembers (a shift's worth, and then some).
const CLOSED_REMEMBERED: usize = 1024;

fn gone(_: WsError) -> CloseReason {
    CloseReason(1000, "")
}

impl ConsoleSession {
    /// Handles the first frame: `hello` with a valid professional token.
    pub async fn hello<S>(conn: &mut Conn<S>, bytes: &[u8]) -> Result<Self, CloseReason>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let hello: ConsoleHello = match conn.codec.decode::<Envelope<ConsoleFrame>>(bytes) {
            Ok(Envelope {
                frame: ConsoleFrame::Hello(h),
                ..
            }) => h,
            _ => {
                let req = conn.codec.peek_req(bytes);
                let _ = conn
                    .error(req, ErrorCode::BadFrame, "the first frame must be hello")
                    .await;
                return Err(CloseReason(4408, "first frame must be hello"));
            }
        };
        let ctx = conn.ctx.clone();
        let claims = hello
            .token
            .as_deref()
            .map(|t| ctx.auth.verify_professional(t));
        let Some(Ok(claims)) = claims else {
            return Err(CloseReason(4401, "invalid or missing token"));
        };
        let Some(p) = ctx
            .config
            .organisation
            .professional(&claims.sub.clone().into())
        else {
            return Err(CloseReason(4401, "unknown professional"));
        };
        let me = ProfessionalRef {
            id: p.id.clone(),
            name: p.name.clone(),
            teams: p.teams.clone(),
        };
        let resume: HashMap<ConversationId, u64> = hello
            .resume
            .into_iter()
            .map(|r| (r.conversation, r.after_seq))
            .collect();
        let Some(reply) = ctx
            .router
            .connect(me.clone(), conn.link.clone(), resume)
            .await
        else {
            return Err(CloseReason(1011, "router unavailable"));
        };
        let mut members = HashMap::new();
        let mut conversations = Vec::new();
        for rx in reply.attaches {
            if let Ok(Ok(summary)) = rx.await {
                if let Some(h) = ctx.hub.get(&summary.conversation) {
                    members.insert(summary.conversation.clone(), h);
                }
                conversations.push(summary);
            }
        }
        let welcome = Welcome {
            professional: Some(ProfessionalInfo {
                id: me.id.clone(),
                name: me.name.clone(),
                teams: me.teams.clone(),
            }),
            capacity: Some(reply.capacity),
            conversations,
            retract_window_s: Some(ctx.config.retract_window.as_secs()),
            ..Default::default()
        };
        conn.send(conn.codec.peek_req(bytes), ServerFrame::Welcome(welcome))
            .await
            .map_err(gone)?;
        Ok(ConsoleSession {
            me,
            members,
            closed: HashSet::new(),
        })
    }

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

    async fn on_conversation<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: &ConversationId,
        act: impl AsyncFnOnce(ConversationHandle, Origin) -> Result<(), ConvError>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let Some(h) = self.members.get(id).cloned() else {
            return self.refuse(conn, req, id).await;
        };
        let origin = self.origin(conn, req.clone());
        if let Err(e) = act(h, origin).await {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        Ok(())
    }

    async fn transfer<S>(&mut self, conn: &mut Conn<S>, req: Option<String>, t: Transfer) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let org = &ctx.config.organisation;
        let to_team: TeamId = match (&t.to_team, &t.to_professional) {
            (Some(team), _) if org.team(team).is_none() => {
                return conn
                    .error(req, ErrorCode::NotFound, "no such team")
                    .await
                    .map_err(gone)
            }
            (_, Some(p)) if p == &self.me.id => {
                return conn
                    .error(req, ErrorCode::BadFrame, "cannot transfer to yourself")
                    .await
                    .map_err(gone)
            }
            (_, Some(p)) => match org.professional(p) {
                None => {
                    return conn
                        .error(req, ErrorCode::NotFound, "no such professional")
                        .await
                        .map_err(gone)
                }
                Some(target) => match &t.to_team {
                    Some(team) if target.teams.contains(team) => team.clone(),
                    Some(_) => {
                        return conn
                            .error(
                                req,
                                ErrorCode::BadFrame,
                                "that professional is not in that team",
                            )
                            .await
                            .map_err(gone)
                    }
                    None => target.teams[0].clone(),
                },
            },
            (Some(team), None) => team.clone(),
            (None, None) => {
                return conn
                    .error(
                        req,
                        ErrorCode::BadFrame,
                        "transfer needs to_team or to_professional",
                    )
                    .await
                    .map_err(gone)
            }
        };
        let Some(h) = self.members.get(&t.conversation).cloned() else {
            return self.refuse(conn, req, &t.conversation).await;
        };
        match h
            .transfer(
                self.origin(conn, req.clone()),
                to_team,
                t.to_professional.clone(),
                t.note,
            )
            .await
        {
            Ok(ticket) => {
                let target = if t.to_professional.is_some() {
                    "professional"
                } else {
                    "team"
                };
                ctx.metrics.transfers.with_label_values(&[target]).inc();
                // Membership ends when `released` passes through the outbound queue (`admit`),
                // after the events committed before the transfer: removing it here would drop
                // those still queued for this session.
                ctx.router
                    .released(self.me.id.clone(), t.conversation)
                    .await;
                ctx.router.requeue(ticket).await;
                Ok(())
            }
            Err(e) => conn.error(req, e.code(), e.to_string()).await.map_err(gone),
        }
    }

    async fn close<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: ConversationId,
        summary: Option<String>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let Some(h) = self.members.get(&id).cloned() else {
            return self.refuse(conn, req, &id).await;
        };
        match h.close(self.origin(conn, req.clone()), summary).await {
            Ok(()) => {
                // As for transfer: `released` ends the membership, in order.
                conn.ctx.router.released(self.me.id.clone(), id).await;
                Ok(())
            }
            Err(e) => conn.error(req, e.code(), e.to_string()).await.map_err(gone),
        }
    }

    /// Hands a held conversation back to the front of its team queue.
    async fn release<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: ConversationId,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let Some(h) = self.members.get(&id).cloned() else {
            return self.refuse(conn, req, &id).await;
        };
        match h
            .requeue(self.me.id.clone(), RequeueReason::HandedBack, req.clone())
            .await
        {
            Ok(ticket) => {
                // As for transfer: `released` ends the membership, in order.
                conn.ctx.router.released(self.me.id.clone(), id).await;
                conn.ctx.router.requeue(ticket).await;
                Ok(())
            }
            Err(e) => conn.error(req, e.code(), e.to_string()).await.map_err(gone),
        }
    }

    async fn history<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: ConversationId,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
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
            .history(self.origin(conn, req.clone()), before, limit.unwrap_or(50))
            .await
        {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        Ok(())
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
            ConsoleFrame::Status(s) => {
                match ctx.router.status(me, s.availability, s.capacity).await {
                    Some(st) => conn.send(req, ServerFrame::Status(st)).await.map_err(gone),
                    None => conn
                        .error(req, ErrorCode::Internal, "router unavailable")
                        .await
                        .map_err(gone),
                }
            }
            ConsoleFrame::SubscribeQueue(s) => {
                if let Some(t) = s.teams.iter().find(|t| !self.me.teams.contains(t)) {
                    return conn
                        .error(
                            req,
                            ErrorCode::Forbidden,
                            format!("not a member of team {t}"),
                        )
                        .await
                        .map_err(gone);
                }
                ctx.router.subscribe(conn.link.clone(), s.teams, req).await;
                Ok(())
            }
            ConsoleFrame::Accept(a) => {
                ctx.router
                    .accept(me, conn.link.clone(), a.team, a.conversation, req)
                    .await;
                Ok(())
            }
            ConsoleFrame::Send(m) => {
                self.on_conversation(conn, req, &m.conversation.clone(), async |h, o| {
                    h.post(o, PostKind::Message, m.client_msg_id, m.body).await
                })
                .await
            }
            ConsoleFrame::Note(m) => {
                self.on_conversation(conn, req, &m.conversation.clone(), async |h, o| {
                    h.post(o, PostKind::Note, m.client_msg_id, m.body).await
                })
                .await
            }
            ConsoleFrame::Typing(t) => {
                self.on_conversation(conn, req, &t.conversation.clone(), async |h, o| {
                    h.typing(o, t.active).await
                })
                .await
            }
            ConsoleFrame::Read(r) => {
                self.on_conversation(conn, req, &r.conversation.clone(), async |h, o| {
                    h.read(o, r.seq).await
                })
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
            ConsoleFrame::History(h) => {
                self.history(conn, req, h.conversation, h.before_seq, h.limit)
                    .await
            }
            ConsoleFrame::Retract(r) => {
                self.on_conversation(conn, req, &r.conversation.clone(), async |h, o| {
                    h.retract(o, r.seq).await
                })
                .await
            }
            ConsoleFrame::Release(r) => self.release(conn, req, r.conversation).await,
            ConsoleFrame::Colleagues(c) => match ctx.router.colleagues(c.lang).await {
                Some(c) => conn
                    .send(req, ServerFrame::Colleagues(c))
                    .await
                    .map_err(gone),
                None => conn
                    .error(req, ErrorCode::Internal, "router unavailable")
                    .await
                    .map_err(gone),
            },
            ConsoleFrame::Canned(_) => super::canned::list(conn, &self.me, req).await,
            ConsoleFrame::CannedSave(s) => super::canned::save(conn, &self.me, req, s).await,
            ConsoleFrame::CannedDelete(d) => super::canned::delete(conn, &self.me, req, d.id).await,
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
