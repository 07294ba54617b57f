//! A professional's frames for asynchronous matters: follow the team inboxes, take a matter
//! (or join one's own again), search the archive of complete ones. Only their own teams'.

use super::*;
use console_protocol::{reference, Archive, ArchiveEntry, ArchiveRequest, SubscribeInbox};

/// Archive hits per request, at most.
const ARCHIVE_LIMIT: u32 = 200;

impl ConsoleSession {
    pub(super) async fn subscribe_inbox<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        s: SubscribeInbox,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        conn.ctx
            .router
            .subscribe_inbox(self.me.id.clone(), conn.link.clone(), s.teams, req)
            .await;
        Ok(())
    }

    pub(super) async fn take<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        conversation: ConversationId,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        conn.ctx
            .router
            .take(self.me.id.clone(), conn.link.clone(), conversation, req)
            .await;
        Ok(())
    }

    /// The complete matters of the professional's teams (or one of them) matching the query.
    pub(super) async fn archive<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        a: ArchiveRequest,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let teams = match a.team {
            Some(t) if !self.me.teams.contains(&t) => {
                return conn
                    .error(
                        req,
                        ErrorCode::Forbidden,
                        format!("not a member of team {t}"),
                    )
                    .await
                    .map_err(gone)
            }
            Some(t) => vec![t],
            None => self.me.teams.clone(),
        };
        let limit = a.limit.unwrap_or(50).clamp(1, ARCHIVE_LIMIT);
        let found = conn
            .ctx
            .storage
            .archive(&teams, a.query.as_deref(), limit)
            .await;
        let Ok(found) = found else {
            return conn
                .error(req, ErrorCode::Internal, "storage unavailable")
                .await
                .map_err(gone);
        };
        let entries = found
            .into_iter()
            .map(|r| ArchiveEntry {
                reference: reference(&r.channel, &r.id),
                conversation: r.id,
                service: r.service,
                channel: r.channel,
                team: r.state.team,
                topic: r.topic,
                identified: r.client.identified,
                summary: r.state.summary,
                closed_by: r.state.assigned_to,
                contact_at: crate::conversation::view::rfc3339_of_ms(r.created_at_ms),
            })
            .collect();
        let frame = ServerFrame::Archive(Archive { entries });
        let ctx = conn.ctx.clone();
        if !self.log_shown(&ctx, &frame).await? {
            return conn
                .error(req, ErrorCode::Forbidden, "not a matter of your teams")
                .await
                .map_err(gone);
        }
        conn.send(req, frame).await.map_err(gone)
    }
}
