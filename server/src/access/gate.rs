//! A professional session's gate: before a frame carrying a client's data is written to the
//! console, each conversation it shows is decided by [`super::decide`] and logged, durably,
//! the first time this session shows it for that purpose. A conversation the policy refuses
//! is logged as refused and its frame is not written; when the log cannot be written, nothing
//! is shown and the session ends (the console reconnects and resumes).

use super::{decide, entry, Decision, Facts, Purpose};
use crate::context::ServerCtx;
use crate::storage::StorageError;
use console_protocol::{ConversationId, ProfessionalId, ServerFrame, TeamId};
use std::collections::HashSet;

/// How many (conversation, purpose) pairs a session remembers as logged; past it the set is
/// emptied and pairs are logged again (a long shift, many queues).
const REMEMBERED: usize = 4096;

/// One console session's record of what it has logged.
pub struct Gate {
    me: ProfessionalId,
    teams: Vec<TeamId>,
    role: String,
    logged: HashSet<(ConversationId, Purpose)>,
    /// Why this professional reads conversations outside care and team, as they stated it.
    stated: std::collections::HashMap<ConversationId, String>,
}

impl Gate {
    pub fn new(me: ProfessionalId, teams: Vec<TeamId>, role: String) -> Gate {
        Gate {
            me,
            teams,
            role,
            logged: HashSet::new(),
            stated: std::collections::HashMap::new(),
        }
    }

    /// The professional states why they read `conversation`'s history: its next history
    /// frame is decided with the reason and logged again, naming it.
    pub fn state_reason(&mut self, conversation: &ConversationId, reason: String) {
        self.logged
            .remove(&(conversation.clone(), Purpose::History));
        if self.stated.len() >= REMEMBERED {
            self.stated.clear();
        }
        self.stated.insert(conversation.clone(), reason);
    }

    /// Whether this session logged `purpose` for `conversation` already. A live message is
    /// covered by the conversation's assignment.
    fn covered(&self, conversation: &ConversationId, purpose: Purpose) -> bool {
        let has = |p| self.logged.contains(&(conversation.clone(), p));
        has(purpose) || (purpose == Purpose::Conversation && has(Purpose::Assignment))
    }

    /// Decides and logs what `frames` show that this session has not logged yet;
    /// `assigned(c)` says whether the conversation `c` is assigned to this professional as
    /// the session knows it (its membership). Answers, per frame, whether it may be written.
    pub async fn check(
        &mut self,
        ctx: &ServerCtx,
        frames: &[&ServerFrame],
        assigned: impl Fn(&ConversationId) -> bool,
    ) -> Result<Vec<bool>, StorageError> {
        let shown: Vec<Vec<(ConversationId, Purpose)>> = frames.iter().map(|f| shows(f)).collect();
        let mut todo: Vec<(ConversationId, Purpose)> = Vec::new();
        for pair in shown.iter().flatten() {
            if !self.covered(&pair.0, pair.1) && !todo.contains(pair) {
                todo.push(pair.clone());
            }
        }
        if todo.is_empty() {
            return Ok(vec![true; frames.len()]);
        }
        // A queue snapshot shows its own team's waiting chats, as they were when it was made:
        // decided by that team, not by where a chat has moved since (a race that would drop
        // the whole snapshot).
        let listed_in: std::collections::HashMap<ConversationId, TeamId> = frames
            .iter()
            .filter_map(|f| match f {
                ServerFrame::QueueSnapshot(q) => Some(q),
                _ => None,
            })
            .flat_map(|q| {
                q.entries
                    .iter()
                    .map(|e| (e.conversation.clone(), q.team.clone()))
            })
            .collect();
        let (entries, refused) = self.decide_all(ctx, &todo, &assigned, &listed_in).await?;
        append(ctx, entries).await?;
        if self.logged.len() + todo.len() > REMEMBERED {
            self.logged.clear();
        }
        for pair in todo {
            if !refused.contains(&pair.0) {
                self.logged.insert(pair);
            }
        }
        Ok(shown
            .iter()
            .map(|pairs| pairs.iter().all(|(c, _)| !refused.contains(c)))
            .collect())
    }

    /// Decides a request to read `conversation` for `purpose` before it is asked of the
    /// conversation: a refusal is logged (an attempt the data-protection officer sees) and
    /// answered at once; an allowed read is logged when its frame is shown (see
    /// [`Gate::check`]).
    pub async fn attempt(
        &mut self,
        ctx: &ServerCtx,
        conversation: &ConversationId,
        purpose: Purpose,
        assigned: bool,
    ) -> Result<bool, StorageError> {
        if self.covered(conversation, purpose) {
            return Ok(true);
        }
        let (entries, allowed) = self
            .decide_one(ctx, conversation, purpose, assigned)
            .await?;
        if !allowed {
            append(ctx, entries).await?;
        }
        Ok(allowed)
    }

