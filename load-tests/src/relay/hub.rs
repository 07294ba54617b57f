//! Rooms of two and the trivial pairing between them.
//!
//! Every connection owns an [`Outbox`]: a bounded queue of frames already serialized in that
//! connection's codec. Whoever produces a frame for a peer serializes it once and pushes the
//! bytes; the peer's task only writes them. A [`Room`] is one conversation: the client's
//! outbox, the console it was paired with, and a sequence counter. The [`Hub`] pairs a new
//! room with the next console (round-robin) that has free capacity, or keeps it waiting until
//! one has.

use console_protocol::{
    Answers, Assigned, Availability, ClientInfo, Codec, ConversationId, ConversationStatus,
    Envelope, ServerFrame, ServiceId, SystemEvent, SystemKind, TeamId, TopicId,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// Frames waiting to be written to one connection; a connection that falls this far behind
/// is closed as a slow consumer (as the server does, with the same bound).
pub const OUTBOX_CAPACITY: usize = 256;
/// What a console may serve before its first `status` (the server's default).
const DEFAULT_CAPACITY: u32 = 3;
/// The largest capacity a `status` may set.
const MAX_CAPACITY: u32 = 100;

/// Serializes a frame in `codec`: JSON as a text message, MessagePack as a binary one.
pub fn encode(codec: Codec, envelope: &Envelope<ServerFrame>) -> Option<Message> {
    match codec {
        Codec::Json => serde_json::to_string(envelope).ok().map(Message::text),
        Codec::MessagePack => codec.encode(envelope).ok().map(Message::binary),
    }
}

/// What travels through an outbox.
pub enum Out {
    /// A pre-serialized frame to write.
    Frame(Message),
    /// A console was given a room: remember it, then write its `assigned` frame.
    Join(Arc<Room>, Message),
}

/// The sending side of a connection's queue.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Out>,
    /// Fired when the queue overflowed: the connection closes as a slow consumer.
    kill: CancellationToken,
    pub codec: Codec,
}

impl Outbox {
    /// A new outbox and the receiving end its connection task reads.
    pub fn new(codec: Codec) -> (Outbox, mpsc::Receiver<Out>, CancellationToken) {
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let kill = CancellationToken::new();
        (
            Outbox {
                tx,
                kill: kill.clone(),
                codec,
            },
            rx,
            kill,
        )
    }

    /// Queues `out`; a full queue condemns the connection, a closed one is ignored.
    pub fn push(&self, out: Out) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(out) {
            self.kill.cancel();
        }
    }

    /// Serializes `frame` once, in this connection's codec, and queues it.
    pub fn frame(&self, frame: ServerFrame) {
        if let Some(message) = encode(self.codec, &Envelope::new(frame)) {
            self.push(Out::Frame(message));
        }
    }

    /// The connection is gone.
    pub fn is_gone(&self) -> bool {
        self.tx.is_closed() || self.kill.is_cancelled()
    }
}

/// The console side of a room.
pub struct Peer {
    pub outbox: Outbox,
    /// The professional's display name.
    pub name: Arc<str>,
}

/// What a client asked for with `start`, echoed in `assigned`.
pub struct Topic {
    pub service: ServiceId,
    pub topic: Option<TopicId>,
    pub team: TeamId,
    pub questionnaire: Option<Answers>,
}

/// One conversation: a client and (once paired) one console.
pub struct Room {
    pub id: ConversationId,
    pub topic: Topic,
    /// The last sequence number handed out.
    seq: AtomicU64,
    closed: AtomicBool,
    pub client: Outbox,
    console: OnceLock<Peer>,
}

impl Room {
    /// A new room; its `queued` event is seq 1.
    pub fn new(id: ConversationId, topic: Topic, client: Outbox) -> Self {
        Self {
            id,
            topic,
            seq: AtomicU64::new(1),
            closed: AtomicBool::new(false),
            client,
            console: OnceLock::new(),
        }
    }

    /// The next sequence number of the room.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The console serving the room, once paired.
    pub fn console(&self) -> Option<&Peer> {
        self.console.get()
    }

