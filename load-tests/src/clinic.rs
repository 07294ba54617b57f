//! Scenario `clinic`: P console connections of the team's professionals, N anonymous clients
//! each starting a conversation that the server auto-assigns; then both sides of every
//! conversation send open-loop at R msg/s for D s. Reports ack and end-to-end latency,
//! delivered throughput, lost / duplicated / reordered messages, errors, server CPU and RSS.

pub mod outcome;
pub mod setup;

use crate::accounting::{Direction, Ledger, StreamKey};
use crate::assignments::{Assignments, Slot};
use crate::handshake::StartRequest;
use crate::proc_stats::{Proc, ProcSample, WatchArgs, Watched};
use crate::report::{print_result, round3};
use crate::traffic::{run_plan, PeerStats, PlannedStream, RunClock, SendPlan, SenderOutcome};
use crate::ws::{FrameWriter, ServerUrl, SourceAddrs};
use crate::{System, TargetArgs};
use anyhow::{bail, Context, Result};
use console_protocol::{Answers, ClientFrame, Close, ConsoleFrame, ConversationId, Envelope};
use futures_util::future::join_all;
pub use outcome::ClinicResult;
use setup::{ClientPeer, ConsolePeer, Shared};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The server's per-connection inbound frame limits (see the rate limiter's configuration).
const CLIENT_FRAMES_PER_S: f64 = 20.0;
const CONSOLE_FRAMES_PER_S: f64 = 200.0;
/// The largest capacity a `status` frame may ask for.
const MAX_CAPACITY: usize = 100;
/// Head start between spawning the senders and the first scheduled message.
const LEAD: Duration = Duration::from_millis(200);
/// Closing conversations at the end: 100 per second per console, half its rate limit.
const CLOSE_PACE: Duration = Duration::from_millis(10);

/// Flags of `luukku-load clinic`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClinicArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Conversations (one anonymous client connection each).
    #[arg(long, default_value_t = 100)]
    pub conversations: usize,
    /// Console connections; the team's professionals are reused round-robin.
    #[arg(long, default_value_t = 3)]
    pub professionals: usize,
    /// Messages per second per conversation per side.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Seconds of traffic.
    #[arg(long, default_value_t = 10.0)]
    pub duration_s: f64,
    /// The server's processes and its services, for their CPU time and RSS.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// Team whose professionals serve (must use `auto` routing).
    #[arg(long, default_value = "station-a")]
    pub team: String,
    /// Service the clients start conversations with.
    #[arg(long, default_value = "health-chat")]
    pub service: String,
    /// Questionnaire answers sent with `start`, as a JSON object ("" for none).
    #[arg(long, default_value = r#"{"duration":"No symptoms"}"#)]
    pub questionnaire: String,
    /// Seconds to wait for late deliveries after the last send.
    #[arg(long, default_value_t = 2.0)]
    pub drain_s: f64,
    /// Seconds to wait until every conversation is assigned.
    #[arg(long, default_value_t = 60.0)]
    pub assign_timeout_s: f64,
    /// Pad message bodies to at least this many bytes.
    #[arg(long, default_value_t = 0)]
    pub body_bytes: usize,
}

/// How the console connections map to professionals.
pub struct Staffing {
    /// Professional id of each console connection.
    pub slots: Vec<String>,
    /// Capacity each professional announces.
    pub capacity: u32,
}

/// Runs the scenario, prints its result and fails when a message went missing.
pub async fn run(args: ClinicArgs) -> Result<()> {
    let result = measure(&args).await?;
    print_result(&result.human(), &result);
    let tally = result.tally;
    if tally.lost + tally.duplicated + tally.reordered + tally.unacked > 0 {
        bail!("messages went missing or out of order: {tally:?}");
    }
    Ok(())
}

/// Runs the scenario once and returns its result (the `ramp` scenario calls this per step).
pub async fn measure(args: &ClinicArgs) -> Result<ClinicResult> {
    let args = args.clone();
    validate(&args)?;
    if args.target.system == System::Socketio {
        return crate::sio::clinic::measure(&args).await;
    }
    let questionnaire = parse_questionnaire(&args.questionnaire)?;
    let server = ServerUrl::resolve(&args.target.url).await?;
    let console_server = ServerUrl::resolve(args.target.console_url()).await?;
    let team_members = setup::team_professionals(&console_server, &args.team).await?;
    let staffing = staff(&args, &team_members)?;
    warn_about_rate_limits(&args, &staffing);
    let distinct = &staffing.slots[..team_members.len().min(staffing.slots.len())];
    let tokens = setup::tokens(&console_server, distinct).await?;
    let shared = Shared {
        server,
        console_server,
        codec: args.target.codec(),
        clock: RunClock::start(),
        board: Arc::new(Assignments::default()),
        cancel: CancellationToken::new(),
        sources: SourceAddrs::default(),
    };
    let setup_started = Instant::now();
    let consoles =
        setup::open_consoles(&shared, &staffing.slots, &tokens, staffing.capacity).await?;
    let board = shared.board.clone();
    let expected = consoles.len();
    setup::wait_until(
        "status echoes",
        Duration::from_secs(10),
        || board.status_reply_count() >= expected,
        || format!("{} of {expected}", board.status_reply_count()),
    )
    .await?;
    eprintln!(
        "clinic: {expected} consoles available; starting {} conversations",
        args.conversations
    );
    let request = StartRequest {
        service: args.service.as_str().into(),
        team: Some(args.team.as_str().into()),
        questionnaire,
    };
    let clients = setup::open_clients(
        &shared,
        args.conversations,
        args.target.concurrency,
        &request,
    )
    .await?;
    let conversations: Vec<ConversationId> =
        clients.iter().map(|c| c.conversation.clone()).collect();
    wait_for_assignment(&args, &board, &conversations).await?;
    let setup_s = setup_started.elapsed().as_secs_f64();
    let owned = board.settle(&conversations);
    eprintln!(
        "clinic: all assigned after {setup_s:.1} s; {} s of traffic",
        args.duration_s
    );

    let exchange = exchange(&args, &shared, consoles, clients, &owned).await?;
    Ok(ClinicResult::new(
        &args,
        &staffing,
        distinct.len(),
        setup_s,
        &exchange,
    ))
}

