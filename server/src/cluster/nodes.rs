//! Node heartbeats: every node writes `seen_at = now()` (the database's clock, so that the
//! nodes' clocks need not agree) every [`HEARTBEAT_EVERY`], and reads which nodes were seen
//! within [`DEAD_AFTER`]. The router uses that set to notice a node that died with professionals
//! connected, and starts their grace periods.

use super::{ClusterDb, ClusterError, Reconnecting};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often a node says it is alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// A node not seen for this long is dead: five missed heartbeats, so a busy second or a slow
/// commit does not declare a live node dead, and a dead one is noticed within seconds.
pub const DEAD_AFTER: Duration = Duration::from_secs(5);

/// What one node knows of the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodesView {
    /// The nodes seen within [`DEAD_AFTER`] (this one included, while its heartbeats succeed).
    pub live: BTreeSet<String>,
    /// The last heartbeat of this node was written (false while PostgreSQL is unreachable).
    pub healthy: bool,
}

/// Writes this node's heartbeat once and reads the live nodes.
pub async fn beat(
    conn: &mut Reconnecting,
    node: &str,
    incarnation: &str,
) -> Result<BTreeSet<String>, ClusterError> {
    let dead_after = DEAD_AFTER.as_secs_f64();
    let c = conn.client().await?;
    let result = async {
        c.execute(
            "INSERT INTO nodes (id, incarnation, started_at, seen_at) \
             VALUES ($1, $2, now(), now()) \
             ON CONFLICT (id) DO UPDATE SET incarnation = $2, seen_at = now(), \
             started_at = CASE WHEN nodes.incarnation = $2 THEN nodes.started_at ELSE now() END",
            &[&node, &incarnation],
        )
        .await?;
        let rows = c
            .query(
                "SELECT id FROM nodes WHERE seen_at > now() - make_interval(secs => $1)",
                &[&dead_after],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }
    .await;
    conn.check(result)
}

/// Starts the heartbeat task; the returned view changes when the set of live nodes does. The
/// task ends after `cancel`, once it has marked this node stopped (await it on shutdown).
pub fn spawn(
    db: ClusterDb,
    node: String,
    incarnation: String,
    cancel: CancellationToken,
) -> (watch::Receiver<NodesView>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(NodesView::default());
    let task = tokio::spawn(async move {
        let mut conn = Reconnecting::new(db);
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = cancel.cancelled() => break,
            }
            let view = match beat(&mut conn, &node, &incarnation).await {
                Ok(live) => NodesView {
                    live,
                    healthy: true,
                },
                Err(e) => {
                    tracing::warn!(error = %e, "heartbeat failed");
                    NodesView {
                        live: tx.borrow().live.clone(),
                        healthy: false,
                    }
                }
            };
            tx.send_if_modified(|old| {
                let changed = *old != view;
                *old = view;
                changed
            });
        }
        // A node that stops cleanly says so, so that its professionals' grace periods start
        // now rather than after DEAD_AFTER.
        if let Ok(c) = conn.client().await {
            let _ = c
                .execute(
                    "UPDATE nodes SET seen_at = 'epoch' WHERE id = $1 AND incarnation = $2",
                    &[&node, &incarnation],
                )
                .await;
        }
    });
    (rx, task)
}
