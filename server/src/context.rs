//! The shared server context: what every session, route and background task of a running
//! node reads (configuration, auth, the conversation hub, the router, metrics, storage) and
//! the cancellation and task tracking that shutdown uses. Built by `server::start`.

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
}
