//! Scenario `idle`: open many anonymous client connections (`hello` → `welcome`), hold them
//! idle, and report the open rate and the server's resident memory per connection.

use crate::handshake::client_hello;
use crate::proc_stats::Proc;
use crate::report::{mib, print_result, round3};
use crate::ws::{self, Endpoint, FrameReader, FrameWriter, Incoming, ServerUrl, SourceAddrs};
use crate::{System, TargetArgs};
use anyhow::{bail, Result};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Flags of `luukku-load idle`.
#[derive(Debug, clap::Args)]
pub struct IdleArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Connections to open and hold.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Pid of the server, for its resident memory.
    #[arg(long)]
    pub server_pid: u32,
    /// Seconds to hold the connections before measuring memory again.
    #[arg(long, default_value_t = 5.0)]
    pub hold_s: f64,
}

/// The result line of `idle`.
#[derive(Debug, Serialize)]
struct IdleResult {
    scenario: &'static str,
    codec: &'static str,
    connections: usize,
    failed: usize,
    /// Connections the server closed while they were held.
    dropped: usize,
    open_s: f64,
    open_rate_per_s: f64,
    server_rss_before_bytes: u64,
    server_rss_after_bytes: u64,
    bytes_per_connection: f64,
    loader_rss_bytes: u64,
}

/// Connections that are open and held, and the tasks that hold them.
pub(crate) struct Holders {
    pub(crate) tracker: TaskTracker,
    pub(crate) cancel: CancellationToken,
    pub(crate) dropped: Arc<AtomicUsize>,
}

impl Holders {
    /// Hands each connection that `opened` yields to a task of its own running `hold`;
    /// returns (opened, failed, first error).
    pub(crate) async fn hold_all<C, F>(
        &self,
        mut opened: impl Stream<Item = Result<C>> + Unpin,
        hold: impl Fn(C, CancellationToken, Arc<AtomicUsize>) -> F,
    ) -> (usize, usize, Option<String>)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (mut open, mut failed, mut first_error) = (0, 0, None);
        while let Some(result) = opened.next().await {
            match result {
                Ok(connection) => {
                    open += 1;
                    self.tracker
                        .spawn(hold(connection, self.cancel.clone(), self.dropped.clone()));
                    if open % 1000 == 0 {
                        eprintln!("idle: {open} open");
                    }
                }
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
        (open, failed, first_error)
    }
}

/// Runs the scenario and prints its result.
pub async fn run(args: IdleArgs) -> Result<()> {
    let server = ServerUrl::resolve(&args.target.url).await?;
    let server_proc = Proc::Pid(args.server_pid);
    let rss_before = server_proc.rss_bytes()?;
    let holders = Holders {
        tracker: TaskTracker::new(),
        cancel: CancellationToken::new(),
        dropped: Arc::new(AtomicUsize::new(0)),
    };
    eprintln!(
        "idle: opening {} connections to {} ({} in flight)",
        args.connections, server.authority, args.target.concurrency
    );
    let started = Instant::now();
    let (opened, failed, first_error) = match args.target.system {
        System::Luukku => open_all(&args, &server, &holders).await,
        System::Socketio => crate::sio::idle::open_all(&args, &server, &holders).await?,
    };
    let open_s = started.elapsed().as_secs_f64();
    if opened == 0 {
        bail!("no connection opened: {}", first_error.unwrap_or_default());
    }
    eprintln!(
        "idle: {opened} open in {open_s:.1} s; holding {} s",
        args.hold_s
    );
    tokio::time::sleep(Duration::from_secs_f64(args.hold_s)).await;
    let rss_after = server_proc.rss_bytes()?;
    let result = IdleResult {
        scenario: "idle",
        codec: args.target.codec_name(),
        connections: opened,
        failed,
        dropped: holders.dropped.load(Ordering::Relaxed),
        open_s: round3(open_s),
        open_rate_per_s: round3(opened as f64 / open_s),
        server_rss_before_bytes: rss_before,
        server_rss_after_bytes: rss_after,
        bytes_per_connection: round3((rss_after as f64 - rss_before as f64) / opened as f64),
        loader_rss_bytes: Proc::Myself.rss_bytes()?,
    };
    release(holders).await;
    print_result(&human(&result), &result);
    if let Some(e) = first_error {
        bail!("{failed} connections failed, first: {e}");
    }
    Ok(())
}

/// Opens the connections with bounded concurrency; returns (opened, failed, first error).
async fn open_all(
    args: &IdleArgs,
    server: &ServerUrl,
    holders: &Holders,
) -> (usize, usize, Option<String>) {
    let sources = SourceAddrs::default();
    let codec = args.target.codec();
    let results = futures_util::stream::iter(0..args.connections)
        .map(|_| async {
            let source = sources.next_for(&server.addr);
            let ws = ws::connect(server, Endpoint::Client, codec, source).await?;
            let (mut writer, mut reader) = ws::split(ws, codec);
            client_hello(&mut writer, &mut reader, None).await?;
            anyhow::Ok((writer, reader))
        })
        .buffer_unordered(args.target.concurrency.max(1));
    holders
        .hold_all(results, |(writer, reader), cancel, dropped| {
            hold(writer, reader, cancel, dropped)
        })
        .await
}

/// Keeps one connection open (reading, so pings are answered) until cancelled.
async fn hold(
    mut writer: FrameWriter,
    mut reader: FrameReader,
    cancel: CancellationToken,
    dropped: Arc<AtomicUsize>,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                let _ = tokio::time::timeout(Duration::from_secs(2), writer.close()).await;
                return;
            }
            incoming = reader.next() => {
                if let Incoming::Closed(_) = incoming {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

async fn release(holders: Holders) {
    holders.cancel.cancel();
    holders.tracker.close();
    if tokio::time::timeout(Duration::from_secs(10), holders.tracker.wait())
        .await
        .is_err()
    {
        eprintln!("idle: some connections did not close within 10 s");
    }
}

fn human(r: &IdleResult) -> String {
    format!(
        "idle: {} connections ({} failed, {} dropped, {}), opened at {:.0} conn/s; server RSS \
         {} MiB → {} MiB, {:.0} bytes per connection",
        r.connections,
        r.failed,
        r.dropped,
        r.codec,
        r.open_rate_per_s,
        mib(r.server_rss_before_bytes),
        mib(r.server_rss_after_bytes),
        r.bytes_per_connection
    )
}
