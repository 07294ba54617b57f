//! A console session's start: the `hello` with a professional JWT (else close 4401), the
//! router's presence for it, the attaches to the professional's conversations (resumed from
//! `after_seq`), and the `welcome`.

use super::*;
use crate::context::ServerCtx;
use crate::organisation::Professional;

impl ConsoleSession {
    /// Handles the first frame: `hello` with a valid professional token.
    pub async fn hello<S>(conn: &mut Conn<S>, bytes: &[u8]) -> Result<Self, CloseReason>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let hello: ConsoleHello = match conn.codec.decode::<Envelope<ConsoleFrame>>(bytes) {
            Ok(Envelope {
                frame: ConsoleFrame::Hello(h),
                ..
            }) => h,
            _ => {
                let req = conn.codec.peek_req(bytes);
                let _ = conn
                    .error(req, ErrorCode::BadFrame, "the first frame must be hello")
                    .await;
                return Err(CloseReason(4408, "first frame must be hello"));
            }
        };
        let ctx = conn.ctx.clone();
        let professional = authenticate(&ctx, hello.token.as_deref())?;
        let me = ProfessionalRef {
            id: professional.id.clone(),
            name: professional.name.clone(),
            teams: professional.teams.clone(),
        };
        let resume: HashMap<ConversationId, u64> = hello
            .resume
            .into_iter()
            .map(|r| (r.conversation, r.after_seq))
            .collect();
        let Some(reply) = ctx
            .router
            .connect(me.clone(), conn.link.clone(), resume)
            .await
        else {
            return Err(CloseReason(1011, "router unavailable"));
        };
        let mut members = HashMap::new();
        let mut conversations = Vec::new();
        for rx in reply.attaches {
            if let Ok(Ok(summary)) = rx.await {
                if let Some(h) = ctx.hub.get(&summary.conversation) {
                    members.insert(summary.conversation.clone(), h);
                }
                conversations.push(summary);
            }
        }
        let roles = professional.role_names();
        let supervisor = professional.is_supervisor();
        let welcome = Welcome {
            professional: Some(ProfessionalInfo {
                id: me.id.clone(),
                name: me.name.clone(),
                teams: me.teams.clone(),
                roles,
            }),
            capacity: Some(reply.capacity),
            conversations,
            retract_window_s: Some(ctx.config.retract_window.as_secs()),
            sms_max_segments: ctx.config.sms.as_ref().map(|s| s.max_segments as u32),
            ..Default::default()
        };
        let mut session = ConsoleSession {
            gate: crate::access::gate::Gate::new(
                me.id.clone(),
                me.teams.clone(),
                crate::access::role_of(Some(&professional)),
            ),
            me,
            members,
            closed: HashSet::new(),
            supervisor,
        };
        let welcome = ServerFrame::Welcome(welcome);
        // Conversations assigned to them, resumed at sign-in: theirs, so never refused.
        let ctx = conn.ctx.clone();
        session.log_shown(&ctx, &welcome).await?;
        conn.send(conn.codec.peek_req(bytes), welcome)
            .await
            .map_err(gone)?;
        Ok(session)
    }
}

/// The professional a `hello` token names (configured, or signed in through the identity
/// provider); a missing, invalid or unknown one closes with 4401.
fn authenticate(ctx: &ServerCtx, token: Option<&str>) -> Result<Professional, CloseReason> {
    let claims = token.map(|t| ctx.auth.verify_professional(t));
    let Some(Ok(claims)) = claims else {
        return Err(CloseReason(4401, "invalid or missing token"));
    };
    crate::auth::professional_of(&ctx.config.organisation, &claims)
        .ok_or(CloseReason(4401, "unknown professional"))
}
