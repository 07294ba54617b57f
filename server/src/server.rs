//! Start-up and shutdown: builds the shared [`ServerCtx`] (storage, hub, router, auth,
//! metrics), serves the warp routes on a bound listener, and on shutdown closes sockets with
//! 1001, drains sessions within the grace period and flushes storage.

use crate::auth::{load_or_create_server_key, Auth, AuthError};
use crate::config::Config;
use crate::context::ServerCtx;
use crate::conversation::{Hub, HubDeps};
use crate::metrics::Metrics;
use crate::routing::RouterHandle;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{SharedStorage, StorageError};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
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
}

/// A server that is serving.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub ctx: Arc<ServerCtx>,
    http: JoinHandle<()>,
}

/// Starts a server on a bound listener (tests bind port 0).
pub async fn start(config: Config, listener: TcpListener) -> Result<RunningServer, StartError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let key = load_or_create_server_key(&config.data_dir)?;
    let auth = Arc::new(Auth::new(&config, &key));
    let metrics = Arc::new(Metrics::new());
    metrics.init_labels(&config.organisation);
    let storage: SharedStorage = Arc::new(SqliteStorage::open(
        &config.data_dir.join("luukku.db"),
        metrics.storage.clone(),
    )?);
    let org = Arc::new(config.organisation.clone());
    let hub = Hub::new(HubDeps {
        storage: storage.clone(),
        metrics: metrics.clone(),
        auth: auth.clone(),
        organisation: org.clone(),
        retract_window: config.retract_window,
    });
    let open = storage.open_conversations().await?;
    let cancel = CancellationToken::new();
    let router = RouterHandle::spawn(
        hub.clone(),
        org,
        metrics.clone(),
        config.professional_grace,
        config.limits.max_capacity,
        open,
        cancel.child_token(),
    );
    let listener = without_nagle(listener)?;
    let addr = listener.local_addr()?;
    let ctx = Arc::new(ServerCtx {
        config,
        auth,
        hub,
        router,
        metrics,
        storage,
        cancel: cancel.clone(),
        tracker: TaskTracker::new(),
    });
    let routes = crate::http::routes(ctx.clone());
    let stop = cancel.clone();
    let http = tokio::spawn(async move {
        warp::serve(routes)
            .incoming(listener)
            .graceful(async move { stop.cancelled().await })
            .run()
            .await;
    });
    tracing::info!(%addr, demo = ctx.config.demo, "luukku listening");
    Ok(RunningServer { addr, ctx, http })
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
