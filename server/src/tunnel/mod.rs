//! Tunnels: how a cluster node that is not the primary (a door) serves its clients' and
//! professionals' sockets. The door keeps the socket and moves its frames, as they are, over
//! Redis to the primary's inbox (`{prefix}:node:{<primary>}`), where each tunnel runs as an
//! ordinary session on the primary's term (`remote`: a socket made of the tunnel); what the
//! session writes comes back to the door's inbox (`door`). Frames are numbered per tunnel and
//! direction (`wire`): a repeat is dropped, a gap ends the tunnel, and the client reconnects
//! and resumes by `seq` from PostgreSQL. So does every tunnel of a door that lost Redis, and
//! every tunnel to a primary that stopped being it.

pub mod door;
mod remote;
pub mod wire;

use crate::bus::{Inbound, RedisBus};
use crate::cluster::nodes::NodesView;
use crate::context::Role;
use crate::session::Endpoint;
use bytes::Bytes;
use console_protocol::Codec;
use dashmap::DashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use wire::{Envelope, Wire};

/// Frames from one client waiting for its session on the primary. A client's frames are
/// rate-limited by that session; a tunnel this far behind is ended.
const REMOTE_INBOX: usize = 256;
/// Frames for one client waiting for its socket at the door; a client this far behind is cut
/// off as a slow consumer, as on the primary.
const DOOR_QUEUE: usize = 4096;

