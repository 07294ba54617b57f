//! Scenario `clinic` against the Socket.IO peer: P professional sockets (to `--console-url`
//! when given: another process of a peer running on the Redis adapter), each joining the
//! rooms of its share of the N conversations (round-robin, the load generator assigns), and N
//! client sockets joining one room each; then both sides send open-loop at R msg/s for D s.
//! Same send plans, stamps, ledgers, histograms and `/proc` samples as the Luukku run, so the
//! [`ClinicResult`] reads the same.

use super::client::{self, AckReply, Incoming, SioReader, SioWriter};
use super::require_json;
use crate::accounting::{Direction, Ledger, Stamp, StreamKey};
use crate::clinic::{validate, ClinicArgs, ClinicResult, Exchange, Staffing};
use crate::proc_stats::Proc;
use crate::report::round3;
use crate::traffic::{PeerStats, Pending, PlannedStream, RunClock, SendPlan};
use crate::ws::{ServerUrl, SourceAddrs};
use anyhow::{bail, Context, Result};
use console_protocol::ConversationId;
use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// Head start between spawning the senders and the first scheduled message (as in Luukku's
/// clinic).
const LEAD: Duration = Duration::from_millis(200);

/// Runs the scenario once against a Socket.IO server and returns its result.
pub async fn measure(args: &ClinicArgs) -> Result<ClinicResult> {
    validate(args)?;
    require_json(&args.target)?;
    let server = ServerUrl::resolve(&args.target.url).await?;
    let console_server = ServerUrl::resolve(args.target.console_url()).await?;
    let staffing = staff(args)?;
    let shared = Shared {
        server,
        console_server,
        clock: RunClock::start(),
        cancel: CancellationToken::new(),
        sources: SourceAddrs::default(),
    };
    let setup_started = Instant::now();
    let professionals = staffing.slots.len();
    let owned = (0..professionals).map(|p| {
        Ok(Side {
            convs: (p..args.conversations)
                .step_by(professionals)
                .map(conv_number)
                .collect::<Result<_>>()?,
            sends: Direction::ProfessionalToClient,
        })
    });
    let professionals = open_peers(&shared, owned.collect::<Result<Vec<_>>>()?, args).await?;
    eprintln!(
        "clinic: {} professionals joined their rooms; opening {} clients",
        professionals.len(),
        args.conversations
    );
    let clients = (0..args.conversations).map(|c| {
        Ok(Side {
            convs: vec![conv_number(c)?],
            sends: Direction::ClientToProfessional,
        })
    });
    let clients = open_peers(&shared, clients.collect::<Result<Vec<_>>>()?, args).await?;
    let setup_s = setup_started.elapsed().as_secs_f64();
    eprintln!(
        "clinic: all joined after {setup_s:.1} s; {} s of traffic",
        args.duration_s
    );
    let peers = professionals.into_iter().chain(clients).collect();
    let exchange = exchange(args, &shared, peers).await?;
    Ok(ClinicResult::new(
        args,
        &staffing,
        staffing.slots.len(),
        setup_s,
        &exchange,
    ))
}

/// One professional socket per `--professionals`, each with rooms for its share.
fn staff(args: &ClinicArgs) -> Result<Staffing> {
    let slots = (0..args.professionals)
        .map(|p| format!("professional-{p}"))
        .collect();
    let capacity = args.conversations.div_ceil(args.professionals);
    Ok(Staffing {
        slots,
        capacity: u32::try_from(capacity).context("too many conversations")?,
    })
}

fn conv_number(index: usize) -> Result<u32> {
    u32::try_from(index).context("too many conversations")
}

/// The room of conversation `conv`.
fn room(conv: u32) -> String {
    format!("c{conv}")
}

/// What every connection of a run shares.
struct Shared {
    /// Where the clients connect.
    server: ServerUrl,
    /// Where the professionals connect (the same process, or another one).
    console_server: ServerUrl,
    clock: RunClock,
    /// Stops every reader task.
    cancel: CancellationToken,
    sources: SourceAddrs,
}

/// Which conversations a socket is in, and which direction of them it writes.
struct Side {
    convs: Vec<u32>,
    sends: Direction,
}

/// One open socket with its reader task running.
struct Peer {
    side: Side,
    writer: SioWriter,
    pending: Arc<PendingAcks>,
    next_ack: u64,
    reader: JoinHandle<PeerStats>,
}

/// Messages of one socket that await their ack, by ack id; shared by writer and reader.
#[derive(Debug, Default)]
struct PendingAcks {
    inner: Mutex<HashMap<u64, Pending>>,
}

