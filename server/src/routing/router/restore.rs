//! Start-up: the queues and the professionals' assigned conversations rebuilt from the open
//! conversations in storage, and the waiting ones' previews read back off the router's loop.

use super::*;
use crate::storage::ConversationRecord;
use console_protocol::{Event, Role};

/// How many of a waiting conversation's latest events are read back for its preview.
const PREVIEW_SCAN: u32 = 20;

impl Router {
    pub(super) fn restore(&mut self, open: Vec<ConversationRecord>) {
        let now = Instant::now();
        let now_ms = crate::conversation::view::now_ms();
        let mut waiting = Vec::new();
        for r in open {
            if crate::organisation::is_async_channel(&r.channel) {
                self.inbox_restore(&r);
                continue;
            }
            // Held by a professional the configuration does not list (signed in through the
            // identity provider): they are present, gone, until they sign in again or their
            // grace period ends — as a listed one is — not requeued behind their back.
            if let (ConversationStatus::InProgress, Some(p)) =
                (r.state.status, &r.state.assigned_to)
            {
                self.pros.entry(p.clone()).or_insert_with(|| {
                    super::super::presence::Presence::new(&crate::organisation::Professional {
                        id: p.clone(),
                        name: p.to_string(),
                        teams: vec![r.state.team.clone()],
                        capacity: crate::organisation::DEFAULT_CAPACITY,
                        roles: Vec::new(),
                    })
                });
            }
            match (r.state.status, &r.state.assigned_to) {
                (ConversationStatus::InProgress, Some(p)) if self.pros.contains_key(p) => {
                    if let Some(pr) = self.pros.get_mut(p) {
                        pr.active.insert(r.id.clone());
                        pr.gone_since.get_or_insert(now);
                    }
                }
                _ => {
                    let ticket = QueueTicket::of(&r);
                    // Waiting since it was queued, not since this start: the wait a client and
                    // a supervisor see goes on over a restart or a takeover.
                    let waited = (now_ms - ticket.queued_at_ms).max(0) as u64;
                    let since = now
                        .checked_sub(Duration::from_millis(waited))
                        .unwrap_or(now);
                    // A deadline that passed before this start was counted then (or while the
                    // node was down): not again.
                    if let Some(due) = ticket.due_at_ms.filter(|due| *due <= now_ms) {
                        self.breached.insert((ticket.conversation.clone(), due));
                    }
                    if let Some(q) = self.teams.get_mut(&ticket.team) {
                        self.queued_in
                            .insert(ticket.conversation.clone(), ticket.team.clone());
                        waiting.push(ticket.conversation.clone());
                        q.push(ticket, since);
                    }
                }
            }
        }
        for (team, q) in &self.teams {
            self.metrics
                .queue_length
                .with_label_values(&[team.as_str()])
                .set(q.len() as i64);
        }
        self.restore_previews(waiting);
    }

    /// Reads back, off the router's loop, what each waiting client last wrote, so the queue's
    /// previews survive a restart. Best effort: a failed read leaves the entry without one.
    fn restore_previews(&self, waiting: Vec<ConversationId>) {
        let (Some(tx), false) = (self.tx.upgrade(), waiting.is_empty()) else {
            return;
        };
        let storage = self.hub.deps.storage.clone();
        tokio::spawn(async move {
            for conversation in waiting {
                let Ok(events) = storage
                    .events_before(&conversation, u64::MAX, PREVIEW_SCAN)
                    .await
                else {
                    continue;
                };
                let last = events.into_iter().rev().find_map(|e| match e {
                    Event::Message(m) if m.from.role == Role::Client => Some(m.body),
                    _ => None,
                });
                if let Some(text) = last {
                    let cmd = RouterCmd::Preview { conversation, text };
                    if tx.send(cmd).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}
