//! Set-up of the clinic scenario: professionals and their tokens over HTTP, console
//! connections made available, clients that start conversations. Every connection gets its
//! reader task at once, since assignments arrive while the others are still opening.

use crate::assignments::{Assignments, Slot};
use crate::handshake::{self, StartRequest};
use crate::http;
use crate::traffic::{read_until_cancelled, PeerStats, PendingAcks, RunClock, TrafficRecorder};
use crate::ws::{self, Endpoint, FrameWriter, ServerUrl, SourceAddrs};
use anyhow::{bail, Context, Result};
use console_protocol::{Codec, ConversationId, Role, ServerFrame, SystemKind};
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What every connection of a run shares.
pub struct Shared {
    /// Where the clients connect.
    pub server: ServerUrl,
    /// Where the consoles connect (the same server, or another node).
    pub console_server: ServerUrl,
    pub codec: Codec,
    pub clock: RunClock,
    pub board: Arc<Assignments>,
    /// Stops every reader task.
    pub cancel: CancellationToken,
    pub sources: SourceAddrs,
}

/// One console connection of a professional.
pub struct ConsolePeer {
    pub slot: Slot,
    pub writer: FrameWriter,
    pub pending: Arc<PendingAcks>,
    pub reader: JoinHandle<PeerStats>,
}

/// One client with its conversation.
pub struct ClientPeer {
    /// The load generator's number of the conversation (embedded in message bodies).
    pub conv: u32,
    pub conversation: ConversationId,
    pub writer: FrameWriter,
    pub pending: Arc<PendingAcks>,
    pub reader: JoinHandle<PeerStats>,
}

#[derive(Deserialize)]
struct ProfessionalList {
    professionals: Vec<ProfessionalEntry>,
}

#[derive(Deserialize)]
struct ProfessionalEntry {
    id: String,
    #[serde(default)]
    teams: Vec<String>,
}

#[derive(Deserialize)]
struct TokenReply {
    token: String,
}

/// Ids of the professionals of `team` (`GET /api/v1/dev/professionals`).
pub async fn team_professionals(server: &ServerUrl, team: &str) -> Result<Vec<String>> {
    let list: ProfessionalList = http::get_json(server, "/api/v1/dev/professionals").await?;
    let ids: Vec<String> = list
        .professionals
        .into_iter()
        .filter(|p| p.teams.iter().any(|t| t == team))
        .map(|p| p.id)
        .collect();
    if ids.is_empty() {
        bail!("no professional of team {team} in /api/v1/dev/professionals");
    }
    Ok(ids)
}

/// A dev token for professional `id` (`POST /api/v1/dev/token`).
pub async fn token(server: &ServerUrl, id: &str) -> Result<String> {
    let body = serde_json::json!({ "professional": id });
    let reply: TokenReply = http::post_json(server, "/api/v1/dev/token", &body)
        .await
        .with_context(|| format!("token for {id}"))?;
    Ok(reply.token)
}

/// A token per professional (`POST /api/v1/dev/token`).
pub async fn tokens(server: &ServerUrl, ids: &[String]) -> Result<HashMap<String, String>> {
    let mut tokens = HashMap::new();
    for id in ids {
        tokens.insert(id.clone(), token(server, id).await?);
    }
    Ok(tokens)
}

