//! Scenario `idle` against the Socket.IO peer: sockets that open and connect to the default
//! namespace, then sit idle (answering the server's pings). The caller (`crate::idle::run`)
//! measures memory and reports exactly as for Luukku.

use super::client::{self, Incoming, SioReader, SioWriter};
use super::require_json;
use crate::idle::{Holders, IdleArgs};
use crate::ws::{ServerUrl, SourceAddrs};
use anyhow::Result;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Opens the sockets with bounded concurrency and hands each to a holder task; returns
/// (opened, failed, first error).
pub async fn open_all(
    args: &IdleArgs,
    server: &ServerUrl,
    holders: &Holders,
) -> Result<(usize, usize, Option<String>)> {
    require_json(&args.target)?;
    let sources = SourceAddrs::default();
    let results = futures_util::stream::iter(0..args.connections)
        .map(|_| client::connect(server, sources.next_for(&server.addr)))
        .buffer_unordered(args.target.concurrency.max(1));
    Ok(holders
        .hold_all(results, |(writer, reader), cancel, dropped| {
            hold(writer, reader, cancel, dropped)
        })
        .await)
}

/// Keeps one socket open (reading, so pings are answered) until cancelled.
async fn hold(
    writer: SioWriter,
    mut reader: SioReader,
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
