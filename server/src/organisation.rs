//! The organisation a server runs for: teams (with routing mode), services (channel, topics,
//! questionnaire, opening hours, teams), professionals, and the automatic closing message.
//! Read from the config file; [`Organisation::demo`] is the embedded default. Every text a
//! client or professional reads is a [`Text`], translatable (`text`).

pub mod documents;
pub mod form;
pub mod red_flags;
pub mod retention;
mod text;

use console_protocol::{ProfessionalId, ServiceId, TeamId, TopicId};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Weekday};

pub use form::{FieldKind, Form, FormField, FormOption};
pub use red_flags::{RedFlag, URGENT_PRIORITY};
pub use text::{is_language_code, Text};

/// How a team's queue hands out conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// The longest-waiting conversation goes to the least-loaded available professional.
    Auto,
    /// Professionals pick from the queue with `accept`.
    Manual,
}

/// A team with its own queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: Text,
    pub routing: Routing,
    /// The team's canned responses (quick replies), one per code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canned: Vec<CannedText>,
}

/// A team's canned response: a short code, a title for the picker and the text to insert,
/// each translatable. `{client_name}`, `{professional_name}` and `{team}` are filled in by the
/// console.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedText {
    pub code: String,
    #[serde(default)]
    pub title: Text,
    pub body: Text,
}

/// A reason for contact inside a service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub id: TopicId,
    pub name: Text,
}

/// One question of a service's pre-chat questionnaire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub label: Text,
    /// `text`, `choice` or `yes_no`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Text>,
    #[serde(default)]
    pub required: bool,
}

/// Opening hours of one set of weekdays, local time `HH:MM`–`HH:MM`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpeningHours {
    /// `mon`, `tue`, ... `sun`.
    pub days: Vec<String>,
    pub open: String,
    pub close: String,
}

/// Something a client can contact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: Text,
    /// `chat`, `message`, `form` or `sms`.
    #[serde(default = "default_channel")]
    pub channel: String,
    pub teams: Vec<TeamId>,
    #[serde(default)]
    pub topics: Vec<Topic>,
    #[serde(default)]
    pub questionnaire: Vec<Question>,
    /// Empty means open around the clock.
    #[serde(default)]
    pub opening_hours: Vec<OpeningHours>,
    /// Shown when the service is closed: where to turn instead.
    #[serde(default)]
    pub closed_message: Text,
    /// The reply promise of a `message`, `form` or `sms` service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<Promise>,
    /// The fields of a `form` service (see [`form`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
    /// Answers of the questionnaire that are alarming: such a start is urgent (first in its
    /// queue) and the client is shown emergency guidance at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<RedFlag>,
    /// Clients and professionals may attach documents to messages (within the organisation's
    /// `[attachments]` limits).
    #[serde(default)]
    pub attachments: bool,
    /// Only clients who identified strongly may start (a `message` service always needs it).
    #[serde(default)]
    pub identification_required: bool,
    /// The lowest level of assurance (`acr`, one of `identification.acr_levels`) this
    /// service accepts, above the organisation's `identification.min_acr`; implies
    /// `identification_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_acr: Option<String>,
    /// Days its complete conversations are kept after their close (else the organisation's
    /// `retention.conversation_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

fn default_channel() -> String {
    "chat".to_owned()
}

/// The channels whose conversations are asynchronous: they go to a team's inbox, not to the
/// live queue, and are answered within the service's promise.
pub const ASYNC_CHANNELS: &[&str] = &["message", "form", "sms"];

/// Whether conversations of `channel` are asynchronous (inbox) rather than live (queue).
pub fn is_async_channel(channel: &str) -> bool {
    ASYNC_CHANNELS.contains(&channel)
}

impl Service {
    /// Its conversations go to the team's inbox, not to the live queue.
    pub fn is_async(&self) -> bool {
        is_async_channel(&self.channel)
    }

    /// Only strongly identified clients may start one.
    pub fn needs_identification(&self) -> bool {
        self.channel == "message" || self.identification_required || self.min_acr.is_some()
    }
}

/// A professional who may log in to the console.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Professional {
    pub id: ProfessionalId,
    pub name: String,
    pub teams: Vec<TeamId>,
    /// Default maximum number of parallel conversations.
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    /// Roles beyond taking chats in their teams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ProfessionalRole>,
}