    /// Decides and logs writing in `conversation` (once per session).
    pub async fn write(
        &mut self,
        ctx: &ServerCtx,
        conversation: &ConversationId,
        assigned: bool,
    ) -> Result<bool, StorageError> {
        let pair = (conversation.clone(), Purpose::Write);
        if self.logged.contains(&pair) {
            return Ok(true);
        }
        let (entries, allowed) = self
            .decide_one(ctx, conversation, Purpose::Write, assigned)
            .await?;
        append(ctx, entries).await?;
        if allowed {
            self.logged.insert(pair);
        }
        Ok(allowed)
    }

    /// [`Gate::decide_all`] for one conversation and purpose: its log entry and whether it is
    /// allowed.
    async fn decide_one(
        &self,
        ctx: &ServerCtx,
        conversation: &ConversationId,
        purpose: Purpose,
        assigned: bool,
    ) -> Result<(Vec<crate::storage::access::AccessEntry>, bool), StorageError> {
        let pair = (conversation.clone(), purpose);
        let (entries, refused) = self
            .decide_all(
                ctx,
                std::slice::from_ref(&pair),
                &|_: &ConversationId| assigned,
                &std::collections::HashMap::new(),
            )
            .await?;
        Ok((entries, refused.is_empty()))
    }

    /// The log entries of `pairs` and the conversations refused among them.
    async fn decide_all(
        &self,
        ctx: &ServerCtx,
        pairs: &[(ConversationId, Purpose)],
        assigned: &impl Fn(&ConversationId) -> bool,
        listed_in: &std::collections::HashMap<ConversationId, TeamId>,
    ) -> Result<
        (
            Vec<crate::storage::access::AccessEntry>,
            HashSet<ConversationId>,
        ),
        StorageError,
    > {
        let now = crate::storage::now_ms();
        let mut entries = Vec::with_capacity(pairs.len());
        let mut refused = HashSet::new();
        for (conversation, purpose) in pairs {
            let record = ctx.storage.conversation(conversation).await?;
            let decision = match &record {
                // A conversation that is not stored carries no client's data to decide about
                // (a frame about it shows nothing); refused all the same.
                None => Decision::Refuse,
                Some(r) => {
                    let assigned_to = if assigned(conversation) {
                        Some(&self.me)
                    } else {
                        r.state.assigned_to.as_ref()
                    };
                    let team = match listed_in.get(conversation) {
                        Some(queue) if *purpose == Purpose::Queue => queue,
                        _ => &r.state.team,
                    };
                    let facts = Facts {
                        team,
                        assigned_to,
                        stated_reason: *purpose == Purpose::History
                            && self.stated.contains_key(conversation),
                    };
                    decide(&self.me, &self.teams, purpose.act(), facts)
                }
            };
            if !decision.allowed() {
                refused.insert(conversation.clone());
            }
            let client = record.and_then(|r| r.client.subject);
            entries.push(entry(
                &self.me,
                &self.role,
                &ctx.node_id,
                conversation,
                client,
                *purpose,
                decision,
                now,
                (*purpose == Purpose::History)
                    .then(|| self.stated.get(conversation).cloned())
                    .flatten(),
            ));
        }
        Ok((entries, refused))
    }
}

/// Appends `entries` and counts them by outcome; a failure is counted as `unwritten`.
async fn append(
    ctx: &ServerCtx,
    entries: Vec<crate::storage::access::AccessEntry>,
) -> Result<(), StorageError> {
    let refused = entries.iter().filter(|e| e.outcome == "refused").count() as u64;
    let allowed = entries.len() as u64 - refused;
    if let Err(e) = ctx.storage.append_access(entries).await {
        ctx.metrics
            .access_log
            .with_label_values(&["unwritten"])
            .inc();
        return Err(e);
    }
    ctx.metrics
        .access_log
        .with_label_values(&["allowed"])
        .inc_by(allowed);
    ctx.metrics
        .access_log
        .with_label_values(&["refused"])
        .inc_by(refused);
    Ok(())
}

/// The conversations whose client data `frame` carries to a professional, each with the
/// purpose it is shown for. Frames without a client's data (status, typing, read receipts,
/// closings, the inbox's list of matters, colleagues, supervision) show none.
pub fn shows(frame: &ServerFrame) -> Vec<(ConversationId, Purpose)> {
    match frame {
        ServerFrame::Welcome(w) => w
            .conversations
            .iter()
            .map(|c| (c.conversation.clone(), Purpose::Assignment))
            .collect(),
        ServerFrame::Assigned(a) => vec![(a.conversation.clone(), Purpose::Assignment)],
        ServerFrame::Message(m) | ServerFrame::Note(m) => {
            vec![(m.conversation.clone(), Purpose::Conversation)]
        }
        ServerFrame::System(s) => vec![(s.conversation.clone(), Purpose::Conversation)],
        ServerFrame::History(h) => vec![(h.conversation.clone(), Purpose::History)],
        ServerFrame::QueueSnapshot(q) => q
            .entries
            .iter()
            .filter(|e| e.preview.is_some() || e.alias.is_some())
            .map(|e| (e.conversation.clone(), Purpose::Queue))
            .collect(),
        ServerFrame::Archive(a) => a
            .entries
            .iter()
            .map(|e| (e.conversation.clone(), Purpose::Archive))
            .collect(),
        _ => Vec::new(),
    }
}
