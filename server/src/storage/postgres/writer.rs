//! The writer task: owns the one writer connection, takes the queued writes (`Job`s from a
//! bounded mpsc), commits each group of them in one transaction with their statements
//! pipelined, and answers every op on its oneshot only after COMMIT returned.
//!
//! A failing op fails alone: the group is rolled back and run again without it (the other
//! ops' refusals are answers, not errors: see `ops`). A lost connection fails what was not
//! committed, and the next group connects again.

use super::ops::{self, Statements};
use super::{describe, lock, Fence, TermFence, MAX_BATCH};
use crate::metrics::StorageMetrics;
use crate::storage::{StorageError, WriteOp};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::{Client, NoTls};

/// How long one group may take, connecting included, from BEGIN to COMMIT's answer before
/// the connection is dropped and the group fails: longer than [`super::STATEMENT_TIMEOUT`]
/// (which PostgreSQL enforces per statement), so it only fires when PostgreSQL stops
/// answering at all (a paused server, a network that silently drops packets), where nothing
/// else would for minutes.
const GROUP_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) type Reply = oneshot::Sender<Result<(), StorageError>>;

/// One queued write.
pub(super) struct Job {
    pub op: WriteOp,
    pub fence: Option<Fence>,
    /// The epoch of the term the op was handed over in ([`TermFence::epoch`]): it commits only
    /// in a group of that same term, so a write of a term that ended never commits in a later
    /// one (a node that lost the lease and took it again).
    pub epoch: Option<i64>,
    pub reply: Reply,
}

/// The writer's connection and what it has prepared on it.
pub(super) struct Session {
    pub client: Client,
    statements: Statements,
}

impl Session {
    /// Connects with the writer's settings (`config` carries them) and prepares statements.
    pub(super) async fn open(config: &tokio_postgres::Config) -> Result<Session, StorageError> {
        let (client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|e| describe("connect", &e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgresql writer connection ended");
            }
        });
        let statements = Statements::prepare(&client)
            .await
            .map_err(|e| describe("prepare", &e))?;
        Ok(Session { client, statements })
    }
}

/// The writer: its connection (`None` until connected, or after it broke).
pub(super) struct Writer {
    config: tokio_postgres::Config,
    /// `last_writer` of unfenced writes: this backend's tag.
    tag: i64,
    /// Whose writes commit, checked in every group's transaction.
    term: std::sync::Arc<std::sync::Mutex<TermFence>>,
    session: Option<Session>,
    metrics: StorageMetrics,
}

/// How one pipelined run of a group ended.
enum Run {
    /// Every statement answered and COMMIT succeeded: one outcome per op.
    Committed(Vec<Result<(), StorageError>>),
    /// The statement of the op at this position failed; the transaction is rolled back.
    OpFailed(usize, StorageError),
    /// This node does not hold the term it writes for: the transaction is rolled back.
    Fenced(String),
    /// The connection failed; nothing was committed if `before_commit`.
    Broken {
        error: StorageError,
        before_commit: bool,
    },
}

impl Writer {
    pub(super) fn new(
        config: tokio_postgres::Config,
        tag: i64,
        term: std::sync::Arc<std::sync::Mutex<TermFence>>,
        metrics: StorageMetrics,
    ) -> Self {
        Writer {
            config,
            tag,
            term,
            session: None,
            metrics,
        }
    }

