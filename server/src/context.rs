//! The shared server context: what every session, route and background task of a running
//! node reads (configuration, auth, the conversation hub, the router, metrics, storage) and
//! the cancellation and task tracking that shutdown uses. Built by `server::start`; in a
//! cluster, the primary builds one more for each of its terms (a fresh hub and router), and
//! [`Role`] says what the node does now.

use crate::auth::Auth;
use crate::bus::RedisBus;
use crate::config::Config;
use crate::conversation::hub::Hub;
use crate::metrics::Metrics;
use crate::routing::RouterHandle;
use crate::storage::SharedStorage;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What every task of a running server shares.
pub struct ServerCtx {
    pub config: Config,
    pub auth: Arc<Auth>,
    pub hub: Arc<Hub>,
    pub router: RouterHandle,
    pub metrics: Arc<Metrics>,
    pub storage: SharedStorage,
    /// The bus to the other nodes of a cluster (`None`: one node, in-process only).
    pub bus: Option<Arc<RedisBus>>,
    /// This node's name in the cluster.
    pub node_id: String,
    /// The live nodes of the cluster, from the heartbeats (`None` on SQLite).
    pub nodes: Option<tokio::sync::watch::Receiver<crate::cluster::nodes::NodesView>>,
    /// Cancelled on shutdown; every session watches it.
    pub cancel: CancellationToken,
    /// Every WebSocket session runs on it, so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// The SMS gateway (`[sms]`), for sending and for reading its webhooks.
    pub sms: Option<Arc<dyn crate::sms::Gateway>>,
    /// The organisation's OpenID Connect provider (`[oidc]`): the console's sign-in.
    pub oidc: Option<Arc<crate::oidc::login::Provider>>,
    /// Patients' strong identification inside a chat (`[identification]`).
    pub identification: Option<Arc<crate::oidc::patient::Identification>>,
    /// In a cluster (PostgreSQL), what this node does now; `None`: one node on SQLite, whose
    /// sessions always run on this context.
    pub role: Option<tokio::sync::watch::Receiver<Role>>,
}

/// What a node of a cluster does now. One node, the holder of the `primary` lease, runs the
/// conversations and the router; every other node is a door: it holds its clients' sockets and
/// tunnels their frames to the primary over Redis.
#[derive(Clone)]
pub enum Role {
    /// No live primary is known (start-up, or a takeover under way): sessions are refused
    /// with 503 for the few seconds this lasts.
    Waiting,
    /// This node is the primary: sessions run on this term's context.
    Primary(Arc<ServerCtx>),
    /// Another node is the primary: sessions are tunnelled to it.
    Door { primary: String },
}

impl ServerCtx {
    /// A context for one term of this node as the primary: this node's configuration, keys,
    /// storage and bus with `hub` and `router`, its sessions ended by `cancel`.
    pub fn for_term(&self, hub: Arc<Hub>, router: RouterHandle, cancel: CancellationToken) -> Self {
        ServerCtx {
            config: self.config.clone(),
            auth: self.auth.clone(),
            hub,
            router,
            metrics: self.metrics.clone(),
            storage: self.storage.clone(),
            bus: self.bus.clone(),
            node_id: self.node_id.clone(),
            nodes: self.nodes.clone(),
            cancel,
            tracker: self.tracker.clone(),
            sms: self.sms.clone(),
            oidc: self.oidc.clone(),
            identification: self.identification.clone(),
            role: None,
        }
    }
}
