//! One team's queue: entries ordered by priority (higher first) then waiting time, and an
//! estimate of the wait from the recent assignment rate, which never falls below what the
//! queue's stall (no assignment for a while) implies.

use crate::conversation::view::client_alias;
use crate::conversation::{Place, QueueTicket};
use crate::organisation::Routing;
use console_protocol::{ConversationId, ProfessionalId, QueueEntry};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Assignments remembered for the wait estimate.
const RATE_WINDOW: usize = 20;
/// Assumed handling time per conversation before any assignment has been seen.
const DEFAULT_SECONDS_PER_ASSIGNMENT: f64 = 120.0;

/// Longest preview of a waiting client's message shown in the console's queue.
pub const PREVIEW_CHARS: usize = 140;

/// A waiting conversation.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub ticket: QueueTicket,
    pub since: Instant,
    /// Place last told to the client (to send only changes); `None` before the first.
    pub told: Option<Place>,
    /// The start of the client's latest message while waiting.
    pub preview: Option<String>,
    /// The client's alias, derived once (every snapshot lists it).
    alias: String,
}

/// How much an estimate must move before the client is told again.
const ESTIMATE_STEP_S: u64 = 30;

impl Place {
    /// True when the client should hear about `self` after having been told `told`.
    pub fn worth_telling(&self, told: Option<Place>) -> bool {
        told.is_none_or(|t| {
            t.position != self.position
                || t.staffed != self.staffed
                || t.estimated_wait_s.abs_diff(self.estimated_wait_s) >= ESTIMATE_STEP_S
        })
    }
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
            alias: client_alias(&ticket.conversation),
            ticket,
            since,
            told: None,
            preview: None,
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

    /// Keeps the start of a waiting client's latest message for the console's queue.
    pub fn set_preview(&mut self, id: &ConversationId, text: &str) -> bool {
        let Some(w) = self
            .entries
            .iter_mut()
            .find(|w| &w.ticket.conversation == id)
        else {
            return false;
        };
        let mut preview: String = text.trim().chars().take(PREVIEW_CHARS).collect();
        if text.trim().chars().count() > PREVIEW_CHARS {
            preview.push('…');
        }
        w.preview = Some(preview);
        true
    }

    /// Marks a waiting client as identified; false when it is not here or was already.
    pub fn set_identified(&mut self, id: &ConversationId) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|w| &w.ticket.conversation == id)
        {
            Some(w) if !w.ticket.identified => {
                w.ticket.identified = true;
                true
            }
            _ => false,
        }
    }

    /// Records an assignment for the rate estimate.
    pub fn record_assignment(&mut self, at: Instant) {
        self.assignments.push_back(at);
        if self.assignments.len() > RATE_WINDOW {
            self.assignments.pop_front();
        }
    }

    /// Estimated wait in seconds for the conversation at `position` (1-based).
    ///
    /// From the recent assignment rate (or, before three assignments, a default handling time
    /// shared by the available professionals); but while the queue is stalled (no assignment
    /// since the head of the queue started waiting, or since the last one) each place is
    /// taken to last at least as long as the stall so far: a client at place 1 who has
    /// waited 3 minutes with everybody busy is not told "about 2 minutes" again.
    pub fn estimate_wait_s(&self, position: u32, now: Instant, servers: usize) -> u64 {
        (self.seconds_per_place(now, servers) * f64::from(position)).round() as u64
    }

    /// What one place in the queue is expected to take now (see [`Self::estimate_wait_s`]).
    fn seconds_per_place(&self, now: Instant, servers: usize) -> f64 {
        let per_assignment = match (self.assignments.front(), self.assignments.len()) {
            (Some(first), n) if n >= 3 => {
                let span = now.duration_since(*first).max(Duration::from_secs(1));
                span.as_secs_f64() / n as f64
            }
            _ => DEFAULT_SECONDS_PER_ASSIGNMENT / servers.max(1) as f64,
        };
        per_assignment.max(self.stall(now).as_secs_f64())
    }

    /// How long the queue has gone without an assignment while somebody waited.
    fn stall(&self, now: Instant) -> Duration {
        let Some(head) = self.entries.iter().map(|w| w.since).min() else {
            return Duration::ZERO;
        };
        let from = match self.assignments.back() {
            Some(last) => head.max(*last),
            None => head,
        };
        now.saturating_duration_since(from)
    }

    /// How long the longest-waiting entry has waited (zero when nobody waits).
    pub fn oldest_wait(&self, now: Instant) -> Duration {
        self.entries
            .iter()
            .map(|w| now.saturating_duration_since(w.since))
            .max()
            .unwrap_or_default()
    }

    /// The place of the entry at index `i`.
    pub fn place_at(&self, i: usize, now: Instant, servers: usize) -> Option<Place> {
        let w = self.entries.get(i)?;
        Some(place(
            i,
            w,
            self.seconds_per_place(now, servers),
            now,
            servers,
        ))
    }

    /// The place of every entry, in order (the estimate's inputs read once, not per entry).
    pub fn places(&self, now: Instant, servers: usize) -> Vec<Place> {
        let per_place = self.seconds_per_place(now, servers);
        self.entries
            .iter()
            .enumerate()
            .map(|(i, w)| place(i, w, per_place, now, servers))
            .collect()
    }

    /// The console's view of the queue.
    pub fn snapshot(&self, now: Instant) -> Vec<QueueEntry> {
        let now_ms = crate::conversation::view::now_ms();
        self.entries
            .iter()
            .map(|w| QueueEntry {
                conversation: w.ticket.conversation.clone(),
                service: w.ticket.service.clone(),
                topic: w.ticket.topic.clone(),
                waiting_s: now.duration_since(w.since).as_secs(),
                identified: w.ticket.identified,
                priority: w.ticket.priority,
                contact_s: Some((now_ms - w.ticket.contact_at_ms).max(0) as u64 / 1000),
                lang: w.ticket.lang.clone(),
                alias: Some(w.alias.clone()),
                preview: w.preview.clone(),
            })
            .collect()
    }
}

