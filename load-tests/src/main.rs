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
//! - `proc_stats` — server RSS and CPU time from `/proc`.
//! - `report` — latency histograms and result printing.
//! - `idle`, `clinic` — the scenarios.
#![forbid(unsafe_code)]

mod accounting;
mod assignments;
mod clinic;
mod handshake;
mod http;
mod idle;
mod proc_stats;
mod report;
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
}

/// Where the server is and how to talk to it; shared by every scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The server's WebSocket base URL.
    #[arg(long, default_value = "ws://127.0.0.1:8080")]
    pub url: String,
    /// Offer `luukku.v1.msgpack` and use MessagePack binary frames.
    #[arg(long)]
    pub msgpack: bool,
    /// Connection opens in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
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
    }
}

/// Every connection is a file descriptor: lift the soft limit to the hard one.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => eprintln!("luukku-load: open files limit {limit}"),
        Err(e) => eprintln!("luukku-load: cannot raise the open files limit: {e}"),
    }
}