    /// Commits groups until every sender is gone, then reports on `done`.
    pub(super) async fn run(
        mut self,
        mut receiver: mpsc::Receiver<Job>,
        done: watch::Sender<bool>,
    ) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        // `recv_many` takes whatever queued up while the last group committed, without
        // waiting for more: under load groups grow by themselves, and an idle server commits
        // a lone write at once.
        while receiver.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            let term = lock(&self.term).clone();
            let (current, stale): (Vec<Job>, Vec<Job>) =
                jobs.drain(..).partition(|j| j.epoch == term.epoch());
            for job in stale {
                let _ = job.reply.send(Err(StorageError::Conflict(
                    "handed over in a term of this node that has ended".into(),
                )));
            }
            let work: Vec<(&WriteOp, Option<Fence>)> =
                current.iter().map(|j| (&j.op, j.fence)).collect();
            if work.is_empty() {
                continue;
            }
            self.metrics.batch_writes.observe(work.len() as f64);
            let results = self.commit_under(&work, &term).await;
            for (job, result) in current.into_iter().zip(results) {
                // The caller may have stopped waiting; the op is committed all the same.
                let _ = job.reply.send(result);
            }
        }
        drop(self.session.take());
        let _ = done.send(true);
    }

    /// Applies `ops` in one transaction under the current term and returns one result per op.
    #[cfg(test)]
    pub(super) async fn commit(
        &mut self,
        ops: &[(&WriteOp, Option<Fence>)],
    ) -> Vec<Result<(), StorageError>> {
        let term = lock(&self.term).clone();
        self.commit_under(ops, &term).await
    }

    /// Applies `ops` in one transaction, checked against `term`, and returns one result per op.
    async fn commit_under(
        &mut self,
        ops: &[(&WriteOp, Option<Fence>)],
        term: &TermFence,
    ) -> Vec<Result<(), StorageError>> {
        let mut results: Vec<Option<Result<(), StorageError>>> = ops.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..ops.len()).collect();
        // A connection found broken before COMMIT was sent committed nothing, so the group
        // may run again on a new one: once, so that a PostgreSQL restart costs no failed write.
        let mut reconnects_left = 1;
        while !pending.is_empty() {
            let started = Instant::now();
            let group: Vec<_> = pending.iter().map(|&i| ops[i]).collect();
            let run = match tokio::time::timeout(GROUP_TIMEOUT, self.attempt(&group, term)).await {
                Ok(run) => run,
                Err(_) => Run::Broken {
                    error: StorageError::Database(format!(
                        "postgresql did not answer within {GROUP_TIMEOUT:?}"
                    )),
                    before_commit: false,
                },
            };
            match run {
                Run::Committed(outcomes) => {
                    self.metrics
                        .commit_seconds
                        .observe(started.elapsed().as_secs_f64());
                    for (&i, outcome) in pending.iter().zip(outcomes) {
                        results[i] = Some(outcome);
                    }
                    pending.clear();
                }
                Run::OpFailed(position, error) => {
                    results[pending.remove(position)] = Some(Err(error));
                }
                Run::Fenced(why) => {
                    for i in pending.drain(..) {
                        results[i] = Some(Err(StorageError::Conflict(why.clone())));
                    }
                }
                Run::Broken {
                    error,
                    before_commit,
                } => {
                    self.session = None;
                    if before_commit && reconnects_left > 0 {
                        reconnects_left -= 1;
                        continue;
                    }
                    for i in pending.drain(..) {
                        results[i] = Some(Err(StorageError::Database(error.to_string())));
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(StorageError::Closed)))
            .collect()
    }

    /// Runs `group` on the open session, connecting first when there is none or it broke
    /// (failing the group when PostgreSQL cannot be reached).
    async fn attempt(&mut self, group: &[(&WriteOp, Option<Fence>)], term: &TermFence) -> Run {
        let tag = self.tag;
        if let TermFence::Lease { epoch: None, .. } = term {
            return Run::Fenced("this node is not the cluster's primary".into());
        }
        match self.session().await {
            Ok(session) => run_group(session, group, tag, term).await,
            Err(error) => Run::Broken {
                error,
                before_commit: false,
            },
        }
    }

    /// The open session, connecting first when there is none or it broke.
    async fn session(&mut self) -> Result<&Session, StorageError> {
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            self.session = None;
        }
        if self.session.is_none() {
            self.session = Some(Session::open(&self.config).await?);
        }
        self.session.as_ref().ok_or(StorageError::Closed)
    }

    #[cfg(test)]
    pub(super) async fn session_for_tests(&mut self) -> Result<&Session, StorageError> {
        self.session().await
    }
}

/// The statement that checks, inside a group's transaction, that this node still holds the
/// lease it writes for; `FOR SHARE` makes a takeover wait for the group's commit.
const TERM_CHECK: &str = "SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 \
                          AND expires_at > now() FOR SHARE";

