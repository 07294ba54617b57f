//! `luukku-relay`: the physical limit of a WebSocket chat relay on this machine, for the
//! benchmarks. It speaks exactly the subset of protocol v1 that `luukku-load` uses, so the
//! `idle` and `clinic` scenarios run unchanged against it, but it is only a relay of rooms of
//! two: no storage, no routing, no queues, no metrics, no authentication.
//!
//! # Layout
//! - `http` — the TCP accept path: reads the request head with a small buffer, answers the
//!   few JSON endpoints the load generator's set-up calls, or upgrades to WebSocket.
//! - `directory` — the fixed demo professionals and their dev tokens.
//! - `hub` — rooms (a client and one console), per-connection outboxes of pre-serialized
//!   frames, and the trivial pairing: round-robin over consoles with free capacity.
//! - `session` — one task per connection: reads frames, writes replies and its outbox.
//! - `client`, `console` — what each endpoint does with its frames.
//! - `clock` — RFC 3339 timestamps.
#![forbid(unsafe_code)]

mod client;
mod clock;
mod console;
mod directory;
mod http;
mod hub;
mod session;

use anyhow::{Context, Result};
use clap::Parser;
use hub::Hub;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "luukku-relay",
    version,
    about = "A bare WebSocket relay speaking the subset of the Luukku protocol that luukku-load uses"
)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
    /// Runtime worker threads (default: one per CPU).
    #[arg(long)]
    workers: Option<usize>,
    /// Staff station-a with `nurse-1` … `nurse-N` (the benchmark organisation of
    /// scripts/bench.sh) instead of the demo professionals.
    #[arg(long)]
    professionals: Option<u32>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(n) = cli.professionals {
        directory::staff_station_a(n);
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(workers) = cli.workers {
        runtime.worker_threads(workers.max(1));
    }
    runtime.build()?.block_on(serve(cli))
}

async fn serve(cli: Cli) -> Result<()> {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("luukku-relay: cannot raise the open files limit: {e}");
    }
    let listener = TcpListener::bind(&cli.listen)
        .await
        .with_context(|| format!("binding {}", cli.listen))?;
    let addr = listener.local_addr()?;
    println!("luukku-relay listens on http://{addr}/");
    let hub = Arc::new(Hub::default());
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(http::serve_connection(stream, hub.clone()));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    eprintln!("luukku-relay: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => return Ok(()),
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
