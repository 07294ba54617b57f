//! `/ws/client`: `hello` → `welcome`, `start` → `queued` (then pairing), `send` → `ack` plus
//! the `message` event to the console, `typing` and `read` relayed.

use crate::hub::{Hub, Outbox, Room, Topic};
use crate::session::{Flow, Replies, Session};
use console_protocol::{
    Ack, Author, ClientFrame, ConversationId, Envelope, ErrorCode, Identity, IdentityKind,
    MessageEvent, Queued, ReadReceipt, ResumeToken, Role, SendMessage, ServerFrame, SessionId,
    Start, TeamId, Typing, Welcome,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The team of a `start` that names none (the relay has no routing).
const DEFAULT_TEAM: &str = "station-a";

/// One client connection and the conversations it started.
pub struct ClientSession {
    hub: Arc<Hub>,
    id: u64,
    outbox: Outbox,
    greeted: bool,
    rooms: HashMap<ConversationId, Arc<Room>>,
}

impl ClientSession {
    pub fn new(hub: Arc<Hub>, outbox: Outbox) -> Self {
        Self {
            id: hub.next_id(),
            hub,
            outbox,
            greeted: false,
            rooms: HashMap::new(),
        }
    }

    fn start(&mut self, req: Option<String>, start: Start, replies: &mut Replies) {
        let conversation = ConversationId(uuid::Uuid::new_v4().simple().to_string());
        let team = start.team.unwrap_or_else(|| TeamId::from(DEFAULT_TEAM));
        let topic = Topic {
            service: start.service,
            topic: start.topic,
            team: team.clone(),
            questionnaire: start.questionnaire,
        };
        let room = Arc::new(Room::new(conversation.clone(), topic, self.outbox.clone()));
        self.rooms.insert(conversation.clone(), room.clone());
        let queued = Queued {
            conversation,
            resume_token: ResumeToken(uuid::Uuid::new_v4().simple().to_string()),
            team,
            position: 1,
            estimated_wait_s: 0,
            staffed: None,
            waited_s: None,
            due_at: None,
            urgent: None,
        };
        replies.send(req, ServerFrame::Queued(queued));
        if let Some(assignment) = self.hub.start(room) {
            assignment.deliver();
        }
    }

    /// The room of a conversation this client started, or an error reply.
    fn room(
        &self,
        req: &mut Option<String>,
        conversation: &ConversationId,
        replies: &mut Replies,
    ) -> Option<&Arc<Room>> {
        let room = self.rooms.get(conversation);
        if room.is_none() {
            replies.error(
                req.take(),
                ErrorCode::Forbidden,
                "not your conversation",
                Some(conversation.clone()),
            );
        }
        room
    }

    fn send(&mut self, mut req: Option<String>, m: SendMessage, replies: &mut Replies) {
        let Some(room) = self.room(&mut req, &m.conversation, replies) else {
            return;
        };
        if room.is_closed() {
            replies.error(
                req,
                ErrorCode::ConversationClosed,
                "the conversation is complete",
                Some(m.conversation),
            );
            return;
        }
        let seq = room.next_seq();
        let at = crate::clock::now();
        // Before pairing there is nobody to deliver to (and nothing is stored).
        if let Some(console) = room.console() {
            console.outbox.frame(ServerFrame::Message(MessageEvent {
                conversation: m.conversation.clone(),
                seq,
                at: at.clone(),
                from: Author {
                    role: Role::Client,
                    id: None,
                    name: None,
                },
                body: m.body,
                client_msg_id: Some(m.client_msg_id.clone()),
                attachments: Vec::new(),
                sms: None,
            }));
        }
        let ack = Ack {
            conversation: m.conversation,
            client_msg_id: Some(m.client_msg_id),
            seq: Some(seq),
            at: Some(at),
        };
        replies.send(req, ServerFrame::Ack(ack));
    }

    /// Relays `frame` (typing or read, already marked with the client's role) to the console.
    fn relay(
        &mut self,
        mut req: Option<String>,
        conversation: &ConversationId,
        frame: ServerFrame,
        replies: &mut Replies,
    ) {
        if let Some(room) = self.room(&mut req, conversation, replies) {
            if let Some(console) = room.console() {
                console.outbox.frame(frame);
            }
        }
    }
}

impl Session for ClientSession {
    fn greeted(&self) -> bool {
        self.greeted
    }

    fn on_frame(&mut self, bytes: &[u8], replies: &mut Replies) -> Flow {
        let Envelope { req, frame } = match self.outbox.codec.decode::<Envelope<ClientFrame>>(bytes)
        {
            Ok(envelope) => envelope,
            Err(e) => {
                replies.undecodable(bytes, &e);
                return Flow::Continue;
            }
        };
        if !self.greeted && !matches!(frame, ClientFrame::Hello(_)) {
            return Flow::Close(4400, "hello must come first");
        }
        match frame {
            ClientFrame::Hello(_) => {
                self.greeted = true;
                let welcome = Welcome {
                    session: Some(SessionId(format!("s{}", self.id))),
                    identity: Some(Identity {
                        kind: IdentityKind::Anonymous,
                        name: None,
                    }),
                    ..Welcome::default()
                };
                replies.send(req, ServerFrame::Welcome(welcome));
            }
            ClientFrame::Start(start) => self.start(req, start, replies),
            ClientFrame::Send(m) => self.send(req, m, replies),
            ClientFrame::Typing(t) => {
                let conversation = t.conversation.clone();
                let typing = ServerFrame::Typing(Typing {
                    role: Some(Role::Client),
                    ..t
                });
                self.relay(req, &conversation, typing, replies);
            }
            ClientFrame::Read(r) => {
                let conversation = r.conversation.clone();
                let read = ServerFrame::Read(ReadReceipt {
                    role: Some(Role::Client),
                    ..r
                });
                self.relay(req, &conversation, read, replies);
            }
            ClientFrame::Leave(l) => {
                replies.error(
                    req,
                    ErrorCode::BadFrame,
                    "not supported by luukku-relay",
                    Some(l.conversation),
                );
            }
            ClientFrame::SubmitForm(_) | ClientFrame::Conversations(_) | ClientFrame::Open(_) => {
                replies.error(
                    req,
                    ErrorCode::BadFrame,
                    "not supported by luukku-relay",
                    None,
                );
            }
            ClientFrame::Feedback(f) => {
                let ack = Ack {
                    conversation: f.conversation,
                    client_msg_id: None,
                    seq: None,
                    at: None,
                };
                replies.send(req, ServerFrame::Ack(ack));
            }
        }
        Flow::Continue
    }

    fn on_join(&mut self, _room: Arc<Room>) {}

    fn on_end(&mut self) {}
}
