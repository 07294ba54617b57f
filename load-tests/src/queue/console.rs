//! The professionals of the queue scenario: one console connection each. The serving ones are
//! available with a fixed capacity and close every chat a hold time after it was assigned;
//! the team's others are away. Chats a professional still held from an earlier run are closed
//! first, so they do not take capacity.

use crate::clinic::setup::{team_professionals, token};
use crate::handshake::{console_hello, REPLY_TIMEOUT};
use crate::ws::{self, Endpoint, FrameReader, FrameWriter, Incoming, ServerUrl, SourceAddrs};
use anyhow::{bail, Context, Result};
use console_protocol::{
    Availability, Close, Codec, ConsoleFrame, ConversationId, ConversationStatus, Envelope,
    ServerFrame, StatusUpdate,
};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long the consoles may take to confirm their status.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);

/// What the consoles did.
#[derive(Debug, Clone, Default)]
pub struct ConsoleStats {
    /// `assigned` frames for chats in progress.
    pub assigned: u64,
    /// `close` frames sent.
    pub closed: u64,
    /// Chats left over from an earlier run that were closed first.
    pub leftovers: u64,
    /// Error frames by code, and `close_<code>` / `dropped` for connections that ended.
    pub errors: BTreeMap<String, u64>,
}

impl ConsoleStats {
    fn absorb(&mut self, other: ConsoleStats) {
        self.assigned += other.assigned;
        self.closed += other.closed;
        self.leftovers += other.leftovers;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }
}

/// The running consoles.
pub struct ConsoleSet {
    /// Professionals available to take chats.
    pub serving: usize,
    tasks: Vec<JoinHandle<ConsoleStats>>,
    cancel: CancellationToken,
}

impl ConsoleSet {
    /// Connects every professional of `team`; the first `serving` (0: all) become available
    /// with `capacity` and close each chat `hold` after it was assigned.
    pub async fn open(
        server: &ServerUrl,
        sources: &SourceAddrs,
        codec: Codec,
        team: &str,
        serving: usize,
        capacity: u32,
        hold: Duration,
    ) -> Result<Self> {
        let members = team_professionals(server, team).await?;
        let serving = if serving == 0 { members.len() } else { serving };
        if serving > members.len() {
            bail!(
                "--professionals {serving}: team {team} has only {} professionals",
                members.len()
            );
        }
        let cancel = CancellationToken::new();
        let echoes = Arc::new(AtomicUsize::new(0));
        let mut set = ConsoleSet {
            serving,
            tasks: Vec::new(),
            cancel: cancel.clone(),
        };
        for (i, id) in members.iter().enumerate() {
            let token = token(server, id).await?;
            let source = sources.next_for(&server.addr);
            let socket = ws::connect(server, Endpoint::Console, codec, source).await?;
            let (mut writer, mut reader) = ws::split(socket, codec);
            let welcome = console_hello(&mut writer, &mut reader, token)
                .await
                .with_context(|| format!("console of {id}"))?;
            let leftovers: Vec<ConversationId> = welcome
                .conversations
                .iter()
                .filter(|c| c.status != ConversationStatus::Complete)
                .map(|c| c.conversation.clone())
                .collect();
            let status = if i < serving {
                StatusUpdate {
                    availability: Some(Availability::Available),
                    capacity: Some(capacity),
                    active: None,
                }
            } else {
                StatusUpdate {
                    availability: Some(Availability::Away),
                    capacity: None,
                    active: None,
                }
            };
            writer
                .send(&Envelope::new(ConsoleFrame::Status(status)))
                .await?;
            let console = Console {
                writer,
                reader,
                hold,
                closing: VecDeque::new(),
                scheduled: HashSet::new(),
                stats: ConsoleStats::default(),
                echoes: echoes.clone(),
            };
            set.tasks
                .push(tokio::spawn(console.run(leftovers, cancel.clone())));
        }
        let expected = members.len();
        let deadline = Instant::now() + STATUS_TIMEOUT;
        while echoes.load(Ordering::Relaxed) < expected {
            if Instant::now() >= deadline {
                let got = echoes.load(Ordering::Relaxed);
                set.close().await;
                bail!("only {got} of {expected} consoles confirmed their status in time");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(set)
    }

    /// Stops every console and sums what they did.
    pub async fn close(self) -> ConsoleStats {
        self.cancel.cancel();
        let mut total = ConsoleStats::default();
        for task in self.tasks {
            match task.await {
                Ok(stats) => total.absorb(stats),
                Err(_) => *total.errors.entry("console_task".into()).or_default() += 1,
            }
        }
        total
    }
}

/// One professional's connection.
struct Console {
    writer: FrameWriter,
    reader: FrameReader,
    hold: Duration,
    /// Chats to close, in due order (the hold is the same for all).
    closing: VecDeque<(Instant, ConversationId)>,
    scheduled: HashSet<ConversationId>,
    stats: ConsoleStats,
    echoes: Arc<AtomicUsize>,
}

impl Console {
    async fn run(
        mut self,
        leftovers: Vec<ConversationId>,
        cancel: CancellationToken,
    ) -> ConsoleStats {
        let now = Instant::now();
        for c in leftovers {
            self.stats.leftovers += 1;
            self.schedule(c, now);
        }
        loop {
            let next_due = self.closing.front().map(|(due, _)| *due);
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = sleep_until(next_due) => {
                    if let Some((_, conversation)) = self.closing.pop_front() {
                        if self.close_chat(conversation).await.is_err() {
                            self.count("send_failed");
                            break;
                        }
                    }
                }
                incoming = self.reader.next() => match incoming {
                    Incoming::Frame(envelope) => self.on_frame(envelope.frame),
                    Incoming::Undecodable(_) => self.count("undecodable"),
                    Incoming::Closed(code) => {
                        self.count(&code.map_or_else(|| "dropped".into(), |c| format!("close_{c}")));
                        break;
                    }
                },
            }
        }
        let _ = tokio::time::timeout(REPLY_TIMEOUT, self.writer.close()).await;
        self.stats
    }

    fn on_frame(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::Assigned(a) if a.status != Some(ConversationStatus::Complete) => {
                self.stats.assigned += 1;
                let due = Instant::now() + self.hold;
                self.schedule(a.conversation, due);
            }
            ServerFrame::Status(_) => {
                self.echoes.fetch_add(1, Ordering::Relaxed);
            }
            ServerFrame::Error(e) => self.count(e.code.as_str()),
            _ => {}
        }
    }

    fn schedule(&mut self, conversation: ConversationId, due: Instant) {
        if self.scheduled.insert(conversation.clone()) {
            self.closing.push_back((due, conversation));
        }
    }

    async fn close_chat(&mut self, conversation: ConversationId) -> Result<()> {
        let close = ConsoleFrame::Close(Close {
            conversation,
            summary: Some("load test".into()),
        });
        self.writer.send(&Envelope::new(close)).await?;
        self.stats.closed += 1;
        Ok(())
    }

    fn count(&mut self, code: &str) {
        *self.stats.errors.entry(code.to_owned()).or_default() += 1;
    }
}

/// Sleeps until `due`, or forever without one.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}
