//! `luukku-sms-standin`: a stand-in for Telnyx's Messaging API v2, for Luukku's tests and
//! local demos where no SMS provider can be reached. It answers `POST /v2/messages` as Telnyx
//! does and sends Telnyx's signed delivery and inbound webhooks; under `/_standin/` a test sees
//! what reached the phone, injects faults and sends a patient's SMS. See docs/sms-standin.md.
//!
//! # Layout
//! - `gsm` — encoding and parts of an SMS body
//! - `signing` — Ed25519 webhook signatures and the seed
//! - `sms` — the message record, its JSON at each stage, masked numbers
//! - `request` — a send request checked as Telnyx checks it
//! - `telnyx_error` — Telnyx's error body and the refusals that use it
//! - `ledger` — the actor holding messages, idempotency records, faults and events
//! - `webhooks` — signed delivery with retries and failover; the report sequence
//! - `api` — `POST /v2/messages`
//! - `control` — `/_standin/*` and `/healthz`

#![forbid(unsafe_code)]

#[path = "sms_standin/api.rs"]
mod api;
#[path = "sms_standin/control.rs"]
mod control;
#[path = "sms_standin/gsm.rs"]
mod gsm;
#[path = "sms_standin/ledger.rs"]
mod ledger;
#[path = "sms_standin/request.rs"]
mod request;
#[path = "sms_standin/signing.rs"]
mod signing;
#[path = "sms_standin/sms.rs"]
mod sms;
#[path = "sms_standin/telnyx_error.rs"]
mod telnyx_error;
#[path = "sms_standin/webhooks.rs"]
mod webhooks;

use api::App;
use clap::Parser;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// Exit code for unusable flags (EX_USAGE), as `luukku` uses it.
const EXIT_BAD_CONFIG: u8 = 64;

#[derive(Parser, Debug)]
#[command(
    name = "luukku-sms-standin",
    version,
    about = "A stand-in for Telnyx's Messaging API v2, for tests and local demos"
)]
struct Cli {
    /// Address to listen on (port 0: any free port; the first stdout line names it).
    #[arg(long, env = "STANDIN_LISTEN", default_value = "127.0.0.1:8025")]
    listen: SocketAddr,
    /// The API key clients must send as `Authorization: Bearer <key>`.
    #[arg(long, env = "STANDIN_API_KEY", hide_env_values = true)]
    api_key: String,
    /// Base64 of the 32-byte Ed25519 seed that signs webhooks (default: the documented
    /// test seed, so the public key stays the same between runs).
    #[arg(long, env = "STANDIN_SEED", hide_env_values = true)]
    seed: Option<String>,
    /// The messaging profile's webhook URL: delivery reports of messages without their own
    /// `webhook_url`, and every inbound message.
    #[arg(long, env = "STANDIN_WEBHOOK")]
    webhook: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the webhook client: {0}")]
    Http(#[from] reqwest::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    luukku::telemetry::init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(StartError::Config(message)) => {
            eprintln!("luukku-sms-standin: {message}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
        Err(e) => {
            eprintln!("luukku-sms-standin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    if cli.api_key.trim().is_empty() {
        return Err(StartError::Config("--api-key must not be empty".into()));
    }
    if let Some(url) = cli.webhook.as_deref().filter(|u| !request::is_http_url(u)) {
        return Err(StartError::Config(format!(
            "--webhook {url:?} is not an http(s) URL"
        )));
    }
    let seed = match cli.seed.as_deref() {
        Some(text) => signing::parse_seed(text).map_err(|e| StartError::Config(e.to_string()))?,
        None => *signing::DEFAULT_SEED,
    };
    let signer =
        Arc::new(signing::Signer::from_seed(&seed).map_err(|e| StartError::Config(e.to_string()))?);
    let public_key = signer.public_key_base64();
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let addr = listener.local_addr()?;
    let ledger = ledger::LedgerHandle::spawn();
    let dispatcher = webhooks::Dispatcher::new(signer, ledger.clone())?;
    let app = Arc::new(App {
        api_key: cli.api_key,
        profile_webhook: cli.webhook,
        ledger,
        dispatcher,
    });
    let routes = api::routes(app.clone())
        .or(control::routes(app.clone()))
        .unify()
        .recover(recover)
        .unify();
    announce(addr, &public_key)?;
    tracing::info!(%addr, webhook = ?app.profile_webhook, "sms stand-in listening");
    warp::serve(routes)
        .incoming(listener)
        .graceful(shutdown_signal())
        .run()
        .await;
    tracing::info!("sms stand-in stopped");
    Ok(())
}

/// The one stdout line tests parse: where we listen and the key that verifies our webhooks.
fn announce(addr: SocketAddr, public_key: &str) -> std::io::Result<()> {
    let line = serde_json::json!({
        "listening": format!("http://{addr}"),
        "public_key": public_key,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

async fn recover(r: Rejection) -> Result<warp::reply::Response, std::convert::Infallible> {
    let reply = if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        control::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    } else if r.is_not_found() {
        api::refusal(&telnyx_error::Refusal::not_found())
    } else {
        control::error(StatusCode::BAD_REQUEST, "bad request")
    };
    Ok(reply.into_response())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
