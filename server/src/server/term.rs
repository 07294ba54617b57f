//! A cluster node's terms as the primary: the node holding the `primary` lease runs the
//! conversations and the router, each term on a context of its own (a hub and a router
//! rebuilt from PostgreSQL, as after a restart); every other node is a door to it. The storage
//! backend commits a write only while its node holds the lease with the term's epoch, checked
//! in the write's own transaction, so a node that lost the lease (paused past it, cut off from
//! PostgreSQL) cannot write once another node took over.

use crate::cluster::lease::{self, Holding};
use crate::cluster::{ClusterDb, Reconnecting};
use crate::context::{Role, ServerCtx};
use crate::conversation::{Hub, HubDeps};
use crate::routing::RouterHandle;
use crate::storage::postgres::{PostgresStorage, TermFence};
use crate::storage::StorageError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The lease whose holder is the cluster's primary.
pub const PRIMARY_LEASE: &str = "primary";
/// How often a node that is not the primary looks up who is.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// One term of this node as the primary.
struct Term {
    epoch: i64,
    ctx: Arc<ServerCtx>,
}

impl Term {
    /// Ends the term: its sessions close (their clients reconnect and resume elsewhere), the
    /// router stops and the actors stop once their sessions are gone.
    fn end(self) {
        tracing::warn!(epoch = self.epoch, "no longer the primary: ending the term");
        self.ctx.cancel.cancel();
        self.ctx.hub.clear();
        self.ctx.metrics.cluster_primary.set(0);
    }
}

/// Runs the node's part in the cluster until `base.cancel`: takes the primary lease when it is
/// free (`lease_cancel` releases it, after the node's last writes on shutdown), begins a term
/// when it holds it and ends the term when it does not, and otherwise follows which node is the
/// primary. `role` says what the node does now.
pub(super) async fn run(
    base: Arc<ServerCtx>,
    pg: Arc<PostgresStorage>,
    db: ClusterDb,
    role: watch::Sender<Role>,
    lease_cancel: CancellationToken,
) {
    let node = base.node_id.clone();
    let fence = |epoch| TermFence::Lease {
        name: PRIMARY_LEASE,
        holder: node.clone(),
        epoch,
    };
    pg.set_term(fence(None));
    let mut holding = lease::spawn(db.clone(), PRIMARY_LEASE, node.clone(), lease_cancel);
    let mut conn = Reconnecting::new(db);
    let mut look = tokio::time::interval(LOOK_EVERY);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut term: Option<Term> = None;
    loop {
        tokio::select! {
            _ = base.cancel.cancelled() => break,
            changed = holding.changed() => if changed.is_err() { break },
            _ = look.tick() => {}
        }
        let now = *holding.borrow_and_update();
        match now {
            Holding::Yes { epoch } => {
                if term.as_ref().is_some_and(|t| t.epoch == epoch) {
                    continue;
                }
                if let Some(old) = term.take() {
                    old.end();
                }
                pg.set_term(fence(Some(epoch)));
                match begin(&base, epoch).await {
                    Ok(ctx) => {
                        tracing::info!(epoch, "this node is the primary");
                        base.metrics.cluster_primary.set(1);
                        term = Some(Term {
                            epoch,
                            ctx: ctx.clone(),
                        });
                        role.send_replace(Role::Primary(ctx));
                    }
                    // Tried again on the next look, while the lease is still held.
                    Err(e) => tracing::warn!(error = %e, "cannot begin the term"),
                }
            }
            Holding::No => {
                if let Some(old) = term.take() {
                    pg.set_term(fence(None));
                    old.end();
                    role.send_replace(Role::Waiting);
                }
                let next = match lease::holder(&mut conn, PRIMARY_LEASE).await {
                    Ok(Some(primary)) if primary != node && is_live(&base, &primary) => {
                        Role::Door { primary }
                    }
                    _ => Role::Waiting,
                };
                role.send_if_modified(|r| {
                    let changed = !same(r, &next);
                    if changed {
                        *r = next;
                    }
                    changed
                });
            }
        }
    }
    if let Some(t) = term {
        // Shutdown: the sessions end with the node's cancel; the lease stays until the last
        // writes are committed (`lease_cancel`), and is released then.
        t.ctx.hub.clear();
        let _ = holding.wait_for(|h| *h == Holding::No).await;
    }
}

/// Whether `node` has a recent heartbeat.
fn is_live(base: &ServerCtx, node: &str) -> bool {
    base.nodes
        .as_ref()
        .is_some_and(|n| n.borrow().live.contains(node))
}

fn same(a: &Role, b: &Role) -> bool {
    match (a, b) {
        (Role::Waiting, Role::Waiting) => true,
        (Role::Door { primary: x }, Role::Door { primary: y }) => x == y,
        (Role::Primary(x), Role::Primary(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// Begins a term: the queues and assignments rebuilt from PostgreSQL (the professionals with
/// chats in their grace period until they reconnect), a fresh hub and router.
async fn begin(base: &ServerCtx, epoch: i64) -> Result<Arc<ServerCtx>, StorageError> {
    let restored = crate::routing::Restored::read(&*base.storage).await?;
    let org = Arc::new(base.config.organisation.clone());
    let hub = Hub::new(HubDeps {
        storage: base.storage.clone(),
        metrics: base.metrics.clone(),
        auth: base.auth.clone(),
        organisation: org.clone(),
        retract_window: base.config.retract_window,
        inbox: Default::default(),
        notifications: base.config.notifications.clone(),
        sms: base.config.sms.clone().map(Arc::new),
        record: base.config.record.clone().map(Arc::new),
    });
    let cancel = base.cancel.child_token();
    let router = RouterHandle::spawn(
        hub.clone(),
        org.clone(),
        base.metrics.clone(),
        base.config.professional_grace,
        base.config.limits.max_capacity,
        restored,
        cancel.clone(),
    );
    // The term's writes are fenced by its lease: one worker sends the notifications at a time.
    crate::notify::spawn(
        base.storage.clone(),
        base.config.notifications.clone(),
        base.sms.clone(),
        base.metrics.clone(),
        cancel.clone(),
    );
    crate::http::attachments::sweep_unsent(base.storage.clone(), cancel.clone());
    crate::sms::worker::start(
        &base.sms,
        &base.config,
        &base.storage,
        &hub,
        &router,
        &org,
        &base.metrics,
        cancel.clone(),
    );
    crate::retention::start(
        &base.config,
        &base.storage,
        &hub,
        &org,
        &base.metrics,
        cancel.clone(),
    );
    crate::record::delivery::start(
        &base.config,
        &base.storage,
        &hub,
        &org,
        &base.metrics,
        cancel.clone(),
    );
    tracing::debug!(epoch, "term begun");
    Ok(Arc::new(base.for_term(hub, router, cancel)))
}
