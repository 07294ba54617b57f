//! [`RouterHandle`], the cloneable way in to the router: each method sends one command to its
//! mailbox and, where the caller needs it, waits for the answer.

use super::command::RouterCmd;
use super::router::Router;
use super::{ConnectReply, Place};
use crate::conversation::{Hub, ProfessionalRef, QueueTicket};
use crate::delivery::SessionLink;
use crate::metrics::Metrics;
use crate::organisation::Organisation;
use console_protocol::{
    Availability, Colleagues, ConversationId, ProfessionalId, SessionId, StatusUpdate, TeamId,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// A cloneable handle to the router.
#[derive(Clone)]
pub struct RouterHandle {
    tx: mpsc::Sender<RouterCmd>,
}

impl RouterHandle {
    /// Starts the router, restoring queues and assignments from the open conversations and
    /// the routing supervisors set.
    pub fn spawn(
        hub: Arc<Hub>,
        org: Arc<Organisation>,
        metrics: Arc<Metrics>,
        grace: Duration,
        max_capacity: u32,
        restored: super::Restored,
        cancel: CancellationToken,
    ) -> Self {
        let tx = Router::spawn(hub, org, metrics, grace, max_capacity, restored, cancel);
        RouterHandle { tx }
    }

    /// A handle with no router behind it: every request answers `None`. The context of a
    /// cluster node that is not (yet) the primary carries one; its sessions run elsewhere.
    pub fn detached() -> Self {
        let (tx, _) = mpsc::channel(1);
        RouterHandle { tx }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RouterCmd) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.ok()?;
        rx.await.ok()
    }

    /// A console follows its teams' inboxes (`inbox` frames now and on every change).
    pub async fn subscribe_inbox(
        &self,
        professional: ProfessionalId,
        link: SessionLink,
        teams: Option<Vec<TeamId>>,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::SubscribeInbox {
                professional,
                link,
                teams,
                req,
            })
            .await;
    }

    /// A professional takes an inbox matter, or joins their own (answered with `assigned`).
    pub async fn take(
        &self,
        professional: ProfessionalId,
        link: SessionLink,
        conversation: ConversationId,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Take {
                professional,
                link,
                conversation,
                req,
            })
            .await;
    }

    /// Queues a conversation; returns its place.
    pub async fn enqueue(&self, ticket: QueueTicket) -> Option<Place> {
        self.ask(|reply| RouterCmd::Enqueue {
            ticket,
            reply: Some(reply),
        })
        .await
    }

    /// Queues a conversation again (a transfer, a hand-back): its client is told the place
    /// with a `queue` frame, as there is no `queued` reply to carry it.
    pub async fn requeue(&self, ticket: QueueTicket) {
        let _ = self
            .tx
            .send(RouterCmd::Enqueue {
                ticket,
                reply: None,
            })
            .await;
    }

    /// The place of a waiting conversation.
    pub async fn place(&self, conversation: ConversationId) -> Option<Place> {
        self.ask(|reply| RouterCmd::Place {
            conversation,
            reply,
        })
        .await
        .flatten()
    }

    /// The least-loaded of `teams` for a new conversation.
    pub async fn pick_team(&self, teams: Vec<TeamId>) -> Option<TeamId> {
        self.ask(|reply| RouterCmd::PickTeam { teams, reply }).await
    }

    /// Registers a professional's session and attaches it to their conversations.
    pub async fn connect(
        &self,
        professional: ProfessionalRef,
        link: SessionLink,
        resume: HashMap<ConversationId, u64>,
    ) -> Option<ConnectReply> {
        self.ask(|reply| RouterCmd::Connect {
            professional,
            link,
            resume,
            reply,
        })
        .await
    }

    /// A professional's session ended.
    pub async fn disconnect(&self, professional: ProfessionalId, session: SessionId) {
        let _ = self
            .tx
            .send(RouterCmd::Disconnect {
                professional,
                session,
            })
            .await;
    }

    /// Changes availability and/or capacity.
    pub async fn status(
        &self,
        professional: ProfessionalId,
        availability: Option<Availability>,
        capacity: Option<u32>,
    ) -> Option<StatusUpdate> {
        self.ask(|reply| RouterCmd::Status {
            professional,
            availability,
            capacity,
            reply,
        })
        .await
    }

    /// Sends queue snapshots of `teams` to the session now and on every change.
    pub async fn subscribe(&self, link: SessionLink, teams: Vec<TeamId>, req: Option<String>) {
        let _ = self
            .tx
            .send(RouterCmd::Subscribe { link, teams, req })
            .await;
    }

    /// Takes the next conversation of a team or a chosen one (answers go to the session).
    pub async fn accept(
        &self,
        professional: ProfessionalId,
        link: SessionLink,
        team: Option<TeamId>,
        conversation: Option<ConversationId>,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Accept {
                professional,
                link,
                team,
                conversation,
                req,
            })
            .await;
    }

    /// A conversation left a professional (closed or transferred).
    pub async fn released(&self, professional: ProfessionalId, conversation: ConversationId) {
        let _ = self
            .tx
            .send(RouterCmd::Released {
                professional,
                conversation,
            })
            .await;
    }

    /// A waiting client wrote: the start of it is shown in the console's queue.
    pub async fn preview(&self, conversation: ConversationId, text: String) {
        let _ = self
            .tx
            .send(RouterCmd::Preview { conversation, text })
            .await;
    }

    /// The client left a waiting conversation: it leaves the queue.
    pub async fn withdraw(&self, conversation: ConversationId) {
        let _ = self.tx.send(RouterCmd::Withdraw { conversation }).await;
    }

    /// The teams (named in `lang`) and every professional with presence and load.
    pub async fn colleagues(&self, lang: Option<String>) -> Option<Colleagues> {
        self.ask(|reply| RouterCmd::Colleagues { lang, reply })
            .await
    }

    /// A waiting client identified: the queue shows it.
    pub async fn identified(&self, conversation: ConversationId) {
        let _ = self.tx.send(RouterCmd::Identified { conversation }).await;
    }

    /// A supervisor's session follows `teams` (checked by the session); overviews go to it.
    pub async fn supervise(
        &self,
        link: SessionLink,
        teams: Vec<TeamId>,
        lang: Option<String>,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Supervise {
                link,
                teams,
                lang,
                req,
            })
            .await;
    }

    /// A supervisor sets a team's routing; the answer (or error) goes to the session.
    pub async fn set_routing(
        &self,
        by: ProfessionalId,
        team: TeamId,
        routing: console_protocol::RoutingMode,
        link: SessionLink,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::SetRouting {
                by,
                team,
                routing,
                link,
                req,
            })
            .await;
    }

    /// A supervisor of `mine` moves a waiting conversation to `to_team`; the answer (or
    /// error) goes to the session.
    pub async fn move_waiting(
        &self,
        by: ProfessionalId,
        mine: Vec<TeamId>,
        conversation: ConversationId,
        to_team: TeamId,
        link: SessionLink,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Move {
                by,
                mine,
                conversation,
                to_team,
                link,
                req,
            })
            .await;
    }

    /// Reopens a complete conversation for the professional (answers go to the session).
    pub async fn reopen(
        &self,
        professional: ProfessionalId,
        link: SessionLink,
        conversation: ConversationId,
        req: Option<String>,
    ) {
        let _ = self
            .tx
            .send(RouterCmd::Reopen {
                professional,
                link,
                conversation,
                req,
            })
            .await;
    }
}
