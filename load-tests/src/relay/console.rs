//! `/ws/console`: `hello` → `welcome` (any token), `status` echoed, `subscribe_queue` answered
//! with empty snapshots, `send` → `ack` plus the `message` event to the client, `typing` and
//! `read` relayed, `close` → `ack`, `released`. Rooms arrive through the outbox
//! ([`crate::hub::Out::Join`]); nothing else of the console protocol is served.

use crate::hub::{Assignment, Hub, Outbox, Room};
use crate::session::{Flow, Replies, Session};
use console_protocol::{
    Ack, Author, Close, Closed, ConsoleFrame, ConversationId, Envelope, ErrorCode, MessageEvent,
    QueueSnapshot, ReadReceipt, Released, Role, SendMessage, ServerFrame, StatusUpdate,
    SystemEvent, SystemKind, Typing, Welcome,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The organisation's automatic closing message.
const CLOSING_MESSAGE: &str = "Thank you for contacting us.";

/// One console connection and the rooms assigned to it.
pub struct ConsoleSession {
    hub: Arc<Hub>,
    /// This connection's desk in the hub.
    id: u64,
    outbox: Outbox,
    /// The professional's display name, once greeted.
    name: Option<Arc<str>>,
    rooms: HashMap<ConversationId, Arc<Room>>,
}

fn deliver(assignments: Vec<Assignment>) {
    for assignment in assignments {
        assignment.deliver();
    }
}

impl ConsoleSession {
    pub fn new(hub: Arc<Hub>, outbox: Outbox) -> Self {
        Self {
            id: hub.next_id(),
            hub,
            outbox,
            name: None,
            rooms: HashMap::new(),
        }
    }

    fn hello(&mut self, req: Option<String>, token: Option<&str>, replies: &mut Replies) {
        let professional = crate::directory::professional_of(token);
        let name: Arc<str> = professional.name.as_str().into();
        self.name = Some(name.clone());
        let (capacity, assignments) = self.hub.open_desk(self.id, self.outbox.clone(), name);
        let welcome = Welcome {
            professional: Some(professional),
            capacity: Some(capacity),
            ..Welcome::default()
        };
        replies.send(req, ServerFrame::Welcome(welcome));
        deliver(assignments);
    }

    fn status(&mut self, req: Option<String>, update: StatusUpdate, replies: &mut Replies) {
        let (status, assignments) =
            self.hub
                .set_status(self.id, update.availability, update.capacity);
        let reply = status.map_or(update, |s| StatusUpdate {
            availability: Some(s.availability),
            capacity: Some(s.capacity),
            active: Some(s.active),
        });
        replies.send(req, ServerFrame::Status(reply));
        deliver(assignments);
    }

    /// A room assigned to this console, or an error reply.
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
                "not assigned to you",
                Some(conversation.clone()),
            );
        }
        room
    }

    /// `send` (delivered to the client) or `note` (`deliver` false: acked, seen by nobody,
    /// since a room has one professional).
    fn send(&self, mut req: Option<String>, m: SendMessage, deliver: bool, replies: &mut Replies) {
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
        if deliver {
            room.client.frame(ServerFrame::Message(MessageEvent {
                conversation: m.conversation.clone(),
                seq,
                at: at.clone(),
                from: Author {
                    role: Role::Professional,
                    id: None,
                    name: self.name.as_deref().map(str::to_owned),
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

    fn close(&mut self, mut req: Option<String>, close: Close, replies: &mut Replies) {
        let Some(room) = self.room(&mut req, &close.conversation, replies).cloned() else {
            return;
        };
        if !room.close() {
            replies.error(
                req,
                ErrorCode::ConversationClosed,
                "the conversation is complete",
                Some(close.conversation),
            );
            return;
        }
        self.rooms.remove(&close.conversation);
        let seq = room.next_seq();
        let at = crate::clock::now();
        room.client.frame(ServerFrame::System(SystemEvent {
            conversation: room.id.clone(),
            seq,
            at: at.clone(),
            event: SystemKind::Closed,
            detail: serde_json::Map::new(),
        }));
        room.client.frame(ServerFrame::Closed(Closed {
            conversation: room.id.clone(),
            message: CLOSING_MESSAGE.to_owned(),
        }));
        let ack = Ack {
            conversation: room.id.clone(),
            client_msg_id: None,
            seq: Some(seq),
            at: Some(at),
        };
        replies.send(req, ServerFrame::Ack(ack));
        let released = Released {
            conversation: room.id.clone(),
            reason: Some("closed".to_owned()),
        };
        replies.send(None, ServerFrame::Released(released));
        deliver(self.hub.release(self.id));
    }

    /// Relays `frame` (typing or read, already marked with the professional's role).
    fn relay(
        &self,
        mut req: Option<String>,
        conversation: &ConversationId,
        frame: ServerFrame,
        replies: &mut Replies,
    ) {
        if let Some(room) = self.room(&mut req, conversation, replies) {
            room.client.frame(frame);
        }
    }
}

impl Session for ConsoleSession {
    fn greeted(&self) -> bool {
        self.name.is_some()
    }

    fn on_frame(&mut self, bytes: &[u8], replies: &mut Replies) -> Flow {
        let Envelope { req, frame } =
            match self.outbox.codec.decode::<Envelope<ConsoleFrame>>(bytes) {
                Ok(envelope) => envelope,
                Err(e) => {
                    replies.undecodable(bytes, &e);
                    return Flow::Continue;
                }
            };
        match frame {
            ConsoleFrame::Hello(hello) if !self.greeted() => {
                self.hello(req, hello.token.as_deref(), replies);
            }
            _ if !self.greeted() => return Flow::Close(4400, "hello must come first"),
            ConsoleFrame::Hello(_) => {
                replies.error(req, ErrorCode::BadFrame, "hello was already sent", None);
            }
            ConsoleFrame::Status(update) => self.status(req, update, replies),
            ConsoleFrame::SubscribeQueue(subscribe) => {
                for team in subscribe.teams {
                    let snapshot = QueueSnapshot {
                        team,
                        entries: Vec::new(),
                    };
                    replies.send(req.clone(), ServerFrame::QueueSnapshot(snapshot));
                }
            }
            ConsoleFrame::Send(m) => self.send(req, m, true, replies),
            ConsoleFrame::Note(m) => self.send(req, m, false, replies),
            ConsoleFrame::Typing(t) => {
                let conversation = t.conversation.clone();
                let typing = ServerFrame::Typing(Typing {
                    role: Some(Role::Professional),
                    ..t
                });
                self.relay(req, &conversation, typing, replies);
            }
            ConsoleFrame::Read(r) => {
                let conversation = r.conversation.clone();
                let read = ServerFrame::Read(ReadReceipt {
                    role: Some(Role::Professional),
                    ..r
                });
                self.relay(req, &conversation, read, replies);
            }
            ConsoleFrame::Close(close) => self.close(req, close, replies),
            ConsoleFrame::Accept(_) => {
                replies.error(
                    req,
                    ErrorCode::NotFound,
                    "the relay assigns conversations itself",
                    None,
                );
            }
            ConsoleFrame::Transfer(_)
            | ConsoleFrame::Reopen(_)
            | ConsoleFrame::History(_)
            | ConsoleFrame::Retract(_)
            | ConsoleFrame::Release(_)
            | ConsoleFrame::Colleagues(_)
            | ConsoleFrame::Supervise(_)
            | ConsoleFrame::SetRouting(_)
            | ConsoleFrame::Move(_)
            | ConsoleFrame::SubscribeInbox(_)
            | ConsoleFrame::Take(_)
            | ConsoleFrame::Archive(_)
            | ConsoleFrame::StartThread(_) => {
                replies.error(
                    req,
                    ErrorCode::BadFrame,
                    "not supported by luukku-relay",
                    None,
                );
            }
            ConsoleFrame::Canned(_)
            | ConsoleFrame::CannedSave(_)
            | ConsoleFrame::CannedDelete(_) => {
                replies.error(
                    req,
                    ErrorCode::BadFrame,
                    "canned responses are not supported by luukku-relay",
                    None,
                );
            }
        }
        Flow::Continue
    }

    fn on_join(&mut self, room: Arc<Room>) {
        self.rooms.insert(room.id.clone(), room);
    }

    fn on_end(&mut self) {
        self.hub.close_desk(self.id);
    }
}
