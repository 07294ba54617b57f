//! The client (patient) side of a session: hello with optional identity and resumes, `start`,
//! and frames for the client's own conversations only.

use super::{CloseReason, Conn, Handler};
use crate::auth::Claims;
use crate::conversation::view::now;
use crate::conversation::{ConvError, ConversationHandle, Origin, PostKind, QueueTicket, Who};
use crate::delivery::SharedFrame;
use crate::storage::{ClientIdentity, ConversationRecord};
use console_protocol::{
    ClientFrame, ClientHello, ConversationId, ConversationStatus, Envelope, ErrorCode, ErrorFrame,
    Event, Identity, IdentityKind, QueuePosition, Queued, ServerFrame, Start, SystemKind, Welcome,
};
use futures_util::{Sink, Stream};
use std::collections::{HashMap, HashSet};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

mod form;
mod mine;
mod start;

type Io = Result<(), CloseReason>;

/// A patient's session.
pub(crate) struct ClientSession {
    identity: Option<Claims>,
    members: HashMap<ConversationId, ConversationHandle>,
    /// This session's conversations that wait in a queue, as the events it is sent say: only
    /// their messages are handed to the router as queue previews (not every chat message).
    waiting: HashSet<ConversationId>,
}

fn gone(_: WsError) -> CloseReason {
    CloseReason(1000, "")
}

