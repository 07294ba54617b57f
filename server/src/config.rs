//! One typed [`Config`], read from an optional TOML file and overridden by `LUUKKU_*`
//! environment variables and CLI flags (in `main`). Validated at start-up; every key is
//! documented in docs/configuration.md. Without a file the embedded demo configuration runs.

use crate::organisation::Organisation;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid config: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// A token-bucket rate limit for inbound frames of one connection.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

/// Limits that protect the server from one connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub hello_timeout_s: u64,
    pub client_rate: RateLimit,
    pub console_rate: RateLimit,
    /// Open WebSocket connections per node.
    pub max_connections: usize,
    /// Largest capacity a professional may set with `status`.
    pub max_capacity: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 64 * 1024,
            hello_timeout_s: 10,
            client_rate: RateLimit {
                per_second: 20.0,
                burst: 40.0,
            },
            console_rate: RateLimit {
                per_second: 200.0,
                burst: 400.0,
            },
            max_connections: 200_000,
            max_capacity: 100,
        }
    }
}

/// JWT verification (HS256).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct AuthConfig {
    /// Secret for professionals' tokens. Generated (and kept in the data dir) in demo mode.
    pub jwt_secret: Option<String>,
    /// Expected `aud` of professionals' tokens.
    pub console_audience: Option<String>,
    /// Secret of the identity provider that signs clients' tokens (defaults to `jwt_secret`).
    pub client_jwt_secret: Option<String>,
    /// Expected `aud` of clients' tokens.
    pub client_audience: Option<String>,
}

/// Where a node keeps its record and how it reaches the other nodes. Empty: one node with
/// SQLite in the data dir and an in-process bus.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// `postgres://…`: PostgreSQL is the record (shared by every node).
    pub database_url: Option<String>,
    /// `redis://…`: events between nodes. Needs `database_url`.
    pub redis_url: Option<String>,
    /// This node's name in the cluster (unique per running node); generated when unset.
    pub node_id: Option<String>,
    /// Prefix of every Redis channel, so that several clusters (or test runs) share a Redis.
    pub redis_prefix: Option<String>,
}

impl ClusterConfig {
    /// True when the node keeps its record in PostgreSQL.
    pub fn uses_postgres(&self) -> bool {
        self.database_url.is_some()
    }

    /// Checks that the combination can work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::Invalid(
                    "--database-url must be a postgres:// URL (SQLite needs no URL: it is the \
                     file in --data-dir)"
                        .into(),
                ));
            }
        }
        if let Some(url) = &self.redis_url {
            if self.database_url.is_none() {
                return Err(ConfigError::Invalid(
                    "--redis-url needs --database-url: the nodes of a cluster share their record \
                     in PostgreSQL, and SQLite is one node's file"
                        .into(),
                ));
            }
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid(
                    "--redis-url must be a redis:// or rediss:// URL".into(),
                ));
            }
        }
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if let Some(id) = &self.node_id {
            if !name_ok(id) {
                return Err(ConfigError::Invalid(
                    "--node-id: 1–64 letters, digits, '-', '_' or '.'".into(),
                ));
            }
        }
        if let Some(p) = &self.redis_prefix {
            if !name_ok(p) {
                return Err(ConfigError::Invalid(
                    "--redis-prefix: 1–64 letters, digits, '-', '_' or '.'".into(),
                ));
            }
        }
        Ok(())
    }
}

/// The retention job (`[retention]`): how often it runs and whether it only reports. The
/// periods themselves are the organisation's (`[organisation.retention]`, `retention_days` of
/// a service).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionJobConfig {
    /// Report what is due (log, metrics, `GET /api/v1/retention`) and remove nothing.
    pub dry_run: bool,
    /// Seconds between runs (the first runs a minute after start).
    pub interval_s: u64,
}

impl Default for RetentionJobConfig {
    fn default() -> Self {
        RetentionJobConfig {
            dry_run: false,
            interval_s: 3600,
        }
    }
}

/// How clients are told of the organisation's messages while they are away: e-mail over SMTP
/// and, the first time for a thread, an SMS (until an SMS gateway exists: a sink file).
/// Nothing is configured by default: no notification is then written.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// `smtp://host:port` (plain, e.g. a local relay) or `smtps://host:port` (TLS); user and
    /// password in the URL when the server needs them.
    pub smtp_url: Option<String>,
    /// The sender address of the e-mails.
    pub from: Option<String>,
    /// Where a client reads their messages (the organisation's page with the widget); the
    /// notification names it and nothing else.
    pub link: Option<String>,
    /// A file the SMS notifications are appended to as JSON lines (when no SMS gateway is
    /// configured).
    pub sms_sink: Option<PathBuf>,
    /// Set by the server from `[sms]` (never read from the file): SMS notifications go
    /// through the gateway.
    #[serde(skip)]
    pub sms_gateway: bool,
}