pub(crate) fn validate(args: &ClinicArgs) -> Result<()> {
    if args.conversations == 0 || args.professionals == 0 {
        bail!("--conversations and --professionals must be at least 1");
    }
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        bail!("--rate must be a positive number");
    }
    if !(args.duration_s > 0.0 && args.drain_s >= 0.0 && args.assign_timeout_s > 0.0) {
        bail!("--duration-s, --drain-s and --assign-timeout-s must be positive");
    }
    Ok(())
}

fn parse_questionnaire(text: &str) -> Result<Option<Answers>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let answers = serde_json::from_str(text).context("--questionnaire is not a JSON object")?;
    Ok(Some(answers))
}

/// Reuses the team's professionals round-robin; each announces enough capacity for its share.
fn staff(args: &ClinicArgs, team_members: &[String]) -> Result<Staffing> {
    let slots: Vec<String> = (0..args.professionals)
        .map(|i| team_members[i % team_members.len()].clone())
        .collect();
    let distinct = team_members.len().min(args.professionals);
    let capacity = args.conversations.div_ceil(distinct);
    if capacity > MAX_CAPACITY {
        bail!(
            "{} conversations need capacity {capacity} for each of {distinct} professionals; the \
             server allows at most {MAX_CAPACITY}",
            args.conversations
        );
    }
    Ok(Staffing {
        slots,
        capacity: u32::try_from(capacity)?,
    })
}

fn warn_about_rate_limits(args: &ClinicArgs, staffing: &Staffing) {
    if args.rate > CLIENT_FRAMES_PER_S {
        eprintln!(
            "clinic: warning: {} msg/s per client exceeds the server's {CLIENT_FRAMES_PER_S} \
             frames/s per client connection",
            args.rate
        );
    }
    // The busiest console connection: a professional with the fewest connections.
    let mut connections: HashMap<&str, usize> = HashMap::new();
    for professional in &staffing.slots {
        *connections.entry(professional.as_str()).or_default() += 1;
    }
    let fewest = connections.values().copied().min().unwrap_or(1);
    let per_console = staffing.capacity.div_ceil(fewest as u32) as f64 * args.rate;
    if per_console > CONSOLE_FRAMES_PER_S {
        eprintln!(
            "clinic: warning: up to {per_console} msg/s on one console connection exceeds the \
             server's {CONSOLE_FRAMES_PER_S} frames/s; use more --professionals (a multiple of \
             the team's {} professionals spreads evenly)",
            connections.len()
        );
    }
}

async fn wait_for_assignment(
    args: &ClinicArgs,
    board: &Assignments,
    conversations: &[ConversationId],
) -> Result<()> {
    let n = conversations.len();
    setup::wait_until(
        "every conversation to be assigned",
        Duration::from_secs_f64(args.assign_timeout_s),
        || board.clients_assigned_count() >= n && board.claimed_among(conversations) == n,
        || {
            format!(
                "consoles got {} and clients {} of {n} assignments",
                board.claimed_among(conversations),
                board.clients_assigned_count()
            )
        },
    )
    .await
}

/// What the traffic phase produced.
pub struct Exchange {
    pub stats: PeerStats,
    pub sender_errors: Vec<String>,
    pub wall_s: f64,
    /// The server's processes and its services over the traffic and the drain.
    pub watched: Watched,
    pub loader: (ProcSample, ProcSample),
}

