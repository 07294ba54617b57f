//! Start-up and shutdown: builds the shared [`ServerCtx`] (storage, hub, router, auth,
//! metrics), serves the warp routes on a bound listener, and on shutdown closes sockets with
//! 1001, drains sessions within the grace period and flushes storage.

mod backing;
pub mod term;

use crate::auth::{Auth, AuthError};
use crate::config::Config;
use crate::context::{Role, ServerCtx};
use crate::conversation::{Hub, HubDeps};
use crate::metrics::Metrics;
use crate::routing::RouterHandle;
use crate::storage::StorageError;
use crate::tunnel::Exchange;
pub use backing::BackingError;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("keys: {0}")]
    Auth(#[from] AuthError),
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Backing(#[from] BackingError),
    #[error("configuration: {0}")]
    Config(String),
}

impl StartError {
    /// True when the configuration cannot work as it is (the binary exits 64): a dependency
    /// that cannot be reached, or a combination the dependencies refuse.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            StartError::Backing(BackingError::Unreachable { .. } | BackingError::Refused(_))
                | StartError::Config(_)
        )
    }
}

/// A server that is serving.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub ctx: Arc<ServerCtx>,
    http: JoinHandle<()>,
    heartbeat: Option<JoinHandle<()>>,
    /// In a cluster: the term task and what releases the primary lease once the node's last
    /// writes are committed.
    term: Option<(JoinHandle<()>, CancellationToken)>,
}

