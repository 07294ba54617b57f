//! Canned responses (quick replies) as a professional's console lists them: their teams' from
//! the organisation configuration, one entry per language, then their own from storage; and the
//! rules a personal response must meet. The console fills the placeholders before inserting.

pub mod code;

pub use code::{check_code, MAX_CODE_CHARS};

use crate::organisation::Organisation;
use crate::storage::PersonalCanned;
use console_protocol::{CannedResponse, CannedSave, CannedScope, TeamId};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 2000;
/// Most personal responses one professional may keep: a picker of more is no quicker than
/// typing, and it bounds what one account can store.
pub const MAX_PERSONAL: usize = 200;
/// Most bytes (UTF-8) of one professional's personal titles and bodies together. The whole
/// list travels in one `canned` frame, which has to stay well under the 1 MiB a connection may
/// buffer for writing even when JSON doubles every byte (`"` → `\"`); 200 long responses in
/// 4-byte characters would not.
pub const MAX_PERSONAL_BYTES: usize = 256 * 1024;

/// Checks a personal response before it is stored; the message names the problem.
pub fn check_personal(org: &Organisation, save: &CannedSave) -> Result<(), String> {
    check_code(&save.code)?;
    if save.title.chars().count() > MAX_TITLE_CHARS {
        return Err(format!(
            "title must be at most {MAX_TITLE_CHARS} characters"
        ));
    }
    if save.title.chars().any(char::is_control) {
        return Err("title must be one line without control characters".to_owned());
    }
    if save.body.trim().is_empty() || save.body.chars().count() > MAX_BODY_CHARS {
        return Err(format!("body must be 1-{MAX_BODY_CHARS} characters"));
    }
    if save
        .body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("body may hold no control characters but line breaks and tabs".to_owned());
    }
    if !org.languages.contains(&save.lang) {
        return Err(format!("lang must be one of {}", org.languages.join(", ")));
    }
    Ok(())
}

/// Checks that `save` fits beside the professional's `existing` responses (the one it edits,
/// if any, left out): at most [`MAX_PERSONAL`] of them, [`MAX_PERSONAL_BYTES`] together.
pub fn check_room(existing: &[PersonalCanned], save: &CannedSave) -> Result<(), String> {
    let others: Vec<&PersonalCanned> = existing
        .iter()
        .filter(|p| Some(&p.id) != save.id.as_ref())
        .collect();
    if save.id.is_none() && others.len() >= MAX_PERSONAL {
        return Err(format!("at most {MAX_PERSONAL} personal responses"));
    }
    let bytes: usize = others
        .iter()
        .map(|p| p.title.len() + p.body.len())
        .sum::<usize>()
        + save.title.len()
        + save.body.len();
    if bytes > MAX_PERSONAL_BYTES {
        return Err(format!(
            "body: your personal responses may hold at most {} KiB of text together",
            MAX_PERSONAL_BYTES / 1024
        ));
    }
    Ok(())
}

/// The opaque id of a team response in one language.
fn team_id(team: &TeamId, code: &str, lang: &str) -> String {
    format!("t:{team}:{code}:{lang}")
}

/// Whether `id` names a team response (those are edited in the configuration, not here).
pub fn is_team_id(id: &str) -> bool {
    id.starts_with("t:")
}

/// A new personal response's id.
pub fn new_personal_id() -> String {
    format!("p-{}", uuid::Uuid::new_v4().simple())
}

/// The team responses of `teams`, in the order of the configuration: for each response one
/// entry per language its body is written in (a plain-string body: one, in the default
/// language); the title falls back like every organisation text.
pub fn team_responses(org: &Organisation, teams: &[TeamId]) -> Vec<CannedResponse> {
    let mut out = Vec::new();
    for team in org.teams.iter().filter(|t| teams.contains(&t.id)) {
        for c in &team.canned {
            let langs: Vec<&str> = match c.body.languages() {
                Some(langs) => langs.collect(),
                None => vec![org.default_language.as_str()],
            };
            for lang in langs {
                out.push(CannedResponse {
                    id: team_id(&team.id, &c.code, lang),
                    scope: CannedScope::Team,
                    team: Some(team.id.clone()),
                    code: c.code.clone(),
                    title: c.title.get(lang, &org.default_language).to_owned(),
                    lang: lang.to_owned(),
                    body: c.body.get(lang, &org.default_language).to_owned(),
                });
            }
        }
    }
    out
}

/// The full list a professional sees: their teams' responses, then their own.
pub fn list(
    org: &Organisation,
    teams: &[TeamId],
    personal: Vec<PersonalCanned>,
) -> Vec<CannedResponse> {
    let mut out = team_responses(org, teams);
    out.extend(personal.into_iter().map(|p| CannedResponse {
        id: p.id,
        scope: CannedScope::Personal,
        team: None,
        code: p.code,
        title: p.title,
        lang: p.lang,
        body: p.body,
    }));
    out
}

#[cfg(test)]
mod tests;
