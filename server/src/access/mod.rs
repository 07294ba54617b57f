//! Who may read and write a client's data, decided in one place ([`decide`]), and the access
//! log written from that decision before the data is shown (Act 703/2023 on the processing
//! of client data in healthcare and social welfare).
//!
//! A professional's console session passes every frame it is about to write through its
//! [`gate::Gate`]: each conversation whose client data the frame carries (a message, an
//! assignment, history, a queue preview, an archive hit) is decided and logged the first time
//! this session shows it for that purpose, durably, before the frame goes out; a refused one
//! is not shown. The conversation actor asks the same function before it acts for anyone.

pub mod gate;

use crate::organisation::Professional;
use crate::storage::access::AccessEntry;
use console_protocol::{ProfessionalId, TeamId};

/// What is done with a conversation's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// Acting in it: sending, noting, typing, reading receipts, closing, handing over. Only
    /// the professional it is assigned to.
    Write,
    /// Seeing it live: its messages as they come, its assignment.
    Follow,
    /// Reading it outside a live assignment: its history, a queue preview, an archive hit.
    /// The assigned professional, a member of its team, or — for its history — a
    /// professional of another team who states why (logged with the reason).
    Browse,
}

/// The purpose a log entry names: where the data was shown or what was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Assigned to the professional (accepted, routed, taken, resumed at sign-in).
    Assignment,
    /// A conversation's live messages.
    Conversation,
    /// Its stored history.
    History,
    /// A waiting conversation's preview in a team's queue.
    Queue,
    /// A hit of an archive search.
    Archive,
    /// Writing in it.
    Write,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Assignment => "assignment",
            Purpose::Conversation => "conversation",
            Purpose::History => "history",
            Purpose::Queue => "queue",
            Purpose::Archive => "archive",
            Purpose::Write => "write",
        }
    }

    /// What showing data for this purpose is.
    pub fn act(self) -> Act {
        match self {
            Purpose::Assignment | Purpose::Conversation => Act::Follow,
            Purpose::History | Purpose::Queue | Purpose::Archive => Act::Browse,
            Purpose::Write => Act::Write,
        }
    }

    /// The log's `action` column.
    pub fn action(self) -> &'static str {
        match self {
            Purpose::Write => "write",
            _ => "view",
        }
    }
}

/// Why an access was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The conversation is assigned to them: the care relationship.
    Care,
    /// A conversation of their team.
    Team,
    /// Outside both, for a reason they stated (e.g. a consultation), kept in the log for the
    /// data-protection officer's review.
    Stated,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Care => "care",
            Basis::Team => "team",
            Basis::Stated => "stated_reason",
        }
    }
}

/// What the policy says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Basis),
    Refuse,
}

impl Decision {
    pub fn allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// What the policy needs to know of a conversation.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The team it belongs to now.
    pub team: &'a TeamId,
    /// The professional it is assigned to now.
    pub assigned_to: Option<&'a ProfessionalId>,
    /// The professional stated why they read it (outside care and team).
    pub stated_reason: bool,
}

/// Whether the professional `me` (a member of `teams`) may do `act` on the conversation
/// `facts` describes, and on what basis. Clients are not decided here: a client session
/// reaches only the conversation its resume token names.
pub fn decide(me: &ProfessionalId, teams: &[TeamId], act: Act, facts: Facts<'_>) -> Decision {
    let assigned = facts.assigned_to == Some(me);
    match act {
        Act::Write | Act::Follow if assigned => Decision::Allow(Basis::Care),
        Act::Write | Act::Follow => Decision::Refuse,
        Act::Browse if assigned => Decision::Allow(Basis::Care),
        Act::Browse if teams.contains(facts.team) => Decision::Allow(Basis::Team),
        // A professional of the organisation's care teams, never a team-less role.
        Act::Browse if facts.stated_reason && !teams.is_empty() => Decision::Allow(Basis::Stated),
        Act::Browse => Decision::Refuse,
    }
}

/// The role a log entry names for `professional`: their configured roles, else
/// `professional`.
pub fn role_of(professional: Option<&Professional>) -> String {
    match professional.map(Professional::role_names) {
        Some(roles) if !roles.is_empty() => roles.join(","),
        _ => "professional".to_owned(),
    }
}

/// A log entry of `decision` about `conversation` (of the client `client`, when identified).
#[allow(clippy::too_many_arguments)]
pub fn entry(
    actor: &ProfessionalId,
    role: &str,
    node: &str,
    conversation: &console_protocol::ConversationId,
    client: Option<String>,
    purpose: Purpose,
    decision: Decision,
    at_ms: i64,
    reason: Option<String>,
) -> AccessEntry {
    let (basis, outcome) = match decision {
        Decision::Allow(b) => (b.as_str(), "allowed"),
        Decision::Refuse => ("none", "refused"),
    };
    AccessEntry {
        at_ms,
        actor: actor.as_str().to_owned(),
        role: role.to_owned(),
        client,
        conversation: Some(conversation.clone()),
        action: purpose.action().to_owned(),
        purpose: purpose.as_str().to_owned(),
        basis: basis.to_owned(),
        reason,
        outcome: outcome.to_owned(),
        node: node.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(team: &'a TeamId, assigned_to: Option<&'a ProfessionalId>) -> Facts<'a> {
        Facts {
            team,
            assigned_to,
            stated_reason: false,
        }
    }

    #[test]
    fn the_assigned_professional_acts_and_the_team_only_browses() {
        let team: TeamId = "station-a".into();
        let other_team: TeamId = "station-b".into();
        let me: ProfessionalId = "nurse-1".into();
        let colleague: ProfessionalId = "nurse-2".into();
        let teams = [team.clone()];
        for act in [Act::Write, Act::Follow, Act::Browse] {
            assert_eq!(
                decide(&me, &teams, act, facts(&team, Some(&me))),
                Decision::Allow(Basis::Care),
                "{act:?}"
            );
            // Assigned in another team (transferred to me by name): still mine.
            assert!(decide(&me, &teams, act, facts(&other_team, Some(&me))).allowed());
        }
        for act in [Act::Write, Act::Follow] {
            assert_eq!(
                decide(&me, &teams, act, facts(&team, Some(&colleague))),
                Decision::Refuse
            );
            assert_eq!(
                decide(&me, &teams, act, facts(&team, None)),
                Decision::Refuse
            );
        }
        assert_eq!(
            decide(&me, &teams, Act::Browse, facts(&team, Some(&colleague))),
            Decision::Allow(Basis::Team)
        );
        assert_eq!(
            decide(&me, &teams, Act::Browse, facts(&other_team, None)),
            Decision::Refuse
        );
    }

    #[test]
    fn a_stated_reason_opens_another_teams_history_to_care_professionals_only() {
        let team: TeamId = "station-a".into();
        let other: TeamId = "social".into();
        let me: ProfessionalId = "nurse-1".into();
        let stated = Facts {
            team: &other,
            assigned_to: None,
            stated_reason: true,
        };
        assert_eq!(
            decide(&me, std::slice::from_ref(&team), Act::Browse, stated),
            Decision::Allow(Basis::Stated)
        );
        // Never to act or follow it live, and never for a role without a team.
        for act in [Act::Write, Act::Follow] {
            assert_eq!(
                decide(&me, std::slice::from_ref(&team), act, stated),
                Decision::Refuse
            );
        }
        assert_eq!(decide(&me, &[], Act::Browse, stated), Decision::Refuse);
    }
}
