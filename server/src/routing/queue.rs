//! One team's queue: entries ordered by priority (higher first) then waiting time, and an
//! estimate of the wait from the recent assignment rate.

use crate::conversation::QueueTicket;
use crate::organisation::Routing;
use console_protocol::{ConversationId, ProfessionalId, QueueEntry};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Assignments remembered for the wait estimate.
const RATE_WINDOW: usize = 20;
/// Assumed handling time per conversation before any assignment has been seen.
const DEFAULT_SECONDS_PER_ASSIGNMENT: f64 = 120.0;

/// A waiting conversation.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub ticket: QueueTicket,
    pub since: Instant,
    /// Position last told to the client (to send only changes).
    pub told_position: u32,
}

/// The queue of one team.
#[derive(Debug)]
pub struct TeamQueue {
    pub routing: Routing,
    entries: Vec<Waiting>,
    assignments: VecDeque<Instant>,
}

impl TeamQueue {
    /// An empty queue.
    pub fn new(routing: Routing) -> Self {
        TeamQueue {
            routing,
            entries: Vec::new(),
            assignments: VecDeque::new(),
        }
    }

    /// Adds (or replaces) a conversation; returns its 1-based position.
    pub fn push(&mut self, ticket: QueueTicket, since: Instant) -> u32 {
        self.remove(&ticket.conversation);
        let key = |w: &Waiting| (-w.ticket.priority, w.ticket.queued_at_ms);
        let new = Waiting {
            ticket,
            since,
            told_position: 0,
        };
        let at = self.entries.partition_point(|w| key(w) <= key(&new));
        self.entries.insert(at, new);
        at as u32 + 1
    }

    /// Removes a conversation, returning its entry.
    pub fn remove(&mut self, id: &ConversationId) -> Option<Waiting> {
        let i = self
            .entries
            .iter()
            .position(|w| &w.ticket.conversation == id)?;
        Some(self.entries.remove(i))
    }

    /// The first entry `professional` may take (entries reserved for others are skipped).
    pub fn first_for(&self, professional: &ProfessionalId) -> Option<&Waiting> {
        self.entries.iter().find(|w| {
            w.ticket
                .for_professional
                .as_ref()
                .is_none_or(|p| p == professional)
        })
    }

    /// Entries in order.
    pub fn entries(&self) -> &[Waiting] {
        &self.entries
    }

    /// Mutable entries in order (to record told positions).
    pub fn entries_mut(&mut self) -> &mut [Waiting] {
        &mut self.entries
    }

    /// Number waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nobody waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records an assignment for the rate estimate.
    pub fn record_assignment(&mut self, at: Instant) {
        self.assignments.push_back(at);
        if self.assignments.len() > RATE_WINDOW {
            self.assignments.pop_front();
        }
    }

    /// Estimated wait in seconds for the conversation at `position` (1-based).
    pub fn estimate_wait_s(&self, position: u32, now: Instant, servers: usize) -> u64 {
        let per_assignment = match (self.assignments.front(), self.assignments.len()) {
            (Some(first), n) if n >= 3 => {
                let span = now.duration_since(*first).max(Duration::from_secs(1));
                span.as_secs_f64() / n as f64
            }
            _ => DEFAULT_SECONDS_PER_ASSIGNMENT / servers.max(1) as f64,
        };
        (per_assignment * f64::from(position)).round() as u64
    }

    /// The console's view of the queue.
    pub fn snapshot(&self, now: Instant) -> Vec<QueueEntry> {
        self.entries
            .iter()
            .map(|w| QueueEntry {
                conversation: w.ticket.conversation.clone(),
                service: w.ticket.service.clone(),
                topic: w.ticket.topic.clone(),
                waiting_s: now.duration_since(w.since).as_secs(),
                identified: w.ticket.identified,
                priority: w.ticket.priority,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, priority: i32, at: i64) -> QueueTicket {
        QueueTicket {
            conversation: id.into(),
            team: "t".into(),
            service: "s".into(),
            topic: None,
            identified: false,
            priority,
            queued_at_ms: at,
            for_professional: None,
        }
    }

    #[test]
    fn fifo_within_priority_and_priority_first() {
        let mut q = TeamQueue::new(Routing::Auto);
        let now = Instant::now();
        assert_eq!(q.push(ticket("a", 0, 1), now), 1);
        assert_eq!(q.push(ticket("b", 0, 2), now), 2);
        assert_eq!(q.push(ticket("c", 2, 3), now), 1);
        let order: Vec<_> = q
            .entries()
            .iter()
            .map(|w| w.ticket.conversation.to_string())
            .collect();
        assert_eq!(order, ["c", "a", "b"]);
        assert!(q.remove(&"a".into()).is_some());
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn reserved_entries_are_only_for_their_professional() {
        let mut q = TeamQueue::new(Routing::Auto);
        let mut t = ticket("a", 1, 1);
        t.for_professional = Some("nurse-3".into());
        q.push(t, Instant::now());
        q.push(ticket("b", 0, 2), Instant::now());
        assert_eq!(
            q.first_for(&"nurse-1".into())
                .map(|w| w.ticket.conversation.as_str()),
            Some("b")
        );
        assert_eq!(
            q.first_for(&"nurse-3".into())
                .map(|w| w.ticket.conversation.as_str()),
            Some("a")
        );
    }

    #[test]
    fn wait_estimate_follows_assignment_rate() {
        let mut q = TeamQueue::new(Routing::Auto);
        let start = Instant::now();
        for i in 0..10 {
            q.record_assignment(start + Duration::from_secs(i * 6));
        }
        // 10 assignments over 60 s → 6 s each; third in line waits ~18 s.
        let eta = q.estimate_wait_s(3, start + Duration::from_secs(60), 1);
        assert!((15..=21).contains(&eta), "eta {eta}");
    }
}
