//! Luukku: a real-time live-chat server for public health and social care.
//!
//! # Layout
//! - `config` — the typed configuration (file, environment, flags) and its validation.
//! - `organisation` — teams, services, topics, questionnaires, professionals; the demo org;
//!   translatable texts (`organisation::Text`) and language negotiation.
//! - `auth` — JWT verification for professionals and identified clients, resume tokens.
//! - `bus` — between the nodes of a cluster: Redis pub/sub, an inbox per node.
//! - `cluster` — a node's place in a cluster (PostgreSQL): heartbeats, leases, shared secrets.
//! - `tunnel` — a cluster node that is not the primary keeps its sockets and tunnels their
//!   frames over the bus to sessions on the primary.
//! - `canned` — canned responses: the teams' from the configuration and personal ones.
//! - `http` — warp routes: WebSocket upgrade, health, metrics, services API, dev endpoints.
//! - `context` — `ServerCtx`, what every session, route and task of a node shares.
//! - `session` — one task per WebSocket connection.
//! - `delivery` — how actors reach sessions: shared encoded frames and bounded session queues.
//! - `conversation` — one actor per conversation and the hub that indexes them.
//! - `routing` — the router actor: team queues, presence, capacity, assignment.
//! - `storage` — the `Storage` trait, its SQLite backend with group commit (`storage/sqlite/`),
//!   its PostgreSQL backend for a cluster (`storage/postgres/`: group commit, the conditional
//!   append), and the contract test suite every backend passes (`storage/contract/`).
//! - `notify` — the outbox worker that tells clients of new messages by e-mail and SMS.
//! - `sms` — SMS chat: mobile numbers, SMS lengths, the gateway trait and its Telnyx
//!   provider, the `[sms]` configuration.
//! - `metrics` — every Prometheus metric; `telemetry` — tracing set-up.
//! - `server` — start-up and graceful shutdown; in a cluster, the primary's terms
//!   (`server/term.rs`).
#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod bus;
pub mod calendar;
pub mod canned;
pub mod cluster;
pub mod config;
pub mod context;
pub mod conversation;
pub mod delivery;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod organisation;
pub mod record;
pub mod retention;
pub mod routing;
pub mod server;
pub mod session;
pub mod sms;
pub mod storage;
pub mod telemetry;
pub mod tunnel;

pub use config::Config;
pub use server::{start, RunningServer};