/// What a professional may do beyond taking chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfessionalRole {
    /// Follows their teams' queues and staffing live, sets a team's routing, moves waiting
    /// conversations between teams; sees conversations only in summary.
    Supervisor,
    /// The data-protection officer: reads the access log (who accessed a client's data, the
    /// client's right under 703/2023 §11), exports it and verifies its chain.
    Dpo,
}

impl ProfessionalRole {
    /// The role named `name` (as in configuration), if Luukku has it.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "supervisor" => Some(Self::Supervisor),
            "dpo" => Some(Self::Dpo),
            _ => None,
        }
    }

    /// The name in configuration and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Supervisor => "supervisor",
            Self::Dpo => "dpo",
        }
    }
}

impl Professional {
    /// Has the supervisor role.
    pub fn is_supervisor(&self) -> bool {
        self.roles.contains(&ProfessionalRole::Supervisor)
    }

    /// Has the data-protection officer's role.
    pub fn is_dpo(&self) -> bool {
        self.roles.contains(&ProfessionalRole::Dpo)
    }

    /// The role names, for the console.
    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.as_str().to_owned()).collect()
    }
}

/// Parallel conversations of a professional the configuration does not list.
pub const DEFAULT_CAPACITY: u32 = 3;

fn default_capacity() -> u32 {
    DEFAULT_CAPACITY
}

fn default_languages() -> Vec<String> {
    ["fi", "sv", "en"].map(String::from).to_vec()
}

fn default_language() -> String {
    "fi".to_owned()
}

fn default_time_zone() -> String {
    "Europe/Helsinki".to_owned()
}

fn default_office_day_end() -> String {
    "16:00".to_owned()
}

/// A service's reply promise: the organisation replies within this many working days after the
/// day of contact (see [`crate::calendar`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promise {
    pub working_days: u32,
}

/// The organisation: a wellbeing services county or city.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organisation {
    pub name: Text,
    /// The languages the organisation serves (ISO 639 codes): the keys a translated text may
    /// have, and the languages of canned responses.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// The language of plain strings, and the fallback of a text missing a translation.
    #[serde(default = "default_language")]
    pub default_language: String,
    /// Sent to the client when a case is closed: where to turn next.
    pub closing_message: Text,
    /// The automatic SMS to a patient who writes by SMS into a closed case: the case stays
    /// closed, so it tells where to turn instead (a built-in text when not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_closed_reply: Option<Text>,
    /// The organisation's time zone (IANA name): opening hours and reply deadlines are in its
    /// local time, daylight saving included.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Deprecated: a fixed offset of local time from UTC in minutes for opening hours, wrong
    /// half of the year where clocks change; when given it still wins over `time_zone` for
    /// opening hours, so an old configuration keeps its behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
    /// When the office day ends (local `HH:MM`): a reply deadline falls then.
    #[serde(default = "default_office_day_end")]
    pub office_day_end: String,
    /// The organisation's own closure days (`YYYY-MM-DD`), not working days.
    #[serde(default)]
    pub closure_days: Vec<String>,
    pub teams: Vec<Team>,
    pub services: Vec<Service>,
    #[serde(default)]
    pub professionals: Vec<Professional>,
    /// What documents the services that take them accept.
    #[serde(default)]
    pub attachments: documents::DocumentPolicy,
    /// How long conversations and the access log are kept.
    #[serde(default)]
    pub retention: retention::RetentionPolicy,
    /// The calendar, built once on first use (see [`Organisation::calendar_or_utc`]).
    #[serde(skip)]
    calendar: std::sync::OnceLock<crate::calendar::Calendar>,
}

