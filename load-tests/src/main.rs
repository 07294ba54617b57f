//! `luukku-load`: load generator and benchmark scenarios for the Luukku server. Each
//! scenario prints a human-readable summary and one JSON line (`{"scenario":...}`).
//!
//! # Layout
//! - `ws` — connecting (source addresses 127.0.0.2..250), typed frame writer / reader.
//! - `http` — a tiny HTTP/1.1 client for the dev endpoints (professionals, tokens).
//! - `handshake` — `hello` → `welcome`, console `status`, client `start` → `queued`.
//! - `traffic` — open-loop send plans, ack / delivery recording per connection.
//! - `accounting` — message stamps; lost / duplicated / reordered bookkeeping.
//! - `assignments` — which console connection serves which conversation.
//! - `proc_stats` — RSS and CPU time of the server's processes and its services from `/proc`.
//! - `report` — latency histograms and result printing.
//! - `idle`, `clinic`, `ramp`, `queue` — the scenarios.
//! - `bench_report` — joins the result lines `scripts/bench.sh` collected into
//!   `bench/results/latest.{json,md}`.
//! - `sio` — the same scenarios against the Socket.IO peer (`--system socketio`).
#![forbid(unsafe_code)]

mod accounting;
mod assignments;
mod bench_report;
mod clinic;
mod handshake;
mod http;
mod idle;
mod proc_stats;
mod queue;
mod ramp;
mod report;
mod sio;
mod traffic;
mod ws;

use clap::{Parser, Subcommand};
use console_protocol::Codec;

#[derive(Debug, Parser)]
#[command(
    name = "luukku-load",
    version,
    about = "Load scenarios for the Luukku server"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Open many anonymous client connections, hold them idle, report memory per connection.
    Idle(idle::IdleArgs),
    /// Conversations between clients and professionals exchanging messages at a fixed rate.
    Clinic(clinic::ClinicArgs),
    /// Raises the clinic load step by step until p99 exceeds a bound: the max sustainable rate.
    Ramp(ramp::RampArgs),
    /// A burst of conversations into a team queue with few professionals: assignment rate
    /// and the error of the estimated waits.
    Queue(queue::QueueArgs),
    /// Joins the result lines of scripts/bench.sh into latest.json and latest.md.
    BenchReport(bench_report::BenchReportArgs),
}

/// Where the server is and how to talk to it; shared by every scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The server's WebSocket base URL (the clients', and the consoles' without
    /// `--console-url`).
    #[arg(long, default_value = "ws://127.0.0.1:8080")]
    pub url: String,
    /// WebSocket base URL for the professionals' console connections when they should reach
    /// another node than the clients (clients on one node, consoles on another: every message
    /// crosses nodes). Not used by `idle`, which opens client connections only.
    #[arg(long)]
    pub console_url: Option<String>,
    /// Offer `luukku.v1.msgpack` and use MessagePack binary frames.
    #[arg(long)]
    pub msgpack: bool,
    /// Connection opens in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Which chat server `--url` points at.
    #[arg(long, value_enum, default_value_t = System::Luukku)]
    pub system: System,
}

/// The chat server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum System {
    /// Luukku, or anything speaking its protocol (such as the relay).
    Luukku,
    /// The Socket.IO peer of `load-tests/socketio` (Engine.IO v4 over WebSocket).
    Socketio,
}

impl TargetArgs {
    /// The codec the flags ask for.
    pub fn codec(&self) -> Codec {
        if self.msgpack {
            Codec::MessagePack
        } else {
            Codec::Json
        }
    }

    /// Where the console connections go: `--console-url`, else `--url`.
    pub fn console_url(&self) -> &str {
        self.console_url.as_deref().unwrap_or(&self.url)
    }

    /// `json` or `msgpack`, for reports.
    pub fn codec_name(&self) -> &'static str {
        if self.msgpack {
            "msgpack"
        } else {
            "json"
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    raise_open_files_limit();
    match cli.scenario {
        Scenario::Idle(args) => idle::run(args).await,
        Scenario::Clinic(args) => clinic::run(args).await,
        Scenario::Ramp(args) => ramp::run(args).await,
        Scenario::Queue(args) => queue::run(args).await,
        Scenario::BenchReport(args) => bench_report::run(&args),
    }
}

/// Every connection is a file descriptor: lift the soft limit to the hard one.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => eprintln!("luukku-load: open files limit {limit}"),
        Err(e) => eprintln!("luukku-load: cannot raise the open files limit: {e}"),
    }
}
