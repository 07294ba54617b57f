//! The bus between the nodes of a cluster: Redis pub/sub, one channel per conversation and one
//! inbox per node (never a pattern subscription). A node subscribes only to what its sessions
//! need. A lost or silent subscription is reported as [`Inbound::Resubscribed`] once it is back,
//! so that consumers fill the gap from PostgreSQL by `seq` before anything newer. One node
//! (embedded mode) has no bus at all.

mod publisher;
mod subscriber;

use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What arrives from the bus, in the order Redis delivered it.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A message on a channel this node subscribed to.
    Message { channel: String, payload: Bytes },
    /// The subscription connection was lost (Redis restarted, the connection dropped, or the
    /// probe went unanswered): messages may be missing from now on.
    Lost,
    /// Subscribed again to every channel after [`Inbound::Lost`]: whatever was published in
    /// between is missing, and consumers fill the gap from PostgreSQL now.
    Resubscribed,
}

/// The bus could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(String),
    #[error("bus stopped")]
    Closed,
}

impl From<redis::RedisError> for BusError {
    fn from(e: redis::RedisError) -> Self {
        BusError::Redis(e.to_string())
    }
}

/// Inbound items waiting for the node's dispatcher: a burst of fan-out from other nodes. When
/// the dispatcher falls this far behind, the subscriber waits for it (and the Redis client
/// buffers what keeps arriving).
const INBOUND_CAPACITY: usize = 8192;
/// How often the subscriber checks that its subscription still delivers.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// A probe not back within this long means a silent subscription: it is dropped and made anew.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait between two attempts to reach Redis again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Names the channels of one cluster: every name starts with the cluster's prefix, and a
/// conversation's channel carries its id as a hash tag (`{…}`), so that on a Redis Cluster it
/// can move to `SPUBLISH` with one slot per conversation.
#[derive(Debug, Clone)]
pub struct Channels {
    prefix: String,
}

impl Channels {
    /// Channels under `prefix` (e.g. `luukku`).
    pub fn new(prefix: &str) -> Self {
        Channels {
            prefix: prefix.to_owned(),
        }
    }

    /// The channel of one conversation's events.
    pub fn conversation(&self, id: &str) -> String {
        format!("{}:conv:{{{id}}}", self.prefix)
    }

    /// The inbox of one node.
    pub fn node(&self, node: &str) -> String {
        format!("{}:node:{{{node}}}", self.prefix)
    }

    /// The channel a node publishes its own liveness probes to.
    pub fn probe(&self, node: &str) -> String {
        format!("{}:probe:{{{node}}}", self.prefix)
    }

    /// The conversation id of a conversation channel of this cluster.
    pub fn conversation_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(":conv:{")?
            .strip_suffix('}')
    }
}

enum SubscriberCmd {
    Subscribe(String, oneshot::Sender<()>),
    Unsubscribe(String),
    Status(oneshot::Sender<bool>),
}

/// A node's connection to the bus: publishes in order, subscribes by reference count.
pub struct RedisBus {
    pub channels: Channels,
    publisher: publisher::PublisherHandle,
    subscriber: mpsc::Sender<SubscriberCmd>,
}

impl RedisBus {
    /// Connects to `url` (failing at once when Redis does not answer, so start-up can say so)
    /// and starts the publisher and the subscriber. `node` names this node's inbox and probe.
    pub async fn connect(
        url: &str,
        prefix: &str,
        node: &str,
        cancel: CancellationToken,
    ) -> Result<(Arc<RedisBus>, mpsc::Receiver<Inbound>), BusError> {
        let client = redis::Client::open(url)?;
        let channels = Channels::new(prefix);
        let publisher = publisher::PublisherHandle::connect(&client, cancel.clone()).await?;
        let (tx, rx) = mpsc::channel(INBOUND_CAPACITY);
        let subscriber = subscriber::Subscriber::spawn(
            client,
            channels.probe(node),
            publisher.clone(),
            tx,
            cancel,
        )
        .await?;
        let bus = Arc::new(RedisBus {
            channels,
            publisher,
            subscriber,
        });
        Ok((bus, rx))
    }

    /// Publishes `payload` on `channel`. Messages of one node are published in the order
    /// given; a failed publish is retried (receivers drop repeats by `seq`).
    pub fn publish(&self, channel: String, payload: Bytes) {
        self.publisher.publish(channel, payload);
    }

    /// Subscribes to `channel` (once per call: as many unsubscribes undo it); returns once
    /// Redis confirmed it or the connection is down (it is subscribed again on reconnect).
    pub async fn subscribe(&self, channel: String) -> Result<(), BusError> {
        let (tx, rx) = oneshot::channel();
        self.subscriber
            .send(SubscriberCmd::Subscribe(channel, tx))
            .await
            .map_err(|_| BusError::Closed)?;
        rx.await.map_err(|_| BusError::Closed)
    }

    /// Undoes one [`RedisBus::subscribe`] of `channel`.
    pub async fn unsubscribe(&self, channel: String) {
        let _ = self
            .subscriber
            .send(SubscriberCmd::Unsubscribe(channel))
            .await;
    }

    /// Answers when both the publishing connection and the subscription work (for `/readyz`).
    pub async fn ping(&self) -> Result<(), BusError> {
        self.publisher.ping().await?;
        let (tx, rx) = oneshot::channel();
        self.subscriber
            .send(SubscriberCmd::Status(tx))
            .await
            .map_err(|_| BusError::Closed)?;
        match rx.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(BusError::Redis("subscription is down".into())),
            Err(_) => Err(BusError::Closed),
        }
    }
}
