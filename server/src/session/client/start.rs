//! Starting a conversation: the service's rules checked (topic, team, required answers,
//! opening hours), a retried `start` recognised by its `client_ref`, the conversation stored
//! and queued, and the `queued` reply with the client's place.

use super::*;

impl ClientSession {
    pub(super) async fn start<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        start: Start,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let org = &ctx.config.organisation;
        let Some(service) = org.service(&start.service) else {
            return conn
                .error(req, ErrorCode::NotFound, "no such service")
                .await
                .map_err(gone);
        };
        if service.channel == "message" && self.identity.is_none() {
            return conn
                .error(
                    req,
                    ErrorCode::Unauthorized,
                    "a non-urgent message needs strong identification: identify first, then \
                     send it (an anonymous question can go to a live chat)",
                )
                .await
                .map_err(gone);
        }
        if service.needs_identification() && self.identity.is_none() {
            return conn
                .error(
                    req,
                    ErrorCode::Unauthorized,
                    "this service needs strong identification: identify first, then start",
                )
                .await
                .map_err(gone);
        }
        if let (Some(min), Some(ident), Some(me)) =
            (&service.min_acr, &ctx.identification, &self.identity)
        {
            let config = &ident.config;
            if config.rank(me.acr.as_deref()) < config.rank(Some(min)) {
                return conn
                    .error(
                        req,
                        ErrorCode::Unauthorized,
                        "this service needs a stronger identification: identify again with \
                         a stronger method (e.g. online banking codes or a mobile certificate)",
                    )
                    .await
                    .map_err(gone);
            }
        }
        if service.channel == "form" {
            return conn
                .error(
                    req,
                    ErrorCode::BadFrame,
                    "a contact form is sent whole with submit_form, not started as a chat",
                )
                .await
                .map_err(gone);
        }
        if service.channel == "sms" {
            return conn
                .error(
                    req,
                    ErrorCode::BadFrame,
                    "an SMS service is reached by SMS from a phone, not started as a chat",
                )
                .await
                .map_err(gone);
        }
        if let Err((code, msg)) = validate_start(service, &start) {
            return conn.error(req, code, msg).await.map_err(gone);
        }
        let contact = match &start.contact {
            None => None,
            Some(given) => {
                match crate::organisation::form::contact(
                    given.email.as_deref(),
                    given.phone.as_deref(),
                ) {
                    Ok((None, None)) => None,
                    Ok((email, phone)) => Some(crate::storage::Contact { email, phone }),
                    Err(problems) => return super::form::refuse(conn, req, problems).await,
                }
            }
        };
        if !org.is_open(service, time::OffsetDateTime::now_utc()) {
            return conn
                .error(
                    req,
                    ErrorCode::ServiceClosed,
                    org.text(&service.closed_message, None).to_owned(),
                )
                .await
                .map_err(gone);
        }
        if let Some(r) = &start.client_ref {
            match ctx.storage.conversation_by_client_ref(r).await {
                Ok(Some(existing)) => return self.restart(conn, req, existing).await,
                Ok(None) => {}
                Err(_) => {
                    return conn
                        .error(req, ErrorCode::Internal, "storage unavailable")
                        .await
                        .map_err(gone)
                }
            }
        }
        let team = match &start.team {
            Some(t) => t.clone(),
            None if service.teams.len() == 1 => service.teams[0].clone(),
            None => ctx
                .router
                .pick_team(service.teams.clone())
                .await
                .unwrap_or_else(|| service.teams[0].clone()),
        };
        let mut record = crate::conversation::new_waiting(
            org,
            service,
            team.clone(),
            self.client_identity(),
            now().1,
        );
        record.topic = start.topic.clone();
        record.questionnaire = start.questionnaire.clone();
        record.client_ref = start.client_ref.clone();
        record.lang = start.lang.as_deref().and_then(supported_lang);
        record.contact = contact;
        // Alarming answers: first in the queue, and the client is told what to do now.
        let urgent = urgent_guidance(org, service, &record);
        if urgent.is_some() {
            record.state.priority = crate::organisation::URGENT_PRIORITY;
        }
        let due_at_ms = record.state.due_at_ms;
        let first = crate::conversation::opening_event(&record);
        let ticket = QueueTicket::of(&record);
        let handle = match ctx.hub.create(record, first).await {
            Ok(h) => h,
            Err(crate::storage::StorageError::Duplicate(_)) => {
                return conn
                    .error(req, ErrorCode::BadFrame, "client_ref already used")
                    .await
                    .map_err(gone);
            }
            Err(_) => {
                return conn
                    .error(req, ErrorCode::Internal, "storage unavailable")
                    .await
                    .map_err(gone)
            }
        };
        ctx.metrics.count_started(service, &team);
        let told = Told { due_at_ms, urgent };
        self.attach_new(conn, req, handle, team, Some(ticket), told)
            .await
    }

    /// A retried `start` with a known `client_ref`: the same conversation and resume token.
    async fn restart<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        existing: ConversationRecord,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let same_client = existing.client.subject == self.identity.as_ref().map(|c| c.sub.clone());
        let handle = match conn.ctx.hub.get_or_load(&existing.id).await {
            Ok(Some(h)) if same_client => h,
            _ => {
                return conn
                    .error(
                        req,
                        ErrorCode::Forbidden,
                        "client_ref belongs to another conversation",
                    )
                    .await
                    .map_err(gone)
            }
        };
        let org = &conn.ctx.config.organisation;
        let urgent = org
            .service(&existing.service)
            .and_then(|s| urgent_guidance(org, s, &existing));
        let told = Told {
            due_at_ms: existing.state.due_at_ms,
            urgent,
        };
        self.attach_new(conn, req, handle, existing.state.team, None, told)
            .await
    }

    async fn attach_new<S>(
        &mut self,
        conn: &mut Conn<S>,
        req: Option<String>,
        handle: ConversationHandle,
        team: console_protocol::TeamId,
        ticket: Option<QueueTicket>,
        told: Told,
    ) -> Io
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let ctx = conn.ctx.clone();
        let token = ctx.auth.resume_token(&handle.id);
        if handle
            .attach_client(conn.link.clone(), token.clone(), Some(0), None)
            .await
            .is_err()
        {
            return conn
                .error(req, ErrorCode::Internal, "could not join the conversation")
                .await
                .map_err(gone);
        }
        self.members.insert(handle.id.clone(), handle.clone());
        // The replay from seq 0 (already queued for this session) corrects it when the
        // conversation was taken meanwhile. An asynchronous matter waits in an inbox, where
        // nothing previews the client's messages.
        if !handle.is_async {
            self.waiting.insert(handle.id.clone());
        }
        let place = match ticket {
            Some(t) => ctx.router.enqueue(t).await,
            None => ctx.router.place(handle.id.clone()).await,
        };
        let q = Queued {
            conversation: handle.id.clone(),
            resume_token: token,
            team,
            position: place.map_or(0, |p| p.position),
            estimated_wait_s: place.map_or(0, |p| p.estimated_wait_s),
            staffed: place.map(|p| p.staffed),
            waited_s: place.map(|p| p.waited_s),
            due_at: told
                .due_at_ms
                .map(|ms| ctx.config.organisation.due_at_text(ms)),
            urgent: told.urgent,
        };
        conn.send(req, ServerFrame::Queued(q)).await.map_err(gone)
    }
}

