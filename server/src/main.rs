//! The `luukku` binary: parses flags and `LUUKKU_*` variables, loads the configuration (the
//! embedded demo organisation by default), serves, and shuts down gracefully on SIGTERM/SIGINT.

use clap::Parser;
use luukku::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for an unusable configuration (EX_USAGE).
const EXIT_BAD_CONFIG: u8 = 64;

#[derive(Parser, Debug)]
#[command(
    name = "luukku",
    version,
    about = "Live chat for public health and social care"
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "LUUKKU_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the SQLite database and the server key.
    #[arg(long, env = "LUUKKU_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML configuration file with a real organisation; without it the demo runs.
    #[arg(long, env = "LUUKKU_CONFIG")]
    config: Option<PathBuf>,
    /// Secret for professionals' JWTs (overrides the file).
    #[arg(long, env = "LUUKKU_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The SMS provider's API key (overrides `sms.api_key` of the file).
    #[arg(long, env = "LUUKKU_SMS_API_KEY", hide_env_values = true)]
    sms_api_key: Option<String>,
    /// The patient record's signing key (overrides `record.secret`).
    #[arg(long, env = "LUUKKU_RECORD_SECRET", hide_env_values = true)]
    record_secret: Option<String>,
    /// The client secret at the OpenID Connect provider (overrides `oidc.client_secret`).
    #[arg(long, env = "LUUKKU_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// PostgreSQL (`postgres://…`) shared by the nodes of a cluster, instead of SQLite.
    #[arg(long, env = "LUUKKU_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Redis (`redis://…`) that carries events between the nodes of a cluster.
    #[arg(long, env = "LUUKKU_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// This node's name in the cluster (default: generated at start).
    #[arg(long, env = "LUUKKU_NODE_ID")]
    node_id: Option<String>,
    /// Prefix of the cluster's Redis channels (default `luukku`).
    #[arg(long, env = "LUUKKU_REDIS_PREFIX")]
    redis_prefix: Option<String>,
}

fn load(cli: &Cli) -> Result<Config, luukku::config::ConfigError> {
    let mut config = match &cli.config {
        Some(path) => Config::read_file(path)?,
        None => Config::demo("./data"),
    };
    if let Some(l) = cli.listen {
        config.listen = l;
    }
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(s) = &cli.jwt_secret {
        config.auth.jwt_secret = Some(s.clone());
    }
    // The demo tries SMS chat against the stand-in provider (docs/sms-standin.md).
    if cli.config.is_none() {
        config.sms = Some(luukku::sms::SmsConfig::demo(config.listen));
    }
    if let (Some(key), Some(record)) = (&cli.record_secret, config.record.as_mut()) {
        record.secret = Some(key.clone());
    }
    if let (Some(key), Some(sms)) = (&cli.sms_api_key, config.sms.as_mut()) {
        sms.api_key = key.clone();
    }
    if let (Some(secret), Some(oidc)) = (&cli.oidc_client_secret, config.oidc.as_mut()) {
        oidc.client_secret = Some(secret.clone());
    }
    let cluster = &mut config.cluster;
    for (flag, key) in [
        (&cli.database_url, &mut cluster.database_url),
        (&cli.redis_url, &mut cluster.redis_url),
        (&cli.node_id, &mut cluster.node_id),
        (&cli.redis_prefix, &mut cluster.redis_prefix),
    ] {
        if flag.is_some() {
            key.clone_from(flag);
        }
    }
    config.validate()?;
    Ok(config)
}

/// Pending connections the kernel queues for us: bursts of reconnecting clients after a
/// restart must not overflow tokio's default backlog of 128.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Raises the soft limit of open files to the hard one: every WebSocket is a descriptor, and a
/// container runtime's default soft limit (1024) would cap a node at about a thousand.
fn raise_open_files_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %e, "could not raise the open-files limit");
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    luukku::telemetry::init();
    raise_open_files_limit();
    let cli = Cli::parse();
    let config = match load(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("luukku: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let listener = match listen(config.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("luukku: cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let demo = config.demo;
    let server = match luukku::start(config, listener).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("luukku: {e}");
            return if e.is_configuration() {
                ExitCode::from(EXIT_BAD_CONFIG)
            } else {
                ExitCode::FAILURE
            };
        }
    };
    if demo {
        println!(
            "Luukku serves the demo organisation: open http://{}/ in a browser",
            server.addr
        );
    } else {
        println!("Luukku listens on http://{}/", server.addr);
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}
