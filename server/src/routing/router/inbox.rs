//! The team inboxes of asynchronous matters (messages, forms, SMS): which open matters each
//! team has, kept from the actors' committed changes (the hub's inbox feed) and rebuilt from
//! storage at start-up; consoles following an inbox get it whole on every change, due and
//! overdue first, and an alert when a client writes; `take` makes a matter a professional's
//! own. Matters do not count against live-chat capacity and have no grace period: they wait
//! for days by design.

use super::*;
use crate::conversation::view::{now_ms, rfc3339_of_ms};
use crate::conversation::{InboxChange, InboxItem};
use console_protocol::{InboxAlert, InboxEntry, InboxSnapshot};

/// A deadline closer than this warns (`due_soon`).
const DUE_SOON_MS: i64 = 24 * 3600 * 1000;

impl Router {
    /// A new asynchronous conversation (from its start): into its team's inbox.
    pub(super) fn inbox_new(&mut self, ticket: &QueueTicket) {
        let Some(service) = self.org.service(&ticket.service) else {
            return;
        };
        let item = InboxItem {
            conversation: ticket.conversation.clone(),
            team: ticket.team.clone(),
            service: ticket.service.clone(),
            channel: service.channel.clone(),
            topic: ticket.topic.clone(),
            status: ConversationStatus::Queued,
            assigned_to: None,
            reserved_for: ticket.for_professional.clone(),
            identified: ticket.identified,
            due_at_ms: ticket.due_at_ms,
            contact_at_ms: ticket.contact_at_ms,
            updated_at_ms: ticket.queued_at_ms,
        };
        // The actor's own report of a later change may have come first.
        if !self.inbox.contains_key(&item.conversation) {
            let team = item.team.clone();
            self.inbox.insert(item.conversation.clone(), item);
            self.publish_inbox(&team);
        }
    }

    /// An asynchronous conversation's committed change, from its actor.
    pub(super) fn inbox_changed(&mut self, change: InboxChange) {
        let InboxChange { item, client_wrote } = change;
        let old_team = self.inbox.get(&item.conversation).map(|i| i.team.clone());
        let team = item.team.clone();
        if client_wrote {
            let alert = ServerFrame::InboxAlert(InboxAlert {
                conversation: item.conversation.clone(),
                team: team.clone(),
                service: item.service.clone(),
            });
            for l in self.inbox_subs.get(&team).into_iter().flatten() {
                l.reply(None, alert.clone());
            }
        }
        if item.status == ConversationStatus::Complete {
            self.inbox.remove(&item.conversation);
        } else {
            self.inbox.insert(item.conversation.clone(), item);
        }
        if let Some(old) = old_team.filter(|o| o != &team) {
            self.publish_inbox(&old);
        }
        self.publish_inbox(&team);
    }

    /// Restores an open asynchronous conversation at start-up.
    pub(super) fn inbox_restore(&mut self, r: &crate::storage::ConversationRecord) {
        let now = now_ms();
        if let Some(due) = r.state.due_at_ms.filter(|due| *due <= now) {
            // Counted when it passed (or while the node was down): not again.
            self.breached.insert((r.id.clone(), due));
        }
        self.inbox
            .insert(r.id.clone(), InboxItem::of(r, r.state.queued_at_ms));
    }

