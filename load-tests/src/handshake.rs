//! The opening exchanges of protocol v1: `hello` → `welcome` on either endpoint, the
//! console's `status`, and a client's `start` → `queued`.

use crate::ws::{FrameReader, FrameWriter};
use anyhow::{Context, Result};
use console_protocol::{
    Answers, Availability, ClientFrame, ClientHello, ConsoleFrame, ConsoleHello, ConversationId,
    Envelope, ServerFrame, ServiceId, Start, StatusUpdate, SystemKind, TeamId, Welcome,
};
use std::time::Duration;

/// How long the server may take to answer one opening frame, even under heavy load.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// `hello` on `/ws/client` (anonymous without a token) → `welcome`.
pub async fn client_hello(
    writer: &mut FrameWriter,
    reader: &mut FrameReader,
    token: Option<String>,
) -> Result<Welcome> {
    let hello = ClientFrame::Hello(ClientHello {
        token,
        ..Default::default()
    });
    writer.send(&Envelope::new(hello)).await?;
    expect_welcome(reader).await
}

/// `hello` with a professional's token on `/ws/console` → `welcome`.
pub async fn console_hello(
    writer: &mut FrameWriter,
    reader: &mut FrameReader,
    token: String,
) -> Result<Welcome> {
    let hello = ConsoleFrame::Hello(ConsoleHello {
        token: Some(token),
        ..Default::default()
    });
    writer.send(&Envelope::new(hello)).await?;
    expect_welcome(reader).await
}

async fn expect_welcome(reader: &mut FrameReader) -> Result<Welcome> {
    let wait = reader.expect("welcome", |f| match f {
        ServerFrame::Welcome(w) => Some(w.clone()),
        _ => None,
    });
    tokio::time::timeout(REPLY_TIMEOUT, wait)
        .await
        .context("no welcome in time")?
}

/// Makes a console available with `capacity` (the echo is read by the connection's reader).
pub async fn set_available(writer: &mut FrameWriter, capacity: u32) -> Result<()> {
    let status = ConsoleFrame::Status(StatusUpdate {
        availability: Some(Availability::Available),
        capacity: Some(capacity),
        active: None,
    });
    writer.send(&Envelope::new(status)).await
}

/// What a client needs to start a conversation.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub service: ServiceId,
    pub team: Option<TeamId>,
    pub questionnaire: Option<Answers>,
}

/// A started conversation, as the client learned it.
#[derive(Debug, Clone)]
pub struct Started {
    pub conversation: ConversationId,
    /// The `assigned` system event already arrived while waiting for `queued`.
    pub assigned: bool,
}

/// `start` → `queued`.
pub async fn start_conversation(
    writer: &mut FrameWriter,
    reader: &mut FrameReader,
    request: &StartRequest,
) -> Result<Started> {
    let start = ClientFrame::Start(Start {
        service: request.service.clone(),
        topic: None,
        team: request.team.clone(),
        questionnaire: request.questionnaire.clone(),
        client_ref: Some(uuid::Uuid::new_v4().to_string()),
        lang: None,
        contact: None,
    });
    writer.send(&Envelope::new(start)).await?;
    let mut assigned = false;
    let wait = reader.expect("queued", |f| match f {
        ServerFrame::Queued(q) => Some(q.conversation.clone()),
        ServerFrame::System(s) if s.event == SystemKind::Assigned => {
            assigned = true;
            None
        }
        _ => None,
    });
    let conversation = tokio::time::timeout(REPLY_TIMEOUT, wait)
        .await
        .context("no queued in time")??;
    Ok(Started {
        conversation,
        assigned,
    })
}
