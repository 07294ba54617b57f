//! A professional's presence as the router sees it.

use crate::conversation::ProfessionalRef;
use crate::delivery::SessionLink;
use crate::organisation::Professional;
use console_protocol::{Availability, ConversationId, Presence as PresenceKind, TeamId};
use std::collections::HashSet;
use std::time::Instant;

/// Sessions, availability, capacity and assigned conversations of one professional.
pub struct Presence {
    pub who: ProfessionalRef,
    pub links: Vec<SessionLink>,
    pub availability: Availability,
    pub capacity: u32,
    pub active: HashSet<ConversationId>,
    /// When the last session closed; conversations are requeued after the grace period.
    pub gone_since: Option<Instant>,
}

impl Presence {
    /// A configured professional, not connected.
    pub fn new(p: &Professional) -> Self {
        Presence {
            who: ProfessionalRef {
                id: p.id.clone(),
                name: p.name.clone(),
                teams: p.teams.clone(),
            },
            links: Vec::new(),
            availability: Availability::Available,
            capacity: p.capacity.max(1),
            active: HashSet::new(),
            gone_since: None,
        }
    }

    /// Member of `team`.
    pub fn serves(&self, team: &TeamId) -> bool {
        self.who.teams.contains(team)
    }

    /// Connected and available.
    pub fn is_available(&self) -> bool {
        self.availability == Availability::Available && self.links.iter().any(|l| !l.is_gone())
    }

    /// What colleagues see: available, away, or offline (no session open).
    pub fn presence(&self) -> PresenceKind {
        if !self.links.iter().any(|l| !l.is_gone()) {
            PresenceKind::Offline
        } else if self.availability == Availability::Available {
            PresenceKind::Available
        } else {
            PresenceKind::Away
        }
    }

    /// Available with a free place.
    pub fn can_take(&self) -> bool {
        self.is_available() && (self.active.len() as u32) < self.capacity
    }

    /// Free places.
    pub fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.active.len() as u32)
    }

    /// Sessions still open.
    pub fn live_links(&self) -> Vec<SessionLink> {
        self.links
            .iter()
            .filter(|l| !l.is_gone())
            .cloned()
            .collect()
    }
}