impl NotificationsConfig {
    /// Whether any notification is to be written.
    pub fn enabled(&self) -> bool {
        self.link.is_some()
            && (self.smtp_url.is_some() || self.sms_sink.is_some() || self.sms_gateway)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::Invalid(
                    "notifications.smtp_url must start with smtp:// or smtps://".into(),
                ));
            }
            if self.from.is_none() {
                return Err(ConfigError::Invalid(
                    "notifications.from (the sender address) is required with smtp_url".into(),
                ));
            }
        }
        if (self.smtp_url.is_some() || self.sms_sink.is_some()) && self.link.is_none() {
            return Err(ConfigError::Invalid(
                "notifications.link (where clients read their messages) is required".into(),
            ));
        }
        Ok(())
    }
}

/// The file format: every key optional except `organisation` (unless `demo = true`).
#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    demo: bool,
    allowed_origins: Vec<String>,
    professional_grace_s: Option<u64>,
    shutdown_grace_s: Option<u64>,
    retract_window_s: Option<u64>,
    limits: Limits,
    auth: AuthConfig,
    cluster: ClusterConfig,
    notifications: NotificationsConfig,
    sms: Option<crate::sms::SmsConfig>,
    oidc: Option<crate::oidc::OidcConfig>,
    identification: Option<crate::oidc::patient::IdentificationConfig>,
    retention: RetentionJobConfig,
    record: Option<crate::record::RecordConfig>,
    organisation: Option<Organisation>,
}

/// The validated server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Demo mode: dev endpoints on, localhost origins allowed, generated secrets.
    pub demo: bool,
    /// Origins (e.g. `https://www.region.fi`) allowed to open WebSockets, besides same-origin.
    pub allowed_origins: Vec<String>,
    /// How long a disconnected professional keeps their conversations before they are requeued.
    pub professional_grace: Duration,
    /// How long open sockets get to drain on shutdown.
    pub shutdown_grace: Duration,
    /// How long after sending a professional may take back their own message.
    pub retract_window: Duration,
    pub limits: Limits,
    pub auth: AuthConfig,
    /// PostgreSQL and Redis for a node of a cluster (none: SQLite, one node).
    pub cluster: ClusterConfig,
    /// E-mail and SMS notifications of clients (none by default).
    pub notifications: NotificationsConfig,
    /// The SMS gateway for SMS chat (none by default).
    pub sms: Option<crate::sms::SmsConfig>,
    /// Professionals sign in with the organisation's OpenID Connect provider (`[oidc]`).
    pub oidc: Option<crate::oidc::OidcConfig>,
    /// Patients identify strongly inside a chat through this provider (`[identification]`).
    pub identification: Option<crate::oidc::patient::IdentificationConfig>,
    /// The retention job (`[retention]`).
    pub retention: RetentionJobConfig,
    /// Closed identified conversations to the patient record (`[record]`).
    pub record: Option<crate::record::RecordConfig>,
    pub organisation: Organisation,
}