/// What a `queued` answer tells besides the place: the reply deadline and, after alarming
/// answers, the emergency guidance.
struct Told {
    due_at_ms: Option<i64>,
    urgent: Option<String>,
}

/// The emergency guidance of the red flag `record`'s answers raise, in its language.
fn urgent_guidance(
    org: &crate::organisation::Organisation,
    service: &crate::organisation::Service,
    record: &crate::storage::ConversationRecord,
) -> Option<String> {
    let flag = service.red_flag(record.questionnaire.as_ref())?;
    let lang = record.lang.as_deref().unwrap_or(&org.default_language);
    Some(flag.guidance.get(lang, &org.default_language).to_owned())
}

/// The languages a conversation may be held in; anything else is kept as unknown.
const LANGUAGES: &[&str] = &["fi", "sv", "en"];

/// `fi`, `sv` or `en` from a language tag such as `sv-FI`.
pub(super) fn supported_lang(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    LANGUAGES.contains(&primary.as_str()).then_some(primary)
}

/// Checks topic, team and required questionnaire answers against the service: an unknown
/// topic or team is `not_found` (like an unknown service), a missing answer `bad_frame`.
fn validate_start(
    service: &crate::organisation::Service,
    start: &Start,
) -> Result<(), (ErrorCode, String)> {
    if let Some(t) = &start.topic {
        if !service.topics.iter().any(|x| &x.id == t) {
            return Err((ErrorCode::NotFound, format!("unknown topic {t}")));
        }
    }
    if let Some(t) = &start.team {
        if !service.teams.contains(t) {
            return Err((
                ErrorCode::NotFound,
                format!("service does not route to team {t}"),
            ));
        }
    }
    let answers = start.questionnaire.as_ref();
    for q in service.questionnaire.iter().filter(|q| q.required) {
        let answered = answers
            .and_then(|a| a.get(&q.id))
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
        if !answered {
            return Err((
                ErrorCode::BadFrame,
                format!("questionnaire answer {} is required", q.id),
            ));
        }
    }
    Ok(())
}