async fn exchange(
    args: &ClinicArgs,
    shared: &Shared,
    consoles: Vec<ConsolePeer>,
    clients: Vec<ClientPeer>,
    owned: &HashMap<Slot, Vec<ConversationId>>,
) -> Result<Exchange> {
    let watch_before = args.watch.sample()?;
    let loader_before = Proc::Myself.sample()?;
    let started = Instant::now();
    let Running {
        readers,
        client_senders,
        console_senders,
    } = spawn_senders(args, shared, consoles, clients, owned);
    let mut stats = PeerStats::default();
    let mut sender_errors = Vec::new();
    let mut client_writers = Vec::new();
    let mut console_writers = Vec::new();
    let (slots, console_senders): (Vec<Slot>, Senders) = console_senders.into_iter().unzip();
    for (slot, outcome) in slots.into_iter().zip(join_all(console_senders).await) {
        let outcome = outcome.context("console sender task")?;
        console_writers.push((slot, absorb_sender(outcome, &mut stats, &mut sender_errors)));
    }
    for outcome in join_all(client_senders).await {
        let outcome = outcome.context("client sender task")?;
        client_writers.push(absorb_sender(outcome, &mut stats, &mut sender_errors));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.drain_s)).await;
    let wall_s = started.elapsed().as_secs_f64();
    let watched = watch_before.until(args.watch.sample()?);
    let loader_after = Proc::Myself.sample()?;
    shared.cancel.cancel();
    for reader in join_all(readers).await {
        stats.absorb(reader.context("reader task")?);
    }
    close_everything(console_writers, owned, client_writers).await;
    Ok(Exchange {
        stats,
        sender_errors,
        wall_s: round3(wall_s),
        watched,
        loader: (loader_before, loader_after),
    })
}

type Senders = Vec<JoinHandle<SenderOutcome>>;

/// The tasks of the traffic phase.
struct Running {
    readers: Vec<JoinHandle<PeerStats>>,
    client_senders: Senders,
    console_senders: Vec<(Slot, JoinHandle<SenderOutcome>)>,
}

/// Starts every connection's send plan.
fn spawn_senders(
    args: &ClinicArgs,
    shared: &Shared,
    consoles: Vec<ConsolePeer>,
    clients: Vec<ClientPeer>,
    owned: &HashMap<Slot, Vec<ConversationId>>,
) -> Running {
    let clock = shared.clock;
    let period_ns = (1e9 / args.rate) as u64;
    let start_ns = clock.now_ns() + LEAD.as_nanos() as u64;
    let duration = Duration::from_secs_f64(args.duration_s);
    let plan = |streams| SendPlan::new(streams, start_ns, args.rate, duration, args.body_bytes);
    let number_of: HashMap<&ConversationId, u32> =
        clients.iter().map(|c| (&c.conversation, c.conv)).collect();
    let mut readers = Vec::new();
    let mut console_senders = Vec::new();
    for console in consoles {
        let streams = owned
            .get(&console.slot)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let conv = *number_of.get(c)?;
                let key = StreamKey {
                    conv,
                    dir: Direction::ProfessionalToClient,
                };
                Some(PlannedStream::spread(c.clone(), key, period_ns))
            })
            .collect();
        readers.push(console.reader);
        let wrap = |m| Envelope::new(ConsoleFrame::Send(m));
        let sender = run_plan(console.writer, plan(streams), clock, console.pending, wrap);
        console_senders.push((console.slot, tokio::spawn(sender)));
    }
    let mut client_senders = Vec::new();
    for client in clients {
        let key = StreamKey {
            conv: client.conv,
            dir: Direction::ClientToProfessional,
        };
        let streams = vec![PlannedStream::spread(client.conversation, key, period_ns)];
        readers.push(client.reader);
        let wrap = |m| Envelope::new(ClientFrame::Send(m));
        let sender = run_plan(client.writer, plan(streams), clock, client.pending, wrap);
        client_senders.push(tokio::spawn(sender));
    }
    Running {
        readers,
        client_senders,
        console_senders,
    }
}

fn absorb_sender(
    outcome: SenderOutcome,
    stats: &mut PeerStats,
    errors: &mut Vec<String>,
) -> FrameWriter {
    stats.ledger.absorb(Ledger {
        sent: outcome.sent,
        ..Ledger::default()
    });
    if let Some(e) = outcome.error {
        errors.push(e);
    }
    outcome.writer
}

/// Closes every conversation (so the next run finds the professionals free) and every
/// connection.
async fn close_everything(
    consoles: Vec<(Slot, FrameWriter)>,
    owned: &HashMap<Slot, Vec<ConversationId>>,
    clients: Vec<FrameWriter>,
) {
    let consoles = consoles.into_iter().map(|(slot, mut writer)| async move {
        for conversation in owned.get(&slot).into_iter().flatten() {
            let close = ConsoleFrame::Close(Close {
                conversation: conversation.clone(),
                summary: Some("load test".into()),
            });
            if writer.send(&Envelope::new(close)).await.is_err() {
                break;
            }
            tokio::time::sleep(CLOSE_PACE).await;
        }
        let _ = writer.close().await;
    });
    let clients = clients.into_iter().map(|mut writer| async move {
        let _ = writer.close().await;
    });
    let all = async {
        join_all(consoles).await;
        join_all(clients).await;
    };
    if tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .is_err()
    {
        eprintln!("clinic: closing conversations and connections took over 60 s; gave up");
    }
}