/// A close code and reason for a socket the node ends.
pub type CloseWith = (u16, &'static str);

/// What reaches a door's socket task.
#[derive(Debug)]
pub(crate) enum ToDoor {
    Out { n: u64, data: Bytes, binary: bool },
    Shut { n: u64, code: u16, reason: String },
}

struct DoorLink {
    primary: String,
    tx: mpsc::Sender<ToDoor>,
    abort: watch::Sender<Option<CloseWith>>,
}

struct RemoteLink {
    tx: mpsc::Sender<Message>,
    /// The `n` of the next frame from the door.
    expect: u64,
    /// Ends the session (the door is gone, or the tunnel broke).
    end: CancellationToken,
}

/// A node's tunnels: the doors it keeps for sockets it holds, and the sessions it runs as the
/// primary for other nodes' sockets.
pub struct Exchange {
    bus: Arc<RedisBus>,
    node: String,
    inbox: String,
    role: watch::Receiver<Role>,
    doors: DashMap<u64, DoorLink>,
    remotes: DashMap<(String, u64), RemoteLink>,
    next_tunnel: AtomicU64,
    /// The node's subscription delivers (false between `Lost` and `Resubscribed`).
    healthy: AtomicBool,
}

impl Exchange {
    /// Subscribes to this node's inbox and starts reading `inbound` (the bus's deliveries) and
    /// following `role` and `nodes`, until `cancel`.
    pub async fn start(
        bus: Arc<RedisBus>,
        node: String,
        role: watch::Receiver<Role>,
        nodes: watch::Receiver<NodesView>,
        inbound: mpsc::Receiver<Inbound>,
        cancel: CancellationToken,
    ) -> Arc<Exchange> {
        let inbox = bus.channels.node(&node);
        if let Err(e) = bus.subscribe(inbox.clone()).await {
            tracing::warn!(error = %e, "node inbox not subscribed yet");
        }
        let ex = Arc::new(Exchange {
            bus,
            node,
            inbox,
            role,
            doors: DashMap::new(),
            remotes: DashMap::new(),
            next_tunnel: AtomicU64::new(1),
            healthy: AtomicBool::new(true),
        });
        tokio::spawn(ex.clone().dispatch(inbound, cancel.clone()));
        tokio::spawn(ex.clone().follow(nodes, cancel));
        ex
    }

    /// Whether a new socket can be tunnelled now (the bus delivers).
    pub fn can_tunnel(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    fn publish(&self, to: &str, door: &str, tunnel: u64, n: u64, wire: Wire) {
        let e = Envelope {
            door: door.to_owned(),
            tunnel,
            n,
            wire,
        };
        self.bus.publish(self.bus.channels.node(to), e.encode());
    }

    /// Reads the bus: tunnel messages for this node, and losses of the subscription.
    async fn dispatch(
        self: Arc<Self>,
        mut inbound: mpsc::Receiver<Inbound>,
        cancel: CancellationToken,
    ) {
        loop {
            let item = tokio::select! {
                _ = cancel.cancelled() => break,
                item = inbound.recv() => match item { Some(i) => i, None => break },
            };
            match item {
                Inbound::Message { channel, payload } if channel == self.inbox => {
                    match Envelope::decode(payload) {
                        Some(e) => self.receive(e),
                        None => tracing::warn!("an unreadable message in the node inbox"),
                    }
                }
                Inbound::Message { .. } => {}
                Inbound::Lost => {
                    tracing::warn!("bus subscription lost: closing tunnelled sockets");
                    self.healthy.store(false, Ordering::Relaxed);
                    self.abort_doors(|_| true, (1012, "connection to the cluster lost"));
                    self.end_remotes(|_| true);
                }
                Inbound::Resubscribed => {
                    tracing::info!("bus subscription back");
                    self.healthy.store(true, Ordering::Relaxed);
                    // The primary may still run sessions for sockets closed meanwhile.
                    if let Role::Door { primary } = &*self.role.borrow() {
                        self.publish(primary, &self.node, 0, 0, Wire::Reset);
                    }
                }
            }
        }
    }

    fn receive(self: &Arc<Self>, e: Envelope) {
        tracing::trace!(door = %e.door, tunnel = e.tunnel, n = e.n, "tunnel message");
        match e.wire {
            Wire::Open {
                endpoint,
                protocols,
            } => self.open_remote(e.door, e.tunnel, &endpoint, protocols),
            Wire::In { data, binary } => {
                let key = (e.door, e.tunnel);
                let broken = match self.remotes.get_mut(&key) {
                    None => false,
                    Some(r) if e.n < r.expect => {
                        drop(r);
                        false
                    }
                    Some(mut r) if e.n == r.expect => {
                        r.expect += 1;
                        let m = if binary {
                            Message::Binary(data)
                        } else {
                            match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(data) {
                                Ok(t) => Message::Text(t),
                                Err(_) => return,
                            }
                        };
                        r.tx.try_send(m).is_err()
                    }
                    Some(_) => true,
                };
                if broken {
                    if let Some((_, r)) = self.remotes.remove(&key) {
                        r.end.cancel();
                    }
                }
            }
            Wire::Gone => {
                if let Some((_, r)) = self.remotes.remove(&(e.door, e.tunnel)) {
                    r.end.cancel();
                }
            }
            Wire::Reset => {
                let door = e.door;
                self.end_remotes(|(d, _)| *d == door);
            }
            Wire::Out { data, binary } => self.to_door(
                e.tunnel,
                ToDoor::Out {
                    n: e.n,
                    data,
                    binary,
                },
            ),
            Wire::Shut { code, reason } => self.to_door(
                e.tunnel,
                ToDoor::Shut {
                    n: e.n,
                    code,
                    reason,
                },
            ),
        }
    }

    fn to_door(&self, tunnel: u64, msg: ToDoor) {
        if let Some(d) = self.doors.get(&tunnel) {
            if d.tx.try_send(msg).is_err() {
                d.abort.send_replace(Some((1008, "slow_consumer")));
            }
        }
    }

    /// Starts the session of a socket another node holds, if this node is the primary.
    fn open_remote(
        self: &Arc<Self>,
        door: String,
        tunnel: u64,
        endpoint: &str,
        protocols: Option<String>,
    ) {
        let ctx = match &*self.role.borrow() {
            Role::Primary(ctx) => ctx.clone(),
            _ => {
                return self.publish(
                    &door,
                    &door,
                    tunnel,
                    1,
                    Wire::Shut {
                        code: 1013,
                        reason: "not the primary; reconnect".into(),
                    },
                )
            }
        };
        let endpoint = match endpoint {
            "client" => Endpoint::Client,
            "console" => Endpoint::Console,
            _ => return,
        };
        let (codec, _) = Codec::negotiate(protocols.as_deref());
        let (tx, rx) = mpsc::channel(REMOTE_INBOX);
        let end = ctx.cancel.child_token();
        let key = (door.clone(), tunnel);
        if let Some((_, old)) = self.remotes.remove(&key) {
            old.end.cancel();
        }
        self.remotes.insert(
            key.clone(),
            RemoteLink {
                tx,
                // The door's Open was its message 1.
                expect: 2,
                end: end.clone(),
            },
        );
        let socket = remote::RemoteSocket::new(self.bus.clone(), door, tunnel, rx, end.clone());
        let ex = self.clone();
        // The session runs on the term's context itself (it ends with the term); its own end
        // (the door gone, the tunnel broken) ends the socket's stream, as a client leaving would.
        ctx.tracker.clone().spawn(async move {
            crate::session::run(socket, endpoint, codec, ctx).await;
            ex.remotes
                .remove_if(&key, |_, r| r.end.is_cancelled() || r.tx.is_closed());
        });
    }

    fn abort_doors(&self, which: impl Fn(&str) -> bool, why: CloseWith) {
        for d in self.doors.iter() {
            if which(&d.primary) {
                d.abort.send_replace(Some(why));
            }
        }
    }

    fn end_remotes(&self, which: impl Fn(&(String, u64)) -> bool) {
        self.remotes.retain(|k, r| {
            if which(k) {
                r.end.cancel();
                false
            } else {
                true
            }
        });
    }

    /// Follows the node's role and the live nodes: sockets tunnelled to a node that is no
    /// longer the primary are closed (their clients reconnect), sessions for a dead door end
    /// (its professionals' grace periods start), and a new primary hears that this door has
    /// nothing open with it yet.
    async fn follow(
        self: Arc<Self>,
        mut nodes: watch::Receiver<NodesView>,
        cancel: CancellationToken,
    ) {
        let mut role = self.role.clone();
        let mut door_of: Option<String> = None;
        loop {
            let now = role.borrow_and_update().clone();
            match &now {
                Role::Door { primary } => {
                    self.abort_doors(|p| p != primary, (1012, "the cluster's primary changed"));
                    if door_of.as_deref() != Some(primary) {
                        self.publish(primary, &self.node, 0, 0, Wire::Reset);
                    }
                    door_of = Some(primary.clone());
                }
                _ => {
                    self.abort_doors(|_| true, (1012, "the cluster's primary changed"));
                    door_of = None;
                }
            }
            if !matches!(now, Role::Primary(_)) {
                self.end_remotes(|_| true);
            } else {
                let live = nodes.borrow_and_update().live.clone();
                if !live.is_empty() {
                    self.end_remotes(|(door, _)| !live.contains(door));
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                r = role.changed() => if r.is_err() { break },
                n = nodes.changed() => if n.is_err() { break },
            }
        }
    }

    fn register_door(
        &self,
        primary: String,
    ) -> (
        u64,
        mpsc::Receiver<ToDoor>,
        watch::Receiver<Option<CloseWith>>,
    ) {
        let tunnel = self.next_tunnel.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(DOOR_QUEUE);
        let (abort, abort_rx) = watch::channel(None);
        self.doors.insert(tunnel, DoorLink { primary, tx, abort });
        (tunnel, rx, abort_rx)
    }
}
