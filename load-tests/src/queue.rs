//! Scenario `queue`: a burst of new conversations into a team queue served by few
//! professionals (auto routing), each of whom closes a chat a fixed hold time after it was
//! assigned. Measures the assignment rate, and how close the estimated waits the server told
//! the waiting clients (`queued` and `queue` frames, `estimated_wait_s`) came to the waits
//! they really had.

mod client;
pub mod console;
mod outcome;

use crate::handshake::StartRequest;
use crate::proc_stats::WatchArgs;
use crate::report::print_result;
use crate::ws::{ServerUrl, SourceAddrs};
use crate::{System, TargetArgs};
use anyhow::{bail, Context, Result};
use client::ClientRecord;
use console::ConsoleSet;
use futures_util::future::join_all;
pub use outcome::QueueResult;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Flags of `luukku-load queue`.
#[derive(Debug, Clone, clap::Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Conversations started in the burst (one anonymous client each).
    #[arg(long, default_value_t = 60)]
    pub conversations: usize,
    /// Professionals of the team who serve; the team's others are connected but away, so
    /// nobody outside the scenario takes a conversation. 0 means all of the team.
    #[arg(long, default_value_t = 0)]
    pub professionals: usize,
    /// Conversations each serving professional takes at once.
    #[arg(long, default_value_t = 1)]
    pub capacity: u32,
    /// Seconds a professional holds a chat before closing it.
    #[arg(long, default_value_t = 1.0)]
    pub hold_s: f64,
    /// Spread the starts evenly over this many seconds (0: all at once).
    #[arg(long, default_value_t = 0.0)]
    pub burst_s: f64,
    /// Team whose queue the clients join (must use `auto` routing).
    #[arg(long, default_value = "station-a")]
    pub team: String,
    /// Service the clients start conversations with.
    #[arg(long, default_value = "health-chat")]
    pub service: String,
    /// Questionnaire answers sent with `start`, as a JSON object ("" for none).
    #[arg(long, default_value = r#"{"duration":"No symptoms"}"#)]
    pub questionnaire: String,
    /// Seconds every conversation gets to be assigned and closed.
    #[arg(long, default_value_t = 300.0)]
    pub timeout_s: f64,
    /// The server's processes and its services, for their CPU time and RSS.
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// Runs the scenario, prints its result and fails when a conversation was not served.
pub async fn run(args: QueueArgs) -> Result<()> {
    let result = measure(&args).await?;
    print_result(&result.human(), &result);
    if result.failed > 0 || result.assigned < result.conversations {
        bail!(
            "{} of {} conversations were not served: {}",
            result.conversations - result.assigned.min(result.conversations),
            result.conversations,
            result.first_error.as_deref().unwrap_or("not assigned")
        );
    }
    Ok(())
}

fn validate(args: &QueueArgs) -> Result<()> {
    if args.target.system != System::Luukku {
        bail!("the queue scenario needs Luukku's team queues and wait estimates");
    }
    if args.conversations == 0 || args.capacity == 0 {
        bail!("--conversations and --capacity must be at least 1");
    }
    let finite = |x: f64| x.is_finite() && x >= 0.0;
    if !(finite(args.hold_s)
        && finite(args.burst_s)
        && args.timeout_s > 0.0
        && finite(args.timeout_s))
    {
        bail!("--hold-s and --burst-s must not be negative, --timeout-s must be positive");
    }
    Ok(())
}

/// Runs the scenario once and returns its result.
pub async fn measure(args: &QueueArgs) -> Result<QueueResult> {
    validate(args)?;
    let questionnaire = if args.questionnaire.trim().is_empty() {
        None
    } else {
        Some(
            serde_json::from_str(&args.questionnaire)
                .context("--questionnaire is not a JSON object")?,
        )
    };
    let server = ServerUrl::resolve(&args.target.url).await?;
    let console_server = ServerUrl::resolve(args.target.console_url()).await?;
    let sources = Arc::new(SourceAddrs::default());
    let codec = args.target.codec();
    let consoles = ConsoleSet::open(
        &console_server,
        &sources,
        codec,
        &args.team,
        args.professionals,
        args.capacity,
        Duration::from_secs_f64(args.hold_s),
    )
    .await?;
    let serving = consoles.serving;
    eprintln!(
        "queue: {serving} professionals of {} serve with capacity {}; {} conversations \
         arrive",
        args.team, args.capacity, args.conversations
    );
    let watch_before = args.watch.sample()?;
    let request = Arc::new(StartRequest {
        service: args.service.as_str().into(),
        team: Some(args.team.as_str().into()),
        questionnaire,
    });
    let opening = Arc::new(Semaphore::new(args.target.concurrency.max(1)));
    let burst_started = Instant::now();
    let deadline = burst_started + Duration::from_secs_f64(args.timeout_s);
    let spacing = Duration::from_secs_f64(args.burst_s / args.conversations as f64);
    let tasks: Vec<_> = (0..args.conversations)
        .map(|i| {
            let job = client::Job {
                server: server.clone(),
                sources: sources.clone(),
                codec,
                request: request.clone(),
                opening: opening.clone(),
                start_at: burst_started + spacing * u32::try_from(i).unwrap_or(u32::MAX),
                deadline,
            };
            tokio::spawn(client::run(job))
        })
        .collect();
    let mut records: Vec<ClientRecord> = Vec::with_capacity(tasks.len());
    for joined in join_all(tasks).await {
        records.push(joined.unwrap_or_else(|e| ClientRecord::failed(format!("client task: {e}"))));
    }
    let finished = Instant::now();
    let watched = watch_before.until(args.watch.sample()?);
    let console_stats = consoles.close().await;
    Ok(QueueResult::new(
        args,
        serving,
        burst_started,
        finished,
        &records,
        &console_stats,
        &watched,
    ))
}