impl Config {
    /// The embedded demo configuration.
    pub fn demo(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            demo: true,
            allowed_origins: Vec::new(),
            professional_grace: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(5),
            retract_window: Duration::from_secs(120),
            limits: Limits::default(),
            auth: AuthConfig::default(),
            cluster: ClusterConfig::default(),
            notifications: NotificationsConfig::default(),
            sms: None,
            oidc: None,
            identification: None,
            retention: RetentionJobConfig::default(),
            record: None,
            organisation: Organisation::demo(),
        }
    }

    /// Reads and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let c = Self::read_file(path)?;
        c.validate()?;
        Ok(c)
    }

    /// Reads a TOML file without the whole-configuration checks, for a caller that applies
    /// flags and environment variables first (a secret may come from `LUUKKU_JWT_SECRET`) and
    /// then calls [`Config::validate`].
    pub fn read_file(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
        Self::parse_toml(&text)
    }

    /// Parses and validates TOML text (tests pass strings).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let c = Self::parse_toml(text)?;
        c.validate()?;
        Ok(c)
    }

    fn parse_toml(text: &str) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text)?;
        let demo = file.demo;
        let organisation = match (file.organisation, demo) {
            (Some(o), _) => o,
            (None, true) => Organisation::demo(),
            (None, false) => {
                return Err(ConfigError::Invalid(
                    "[organisation] is required unless demo = true".into(),
                ))
            }
        };
        let mut c = Config::demo(file.data_dir.unwrap_or_else(|| PathBuf::from("./data")));
        c.demo = demo;
        c.organisation = organisation;
        c.allowed_origins = file.allowed_origins;
        c.limits = file.limits;
        c.auth = file.auth;
        c.cluster = file.cluster;
        c.notifications = file.notifications;
        c.sms = file.sms;
        c.oidc = file.oidc;
        c.identification = file.identification;
        c.retention = file.retention;
        c.record = file.record;
        if let Some(l) = file.listen {
            c.listen = l;
        }
        if let Some(g) = file.professional_grace_s {
            c.professional_grace = Duration::from_secs(g);
        }
        if let Some(g) = file.shutdown_grace_s {
            c.shutdown_grace = Duration::from_secs(g);
        }
        if let Some(w) = file.retract_window_s {
            c.retract_window = Duration::from_secs(w);
        }
        Ok(c)
    }

    /// Checks the whole configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.organisation.validate().map_err(ConfigError::Invalid)?;
        self.cluster.validate()?;
        self.notifications.validate()?;
        for s in &self.organisation.services {
            let Some(min) = &s.min_acr else { continue };
            match &self.identification {
                Some(ident) if ident.acr_levels.contains(min) => {}
                Some(_) => {
                    return Err(ConfigError::Invalid(format!(
                        "service {}: min_acr is not one of identification.acr_levels",
                        s.id
                    )))
                }
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "service {}: min_acr needs [identification]",
                        s.id
                    )))
                }
            }
        }
        if let Some(record) = &self.record {
            record
                .validate(&self.organisation)
                .map_err(ConfigError::Invalid)?;
        }
        if self.retention.interval_s == 0 {
            return Err(ConfigError::Invalid(
                "retention.interval_s must be at least 1".into(),
            ));
        }
        if let Some(oidc) = &self.oidc {
            oidc.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(ident) = &self.identification {
            ident.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(sms) = &self.sms {
            sms.validate().map_err(ConfigError::Invalid)?;
            match self.organisation.service(&sms.service) {
                Some(s) if s.channel == "sms" => {}
                Some(s) => {
                    return Err(ConfigError::Invalid(format!(
                        "sms.service {} is a {} service, not an sms one",
                        s.id, s.channel
                    )))
                }
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "sms.service {} is not a service of the organisation",
                        sms.service
                    )))
                }
            }
        }
        let l = &self.limits;
        if l.max_frame_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "limits.max_frame_bytes must be ≥ 1024".into(),
            ));
        }
        if l.hello_timeout_s == 0 || l.max_capacity == 0 || l.max_connections == 0 {
            return Err(ConfigError::Invalid("limits must be positive".into()));
        }
        for r in [l.client_rate, l.console_rate] {
            if r.per_second <= 0.0 || r.burst < 1.0 {
                return Err(ConfigError::Invalid("rate limits must be positive".into()));
            }
        }
        if !self.demo && self.auth.jwt_secret.as_deref().is_none_or(|s| s.len() < 32) {
            return Err(ConfigError::Invalid(
                "auth.jwt_secret (at least 32 characters) is required outside demo mode".into(),
            ));
        }
        Ok(())
    }

    /// The hello timeout as a duration.
    pub fn hello_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.hello_timeout_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_config_requires_secret_and_organisation() {
        assert!(Config::from_toml("").is_err());
        assert!(Config::from_toml("demo = true").is_ok());
        assert!(Config::from_toml("demo = true\nbogus = 1").is_err());
    }

    #[test]
    fn impossible_cluster_combinations_are_refused_with_their_reason() {
        let with = |database: Option<&str>, redis: Option<&str>| {
            let mut c = Config::demo("/tmp/x");
            c.cluster.database_url = database.map(str::to_owned);
            c.cluster.redis_url = redis.map(str::to_owned);
            c.validate().map_err(|e| e.to_string())
        };
        let err = with(None, Some("redis://127.0.0.1:6379")).expect_err("redis alone");
        assert!(err.contains("--redis-url needs --database-url"), "{err}");
        let err = with(Some("sqlite://x.db"), None).expect_err("sqlite url");
        assert!(err.contains("postgres://"), "{err}");
        let err = with(Some("postgres://h/db"), Some("http://x")).expect_err("bad redis url");
        assert!(err.contains("redis://"), "{err}");
        assert!(
            with(Some("postgres://h/db"), None).is_ok(),
            "one node on PostgreSQL"
        );
        assert!(with(Some("postgresql://h/db"), Some("redis://h")).is_ok());
        let mut c = Config::demo("/tmp/x");
        c.cluster.node_id = Some("node 1".into());
        assert!(c.validate().is_err(), "spaces in a node id");
        let parsed = Config::from_toml(
            "demo = true\n[cluster]\ndatabase_url = \"postgres://h/db\"\nnode_id = \"n1\"\n",
        )
        .expect("cluster keys in the file");
        assert_eq!(parsed.cluster.node_id.as_deref(), Some("n1"));
    }

    #[test]
    fn limits_are_validated() {
        let mut c = Config::demo("/tmp/x");
        c.limits.max_frame_bytes = 10;
        assert!(c.validate().is_err());
    }
}