/// BEGIN, the term check (in a cluster), every op's statement and then COMMIT, pipelined:
/// BEGIN, the check and the statements go out together and COMMIT follows once every answer
/// is in, two round trips for the group.
async fn run_group(
    session: &Session,
    ops: &[(&WriteOp, Option<Fence>)],
    tag: i64,
    term: &TermFence,
) -> Run {
    let client = &session.client;
    let begin = async {
        let begin = client.batch_execute("BEGIN");
        match term {
            TermFence::Open => begin.await.map(|()| true),
            TermFence::Lease {
                name,
                holder,
                epoch,
            } => {
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [name, holder, epoch];
                let check = client.query_opt(TERM_CHECK, &params);
                // Joined, so both are sent (in this order) before the statements.
                let (begun, held) = futures_util::future::join(begin, check).await;
                begun?;
                held.map(|row| row.is_some())
            }
        }
    };
    let statements = ops
        .iter()
        .map(|(op, fence)| ops::run(client, &session.statements, op, *fence, tag));
    let (begun, answers) = in_order(begin, statements.collect()).await;
    match begun {
        Err(e) => return broken(client, "begin", &e, true),
        Ok(false) => {
            return match client.batch_execute("ROLLBACK").await {
                Ok(()) => {
                    Run::Fenced("this node no longer holds the cluster's primary lease".into())
                }
                Err(e) => broken(client, "rollback", &e, true),
            }
        }
        Ok(true) => {}
    }
    let mut outcomes = Vec::with_capacity(answers.len());
    for (position, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) if e.is_closed() || client.is_closed() => {
                return broken(client, "write", &e, true)
            }
            Err(e) => {
                let error = ops::statement_error(&e);
                return match client.batch_execute("ROLLBACK").await {
                    Ok(()) => Run::OpFailed(position, error),
                    Err(e) => broken(client, "rollback", &e, true),
                };
            }
        }
    }
    match client.batch_execute("COMMIT").await {
        Ok(()) => Run::Committed(outcomes),
        // COMMIT was sent: it may have committed or not. Every op of the group is failed,
        // never falsely acknowledged; their writers resync from storage.
        Err(e) => broken(client, "commit", &e, false),
    }
}

fn broken(client: &Client, what: &str, e: &tokio_postgres::Error, before_commit: bool) -> Run {
    tracing::warn!(error = %e, closed = client.is_closed(), "postgresql {what} failed");
    Run::Broken {
        error: describe(what, e),
        before_commit,
    }
}

type Pinned<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `first` and then `rest` concurrently, polling them in that order every time.
///
/// tokio-postgres sends a query when its future is first polled, so this order is the order
/// of the queries on the wire (general combinators such as `join_all` do not promise an
/// order of first polls past a few dozen futures).
async fn in_order<'a, A, B>(
    first: impl Future<Output = A> + Send + 'a,
    rest: Vec<impl Future<Output = B> + Send + 'a>,
) -> (A, Vec<B>) {
    let mut first: Pinned<'a, A> = Box::pin(first);
    let mut first_done = None;
    let mut rest: Vec<Option<Pinned<'a, B>>> = rest
        .into_iter()
        .map(|f| Some(Box::pin(f) as Pinned<'a, B>))
        .collect();
    let mut rest_done: Vec<Option<B>> = rest.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        if first_done.is_none() {
            if let Poll::Ready(out) = first.as_mut().poll(cx) {
                first_done = Some(out);
            }
        }
        for (slot, done) in rest.iter_mut().zip(rest_done.iter_mut()) {
            if let Some(future) = slot {
                if let Poll::Ready(out) = future.as_mut().poll(cx) {
                    *done = Some(out);
                    *slot = None;
                }
            }
        }
        if first_done.is_none() || rest.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        let rest: Option<Vec<B>> = rest_done.iter_mut().map(Option::take).collect();
        match (first_done.take(), rest) {
            (Some(first), Some(rest)) => Poll::Ready((first, rest)),
            _ => Poll::Pending,
        }
    })
    .await
}
