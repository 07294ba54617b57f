//! The publishing side of the bus: one task per node owning a Redis connection, sending what
//! the node publishes in order and in pipelined groups, retrying a group that failed until it
//! is through (receivers drop what they already have by `seq`).

use super::{BusError, MAX_BACKOFF};
use bytes::Bytes;
use redis::aio::ConnectionManager;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Messages waiting to be published. Large, because a full queue loses a publication (counted
/// and logged): it only fills while Redis is unreachable for long, and then every subscriber's
/// connection is down too and fills its gap from PostgreSQL when it comes back.
const PUBLISH_QUEUE: usize = 65_536;
/// Most messages sent in one pipeline.
const MAX_GROUP: usize = 256;
/// How long a `PING` for `/readyz` may take.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// A cloneable handle to the publisher task.
#[derive(Clone)]
pub struct PublisherHandle {
    tx: mpsc::Sender<(String, Bytes)>,
    conn: ConnectionManager,
}

impl PublisherHandle {
    /// Connects (an error when Redis does not answer now) and starts the task.
    pub async fn connect(
        client: &redis::Client,
        cancel: CancellationToken,
    ) -> Result<PublisherHandle, BusError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let mut conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(BusError::from)?;
        redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .map_err(BusError::from)?;
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(run(conn.clone(), rx, cancel));
        Ok(PublisherHandle { tx, conn })
    }

    /// Queues a publication without waiting.
    pub fn publish(&self, channel: String, payload: Bytes) {
        if self.tx.try_send((channel, payload)).is_err() {
            tracing::error!("bus publish queue full: a publication is lost to Redis (subscribers fill gaps from storage)");
        }
    }

    /// Answers when Redis answers a `PING` on the publishing connection.
    pub async fn ping(&self) -> Result<(), BusError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(
            PING_TIMEOUT,
            redis::cmd("PING").query_async::<()>(&mut conn),
        )
        .await
        {
            Ok(r) => r.map_err(BusError::from),
            Err(_) => Err(BusError::Redis("no answer to PING".into())),
        }
    }
}

async fn run(
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<(String, Bytes)>,
    cancel: CancellationToken,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut group, MAX_GROUP) => n,
            _ = cancel.cancelled() => return,
        };
        if n == 0 {
            return;
        }
        let mut pipe = redis::pipe();
        for (channel, payload) in &group {
            pipe.cmd("PUBLISH")
                .arg(channel)
                .arg(payload.as_ref())
                .ignore();
        }
        let mut backoff = Duration::from_millis(50);
        while let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "publishing to Redis failed; retrying");
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = cancel.cancelled() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        group.clear();
    }
}
