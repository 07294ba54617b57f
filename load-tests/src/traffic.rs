//! Open-loop message traffic over established connections, reusable by every scenario.
//! A [`SendPlan`] fixes each message's send time in advance; the writer task sends on that
//! schedule however late the server is, and latency is measured from the scheduled time, so
//! a slow server cannot hide its stalls (no coordinated omission). The reader task feeds
//! every frame to a [`TrafficRecorder`], which fills a [`PeerStats`].

use crate::accounting::{Direction, Ledger, Stamp, StreamKey};
use crate::report::Latencies;
use crate::ws::{FrameReader, FrameWriter, Incoming};
use console_protocol::{ClientMsgId, ConversationId, Role, SendMessage, ServerFrame};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The shared time base: message stamps carry nanoseconds since `start`.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    start: Instant,
}

impl RunClock {
    /// A clock starting now.
    pub fn start() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// Nanoseconds since the start.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The instant `ns` after the start.
    pub fn at(&self, ns: u64) -> Instant {
        self.start + Duration::from_nanos(ns)
    }
}

/// A sent message waiting for its ack.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub key: StreamKey,
    pub n: u64,
    /// When it was scheduled to go out.
    pub due: Instant,
}

/// Messages of one connection that await their ack, shared by its writer and reader.
#[derive(Debug, Default)]
pub struct PendingAcks {
    inner: Mutex<HashMap<ClientMsgId, Pending>>,
}

impl PendingAcks {
    fn insert(&self, id: ClientMsgId, pending: Pending) {
        self.lock().insert(id, pending);
    }

    fn take(&self, id: &ClientMsgId) -> Option<Pending> {
        self.lock().remove(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientMsgId, Pending>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// When and what one connection sends.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// Sorted by `phase_ns`, each below `period_ns`.
    streams: Vec<PlannedStream>,
    start_ns: u64,
    period_ns: u64,
    end_ns: u64,
    body_bytes: usize,
}

/// One stream a connection sends: the conversation and the offset of its first message.
#[derive(Debug, Clone)]
pub struct PlannedStream {
    pub conversation: ConversationId,
    pub key: StreamKey,
    pub phase_ns: u64,
}

impl PlannedStream {
    /// A stream whose first send is spread over the first period by a golden-ratio sequence,
    /// so that thousands of streams do not fire at the same instant.
    pub fn spread(conversation: ConversationId, key: StreamKey, period_ns: u64) -> Self {
        let index = u64::from(key.conv) * 2 + u64::from(key.dir == Direction::ProfessionalToClient);
        let fraction = (index as f64 * 0.618_033_988_749_895).fract();
        Self {
            conversation,
            key,
            phase_ns: (fraction * period_ns as f64) as u64,
        }
    }
}

impl SendPlan {
    /// `rate` messages per second per stream from `start_ns` for `duration`.
    pub fn new(
        mut streams: Vec<PlannedStream>,
        start_ns: u64,
        rate: f64,
        duration: Duration,
        body_bytes: usize,
    ) -> Self {
        let period_ns = (1e9 / rate).max(1.0) as u64;
        for s in &mut streams {
            s.phase_ns %= period_ns;
        }
        streams.sort_by_key(|s| s.phase_ns);
        let end_ns = start_ns + u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Self {
            streams,
            start_ns,
            period_ns,
            end_ns,
            body_bytes,
        }
    }

    /// The streams, indexed as [`SendPlan::sends`] indexes them.
    pub fn streams(&self) -> &[PlannedStream] {
        &self.streams
    }

    /// Every send in time order: (scheduled ns, stream index, counter).
    pub fn sends(&self) -> impl Iterator<Item = (u64, usize, u64)> + '_ {
        (0u64..)
            .map(move |round| (round, self.start_ns + round * self.period_ns))
            .take_while(move |&(_, round_start)| round_start < self.end_ns)
            .flat_map(move |(round, round_start)| {
                self.streams
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| (round_start + s.phase_ns, i, round))
                    .filter(move |&(due, _, _)| due < self.end_ns)
            })
    }
}

/// What a writer did: messages sent per stream, and why it stopped early, if it did.
pub struct SenderOutcome {
    pub writer: FrameWriter,
    pub sent: HashMap<StreamKey, u64>,
    pub error: Option<String>,
}

