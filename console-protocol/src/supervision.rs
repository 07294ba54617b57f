//! Supervision (extension): a shift lead's requests (follow teams, set a team's routing, move
//! a waiting conversation) and the overview of a team they get back.

use crate::ids::*;
use serde::{Deserialize, Serialize};

use crate::frames::Presence;

/// Extension: a supervisor asks for the overview of `teams` (default: every team of theirs),
/// now and whenever it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Supervise {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<TeamId>>,
    /// The language for team names (the console's); the organisation's default otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// How a team's queue hands out conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// The longest-waiting conversation goes to the least-loaded available professional.
    Auto,
    /// Professionals pick from the queue.
    Manual,
}

impl RoutingMode {
    /// The wire name (`auto`, `manual`), also the stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
        }
    }
}

/// Extension: a supervisor sets a team's routing (also the server's reply, `routing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRouting {
    pub team: TeamId,
    pub routing: RoutingMode,
}

/// Extension: a supervisor moves a waiting conversation to `to_team`'s queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub conversation: ConversationId,
    pub to_team: TeamId,
}

/// Extension: one team as its supervisors see it — the queue in summary (never content or the
/// client's name), who is signed in with their load, and the routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamOverview {
    pub team: TeamId,
    pub name: String,
    pub routing: RoutingMode,
    /// Conversations waiting.
    pub waiting: u32,
    /// How long the longest-waiting one has waited (0 when nobody waits).
    pub oldest_wait_s: u64,
    /// The wait a client queued now would be told.
    pub estimated_wait_s: u64,
    /// Clients wait and nobody of the team is available.
    pub unstaffed: bool,
    /// Professionals of the team available now.
    pub available: u32,
    /// Conversations the team's signed-in professionals hold.
    pub active: u32,
    /// Summed capacity of the available professionals.
    pub capacity: u32,
    /// The waiting conversations in queue order.
    pub queue: Vec<OverviewEntry>,
    /// Every professional of the team, with presence and load.
    pub professionals: Vec<TeamMember>,
}

/// Extension: a waiting conversation in summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewEntry {
    pub conversation: ConversationId,
    pub service: ServiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    pub channel: String,
    pub waiting_s: u64,
    pub identified: bool,
}

/// Extension: a professional of a team with presence and load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub id: ProfessionalId,
    pub name: String,
    pub presence: Presence,
    pub active: u32,
    pub capacity: u32,
}

/// Extension: a waiting conversation moved to `team`'s queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    pub conversation: ConversationId,
    pub team: TeamId,
}