impl ClientSession {
    /// Handles the first frame: must be `hello`; a bad token closes with 4401.
    pub async fn hello<S>(conn: &mut Conn<S>, bytes: &[u8]) -> Result<Self, CloseReason>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let hello: ClientHello = match conn.codec.decode::<Envelope<ClientFrame>>(bytes) {
            Ok(Envelope {
                frame: ClientFrame::Hello(h),
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
        let identity = match &hello.token {
            None => None,
            Some(t) => match conn.ctx.auth.verify_client(t) {
                Ok(c) => Some(c),
                Err(_) => return Err(CloseReason(4401, "invalid token")),
            },
        };
        let mut s = ClientSession {
            identity,
            members: HashMap::new(),
            waiting: HashSet::new(),
        };
        let mut conversations = Vec::new();
        let mut refused = Vec::new();
        let mut waiting = Vec::new();
        // An identified session identifies the anonymous conversations it resumes.
        let identity = s.identity.is_some().then(|| s.client_identity());
        for r in hello.resume {
            let token = r.resume_token.clone().unwrap_or_default();
            let attached = match conn.ctx.hub.get_or_load(&r.conversation).await {
                Ok(Some(h)) => h
                    .attach_client(
                        conn.link.clone(),
                        token,
                        Some(r.after_seq),
                        identity.clone(),
                    )
                    .await
                    .map(|sum| (h, sum)),
                Ok(None) => Err(ConvError::Forbidden),
                Err(e) => {
                    tracing::warn!(error = %e, "resume: the conversation could not be loaded");
                    Err(ConvError::Storage)
                }
            };
            match attached {
                Ok((h, summary)) => {
                    if summary.status == ConversationStatus::Queued {
                        waiting.push(h.id.clone());
                        s.waiting.insert(h.id.clone());
                    }
                    s.members.insert(r.conversation.clone(), h);
                    conversations.push(summary);
                }
                Err(e) => refused.push((r.conversation, e)),
            }
        }
        let welcome = Welcome {
            session: Some(conn.link.id.clone()),
            identity: Some(s.identity()),
            conversations,
            ..Default::default()
        };
        let req = conn.codec.peek_req(bytes);
        conn.send(req.clone(), ServerFrame::Welcome(welcome))
            .await
            .map_err(gone)?;
        for (conversation, e) in refused {
            let f = ErrorFrame {
                code: e.code(),
                message: e.to_string(),
                conversation: Some(conversation),
                fields: None,
            };
            conn.send(req.clone(), ServerFrame::Error(f))
                .await
                .map_err(gone)?;
        }
        // A waiting client hears its place at once: updates sent while it was away are lost.
        // Identified now: the queue shows it to the team (and its supervisors).
        for id in waiting {
            if identity.is_some() {
                conn.ctx.router.identified(id.clone()).await;
            }
            if let Some(p) = conn.ctx.router.place(id.clone()).await {
                let f = QueuePosition {
                    conversation: id,
                    position: p.position,
                    estimated_wait_s: p.estimated_wait_s,
                    staffed: Some(p.staffed),
                    waited_s: Some(p.waited_s),
                };
                conn.link.frame(SharedFrame::plain(ServerFrame::Queue(f)));
            }
        }
        Ok(s)
    }

    fn identity(&self) -> Identity {
        match &self.identity {
            Some(c) => Identity {
                kind: IdentityKind::Identified,
                name: c.name.clone(),
            },
            None => Identity {
                kind: IdentityKind::Anonymous,
                name: None,
            },
        }
    }

    /// The session's identity as a conversation stores it.
    fn client_identity(&self) -> ClientIdentity {
        match &self.identity {
            Some(c) => ClientIdentity {
                subject: Some(c.sub.clone()),
                name: c.name.clone(),
                identified: true,
            },
            None => ClientIdentity::default(),
        }
    }

    fn origin<S>(&self, conn: &Conn<S>, req: Option<String>) -> Origin {
        Origin {
            who: Who::Client,
            link: conn.link.clone(),
            req,
        }
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
            return conn
                .error(
                    req,
                    ErrorCode::Forbidden,
                    "not a participant of this conversation",
                )
                .await
                .map_err(gone);
        };
        let origin = self.origin(conn, req.clone());
        if let Err(e) = act(h, origin).await {
            return conn.error(req, e.code(), e.to_string()).await.map_err(gone);
        }
        Ok(())
    }
}

impl ClientSession {
    /// Follows whether a conversation waits in a queue from its status events.
    fn track_waiting(&mut self, event: &console_protocol::SystemEvent) {
        match event.event {
            SystemKind::Queued | SystemKind::Transferred => {
                if self.members.contains_key(&event.conversation) {
                    self.waiting.insert(event.conversation.clone());
                }
            }
            SystemKind::Assigned | SystemKind::Reopened | SystemKind::Closed | SystemKind::Left => {
                self.waiting.remove(&event.conversation);
            }
            SystemKind::Identified
            | SystemKind::Retracted
            | SystemKind::Sms
            | SystemKind::Record => {}
        }
    }
}

impl<S> Handler<S> for ClientSession
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
{
    async fn on_frame(&mut self, conn: &mut Conn<S>, bytes: &[u8]) -> Io {
        let Envelope { req, frame } = match conn.codec.decode::<Envelope<ClientFrame>>(bytes) {
            Ok(f) => f,
            Err(e) => {
                let req = conn.codec.peek_req(bytes);
                return conn
                    .error(req, ErrorCode::BadFrame, format!("unreadable frame: {e}"))
                    .await
                    .map_err(gone);
            }
        };
        match frame {
            ClientFrame::Hello(_) => conn
                .error(req, ErrorCode::BadFrame, "hello was already received")
                .await
                .map_err(gone),
            ClientFrame::Start(s) => self.start(conn, req, s).await,
            ClientFrame::SubmitForm(f) => self.submit_form(conn, req, f).await,
            ClientFrame::Send(m) => {
                let c = m.conversation.clone();
                // While waiting, the start of it is shown in the team's queue (the router also
                // ignores it when somebody took the conversation meanwhile).
                let router = self.waiting.contains(&c).then(|| conn.ctx.router.clone());
                self.on_conversation(conn, req, &c, async |h, o| {
                    if let Some(router) = router {
                        router.preview(c.clone(), m.body.clone()).await;
                    }
                    h.post(
                        o,
                        PostKind::Message,
                        m.client_msg_id,
                        m.body,
                        m.attachments,
                        false,
                    )
                    .await
                })
                .await
            }
            ClientFrame::Leave(l) => {
                let router = conn.ctx.router.clone();
                self.on_conversation(conn, req, &l.conversation.clone(), async |h, o| {
                    if h.leave(o).await? {
                        router.withdraw(h.id.clone()).await;
                    }
                    Ok(())
                })
                .await
            }
            ClientFrame::Typing(t) => {
                self.on_conversation(conn, req, &t.conversation.clone(), async |h, o| {
                    h.typing(o, t.active).await
                })
                .await
            }
            ClientFrame::Read(r) => {
                self.on_conversation(conn, req, &r.conversation.clone(), async |h, o| {
                    h.read(o, r.seq).await
                })
                .await
            }
            ClientFrame::Conversations(c) => self.my_conversations(conn, req, c).await,
            ClientFrame::Open(o) => self.open(conn, req, o).await,
            ClientFrame::Feedback(f) => {
                self.on_conversation(conn, req, &f.conversation.clone(), async |h, o| {
                    h.feedback(o, f.rating, f.comment).await
                })
                .await
            }
        }
    }

    fn admit(&mut self, _conn: &Conn<S>, frame: &ServerFrame) -> bool {
        match frame {
            ServerFrame::Note(_)
            | ServerFrame::Assigned(_)
            | ServerFrame::Released(_)
            | ServerFrame::QueueSnapshot(_)
            | ServerFrame::Colleagues(_)
            | ServerFrame::Inbox(_)
            | ServerFrame::InboxAlert(_)
            | ServerFrame::Archive(_) => false,
            ServerFrame::Error(_) => true,
            other => {
                if let ServerFrame::System(s) = other {
                    self.track_waiting(s);
                }
                crate::delivery::frame_conversation(other)
                    .is_none_or(|c| self.members.contains_key(c))
            }
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
        drop(ctx);
    }
}