/// Sends `plan` on `writer`, each message wrapped into the endpoint's frame by `wrap`.
pub async fn run_plan<F: Serialize>(
    mut writer: FrameWriter,
    plan: SendPlan,
    clock: RunClock,
    pending: Arc<PendingAcks>,
    wrap: impl Fn(SendMessage) -> F,
) -> SenderOutcome {
    let mut sent: HashMap<StreamKey, u64> = HashMap::new();
    let mut error = None;
    for (due_ns, i, n) in plan.sends() {
        let stream = &plan.streams[i];
        let due = clock.at(due_ns);
        if due > Instant::now() {
            // Everything that was due is buffered: write it out before sleeping.
            if let Err(e) = writer.flush().await {
                error = Some(format!("send failed: {e:#}"));
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let id = ClientMsgId(uuid::Uuid::new_v4().to_string());
        let body = Stamp {
            conv: stream.key.conv,
            n,
            t_ns: due_ns,
        }
        .encode(plan.body_bytes);
        let key = stream.key;
        pending.insert(id.clone(), Pending { key, n, due });
        let frame = wrap(SendMessage {
            conversation: stream.conversation.clone(),
            client_msg_id: id,
            body,
            attachments: Vec::new(),
            sms: false,
        });
        if let Err(e) = writer.feed(&frame).await {
            error = Some(format!("send failed: {e:#}"));
            break;
        }
        *sent.entry(key).or_default() += 1;
    }
    if error.is_none() {
        if let Err(e) = writer.flush().await {
            error = Some(format!("send failed: {e:#}"));
        }
    }
    SenderOutcome {
        writer,
        sent,
        error,
    }
}

/// What one connection observed.
#[derive(Debug, Default)]
pub struct PeerStats {
    /// Scheduled send → ack, for messages this connection sent.
    pub ack: Latencies,
    /// Scheduled send → `message` event, for messages this connection received.
    pub e2e: Latencies,
    /// Error frames by code, plus `close_<code>` and `undecodable`.
    pub errors: BTreeMap<String, u64>,
    pub ledger: Ledger,
}

impl PeerStats {
    /// Adds another connection's observations.
    pub fn absorb(&mut self, other: PeerStats) {
        self.ack.absorb(&other.ack);
        self.e2e.absorb(&other.e2e);
        for (code, count) in other.errors {
            *self.errors.entry(code).or_default() += count;
        }
        self.ledger.absorb(other.ledger);
    }

    /// Counts one error of kind `code`.
    pub fn count_error(&mut self, code: impl Into<String>) {
        *self.errors.entry(code.into()).or_default() += 1;
    }

    /// The ack of `sent` arrived at `now`.
    pub fn record_ack(&mut self, sent: Pending, now: Instant) {
        self.ack.record(now.saturating_duration_since(sent.due));
        self.ledger.acks.entry(sent.key).or_default().record(sent.n);
    }

    /// A message with `body` (a [`Stamp`]) of the `receives` direction arrived at `now`.
    pub fn record_delivery(
        &mut self,
        body: &str,
        receives: Direction,
        clock: &RunClock,
        now: Instant,
    ) {
        let Ok(stamp) = Stamp::parse(body) else {
            self.count_error("foreign_body");
            return;
        };
        let key = StreamKey {
            conv: stamp.conv,
            dir: receives,
        };
        self.e2e
            .record(now.saturating_duration_since(clock.at(stamp.t_ns)));
        self.ledger
            .deliveries
            .entry(key)
            .or_default()
            .record(stamp.n);
    }
}

/// Whether a connection counts deliveries of a conversation (a professional with several
/// console connections receives each event on all of them; only one may count it).
pub type Ownership = Box<dyn Fn(&ConversationId) -> bool + Send>;

/// Turns the traffic frames of one connection into [`PeerStats`].
pub struct TrafficRecorder {
    /// The author role whose messages this connection receives.
    receives_from: Role,
    receives: Direction,
    owns: Ownership,
    clock: RunClock,
    pending: Arc<PendingAcks>,
    pub stats: PeerStats,
}

impl TrafficRecorder {
    /// A recorder for a connection that receives the messages `receives_from` writes.
    pub fn new(
        receives_from: Role,
        owns: Ownership,
        clock: RunClock,
        pending: Arc<PendingAcks>,
    ) -> Self {
        let receives = match receives_from {
            Role::Client => Direction::ClientToProfessional,
            _ => Direction::ProfessionalToClient,
        };
        Self {
            receives_from,
            receives,
            owns,
            clock,
            pending,
            stats: PeerStats::default(),
        }
    }

    /// Records `frame` if it is traffic (ack, message, error); hands back any other frame.
    pub fn on_frame<'f>(
        &mut self,
        frame: &'f ServerFrame,
        now: Instant,
    ) -> Option<&'f ServerFrame> {
        match frame {
            ServerFrame::Ack(ack) => {
                let pending = ack
                    .client_msg_id
                    .as_ref()
                    .and_then(|id| self.pending.take(id));
                match pending {
                    Some(p) => self.stats.record_ack(p, now),
                    None => self.stats.count_error("unmatched_ack"),
                }
                None
            }
            ServerFrame::Message(m) if m.from.role == self.receives_from => {
                if (self.owns)(&m.conversation) {
                    self.stats
                        .record_delivery(&m.body, self.receives, &self.clock, now);
                }
                None
            }
            ServerFrame::Message(_) => None,
            ServerFrame::Error(e) => {
                self.stats.count_error(e.code.as_str());
                None
            }
            other => Some(other),
        }
    }
}

/// Reads `reader` until `cancel` fires or the server closes, recording traffic and passing
/// every other frame to `on_other`.
pub async fn read_until_cancelled(
    mut reader: FrameReader,
    mut recorder: TrafficRecorder,
    cancel: CancellationToken,
    mut on_other: impl FnMut(&ServerFrame) + Send,
) -> PeerStats {
    loop {
        let incoming = tokio::select! {
            _ = cancel.cancelled() => break,
            incoming = reader.next() => incoming,
        };
        match incoming {
            Incoming::Frame(envelope) => {
                if let Some(other) = recorder.on_frame(&envelope.frame, Instant::now()) {
                    on_other(other);
                }
            }
            Incoming::Undecodable(_) => recorder.stats.count_error("undecodable"),
            Incoming::Closed(code) => {
                let code = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
                recorder.stats.count_error(format!("close_{code}"));
                break;
            }
        }
    }
    recorder.stats
}

#[cfg(test)]
#[path = "traffic_tests.rs"]
mod tests;
