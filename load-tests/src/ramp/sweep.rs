//! Before each ramp step against Luukku: chats an earlier step left open are closed, so they
//! do not take the capacity the next step announces (a step that dies during set-up cannot
//! close its chats, and one chat left open would make the next step wait for an assignment
//! that never comes).

use crate::clinic::setup::{team_professionals, token};
use crate::clinic::ClinicArgs;
use crate::handshake::{console_hello, REPLY_TIMEOUT};
use crate::ws::{self, Endpoint, FrameReader, Incoming, ServerUrl, SourceAddrs};
use crate::System;
use anyhow::Result;
use console_protocol::{
    Close, ConsoleFrame, ConversationId, ConversationStatus, Envelope, ServerFrame, SystemKind,
};
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;

/// How long the server may take to confirm the closes of one professional.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// What the sweep found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sweep {
    /// Chats still open from earlier steps.
    pub found: usize,
    /// Of those, the ones the server confirmed closed.
    pub closed: usize,
}

/// Closes every open chat of the team's professionals (Luukku only; the relay and Socket.IO
/// keep no chats between runs).
pub async fn close_leftovers(args: &ClinicArgs) -> Result<Sweep> {
    if args.target.system != System::Luukku {
        return Ok(Sweep::default());
    }
    let server = ServerUrl::resolve(args.target.console_url()).await?;
    let sources = SourceAddrs::default();
    let codec = args.target.codec();
    let mut sweep = Sweep::default();
    for id in team_professionals(&server, &args.team).await? {
        let token = token(&server, &id).await?;
        let source = sources.next_for(&server.addr);
        let socket = ws::connect(&server, Endpoint::Console, codec, source).await?;
        let (mut writer, mut reader) = ws::split(socket, codec);
        let welcome = console_hello(&mut writer, &mut reader, token).await?;
        let mut open: HashSet<ConversationId> = welcome
            .conversations
            .into_iter()
            .filter(|c| c.status != ConversationStatus::Complete)
            .map(|c| c.conversation)
            .collect();
        sweep.found += open.len();
        for conversation in &open {
            let close = ConsoleFrame::Close(Close {
                conversation: conversation.clone(),
                summary: Some("load test: left over".into()),
            });
            writer.send(&Envelope::new(close)).await?;
        }
        let before = open.len();
        let _ = tokio::time::timeout(CONFIRM_TIMEOUT, confirm(&mut reader, &mut open)).await;
        sweep.closed += before - open.len();
        let _ = tokio::time::timeout(REPLY_TIMEOUT, writer.close()).await;
    }
    Ok(sweep)
}

/// Reads until every chat of `open` has its `closed` event (or an error / the end comes).
async fn confirm(reader: &mut FrameReader, open: &mut HashSet<ConversationId>) {
    while !open.is_empty() {
        match reader.next().await {
            Incoming::Frame(envelope) => match envelope.frame {
                ServerFrame::System(s) if s.event == SystemKind::Closed => {
                    open.remove(&s.conversation);
                }
                ServerFrame::Error(_) => return,
                _ => {}
            },
            Incoming::Undecodable(_) => {}
            Incoming::Closed(_) => return,
        }
    }
}