/// Opens one console connection per entry of `slots` (professional ids, repeats allowed) and
/// makes each available with `capacity`.
pub async fn open_consoles(
    shared: &Shared,
    slots: &[String],
    tokens: &HashMap<String, String>,
    capacity: u32,
) -> Result<Vec<ConsolePeer>> {
    let mut consoles = Vec::with_capacity(slots.len());
    for (slot, professional) in slots.iter().enumerate() {
        let token = tokens
            .get(professional)
            .with_context(|| format!("no token for {professional}"))?;
        let server = &shared.console_server;
        let source = shared.sources.next_for(&server.addr);
        let socket = ws::connect(server, Endpoint::Console, shared.codec, source).await?;
        let (mut writer, mut reader) = ws::split(socket, shared.codec);
        let welcome = handshake::console_hello(&mut writer, &mut reader, token.clone())
            .await
            .with_context(|| format!("console of {professional}"))?;
        let held = welcome.conversations.len();
        // Slots repeat the professionals round-robin: warn on each one's first connection.
        if held > 0 && slot < tokens.len() {
            eprintln!(
                "clinic: warning: {professional} already holds {held} conversations (an earlier \
                 run?); they take capacity"
            );
        }
        let pending = Arc::new(PendingAcks::default());
        let board = shared.board.clone();
        let owns = Box::new(move |c: &ConversationId| board.owns(slot, c));
        let recorder = TrafficRecorder::new(Role::Client, owns, shared.clock, pending.clone());
        let board = shared.board.clone();
        let on_other = move |frame: &ServerFrame| match frame {
            ServerFrame::Assigned(a) => board.claim(&a.conversation, slot),
            ServerFrame::Status(_) => board.status_replied(),
            _ => {}
        };
        let reader = tokio::spawn(read_until_cancelled(
            reader,
            recorder,
            shared.cancel.clone(),
            on_other,
        ));
        handshake::set_available(&mut writer, capacity).await?;
        consoles.push(ConsolePeer {
            slot,
            writer,
            pending,
            reader,
        });
    }
    Ok(consoles)
}

/// Opens `count` anonymous clients, each starting one conversation, `concurrency` at a time.
pub async fn open_clients(
    shared: &Shared,
    count: usize,
    concurrency: usize,
    request: &StartRequest,
) -> Result<Vec<ClientPeer>> {
    let mut opening = futures_util::stream::iter(0..count)
        .map(|i| open_client(shared, i, request))
        .buffer_unordered(concurrency.max(1));
    let mut clients = Vec::with_capacity(count);
    let (mut failed, mut first_error) = (0, None);
    while let Some(result) = opening.next().await {
        match result {
            Ok(client) => {
                clients.push(client);
                if clients.len() % 1000 == 0 {
                    eprintln!("clinic: {} clients started", clients.len());
                }
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    if let Some(e) = first_error {
        bail!("{failed} of {count} clients failed to start a conversation, first: {e}");
    }
    clients.sort_by_key(|c| c.conv);
    Ok(clients)
}

async fn open_client(shared: &Shared, index: usize, request: &StartRequest) -> Result<ClientPeer> {
    let conv = u32::try_from(index).context("too many conversations")?;
    let source = shared.sources.next_for(&shared.server.addr);
    let socket = ws::connect(&shared.server, Endpoint::Client, shared.codec, source).await?;
    let (mut writer, mut reader) = ws::split(socket, shared.codec);
    handshake::client_hello(&mut writer, &mut reader, None).await?;
    let started = handshake::start_conversation(&mut writer, &mut reader, request).await?;
    let pending = Arc::new(PendingAcks::default());
    let owns = Box::new(|_: &ConversationId| true);
    let recorder = TrafficRecorder::new(Role::Professional, owns, shared.clock, pending.clone());
    let board = shared.board.clone();
    let mut seen_assigned = started.assigned;
    if seen_assigned {
        board.client_assigned();
    }
    let on_other = move |frame: &ServerFrame| {
        if let ServerFrame::System(s) = frame {
            if s.event == SystemKind::Assigned && !seen_assigned {
                seen_assigned = true;
                board.client_assigned();
            }
        }
    };
    let reader = tokio::spawn(read_until_cancelled(
        reader,
        recorder,
        shared.cancel.clone(),
        on_other,
    ));
    Ok(ClientPeer {
        conv,
        conversation: started.conversation,
        writer,
        pending,
        reader,
    })
}

/// Polls `done` until it holds; after `timeout` fails with `progress()` in the message.
pub async fn wait_until(
    what: &str,
    timeout: Duration,
    done: impl Fn() -> bool,
    progress: impl Fn() -> String,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() >= deadline {
            bail!(
                "timed out after {} s waiting for {what}: {}",
                timeout.as_secs_f64(),
                progress()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
