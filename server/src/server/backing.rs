//! What a node stands on, opened at start-up: its record (SQLite in the data dir, or the
//! cluster's PostgreSQL), the key that signs its tokens (the data dir's, or the cluster's
//! shared one), and in a cluster the Redis bus and the node's heartbeat. A dependency that
//! cannot be reached now is a start-up error that names it.

use crate::auth::{load_or_create_server_key, new_server_key, AuthError};
use crate::bus::{Inbound, RedisBus};
use crate::cluster::nodes::{self, NodesView};
use crate::cluster::{secrets, ClusterDb, Reconnecting};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::storage::postgres::PostgresStorage;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{SharedStorage, StorageError};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Why a node could not open what it stands on.
#[derive(Debug, thiserror::Error)]
pub enum BackingError {
    /// A dependency does not answer (exit 64: the configuration cannot work as it is).
    #[error("{dependency} cannot be reached: {detail}")]
    Unreachable {
        dependency: &'static str,
        detail: String,
    },
    /// The configuration cannot work with what the dependencies hold (exit 64).
    #[error("{0}")]
    Refused(String),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("keys: {0}")]
    Auth(#[from] AuthError),
}

/// A node's record, key and (in a cluster) bus and heartbeat.
pub struct Backing {
    pub storage: SharedStorage,
    pub server_key: Vec<u8>,
    /// This node's name in the cluster.
    pub node_id: String,
    pub bus: Option<(Arc<RedisBus>, mpsc::Receiver<Inbound>)>,
    /// The live nodes, as the heartbeat sees them (PostgreSQL only).
    pub nodes: Option<watch::Receiver<NodesView>>,
    /// The heartbeat task: on shutdown it marks the node stopped, then ends.
    pub heartbeat: Option<tokio::task::JoinHandle<()>>,
    /// In a cluster: the same backend as `storage` (its writes fenced by the primary's term)
    /// and the connection settings of the cluster's bookkeeping.
    pub cluster: Option<(Arc<PostgresStorage>, ClusterDb)>,
}

/// Opens the node's record, key, bus and heartbeat as the configuration says.
pub async fn open(
    config: &Config,
    metrics: &Metrics,
    cancel: &CancellationToken,
) -> Result<Backing, BackingError> {
    let node_id = config
        .cluster
        .node_id
        .clone()
        .unwrap_or_else(|| format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    let Some(url) = &config.cluster.database_url else {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| BackingError::Auth(AuthError::Key(e)))?;
        let storage =
            SqliteStorage::open(&config.data_dir.join("luukku.db"), metrics.storage.clone())?;
        return Ok(Backing {
            storage: Arc::new(storage),
            server_key: load_or_create_server_key(&config.data_dir)?,
            node_id,
            bus: None,
            nodes: None,
            heartbeat: None,
            cluster: None,
        });
    };
    let unreachable = |dependency, detail: String| BackingError::Unreachable { dependency, detail };
    let storage = PostgresStorage::connect(url, metrics.storage.clone())
        .await
        .map_err(|e| unreachable("postgresql", e.to_string()))?;
    let db = ClusterDb::new(url).map_err(|e| unreachable("postgresql", e.to_string()))?;
    let fresh = new_server_key();
    let server_key = secrets::shared_secret(&db, "server_key", &fresh)
        .await
        .map_err(|e| unreachable("postgresql", e.to_string()))?
        .into_bytes();
    let bus = match &config.cluster.redis_url {
        Some(redis) => {
            let prefix = config.cluster.redis_prefix.as_deref().unwrap_or("luukku");
            Some(
                RedisBus::connect(redis, prefix, &node_id, cancel.child_token())
                    .await
                    .map_err(|e| unreachable("redis", e.to_string()))?,
            )
        }
        None => None,
    };
    let incarnation = uuid::Uuid::new_v4().simple().to_string();
    if bus.is_none() {
        refuse_a_second_node(&db, &node_id, &incarnation).await?;
    }
    let (nodes, heartbeat) = nodes::spawn(
        db.clone(),
        node_id.clone(),
        incarnation,
        cancel.child_token(),
    );
    let storage = Arc::new(storage);
    Ok(Backing {
        storage: storage.clone(),
        server_key,
        node_id,
        bus,
        nodes: Some(nodes),
        heartbeat: Some(heartbeat),
        cluster: Some((storage, db)),
    })
}

/// Without Redis a node that is not the primary could not reach it: a second node on the same
/// database is refused with a message that says what it needs. A node restarting after a crash
/// waits for its predecessor's heartbeat to run out first.
async fn refuse_a_second_node(
    db: &ClusterDb,
    node_id: &str,
    incarnation: &str,
) -> Result<(), BackingError> {
    let mut conn = Reconnecting::new(db.clone());
    let deadline = tokio::time::Instant::now() + nodes::DEAD_AFTER + nodes::HEARTBEAT_EVERY;
    let others = loop {
        let live = nodes::beat(&mut conn, node_id, incarnation)
            .await
            .map_err(|e| BackingError::Unreachable {
                dependency: "postgresql",
                detail: e.to_string(),
            })?;
        let others: Vec<String> = live.into_iter().filter(|n| n != node_id).collect();
        if others.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            break others;
        }
        tokio::time::sleep(nodes::HEARTBEAT_EVERY).await;
    };
    Err(BackingError::Refused(format!(
        "another node ({}) is running on this database: a second node on the same database \
         needs --redis-url",
        others.join(", ")
    )))
}