/// The place of entry `w` at index `i`, one place taking `per_place` seconds.
fn place(i: usize, w: &Waiting, per_place: f64, now: Instant, servers: usize) -> Place {
    let position = i as u32 + 1;
    Place {
        position,
        estimated_wait_s: (per_place * f64::from(position)).round() as u64,
        staffed: servers > 0,
        waited_s: now.saturating_duration_since(w.since).as_secs(),
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
            contact_at_ms: 0,
            lang: None,
            due_at_ms: None,
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
    fn a_stalled_queue_never_promises_less_than_the_stall_so_far() {
        let mut q = TeamQueue::new(Routing::Auto);
        let start = Instant::now();
        // One assignment every 6 s for a minute, then nothing while a client waits.
        for i in 0..10 {
            q.record_assignment(start + Duration::from_secs(i * 6));
        }
        q.push(ticket("a", 0, 1), start + Duration::from_secs(60));
        let soon = q.estimate_wait_s(1, start + Duration::from_secs(61), 1);
        assert!(soon <= 10, "right after the last assignment: {soon}");
        // 3.5 minutes later nobody has been taken: place 1 is not "about 6 s" any more.
        let later = start + Duration::from_secs(60 + 210);
        assert!(q.estimate_wait_s(1, later, 1) >= 210);
        assert!(q.estimate_wait_s(2, later, 1) >= 420);
        let place = q.place_at(0, later, 0).expect("place");
        assert!(!place.staffed);
        assert_eq!(place.waited_s, 210);
        // An assignment ends the stall.
        q.record_assignment(later);
        assert!(q.estimate_wait_s(1, later + Duration::from_secs(1), 1) < 210);
    }

    #[test]
    fn a_place_is_told_again_only_when_it_changed_enough_to_matter() {
        let p = |position, estimated_wait_s, staffed| Place {
            position,
            estimated_wait_s,
            staffed,
            waited_s: 0,
        };
        assert!(p(1, 60, true).worth_telling(None));
        assert!(!p(1, 60, true).worth_telling(Some(p(1, 40, true))));
        assert!(p(1, 90, true).worth_telling(Some(p(1, 60, true))));
        assert!(p(1, 60, false).worth_telling(Some(p(1, 60, true))));
        assert!(p(2, 60, true).worth_telling(Some(p(1, 60, true))));
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
