//! A supervisor's frames: follow their teams' overviews, set a team's routing, move a waiting
//! conversation to another team. Only professionals with the `supervisor` role, and only for
//! teams of theirs; everyone else gets `forbidden`.

use super::*;
use console_protocol::{Move, SetRouting, Supervise};

impl ConsoleSession {
    /// Refuses a supervisor's frame from someone who is not one, or for a team not theirs.
    async fn not_supervising<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        teams: &[TeamId],
    ) -> Option<Io>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let why = if !self.supervisor {
            "only supervisors may do this".to_owned()
        } else if let Some(t) = teams.iter().find(|t| !self.me.teams.contains(t)) {
            format!("not a supervisor of team {t}")
        } else {
            return None;
        };
        Some(
            conn.error(req, ErrorCode::Forbidden, why)
                .await
                .map_err(gone),
        )
    }

    pub(super) async fn supervise<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        s: Supervise,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let teams = s.teams.unwrap_or_else(|| self.me.teams.clone());
        if let Some(refused) = self.not_supervising(conn, req.clone(), &teams).await {
            return refused;
        }
        conn.ctx
            .router
            .supervise(conn.link.clone(), teams, s.lang, req)
            .await;
        Ok(())
    }

    pub(super) async fn set_routing<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        s: SetRouting,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let team = std::slice::from_ref(&s.team);
        if let Some(refused) = self.not_supervising(conn, req.clone(), team).await {
            return refused;
        }
        conn.ctx
            .router
            .set_routing(
                self.me.id.clone(),
                s.team,
                s.routing,
                conn.link.clone(),
                req,
            )
            .await;
        Ok(())
    }

    pub(super) async fn move_waiting<S>(
        &self,
        conn: &mut Conn<S>,
        req: Option<String>,
        m: Move,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        if let Some(refused) = self.not_supervising(conn, req.clone(), &[]).await {
            return refused;
        }
        conn.ctx
            .router
            .move_waiting(
                self.me.id.clone(),
                self.me.teams.clone(),
                m.conversation,
                m.to_team,
                conn.link.clone(),
                req,
            )
            .await;
        Ok(())
    }
}
