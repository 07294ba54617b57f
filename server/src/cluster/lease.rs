//! Leases in PostgreSQL, fenced by an epoch: at most one holder at a time (the database's clock
//! decides expiry), each takeover increments the epoch, and writes made for the holder carry
//! the epoch so that the database refuses them once another node took over (a paused holder
//! that wakes up cannot act on a lease it lost). The holder steps down by its own clock before
//! the lease can expire in the database's.

use super::{ClusterDb, ClusterError, Reconnecting};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a lease lasts without renewal: long enough to ride out a slow second, short enough
/// that a dead holder is replaced within seconds.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often a holder renews, and a follower tries to take an expired lease.
pub const RENEW_EVERY: Duration = Duration::from_secs(1);
/// A holder that could not renew for this long steps down: well inside [`LEASE_TTL`], so it
/// stops acting before anyone else can take the lease.
const STEP_DOWN_AFTER: Duration = Duration::from_secs(3);

/// Who holds a lease, as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// Another node holds it (or nobody, and this node has not taken it yet).
    No,
    /// This node holds it with this epoch.
    Yes { epoch: i64 },
}

/// Takes the lease `name` for `holder` if it is free or expired; its new epoch if taken.
pub async fn acquire(
    conn: &mut Reconnecting,
    name: &str,
    holder: &str,
) -> Result<Option<i64>, ClusterError> {
    let ttl = LEASE_TTL.as_secs_f64();
    let c = conn.client().await?;
    let result = c
        .query_opt(
            "INSERT INTO leases (name, holder, epoch, expires_at) \
                 VALUES ($1, $2, 1, now() + make_interval(secs => $3)) \
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
                 epoch = leases.epoch + 1, expires_at = EXCLUDED.expires_at \
                 WHERE leases.expires_at < now() OR leases.holder IS NULL \
                 RETURNING epoch",
            &[&name, &holder, &ttl],
        )
        .await;
    Ok(conn.check(result)?.map(|r| r.get(0)))
}

/// Extends the lease while `holder` still holds it with `epoch`; false when it is lost.
pub async fn renew(
    conn: &mut Reconnecting,
    name: &str,
    holder: &str,
    epoch: i64,
) -> Result<bool, ClusterError> {
    let ttl = LEASE_TTL.as_secs_f64();
    let c = conn.client().await?;
    let result = c
        .execute(
            "UPDATE leases SET expires_at = now() + make_interval(secs => $4) \
                 WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()",
            &[&name, &holder, &epoch, &ttl],
        )
        .await;
    Ok(conn.check(result)? == 1)
}

/// The node holding the lease `name` now (unexpired), if any.
pub async fn holder(conn: &mut Reconnecting, name: &str) -> Result<Option<String>, ClusterError> {
    let c = conn.client().await?;
    let result = c
        .query_opt(
            "SELECT holder FROM leases WHERE name = $1 AND expires_at > now() \
             AND holder IS NOT NULL",
            &[&name],
        )
        .await;
    Ok(conn.check(result)?.map(|r| r.get(0)))
}

/// Gives the lease up at once (on shutdown), so another node takes over without waiting.
pub async fn release(
    conn: &mut Reconnecting,
    name: &str,
    holder: &str,
    epoch: i64,
) -> Result<(), ClusterError> {
    let c = conn.client().await?;
    let result = c
        .execute(
            "UPDATE leases SET holder = NULL, expires_at = now() \
             WHERE name = $1 AND holder = $2 AND epoch = $3",
            &[&name, &holder, &epoch],
        )
        .await;
    conn.check(result).map(|_| ())
}

/// Keeps trying to hold the lease `name` for `holder`; the returned value says whether this
/// node holds it now. On cancel a held lease is released.
pub fn spawn(
    db: ClusterDb,
    name: &'static str,
    holder: String,
    cancel: CancellationToken,
) -> watch::Receiver<Holding> {
    let (tx, rx) = watch::channel(Holding::No);
    tokio::spawn(async move {
        let mut conn = Reconnecting::new(db);
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = cancel.cancelled() => break,
            }
            let now = *tx.borrow();
            let next = match now {
                Holding::No => match acquire(&mut conn, name, &holder).await {
                    Ok(Some(epoch)) => {
                        renewed = Instant::now();
                        tracing::info!(lease = name, epoch, "lease taken");
                        Holding::Yes { epoch }
                    }
                    Ok(None) => Holding::No,
                    Err(e) => {
                        tracing::debug!(lease = name, error = %e, "lease not taken");
                        Holding::No
                    }
                },
                Holding::Yes { epoch } => {
                    let started = Instant::now();
                    match renew(&mut conn, name, &holder, epoch).await {
                        Ok(true) => {
                            renewed = started;
                            now
                        }
                        Ok(false) => {
                            tracing::warn!(lease = name, epoch, "lease lost");
                            Holding::No
                        }
                        Err(e) if renewed.elapsed() >= STEP_DOWN_AFTER => {
                            tracing::warn!(lease = name, epoch, error = %e, "lease not renewed in time: stepping down");
                            Holding::No
                        }
                        Err(_) => now,
                    }
                }
            };
            if next != now {
                let _ = tx.send(next);
            }
        }
        let last = *tx.borrow();
        if let Holding::Yes { epoch } = last {
            let _ = release(&mut conn, name, &holder, epoch).await;
        }
        let _ = tx.send(Holding::No);
    });
    rx
}
