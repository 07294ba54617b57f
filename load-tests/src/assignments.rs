//! Who serves which conversation during set-up: console readers report each `assigned`
//! frame, client readers each `assigned` system event. A professional may hold several
//! console connections and gets every event on each, so once everything is assigned
//! [`Assignments::settle`] picks one owning connection per conversation, balancing the load.

use console_protocol::ConversationId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// Index of a console connection.
pub type Slot = usize;

/// The shared assignment board of one scenario run.
#[derive(Debug, Default)]
pub struct Assignments {
    claims: Mutex<HashMap<ConversationId, Vec<Slot>>>,
    owners: OnceLock<HashMap<ConversationId, Slot>>,
    clients_assigned: AtomicUsize,
    status_replies: AtomicUsize,
}

impl Assignments {
    /// Console connection `slot` was told it serves `conversation`.
    pub fn claim(&self, conversation: &ConversationId, slot: Slot) {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        let slots = claims.entry(conversation.clone()).or_default();
        if !slots.contains(&slot) {
            slots.push(slot);
        }
    }

    /// A client saw its conversation assigned.
    pub fn client_assigned(&self) {
        self.clients_assigned.fetch_add(1, Ordering::Relaxed);
    }

    /// A console connection got its `status` echo.
    pub fn status_replied(&self) {
        self.status_replies.fetch_add(1, Ordering::Relaxed);
    }

    /// How many clients saw their assignment.
    pub fn clients_assigned_count(&self) -> usize {
        self.clients_assigned.load(Ordering::Relaxed)
    }

    /// How many `status` echoes arrived.
    pub fn status_reply_count(&self) -> usize {
        self.status_replies.load(Ordering::Relaxed)
    }

    /// How many of `conversations` some console connection claimed.
    pub fn claimed_among(&self, conversations: &[ConversationId]) -> usize {
        let claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        conversations
            .iter()
            .filter(|c| claims.contains_key(*c))
            .count()
    }

    /// Fixes one owner per conversation (the claimant owning the fewest so far) and returns
    /// each slot's conversations. Later calls return the first result's owners again.
    pub fn settle(&self, conversations: &[ConversationId]) -> HashMap<Slot, Vec<ConversationId>> {
        let owners = self.owners.get_or_init(|| {
            let claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
            balance(conversations, &claims)
        });
        let mut by_slot: HashMap<Slot, Vec<ConversationId>> = HashMap::new();
        for c in conversations {
            if let Some(&slot) = owners.get(c) {
                by_slot.entry(slot).or_default().push(c.clone());
            }
        }
        by_slot
    }

    /// Whether `slot` owns `conversation` (false until [`Assignments::settle`]).
    pub fn owns(&self, slot: Slot, conversation: &ConversationId) -> bool {
        self.owners
            .get()
            .and_then(|owners| owners.get(conversation))
            .is_some_and(|&owner| owner == slot)
    }
}

fn balance(
    conversations: &[ConversationId],
    claims: &HashMap<ConversationId, Vec<Slot>>,
) -> HashMap<ConversationId, Slot> {
    let mut load: HashMap<Slot, usize> = HashMap::new();
    let mut owners = HashMap::new();
    for c in conversations {
        let Some(slots) = claims.get(c) else {
            continue;
        };
        let best = slots
            .iter()
            .copied()
            .min_by_key(|s| (load.get(s).copied().unwrap_or(0), *s));
        if let Some(slot) = best {
            *load.entry(slot).or_default() += 1;
            owners.insert(c.clone(), slot);
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<ConversationId> {
        (0..n).map(|i| ConversationId(format!("c{i}"))).collect()
    }

    #[test]
    fn shared_professional_splits_conversations_between_connections() {
        let board = Assignments::default();
        let convs = ids(6);
        // Slots 0 and 1 belong to the same professional; slot 2 to another.
        for c in &convs[..4] {
            board.claim(c, 0);
            board.claim(c, 1);
            board.claim(c, 1);
        }
        for c in &convs[4..] {
            board.claim(c, 2);
        }
        board.claim(&ConversationId::from("stale"), 2);
        assert_eq!(board.claimed_among(&convs), 6);
        assert!(!board.owns(0, &convs[0]), "nobody owns before settling");
        let by_slot = board.settle(&convs);
        assert_eq!(by_slot.get(&0).map(Vec::len), Some(2));
        assert_eq!(by_slot.get(&1).map(Vec::len), Some(2));
        assert_eq!(by_slot.get(&2).map(Vec::len), Some(2));
        for c in &convs[..4] {
            assert!(board.owns(0, c) != board.owns(1, c), "exactly one owner");
        }
        assert!(!board.owns(2, &ConversationId::from("stale")));
    }

    #[test]
    fn unclaimed_conversations_have_no_owner() {
        let board = Assignments::default();
        let convs = ids(2);
        board.claim(&convs[0], 3);
        assert_eq!(board.claimed_among(&convs), 1);
        let by_slot = board.settle(&convs);
        assert_eq!(by_slot.get(&3), Some(&vec![convs[0].clone()]));
        assert!(!board.owns(3, &convs[1]));
    }
}