/// How long start-up waits to learn its role in a cluster before it serves anyway (sockets
/// get 503 until there is a primary): a lone node takes the lease at once.
const ROLE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Starts a server on a bound listener (tests bind port 0).
pub async fn start(mut config: Config, listener: TcpListener) -> Result<RunningServer, StartError> {
    // With an SMS gateway, the "new message" SMS go through it.
    config.notifications.sms_gateway = config.sms.is_some();
    let metrics = Arc::new(Metrics::new());
    metrics.init_labels(&config.organisation);
    let cancel = CancellationToken::new();
    let backing = backing::open(&config, &metrics, &cancel).await?;
    let auth = Arc::new(Auth::new(&config, &backing.server_key));
    let heartbeat = backing.heartbeat;
    let storage = backing.storage;
    let (bus, inbound) = match backing.bus {
        Some((bus, inbound)) => (Some(bus), Some(inbound)),
        None => (None, None),
    };
    let org = Arc::new(config.organisation.clone());
    let sms_gateway = crate::sms::worker::gateway(&config)?;
    let hub = Hub::new(HubDeps {
        storage: storage.clone(),
        metrics: metrics.clone(),
        auth: auth.clone(),
        organisation: org.clone(),
        retract_window: config.retract_window,
        inbox: Default::default(),
        notifications: config.notifications.clone(),
        sms: config.sms.clone().map(Arc::new),
        record: config.record.clone().map(Arc::new),
    });
    // One node on SQLite runs its router from the start; a cluster node runs one only in its
    // terms as the primary (`term`), each on a context of its own.
    let router = if backing.cluster.is_none() {
        metrics.cluster_primary.set(1);
        let restored = crate::routing::Restored::read(&*storage).await?;
        crate::notify::spawn(
            storage.clone(),
            config.notifications.clone(),
            sms_gateway.clone(),
            metrics.clone(),
            cancel.child_token(),
        );
        crate::http::attachments::sweep_unsent(storage.clone(), cancel.child_token());
        let router = RouterHandle::spawn(
            hub.clone(),
            org.clone(),
            metrics.clone(),
            config.professional_grace,
            config.limits.max_capacity,
            restored,
            cancel.child_token(),
        );
        crate::sms::worker::start(
            &sms_gateway,
            &config,
            &storage,
            &hub,
            &router,
            &org,
            &metrics,
            cancel.child_token(),
        );
        crate::retention::start(
            &config,
            &storage,
            &hub,
            &org,
            &metrics,
            cancel.child_token(),
        );
        crate::record::delivery::start(
            &config,
            &storage,
            &hub,
            &org,
            &metrics,
            cancel.child_token(),
        );
        router
    } else {
        RouterHandle::detached()
    };
    let (role_tx, role) = match backing.cluster {
        Some(_) => {
            let (tx, rx) = watch::channel(Role::Waiting);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let listener = without_nagle(listener)?;
    let addr = listener.local_addr()?;
    let config_oidc = config
        .oidc
        .clone()
        .map(|c| Arc::new(crate::oidc::login::Provider::new(c)));
    let config_identification = config
        .identification
        .clone()
        .map(|c| Arc::new(crate::oidc::patient::Identification::new(c)));
    let ctx = Arc::new(ServerCtx {
        config,
        auth,
        hub,
        router,
        metrics,
        storage,
        bus,
        node_id: backing.node_id,
        nodes: backing.nodes,
        cancel: cancel.clone(),
        tracker: TaskTracker::new(),
        sms: sms_gateway.clone(),
        oidc: config_oidc,
        identification: config_identification,
        role: role.clone(),
    });
    let exchange = match (&ctx.bus, inbound, &role, &ctx.nodes) {
        (Some(bus), Some(inbound), Some(role), Some(nodes)) => Some(
            Exchange::start(
                bus.clone(),
                ctx.node_id.clone(),
                role.clone(),
                nodes.clone(),
                inbound,
                cancel.child_token(),
            )
            .await,
        ),
        _ => None,
    };
    let term = match (backing.cluster, role_tx) {
        (Some((pg, db)), Some(role_tx)) => {
            let lease_cancel = CancellationToken::new();
            let task = tokio::spawn(term::run(
                ctx.clone(),
                pg,
                db,
                role_tx,
                lease_cancel.clone(),
            ));
            Some((task, lease_cancel))
        }
        _ => None,
    };
    if let Some(mut role) = role {
        let decided = role.wait_for(|r| !matches!(r, Role::Waiting));
        if tokio::time::timeout(ROLE_WAIT, decided).await.is_err() {
            tracing::warn!("no primary yet: sockets get 503 until there is one");
        }
    }
    tokio::spawn(crate::http::ready::probe(ctx.clone()));
    let routes = crate::http::routes(ctx.clone(), exchange);
    let stop = cancel.clone();
    let http = tokio::spawn(async move {
        warp::serve(routes)
            .incoming(listener)
            .graceful(async move { stop.cancelled().await })
            .run()
            .await;
    });
    tracing::info!(%addr, node = %ctx.node_id, demo = ctx.config.demo, "luukku listening");
    Ok(RunningServer {
        addr,
        ctx,
        http,
        heartbeat,
        term,
    })
}

impl RunningServer {
    /// Stops accepting, closes sockets with 1001, waits for sessions within the grace period,
    /// then flushes storage.
    pub async fn shutdown(self) {
        let ctx = self.ctx;
        ctx.cancel.cancel();
        ctx.tracker.close();
        if tokio::time::timeout(ctx.config.shutdown_grace, ctx.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("sessions did not finish within the grace period");
        }
        let _ = tokio::time::timeout(ctx.config.shutdown_grace, self.http).await;
        ctx.storage.close().await;
        if let Some((task, lease_cancel)) = self.term {
            // Only now, with the last writes committed, may another node take over.
            lease_cancel.cancel();
            let _ = tokio::time::timeout(ctx.config.shutdown_grace, task).await;
        }
        if let Some(heartbeat) = self.heartbeat {
            let _ = tokio::time::timeout(ctx.config.shutdown_grace, heartbeat).await;
        }
        tracing::info!("luukku stopped");
    }
}

/// Sets `TCP_NODELAY` on the listening socket; Linux copies it to every accepted socket.
///
/// Without it a small frame written while the peer's acknowledgement of the previous one is
/// still delayed (40 ms on Linux) waits for it: chat frames are small and frequent, exactly
/// the case Nagle's algorithm penalises. warp offers no hook on accepted sockets.
fn without_nagle(listener: TcpListener) -> std::io::Result<TcpListener> {
    let std = listener.into_std()?;
    socket2::SockRef::from(&std).set_tcp_nodelay(true)?;
    TcpListener::from_std(std)
}
