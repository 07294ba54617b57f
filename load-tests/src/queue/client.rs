//! One waiting client of the queue scenario: connects, starts a conversation, and records
//! every estimate it is told until a professional takes the chat and closes it.

use crate::handshake::{client_hello, StartRequest, REPLY_TIMEOUT};
use crate::ws::{self, Endpoint, FrameReader, Incoming, ServerUrl, SourceAddrs};
use anyhow::{Context, Result};
use console_protocol::{ClientFrame, Codec, Envelope, ServerFrame, Start, SystemKind};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// What a client task needs.
pub struct Job {
    pub server: ServerUrl,
    pub sources: Arc<SourceAddrs>,
    pub codec: Codec,
    pub request: Arc<StartRequest>,
    /// Bounds the connections being opened at once.
    pub opening: Arc<Semaphore>,
    pub start_at: Instant,
    pub deadline: Instant,
}

/// An estimate the client was shown: when, at which place, how many seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub at: Instant,
    pub position: u32,
    pub wait_s: u64,
}

/// Everything one client saw.
#[derive(Debug, Clone, Default)]
pub struct ClientRecord {
    /// When `start` was sent.
    pub started: Option<Instant>,
    /// When `queued` arrived.
    pub queued: Option<Instant>,
    /// The `queued` frame's estimate, then each `queue` update, in order.
    pub estimates: Vec<Estimate>,
    /// When the `assigned` system event arrived.
    pub assigned: Option<Instant>,
    /// When the `closed` frame arrived.
    pub closed: Option<Instant>,
    pub error: Option<String>,
}

impl ClientRecord {
    /// A client that never got going.
    pub fn failed(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
}

/// Runs one client to the end of its conversation (or the deadline).
pub async fn run(job: Job) -> ClientRecord {
    let mut record = ClientRecord::default();
    tokio::time::sleep_until(job.start_at.into()).await;
    if let Err(e) = serve(&job, &mut record).await {
        record.error = Some(format!("{e:#}"));
    }
    record
}

async fn serve(job: &Job, record: &mut ClientRecord) -> Result<()> {
    let permit = job.opening.acquire().await.context("semaphore closed")?;
    let source = job.sources.next_for(&job.server.addr);
    let socket = ws::connect(&job.server, Endpoint::Client, job.codec, source).await?;
    let (mut writer, mut reader) = ws::split(socket, job.codec);
    tokio::time::timeout(REPLY_TIMEOUT, client_hello(&mut writer, &mut reader, None))
        .await
        .context("no welcome in time")??;
    let start = ClientFrame::Start(Start {
        service: job.request.service.clone(),
        topic: None,
        team: job.request.team.clone(),
        questionnaire: job.request.questionnaire.clone(),
        client_ref: Some(uuid::Uuid::new_v4().to_string()),
        lang: None,
        contact: None,
    });
    record.started = Some(Instant::now());
    writer.send(&Envelope::new(start)).await?;
    let outcome = follow(&mut reader, record, job.deadline, permit).await;
    let _ = tokio::time::timeout(REPLY_TIMEOUT, writer.close()).await;
    outcome
}

/// Reads until the conversation is closed; the opening permit is returned once `queued`
/// arrived.
async fn follow(
    reader: &mut FrameReader,
    record: &mut ClientRecord,
    deadline: Instant,
    permit: tokio::sync::SemaphorePermit<'_>,
) -> Result<()> {
    let mut permit = Some(permit);
    loop {
        let incoming = tokio::time::timeout_at(deadline.into(), reader.next())
            .await
            .map_err(|_| anyhow::anyhow!("timed out: {}", progress(record)))?;
        let now = Instant::now();
        let frame = match incoming {
            Incoming::Frame(envelope) => envelope.frame,
            Incoming::Undecodable(e) => anyhow::bail!("undecodable frame: {e}"),
            Incoming::Closed(code) => {
                anyhow::bail!(
                    "server closed the connection ({code:?}): {}",
                    progress(record)
                )
            }
        };
        match frame {
            ServerFrame::Queued(q) => {
                record.queued = Some(now);
                record.estimates.push(Estimate {
                    at: now,
                    position: q.position,
                    wait_s: q.estimated_wait_s,
                });
                permit.take();
            }
            ServerFrame::Queue(p) if record.assigned.is_none() => {
                record.estimates.push(Estimate {
                    at: now,
                    position: p.position,
                    wait_s: p.estimated_wait_s,
                });
            }
            ServerFrame::System(s) if s.event == SystemKind::Assigned => {
                record.assigned.get_or_insert(now);
            }
            ServerFrame::Closed(_) => {
                record.closed = Some(now);
                return Ok(());
            }
            ServerFrame::Error(e) => {
                anyhow::bail!("error {}: {}", e.code.as_str(), e.message)
            }
            _ => {}
        }
    }
}

fn progress(record: &ClientRecord) -> &'static str {
    match (record.queued, record.assigned) {
        (None, _) => "never queued",
        (Some(_), None) => "queued, never assigned",
        (Some(_), Some(_)) => "assigned, never closed",
    }
}
