//! A professional gives a conversation up: a transfer to a team or a colleague, a close, or a
//! hand-back to the front of its team queue. The actor stores the change; the router then
//! frees the professional's place and, for a transfer or hand-back, queues it again.

use super::*;
use crate::organisation::Organisation;

impl ConsoleSession {
    pub(super) async fn transfer<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        t: Transfer,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let to_team = match self.transfer_team(&ctx.config.organisation, &t) {
            Ok(team) => team,
            Err((code, message)) => return conn.error(req, code, message).await.map_err(gone),
        };
        let Some(h) = self.members.get(&t.conversation).cloned() else {
            return self.refuse(conn, req, &t.conversation).await;
        };
        match h
            .transfer(
                self.origin(conn, req.clone()),
                to_team,
                t.to_professional.clone(),
                t.note,
            )
            .await
        {
            Ok(ticket) => {
                let target = if t.to_professional.is_some() {
                    "professional"
                } else {
                    "team"
                };
                ctx.metrics.transfers.with_label_values(&[target]).inc();
                // Membership ends when `released` passes through the outbound queue (`admit`),
                // after the events committed before the transfer: removing it here would drop
                // those still queued for this session.
                ctx.router
                    .released(self.me.id.clone(), t.conversation)
                    .await;
                ctx.router.requeue(ticket).await;
                Ok(())
            }
            Err(e) => conn.error(req, e.code(), e.to_string()).await.map_err(gone),
        }
    }

    /// The team a transfer goes to: the named team, or the named colleague's (first) team. A
    /// team or colleague that does not exist, oneself, or a colleague outside the named team is
    /// refused with the code and message to answer.
    fn transfer_team(
        &self,
        org: &Organisation,
        t: &Transfer,
    ) -> Result<TeamId, (ErrorCode, &'static str)> {
        match (&t.to_team, &t.to_professional) {
            (Some(team), _) if org.team(team).is_none() => {
                Err((ErrorCode::NotFound, "no such team"))
            }
            (_, Some(p)) if p == &self.me.id => {
                Err((ErrorCode::BadFrame, "cannot transfer to yourself"))
            }
            (_, Some(p)) => match org.professional(p) {
                None => Err((ErrorCode::NotFound, "no such professional")),
                Some(target) => match &t.to_team {
                    Some(team) if target.teams.contains(team) => Ok(team.clone()),
                    Some(_) => Err((ErrorCode::BadFrame, "that professional is not in that team")),
                    None => Ok(target.teams[0].clone()),
                },
            },
            (Some(team), None) => Ok(team.clone()),
            (None, None) => Err((
                ErrorCode::BadFrame,
                "transfer needs to_team or to_professional",
            )),
        }
    }

    pub(super) async fn close<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: ConversationId,
        summary: Option<String>,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let Some(h) = self.members.get(&id).cloned() else {
            return self.refuse(conn, req, &id).await;
        };
        match h.close(self.origin(conn, req.clone()), summary).await {
            Ok(()) => {
                // As for transfer: `released` ends the membership, in order.
                conn.ctx.router.released(self.me.id.clone(), id).await;
                Ok(())
            }
            Err(e) => conn.error(req, e.code(), e.to_string()).await.map_err(gone),
        }
    }

    /// Hands a held conversation back to the front of its team queue.
    pub(super) async fn release<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        id: ConversationId,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let Some(h) = self.members.get(&id).cloned() else {
            return self.refuse(conn, req, &id).await;
        };
        match h
            .requeue(self.me.id.clone(), RequeueReason::HandedBack, req.clone())
            .await
        {
            Ok(ticket) => {
                // As for transfer: `released` ends the membership, in order.
                conn.ctx.router.released(self.me.id.clone(), id).await;
                conn.ctx.router.requeue(ticket).await;
                Ok(())
            }
            Err(e) => conn.error(req, e.code(), e.to_string()).await.map_err(gone),
        }
    }
}