    /// Marks the room complete; false when it already was.
    pub fn close(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// A console connection that can be given rooms.
struct Desk {
    id: u64,
    outbox: Outbox,
    name: Arc<str>,
    available: bool,
    capacity: u32,
    active: u32,
}

impl Desk {
    fn can_take(&self) -> bool {
        self.available && self.active < self.capacity && !self.outbox.is_gone()
    }
}

#[derive(Default)]
struct Pairing {
    desks: Vec<Desk>,
    /// Where the round-robin continues.
    cursor: usize,
    /// Rooms started while no console had room for them, oldest first.
    waiting: VecDeque<Arc<Room>>,
}

impl Pairing {
    /// The next desk, round-robin, with a free place; takes the place.
    fn pick(&mut self) -> Option<usize> {
        let n = self.desks.len();
        let found = (0..n)
            .map(|i| (self.cursor + i) % n)
            .find(|&i| self.desks[i].can_take())?;
        self.cursor = found + 1;
        self.desks[found].active += 1;
        Some(found)
    }

    /// Pairs `room` with desk `i`.
    fn bind(&self, room: Arc<Room>, i: usize) -> Option<Assignment> {
        let desk = self.desks.get(i)?;
        let peer = Peer {
            outbox: desk.outbox.clone(),
            name: desk.name.clone(),
        };
        room.console.set(peer).ok()?;
        Some(Assignment { room })
    }

    /// Pairs waiting rooms while some console has a free place.
    fn drain_waiting(&mut self) -> Vec<Assignment> {
        let mut done = Vec::new();
        while let Some(room) = self.waiting.front() {
            if room.client.is_gone() || room.is_closed() {
                self.waiting.pop_front();
                continue;
            }
            let Some(i) = self.pick() else {
                break;
            };
            if let Some(room) = self.waiting.pop_front() {
                done.extend(self.bind(room, i));
            }
        }
        done
    }

    fn desk_mut(&mut self, id: u64) -> Option<&mut Desk> {
        self.desks.iter_mut().find(|d| d.id == id)
    }
}

/// A room that was just paired; [`Assignment::deliver`] tells both sides.
pub struct Assignment {
    room: Arc<Room>,
}

impl Assignment {
    /// The console gets `assigned` (and the room), the client the `system assigned` event.
    pub fn deliver(self) {
        let room = self.room;
        let Some(peer) = room.console() else {
            return;
        };
        let seq = room.next_seq();
        let assigned = ServerFrame::Assigned(Assigned {
            conversation: room.id.clone(),
            service: room.topic.service.clone(),
            topic: room.topic.topic.clone(),
            team: Some(room.topic.team.clone()),
            client: ClientInfo {
                name: None,
                identified: false,
                lang: None,
                alias: None,
                contact: None,
                identity_code: None,
            },
            questionnaire: room.topic.questionnaire.clone(),
            last_seq: seq,
            status: Some(ConversationStatus::InProgress),
            contact_at: None,
            due_at: None,
        });
        let mut detail = serde_json::Map::new();
        detail.insert("name".into(), peer.name.as_ref().into());
        detail.insert("team".into(), room.topic.team.as_str().into());
        let event = ServerFrame::System(SystemEvent {
            conversation: room.id.clone(),
            seq,
            at: crate::clock::now(),
            event: SystemKind::Assigned,
            detail,
        });
        room.client.frame(event);
        if let Some(message) = encode(peer.outbox.codec, &Envelope::new(assigned)) {
            peer.outbox.push(Out::Join(room.clone(), message));
        }
    }
}

/// A console's state after a `status`.
pub struct DeskStatus {
    pub availability: Availability,
    pub capacity: u32,
    pub active: u32,
}

/// Every console connection and the rooms waiting for one.
#[derive(Default)]
pub struct Hub {
    pairing: Mutex<Pairing>,
    ids: AtomicU64,
}

impl Hub {
    /// A process-unique id for a connection.
    pub fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn lock(&self) -> MutexGuard<'_, Pairing> {
        self.pairing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client started `room`: pair it now, or keep it waiting for a console.
    pub fn start(&self, room: Arc<Room>) -> Option<Assignment> {
        let mut pairing = self.lock();
        if pairing.waiting.is_empty() {
            if let Some(i) = pairing.pick() {
                return pairing.bind(room, i);
            }
        }
        pairing.waiting.push_back(room);
        None
    }

    /// A console said `hello`: it is available with the default capacity.
    pub fn open_desk(&self, id: u64, outbox: Outbox, name: Arc<str>) -> (u32, Vec<Assignment>) {
        let mut pairing = self.lock();
        pairing.desks.push(Desk {
            id,
            outbox,
            name,
            available: true,
            capacity: DEFAULT_CAPACITY,
            active: 0,
        });
        (DEFAULT_CAPACITY, pairing.drain_waiting())
    }

    /// A console's `status`; rooms that were waiting may now be paired.
    pub fn set_status(
        &self,
        id: u64,
        availability: Option<Availability>,
        capacity: Option<u32>,
    ) -> (Option<DeskStatus>, Vec<Assignment>) {
        let mut pairing = self.lock();
        let Some(desk) = pairing.desk_mut(id) else {
            return (None, Vec::new());
        };
        if let Some(a) = availability {
            desk.available = a == Availability::Available;
        }
        if let Some(c) = capacity {
            desk.capacity = c.clamp(1, MAX_CAPACITY);
        }
        let status = DeskStatus {
            availability: if desk.available {
                Availability::Available
            } else {
                Availability::Away
            },
            capacity: desk.capacity,
            active: desk.active,
        };
        (Some(status), pairing.drain_waiting())
    }

    /// A console closed one of its rooms: its place is free again.
    pub fn release(&self, id: u64) -> Vec<Assignment> {
        let mut pairing = self.lock();
        if let Some(desk) = pairing.desk_mut(id) {
            desk.active = desk.active.saturating_sub(1);
        }
        pairing.drain_waiting()
    }

    /// A console connection ended (its rooms stay orphaned: the relay keeps no queues).
    pub fn close_desk(&self, id: u64) {
        let mut pairing = self.lock();
        pairing.desks.retain(|d| d.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(n: u32, client: &Outbox) -> Arc<Room> {
        let topic = Topic {
            service: "health-chat".into(),
            topic: None,
            team: "station-a".into(),
            questionnaire: None,
        };
        Arc::new(Room::new(format!("c{n}").into(), topic, client.clone()))
    }

    /// The name of the desk a room went to (desk n is named n).
    fn desk_of(a: &Assignment) -> Option<u64> {
        a.room.console().and_then(|p| p.name.parse().ok())
    }

    #[test]
    fn rooms_wait_for_a_console_then_go_round_robin_within_capacity() {
        let hub = Hub::default();
        let (client, _client_rx, _) = Outbox::new(Codec::Json);
        assert!(hub.start(room(0, &client)).is_none(), "no console yet");
        let (console1, _rx1, _) = Outbox::new(Codec::Json);
        let (capacity, paired) = hub.open_desk(1, console1, "1".into());
        assert_eq!(capacity, DEFAULT_CAPACITY);
        assert_eq!(paired.iter().map(desk_of).collect::<Vec<_>>(), [Some(1)]);
        let (console2, _rx2, _) = Outbox::new(Codec::MessagePack);
        let (_, paired) = hub.open_desk(2, console2, "2".into());
        assert!(paired.is_empty());
        let desks: Vec<_> = (1..=4)
            .map(|n| hub.start(room(n, &client)).as_ref().and_then(desk_of))
            .collect();
        // Desk 1 holds c0 already; capacity 3 each leaves 2 + 3 places.
        assert_eq!(desks, [Some(2), Some(1), Some(2), Some(1)]);
        assert_eq!(
            hub.start(room(5, &client)).as_ref().and_then(desk_of),
            Some(2)
        );
        assert!(hub.start(room(6, &client)).is_none(), "everyone is full");
        let paired = hub.release(1);
        assert_eq!(paired.iter().map(desk_of).collect::<Vec<_>>(), [Some(1)]);
        let (status, paired) = hub.set_status(2, Some(Availability::Away), Some(1000));
        let status = status.expect("desk 2 exists");
        assert_eq!((status.capacity, status.active), (MAX_CAPACITY, 3));
        assert_eq!(status.availability, Availability::Away);
        assert!(paired.is_empty());
    }

    #[test]
    fn rooms_of_departed_clients_are_not_paired() {
        let hub = Hub::default();
        let (client, client_rx, _) = Outbox::new(Codec::Json);
        assert!(hub.start(room(0, &client)).is_none());
        drop(client_rx);
        let (console, _rx, _) = Outbox::new(Codec::Json);
        let (_, paired) = hub.open_desk(1, console, "1".into());
        assert!(paired.is_empty());
        hub.close_desk(1);
        assert!(hub.start(room(1, &client)).is_none());
    }

    #[test]
    fn a_full_outbox_condemns_its_connection() {
        let (outbox, _rx, kill) = Outbox::new(Codec::Json);
        for _ in 0..OUTBOX_CAPACITY {
            outbox.push(Out::Frame(Message::text("x")));
        }
        assert!(!kill.is_cancelled());
        outbox.push(Out::Frame(Message::text("x")));
        assert!(kill.is_cancelled());
        assert!(outbox.is_gone());
    }

    #[test]
    fn sequence_numbers_follow_the_queued_event() {
        let (client, _rx, _) = Outbox::new(Codec::Json);
        let r = room(0, &client);
        assert_eq!(r.next_seq(), 2);
        assert_eq!(r.next_seq(), 3);
        assert!(r.close());
        assert!(!r.close());
        assert!(r.is_closed());
    }
}
