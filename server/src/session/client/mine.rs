//! "My conversations": an identified client's own conversations, live and asynchronous, with
//! what the organisation wrote since the client last did; and `open`, to join one of them
//! during the session (as a resume in `hello` does).

use super::*;
use console_protocol::{
    reference, ConversationsRequest, MyConversation, MyConversations, OpenConversation,
};

/// Conversations listed at most.
const LIST_LIMIT: u32 = 100;
/// Latest events read per conversation to count what the client has not answered.
const UNREAD_SCAN: u32 = 50;

impl ClientSession {
    pub(super) async fn my_conversations<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        asked: ConversationsRequest,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        if self.identity.is_none() && asked.held.is_empty() {
            return conn
                .error(
                    req,
                    ErrorCode::Unauthorized,
                    "only an identified client, or one holding resume tokens, has a list of \
                     conversations: identify first",
                )
                .await
                .map_err(gone);
        }
        if asked.held.len() > LIST_LIMIT as usize {
            return conn
                .error(
                    req,
                    ErrorCode::BadFrame,
                    format!("at most {LIST_LIMIT} held conversations"),
                )
                .await
                .map_err(gone);
        }
        let ctx = conn.ctx.clone();
        let limit = asked.limit.unwrap_or(50).clamp(1, LIST_LIMIT);
        let mut records = match &self.identity {
            Some(me) => match ctx.storage.client_conversations(&me.sub, limit).await {
                Ok(records) => records,
                Err(_) => {
                    return conn
                        .error(req, ErrorCode::Internal, "storage unavailable")
                        .await
                        .map_err(gone)
                }
            },
            None => Vec::new(),
        };
        // A held conversation whose token is not its own is left out, exactly as one that
        // does not exist.
        for h in asked.held {
            if records.iter().any(|r| r.id == h.conversation)
                || !ctx.auth.check_resume(&h.conversation, &h.resume_token)
            {
                continue;
            }
            if let Ok(Some(r)) = ctx.storage.conversation(&h.conversation).await {
                records.push(r);
            }
        }
        records.sort_by_key(|r| std::cmp::Reverse(r.created_at_ms));
        let mut conversations = Vec::with_capacity(records.len());
        for r in records {
            let events = ctx
                .storage
                .events_before(&r.id, u64::MAX, UNREAD_SCAN)
                .await
                .unwrap_or_default();
            let (unread, updated_at) = unread_of(&events, &r);
            let open = r.state.status != ConversationStatus::Complete;
            conversations.push(MyConversation {
                reference: reference(&r.channel, &r.id),
                resume_token: ctx.auth.resume_token(&r.id),
                service: r.service.clone(),
                channel: r.channel.clone(),
                status: r.state.status,
                last_seq: r.last_seq,
                unread,
                due_at: r
                    .state
                    .due_at_ms
                    .filter(|_| open)
                    .map(|ms| ctx.config.organisation.due_at_text(ms)),
                contact_at: crate::conversation::view::rfc3339_of_ms(r.created_at_ms),
                updated_at,
                conversation: r.id,
            });
        }
        conn.send(
            req,
            ServerFrame::Conversations(MyConversations { conversations }),
        )
        .await
        .map_err(gone)
    }

    /// Joins one of the client's conversations; its events after `after_seq` follow, then the
    /// `ack` of the open with the conversation's last seq.
    pub(super) async fn open<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        o: OpenConversation,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let identity = self.identity.is_some().then(|| self.client_identity());
        let attached = match conn.ctx.hub.get_or_load(&o.conversation).await {
            Ok(Some(h)) => h
                .attach_client(
                    conn.link.clone(),
                    o.resume_token,
                    Some(o.after_seq),
                    identity,
                )
                .await
                .map(|sum| (h, sum)),
            Ok(None) => Err(ConvError::Forbidden),
            Err(_) => Err(ConvError::Storage),
        };
        match attached {
            Ok((h, summary)) => {
                if summary.status == ConversationStatus::Queued && !h.is_async {
                    self.waiting.insert(h.id.clone());
                }
                self.members.insert(h.id.clone(), h);
                conn.send(
                    req,
                    ServerFrame::Ack(console_protocol::Ack {
                        conversation: summary.conversation,
                        client_msg_id: None,
                        seq: Some(summary.last_seq),
                        at: None,
                    }),
                )
                .await
                .map_err(gone)
            }
            Err(e) => conn
                .error_about(req, o.conversation, &e)
                .await
                .map_err(gone),
        }
    }
}

/// The organisation's messages after the client's latest one among `events` (the newest of the
/// conversation), and when the conversation last changed.
fn unread_of(events: &[Event], r: &ConversationRecord) -> (u32, String) {
    let mut unread = 0;
    for e in events.iter().rev() {
        match e {
            Event::Message(m) if m.from.role == console_protocol::Role::Client => break,
            Event::Message(_) => unread += 1,
            _ => {}
        }
    }
    let updated = events
        .last()
        .map(|e| match e {
            Event::Message(m) | Event::Note(m) => m.at.clone(),
            Event::System(s) => s.at.clone(),
        })
        .unwrap_or_else(|| crate::conversation::view::rfc3339_of_ms(r.created_at_ms));
    (unread, updated)
}
