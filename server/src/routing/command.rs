//! The router's mailbox: the commands its handle (and the router's own waiters) send, with a
//! `oneshot` for the answer where the sender waits for one.

use super::{ConnectReply, Place};
use crate::conversation::{ProfessionalRef, QueueTicket};
use crate::delivery::SessionLink;
use console_protocol::{
    Availability, Colleagues, ConversationId, ProfessionalId, RoutingMode, SessionId, StatusUpdate,
    TeamId,
};
use std::collections::HashMap;
use tokio::sync::oneshot;

pub(super) enum RouterCmd {
    Enqueue {
        ticket: QueueTicket,
        reply: Option<oneshot::Sender<Place>>,
    },
    Place {
        conversation: ConversationId,
        reply: oneshot::Sender<Option<Place>>,
    },
    PickTeam {
        teams: Vec<TeamId>,
        reply: oneshot::Sender<TeamId>,
    },
    Connect {
        professional: ProfessionalRef,
        link: SessionLink,
        resume: HashMap<ConversationId, u64>,
        reply: oneshot::Sender<ConnectReply>,
    },
    Disconnect {
        professional: ProfessionalId,
        session: SessionId,
    },
    Status {
        professional: ProfessionalId,
        availability: Option<Availability>,
        capacity: Option<u32>,
        reply: oneshot::Sender<StatusUpdate>,
    },
    Subscribe {
        link: SessionLink,
        teams: Vec<TeamId>,
        req: Option<String>,
    },
    Accept {
        professional: ProfessionalId,
        link: SessionLink,
        team: Option<TeamId>,
        conversation: Option<ConversationId>,
        req: Option<String>,
    },
    Released {
        professional: ProfessionalId,
        conversation: ConversationId,
    },
    Reopen {
        professional: ProfessionalId,
        link: SessionLink,
        conversation: ConversationId,
        req: Option<String>,
    },
    AssignFailed {
        professional: ProfessionalId,
        conversation: ConversationId,
    },
    Preview {
        conversation: ConversationId,
        text: String,
    },
    Withdraw {
        conversation: ConversationId,
    },
    /// A waiting client identified (resumed with a token).
    Identified {
        conversation: ConversationId,
    },
    Colleagues {
        lang: Option<String>,
        reply: oneshot::Sender<Colleagues>,
    },
    /// A supervisor's session follows these teams' overviews.
    Supervise {
        link: SessionLink,
        teams: Vec<TeamId>,
        lang: Option<String>,
        req: Option<String>,
    },
    SetRouting {
        by: ProfessionalId,
        team: TeamId,
        routing: RoutingMode,
        link: SessionLink,
        req: Option<String>,
    },
    /// A routing's write finished (from the router's own waiter).
    RoutingStored {
        team: TeamId,
        routing: RoutingMode,
        stored: Result<(), String>,
        link: SessionLink,
        req: Option<String>,
    },
    /// A supervisor of `mine` moves a waiting conversation to `to_team`.
    Move {
        by: ProfessionalId,
        mine: Vec<TeamId>,
        conversation: ConversationId,
        to_team: TeamId,
        link: SessionLink,
        req: Option<String>,
    },
    /// A move's write finished (from the router's own waiter).
    MoveDone {
        conversation: ConversationId,
        old: Box<QueueTicket>,
        moved: Box<Result<QueueTicket, crate::conversation::ConvError>>,
        link: SessionLink,
        req: Option<String>,
    },
    /// A console follows its teams' inboxes.
    SubscribeInbox {
        professional: ProfessionalId,
        link: SessionLink,
        teams: Option<Vec<TeamId>>,
        req: Option<String>,
    },
    /// A professional takes an inbox matter (or joins their own).
    Take {
        professional: ProfessionalId,
        link: SessionLink,
        conversation: ConversationId,
        req: Option<String>,
    },
}