    /// A console follows the inboxes of `teams` (its own only).
    pub(super) fn subscribe_inbox(
        &mut self,
        pro: ProfessionalId,
        link: SessionLink,
        teams: Option<Vec<TeamId>>,
        req: Option<String>,
    ) {
        let Some(p) = self.pros.get(&pro) else { return };
        let teams = teams.unwrap_or_else(|| p.who.teams.clone());
        if let Some(t) = teams.iter().find(|t| !p.serves(t)) {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::Forbidden,
                &format!("not a member of team {t}"),
                None,
            );
        }
        for team in teams {
            link.reply(req.clone(), ServerFrame::Inbox(self.inbox_of(&team)));
            let subs = self.inbox_subs.entry(team).or_default();
            subs.retain(|l| l.id != link.id && !l.is_gone());
            subs.push(link.clone());
        }
    }

    /// A professional takes a New matter of their team (or one forwarded to them), or joins one
    /// that is theirs already. The `assigned` frame (after the commit) answers.
    pub(super) async fn take(
        &mut self,
        pro: ProfessionalId,
        link: SessionLink,
        conv: ConversationId,
        req: Option<String>,
    ) {
        let Some(p) = self.pros.get(&pro) else { return };
        // Another team's matter is answered as if it did not exist.
        let Some(item) = self.inbox.get(&conv).filter(|i| p.serves(&i.team)) else {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::NotFound,
                "no such open matter in your teams' inboxes",
                Some(conv),
            );
        };
        let mine = item.assigned_to.as_ref() == Some(&pro);
        let refusal = match item.status {
            ConversationStatus::Queued if item.reserved_for.as_ref().is_some_and(|r| r != &pro) => {
                Some("forwarded to a colleague: only they may take it")
            }
            ConversationStatus::InProgress if !mine => Some("a colleague has taken it"),
            _ => None,
        };
        if let Some(why) = refusal {
            return error(
                &self.metrics,
                &link,
                req,
                ErrorCode::Forbidden,
                why,
                Some(conv),
            );
        }
        let who = p.who.clone();
        // Only the asking session joins: the professional's other consoles open it themselves.
        let handle = match self.hub.get_or_load(&conv).await {
            Ok(Some(h)) => h,
            _ => {
                return error(
                    &self.metrics,
                    &link,
                    req,
                    ErrorCode::Internal,
                    "the matter could not be loaded",
                    Some(conv),
                )
            }
        };
        let rx = handle
            .assign(who, vec![link.clone()], req.clone(), false)
            .await;
        // A colleague's take that won the race reached the conversation first: the same
        // refusal as when the inbox already knows it (the conversation says "not waiting").
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let (code, why) = match rx.await.unwrap_or(Err(ConvError::Gone)) {
                Ok(()) => return,
                Err(ConvError::BadState(_)) => {
                    (ErrorCode::Forbidden, "a colleague has taken it".to_owned())
                }
                Err(e) => (e.code(), e.to_string()),
            };
            error(&metrics, &link, req, code, &why, Some(conv));
        });
    }

    /// One team's inbox: matters the organisation owes a reply, earliest deadline first
    /// (overdue ones are the earliest; the same deadline: the oldest contact first), then the
    /// answered ones, latest change first.
    pub(super) fn inbox_of(&self, team: &TeamId) -> InboxSnapshot {
        let now = now_ms();
        let mut items: Vec<&InboxItem> = self.inbox.values().filter(|i| &i.team == team).collect();
        items.sort_by_key(|i| match i.due_at_ms {
            Some(due) => (0, due, i.contact_at_ms, i.conversation.as_str().to_owned()),
            None => (1, 0, -i.updated_at_ms, i.conversation.as_str().to_owned()),
        });
        InboxSnapshot {
            team: team.clone(),
            entries: items
                .into_iter()
                .map(|i| InboxEntry {
                    conversation: i.conversation.clone(),
                    service: i.service.clone(),
                    channel: i.channel.clone(),
                    topic: i.topic.clone(),
                    status: i.status,
                    assigned_to: i.assigned_to.clone(),
                    reserved_for: i.reserved_for.clone(),
                    identified: i.identified,
                    due_at: i.due_at_ms.map(|ms| self.org.due_at_text(ms)),
                    overdue: i.due_at_ms.is_some_and(|d| d <= now),
                    due_soon: i
                        .due_at_ms
                        .is_some_and(|d| d > now && d - now <= DUE_SOON_MS),
                    contact_at: rfc3339_of_ms(i.contact_at_ms),
                    updated_at: rfc3339_of_ms(i.updated_at_ms),
                })
                .collect(),
        }
    }

    /// Tells `team`'s inbox followers the inbox as it is now, and sets its gauges.
    pub(super) fn publish_inbox(&mut self, team: &TeamId) {
        self.set_inbox_gauges(team);
        let Some(subs) = self.inbox_subs.get_mut(team) else {
            return;
        };
        subs.retain(|l| !l.is_gone());
        if subs.is_empty() {
            return;
        }
        let frame = ServerFrame::Inbox(self.inbox_of(team));
        for l in self.inbox_subs.get(team).into_iter().flatten() {
            l.reply(None, frame.clone());
        }
    }

    /// Open matters by status and overdue ones, for `team`.
    pub(super) fn set_inbox_gauges(&self, team: &TeamId) {
        let now = now_ms();
        let (mut new, mut in_progress, mut overdue) = (0, 0, 0);
        for i in self.inbox.values().filter(|i| &i.team == team) {
            match i.status {
                ConversationStatus::Queued => new += 1,
                _ => in_progress += 1,
            }
            if i.due_at_ms.is_some_and(|d| d <= now) {
                overdue += 1;
            }
        }
        let m = &self.metrics;
        m.inbox_open
            .with_label_values(&[team.as_str(), "new"])
            .set(new);
        m.inbox_open
            .with_label_values(&[team.as_str(), "in_progress"])
            .set(in_progress);
        m.inbox_overdue
            .with_label_values(&[team.as_str()])
            .set(overdue);
    }

    /// Counts each inbox deadline that passed without a reply once; a matter whose deadline
    /// just passed is told to its team's followers (it moves up, marked overdue).
    pub(super) fn count_inbox_breaches(&mut self) {
        let now = now_ms();
        let mut teams = Vec::new();
        for i in self.inbox.values() {
            if let Some(due) = i.due_at_ms.filter(|d| *d <= now) {
                if self.breached.insert((i.conversation.clone(), due)) {
                    self.metrics
                        .promise_breaches
                        .with_label_values(&[i.service.as_str(), i.team.as_str()])
                        .inc();
                    teams.push(i.team.clone());
                }
            }
        }
        teams.dedup();
        for t in &teams {
            self.publish_inbox(t);
        }
    }
}