impl PendingAcks {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Pending>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens the sockets of `sides`, `--concurrency` at a time, in order.
async fn open_peers(shared: &Shared, sides: Vec<Side>, args: &ClinicArgs) -> Result<Vec<Peer>> {
    let count = sides.len();
    let mut opening = futures_util::stream::iter(sides)
        .map(|side| open_peer(shared, side))
        .buffered(args.target.concurrency.max(1));
    let mut peers = Vec::with_capacity(count);
    let (mut failed, mut first_error) = (0, None);
    while let Some(result) = opening.next().await {
        match result {
            Ok(peer) => {
                peers.push(peer);
                if peers.len() % 1000 == 0 {
                    eprintln!("clinic: {} sockets joined", peers.len());
                }
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    if let Some(e) = first_error {
        bail!("{failed} of {count} sockets failed to connect and join, first: {e}");
    }
    Ok(peers)
}

async fn open_peer(shared: &Shared, side: Side) -> Result<Peer> {
    let server = match side.sends {
        Direction::ProfessionalToClient => &shared.console_server,
        Direction::ClientToProfessional => &shared.server,
    };
    let source = shared.sources.next_for(&server.addr);
    let (writer, mut reader) = client::connect(server, source).await?;
    let rooms: Vec<String> = side.convs.iter().copied().map(room).collect();
    let next_ack = client::join(&writer, &mut reader, &rooms, 0).await?;
    let pending = Arc::new(PendingAcks::default());
    let receives = match side.sends {
        Direction::ClientToProfessional => Direction::ProfessionalToClient,
        Direction::ProfessionalToClient => Direction::ClientToProfessional,
    };
    let recorder = Recorder {
        receives,
        clock: shared.clock,
        pending: pending.clone(),
        stats: PeerStats::default(),
    };
    let reader = tokio::spawn(read_until_cancelled(
        reader,
        recorder,
        shared.cancel.clone(),
    ));
    Ok(Peer {
        side,
        writer,
        pending,
        next_ack,
        reader,
    })
}

/// The `msg` event the server emits to the other member of the room.
#[derive(Deserialize)]
struct Delivered {
    body: String,
}

/// The `msg` event a socket sends.
#[derive(Serialize)]
struct Outgoing<'a> {
    room: &'a str,
    id: &'a str,
    body: &'a str,
}

/// Turns the events and acks of one socket into [`PeerStats`].
struct Recorder {
    receives: Direction,
    clock: RunClock,
    pending: Arc<PendingAcks>,
    stats: PeerStats,
}

impl Recorder {
    fn on_ack(&mut self, id: u64, args: &str, now: Instant) {
        let Some(p) = self.pending.lock().remove(&id) else {
            self.stats.count_error("unmatched_ack");
            return;
        };
        match AckReply::parse(args) {
            Ok(AckReply { error: Some(e), .. }) => self.stats.count_error(e),
            Ok(AckReply { seq: Some(_), .. }) => self.stats.record_ack(p, now),
            Ok(_) | Err(_) => self.stats.count_error("undecodable"),
        }
    }

    fn on_event(&mut self, args: &str, now: Instant) {
        let Ok((name, event)) = serde_json::from_str::<(String, Delivered)>(args) else {
            self.stats.count_error("undecodable");
            return;
        };
        if name != "msg" {
            self.stats.count_error("unexpected_event");
            return;
        }
        self.stats
            .record_delivery(&event.body, self.receives, &self.clock, now);
    }
}

/// Reads `reader` until `cancel` fires or the server closes, recording traffic.
async fn read_until_cancelled(
    mut reader: SioReader,
    mut recorder: Recorder,
    cancel: CancellationToken,
) -> PeerStats {
    loop {
        let incoming = tokio::select! {
            _ = cancel.cancelled() => break,
            incoming = reader.next() => incoming,
        };
        match incoming {
            Incoming::Event { args } => recorder.on_event(&args, Instant::now()),
            Incoming::Ack { id, args } => recorder.on_ack(id, &args, Instant::now()),
            Incoming::Open | Incoming::Connected => {}
            Incoming::Refused(_) => recorder.stats.count_error("refused"),
            Incoming::Undecodable(_) => recorder.stats.count_error("undecodable"),
            Incoming::Closed(why) => {
                recorder.stats.count_error(why);
                break;
            }
        }
    }
    recorder.stats
}

/// What one sender did: messages sent per stream, and why it stopped early, if it did.
struct SenderOutcome {
    sent: HashMap<StreamKey, u64>,
    error: Option<String>,
}

/// Sends `plan` on `writer` as `msg` events with acks numbered from `next_ack`: everything
/// due is fed, then flushed once before sleeping until the next due time (as `run_plan`).
async fn run_plan(
    writer: SioWriter,
    plan: SendPlan,
    clock: RunClock,
    pending: Arc<PendingAcks>,
    mut next_ack: u64,
    body_bytes: usize,
) -> SenderOutcome {
    let mut sent: HashMap<StreamKey, u64> = HashMap::new();
    let mut sends = plan.sends().peekable();
    let streams = plan.streams();
    let mut error = None;
    while let Some(&(first_due_ns, _, _)) = sends.peek() {
        tokio::time::sleep_until(clock.at(first_due_ns).into()).await;
        let mut sink = writer.lock().await;
        let now = Instant::now();
        while let Some((due_ns, i, n)) = sends.next_if(|&(due_ns, _, _)| clock.at(due_ns) <= now) {
            let Some(stream) = streams.get(i) else {
                continue;
            };
            let key = stream.key;
            let due = clock.at(due_ns);
            let id = uuid::Uuid::new_v4().to_string();
            let body = Stamp {
                conv: key.conv,
                n,
                t_ns: due_ns,
            }
            .encode(body_bytes);
            let msg = Outgoing {
                room: stream.conversation.as_str(),
                id: &id,
                body: &body,
            };
            let packet = match super::packet::event_with_ack("msg", &msg, next_ack) {
                Ok(packet) => packet,
                Err(e) => {
                    error = Some(format!("encoding failed: {e:#}"));
                    break;
                }
            };
            pending.lock().insert(next_ack, Pending { key, n, due });
            next_ack += 1;
            if let Err(e) = sink.feed(Message::text(packet)).await {
                error = Some(format!("send failed: {e:#}"));
                break;
            }
            *sent.entry(key).or_default() += 1;
        }
        if error.is_none() {
            if let Err(e) = sink.flush().await {
                error = Some(format!("send failed: {e:#}"));
            }
        }
        if error.is_some() {
            break;
        }
    }
    SenderOutcome { sent, error }
}

/// The traffic phase: every socket's send plan, the drain, the `/proc` samples, closing.
async fn exchange(args: &ClinicArgs, shared: &Shared, peers: Vec<Peer>) -> Result<Exchange> {
    let watch_before = args.watch.sample()?;
    let loader_before = Proc::Myself.sample()?;
    let started = Instant::now();
    let clock = shared.clock;
    let period_ns = (1e9 / args.rate) as u64;
    let start_ns = clock.now_ns() + LEAD.as_nanos() as u64;
    let duration = Duration::from_secs_f64(args.duration_s);
    let mut readers = Vec::with_capacity(peers.len());
    let mut writers = Vec::with_capacity(peers.len());
    let mut senders = Vec::with_capacity(peers.len());
    for peer in peers {
        let streams = peer
            .side
            .convs
            .iter()
            .map(|&conv| {
                let key = StreamKey {
                    conv,
                    dir: peer.side.sends,
                };
                PlannedStream::spread(ConversationId(room(conv)), key, period_ns)
            })
            .collect();
        let plan = SendPlan::new(streams, start_ns, args.rate, duration, args.body_bytes);
        senders.push(tokio::spawn(run_plan(
            peer.writer.clone(),
            plan,
            clock,
            peer.pending,
            peer.next_ack,
            args.body_bytes,
        )));
        readers.push(peer.reader);
        writers.push(peer.writer);
    }
    let mut stats = PeerStats::default();
    let mut sender_errors = Vec::new();
    for outcome in join_all(senders).await {
        let outcome = outcome.context("sender task")?;
        stats.ledger.absorb(Ledger {
            sent: outcome.sent,
            ..Ledger::default()
        });
        sender_errors.extend(outcome.error);
    }
    tokio::time::sleep(Duration::from_secs_f64(args.drain_s)).await;
    let wall_s = started.elapsed().as_secs_f64();
    let watched = watch_before.until(args.watch.sample()?);
    let loader_after = Proc::Myself.sample()?;
    shared.cancel.cancel();
    for reader in join_all(readers).await {
        stats.absorb(reader.context("reader task")?);
    }
    close_all(writers).await;
    Ok(Exchange {
        stats,
        sender_errors,
        wall_s: round3(wall_s),
        watched,
        loader: (loader_before, loader_after),
    })
}

/// Closes every socket (the server forgets the rooms as they empty).
async fn close_all(writers: Vec<SioWriter>) {
    let closing = join_all(writers.iter().map(SioWriter::close));
    if tokio::time::timeout(Duration::from_secs(60), closing)
        .await
        .is_err()
    {
        eprintln!("clinic: closing the sockets took over 60 s; gave up");
    }
}