impl Organisation {
    /// The team with this id.
    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.iter().find(|t| &t.id == id)
    }

    /// The service with this id.
    pub fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| &s.id == id)
    }

    /// The professional with this id.
    pub fn professional(&self, id: &ProfessionalId) -> Option<&Professional> {
        self.professionals.iter().find(|p| &p.id == id)
    }

    /// The language to answer in: `wanted` (or its primary subtag, `sv-FI` → `sv`) when it is
    /// one of the organisation's languages, else the default language.
    pub fn language(&self, wanted: Option<&str>) -> &str {
        text::negotiate(&self.languages, wanted, None).unwrap_or(&self.default_language)
    }

    /// The language of an HTTP request: `?lang=` when it is one of the organisation's
    /// languages, else the first of them the `Accept-Language` header prefers, else the
    /// default language. An unknown language is never an error.
    pub fn negotiate(&self, query: Option<&str>, accept_language: Option<&str>) -> &str {
        text::negotiate(&self.languages, query, accept_language).unwrap_or(&self.default_language)
    }

    /// `text` in `lang` (see [`Organisation::language`]), falling back to the default
    /// language and then to any translation.
    pub fn text<'a>(&'a self, text: &'a Text, lang: Option<&str>) -> &'a str {
        text.get(self.language(lang), &self.default_language)
    }

    /// The automatic closing message in `lang` (the conversation's language; `None` or an
    /// unknown language: the default language), with the same fallback as [`Organisation::text`].
    pub fn closing_message(&self, lang: Option<&str>) -> String {
        self.text(&self.closing_message, lang).to_owned()
    }

    /// The automatic SMS to a patient who writes into a closed case, in `lang`.
    pub fn sms_closed_reply(&self, lang: Option<&str>) -> String {
        if let Some(text) = &self.sms_closed_reply {
            return self.text(text, lang).to_owned();
        }
        match self.language(lang) {
            "fi" => {
                "Tämä asiointi on päättynyt, eikä viestiäsi käsitellä. Ota yhteyttä \
                     terveysasemaan muulla tavalla. Hätätilanteessa soita 112."
            }
            "sv" => {
                "Det här ärendet är avslutat och ditt meddelande behandlas inte. Kontakta \
                     hälsostationen på annat sätt. I en nödsituation ring 112."
            }
            _ => {
                "This case is closed and your message will not be read. Please contact the \
                  health station another way. In an emergency call 112."
            }
        }
        .to_owned()
    }

    /// Checks internal references; returns a description of the first problem.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_languages()?;
        self.validate_texts()?;
        self.calendar()?;
        self.attachments.validate()?;
        self.retention.validate(&self.services)?;
        if self.teams.is_empty() || self.services.is_empty() {
            return Err("organisation needs at least one team and one service".into());
        }
        for s in &self.services {
            if s.teams.is_empty() {
                return Err(format!("service {} routes to no team", s.id));
            }
            if let Some(t) = s.teams.iter().find(|t| self.team(t).is_none()) {
                return Err(format!("service {} routes to unknown team {t}", s.id));
            }
            if !["chat", "message", "form", "sms"].contains(&s.channel.as_str()) {
                return Err(format!(
                    "service {} has unknown channel {}",
                    s.id, s.channel
                ));
            }
            match (s.promise, s.channel.as_str()) {
                (Some(_), "chat") => {
                    return Err(format!(
                        "service {}: a live chat has no reply promise (promise is for message, \
                         form and sms services)",
                        s.id
                    ))
                }
                (Some(p), _)
                    if !(1..=crate::calendar::MAX_WORKING_DAYS).contains(&p.working_days) =>
                {
                    return Err(format!(
                        "service {}: promise.working_days must be 1 to {}",
                        s.id,
                        crate::calendar::MAX_WORKING_DAYS
                    ))
                }
                _ => {}
            }
            match (&s.form, s.channel.as_str()) {
                (None, "form") => {
                    return Err(format!("service {}: a form service needs a form", s.id))
                }
                (Some(_), "form") if s.promise.is_none() => {
                    return Err(format!(
                        "service {}: a form service needs a promise (working_days)",
                        s.id
                    ))
                }
                (Some(_), c) if c != "form" => {
                    return Err(format!(
                        "service {}: only a form service has a form (channel {c})",
                        s.id
                    ))
                }
                _ => {}
            }
            for h in &s.opening_hours {
                parse_hm(&h.open).ok_or(format!("service {}: bad time {}", s.id, h.open))?;
                parse_hm(&h.close).ok_or(format!("service {}: bad time {}", s.id, h.close))?;
                if let Some(d) = h.days.iter().find(|d| parse_day(d).is_none()) {
                    return Err(format!("service {}: bad day {d}", s.id));
                }
            }
        }
        for p in &self.professionals {
            if let Some(t) = p.teams.iter().find(|t| self.team(t).is_none()) {
                return Err(format!("professional {} in unknown team {t}", p.id));
            }
        }
        Ok(())
    }

    fn validate_languages(&self) -> Result<(), String> {
        if let Some(l) = self.languages.iter().find(|l| !is_language_code(l)) {
            return Err(format!(
                "languages: {l:?} is not a language code (2-3 lowercase letters, e.g. \"fi\")"
            ));
        }
        for (i, l) in self.languages.iter().enumerate() {
            if self.languages[..i].contains(l) {
                return Err(format!("languages: {l} is listed twice"));
            }
        }
        if !self.languages.contains(&self.default_language) {
            return Err(format!(
                "default_language {:?} is not one of languages ({})",
                self.default_language,
                self.languages.join(", ")
            ));
        }
        Ok(())
    }

    /// Every text: language keys among `languages`; canned responses well formed.
    fn validate_texts(&self) -> Result<(), String> {
        let langs = &self.languages;
        self.name.check("name", langs)?;
        self.closing_message.check("closing_message", langs)?;
        if let Some(reply) = &self.sms_closed_reply {
            reply.check("sms_closed_reply", langs)?;
        }
        for t in &self.teams {
            t.name.check(&format!("team {} name", t.id), langs)?;
            for (i, c) in t.canned.iter().enumerate() {
                let what = format!("team {} canned response {:?}", t.id, c.code);
                crate::canned::code::check_code(&c.code).map_err(|e| format!("{what}: {e}"))?;
                if t.canned[..i].iter().any(|o| o.code == c.code) {
                    return Err(format!("{what}: the code is used twice"));
                }
                c.title.check(&format!("{what} title"), langs)?;
                c.body.check(&format!("{what} body"), langs)?;
                if c.body.is_empty() {
                    return Err(format!("{what}: the body is empty"));
                }
            }
        }
        for s in &self.services {
            s.name.check(&format!("service {} name", s.id), langs)?;
            s.closed_message
                .check(&format!("service {} closed_message", s.id), langs)?;
            for topic in &s.topics {
                let what = format!("service {} topic {} name", s.id, topic.id);
                topic.name.check(&what, langs)?;
            }
            if let Some(f) = &s.form {
                f.check(s.id.as_str(), langs)?;
            }
            red_flags::check(s, langs)?;
            for q in &s.questionnaire {
                let what = format!("service {} question {}", s.id, q.id);
                q.label.check(&format!("{what} label"), langs)?;
                for o in &q.options {
                    o.check(&format!("{what} option"), langs)?;
                }
            }
        }
        Ok(())
    }

    /// Whether `service` is open at `now`.
    pub fn is_open(&self, service: &Service, now: OffsetDateTime) -> bool {
        if service.opening_hours.is_empty() {
            return true;
        }
        let (weekday, minute) = match self.utc_offset_minutes {
            Some(offset) => {
                let local = now + time::Duration::minutes(i64::from(offset));
                let minute = u32::from(local.hour()) * 60 + u32::from(local.minute());
                (local.weekday().number_from_monday(), minute)
            }
            None => {
                let at = jiff::Timestamp::from_second(now.unix_timestamp())
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                let (_, weekday, minute) = self.calendar_or_utc().local(at);
                (weekday.to_monday_one_offset().unsigned_abs(), minute)
            }
        };
        service.opening_hours.iter().any(|h| {
            let day_ok = h
                .days
                .iter()
                .any(|d| parse_day(d).map(Weekday::number_from_monday) == Some(weekday));
            match (parse_hm(&h.open), parse_hm(&h.close)) {
                (Some(open), Some(close)) => day_ok && minute >= open && minute < close,
                _ => false,
            }
        })
    }

    /// The organisation's calendar (time zone, holidays, closure days, office day's end).
    pub fn calendar(&self) -> Result<crate::calendar::Calendar, String> {
        crate::calendar::Calendar::new(&self.time_zone, &self.closure_days, &self.office_day_end)
    }

    /// The calendar of a validated organisation (UTC only if it somehow is not), built on first
    /// use and kept: a running server's organisation does not change.
    pub fn calendar_or_utc(&self) -> &crate::calendar::Calendar {
        self.calendar.get_or_init(|| {
            self.calendar()
                .unwrap_or_else(|_| crate::calendar::Calendar::utc())
        })
    }

    /// The reply deadline of a contact with `service` at `at`, when it has a promise.
    pub fn due(&self, service: &Service, at: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let p = service.promise?;
        Some(self.calendar_or_utc().due(at, p.working_days))
    }

    /// A stored deadline (Unix milliseconds) as RFC 3339 in the organisation's local time.
    pub fn due_at_text(&self, ms: i64) -> String {
        let at = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        self.calendar_or_utc().rfc3339(at)
    }

    /// The embedded demo organisation.
    pub fn demo() -> Self {
        toml::from_str(DEMO_ORGANISATION).expect("embedded demo organisation is valid")
    }
}

fn parse_hm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_day(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// The demo organisation, in the same format as a real `[organisation]` section.
pub const DEMO_ORGANISATION: &str = include_str!("demo_organisation.toml");

#[cfg(test)]
mod tests;
