//! A node's place in a cluster, kept in PostgreSQL: its heartbeat (`nodes`: the nodes not seen
//! lately are dead), leases fenced by an epoch (`lease`: the router's), and the cluster's
//! shared secret (`secrets`: resume and demo tokens verify on every node). Each periodic task
//! holds one connection of its own and opens it again after an error.

pub mod lease;
pub mod nodes;
pub mod secrets;
#[cfg(test)]
mod tests;

use std::time::Duration;
use tokio_postgres::{Client, NoTls};

/// How long opening a connection may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a cluster statement may run: these are single-row writes and small reads.
const STATEMENT_TIMEOUT_MS: u64 = 2_000;

/// PostgreSQL could not be used for the cluster's bookkeeping.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    #[error("postgresql: {0}")]
    Database(String),
}

impl From<tokio_postgres::Error> for ClusterError {
    fn from(e: tokio_postgres::Error) -> Self {
        ClusterError::Database(match e.as_db_error() {
            Some(db) => db.message().to_owned(),
            None => e.to_string(),
        })
    }
}

/// Where the cluster's database is; opens connections for the cluster's tasks.
#[derive(Clone)]
pub struct ClusterDb {
    config: tokio_postgres::Config,
}

impl ClusterDb {
    /// From a `postgres://` URL.
    pub fn new(url: &str) -> Result<Self, ClusterError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| ClusterError::Database(e.to_string()))?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .application_name("luukku-cluster")
            .options(format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
        Ok(ClusterDb { config })
    }

    /// A new connection (its driver runs on a task of its own until the client is dropped).
    pub async fn connect(&self) -> Result<Client, ClusterError> {
        let (client, connection) =
            tokio::time::timeout(CONNECT_TIMEOUT, self.config.connect(NoTls))
                .await
                .map_err(|_| ClusterError::Database("no answer".into()))??;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "cluster connection ended");
            }
        });
        Ok(client)
    }
}

/// A connection that is opened again on the next use after it failed.
pub struct Reconnecting {
    db: ClusterDb,
    client: Option<Client>,
}

impl Reconnecting {
    pub fn new(db: ClusterDb) -> Self {
        Reconnecting { db, client: None }
    }

    /// The connection, opened first when there is none or it closed.
    pub async fn client(&mut self) -> Result<&Client, ClusterError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(self.db.connect().await?);
        }
        self.client
            .as_ref()
            .ok_or_else(|| ClusterError::Database("not connected".into()))
    }

    /// Passes a result on; an error drops the connection, so the next use opens a new one.
    pub fn check<T>(
        &mut self,
        result: Result<T, tokio_postgres::Error>,
    ) -> Result<T, ClusterError> {
        if result.is_err() {
            self.client = None;
        }
        result.map_err(ClusterError::from)
    }
}
