//! Canned responses (quick replies) as a professional's console lists them: their teams' from
//! the organisation configuration, one entry per language, then their own from storage; and the
//! rules a personal response must meet. The console fills the placeholders before inserting.

use crate::organisation::Organisation;
use crate::storage::PersonalCanned;
use console_protocol::{CannedResponse, CannedSave, CannedScope, TeamId};

/// Longest code, in characters.
pub const MAX_CODE_CHARS: usize = 32;
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

/// A code is 1–32 characters of `a-z`, `0-9`, `_` and `-` (typed after a `/` in the composer).
pub fn check_code(code: &str) -> Result<(), String> {
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        return Err(format!("code must be 1-{MAX_CODE_CHARS} characters"));
    }
    if !code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err("code may hold only a-z, 0-9, _ and -".to_owned());
    }
    Ok(())
}

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
mod tests {
    use super::*;

    fn save(code: &str, title: &str, lang: &str, body: &str) -> CannedSave {
        CannedSave {
            id: None,
            code: code.into(),
            title: title.into(),
            lang: lang.into(),
            body: body.into(),
        }
    }

    #[test]
    fn personal_responses_are_checked_field_by_field() {
        let org = Organisation::demo();
        assert!(check_personal(&org, &save("lab_ok-2", "", "sv", "Hej {client_name}")).is_ok());
        let problems = [
            (save("", "t", "fi", "b"), "code"),
            (save(&"a".repeat(33), "t", "fi", "b"), "code"),
            (save("Hello", "t", "fi", "b"), "code"),
            (save("hei!", "t", "fi", "b"), "code"),
            (save("ok", &"é".repeat(101), "fi", "b"), "title"),
            (save("ok", "t", "fi", "  "), "body"),
            (save("ok", "t", "fi", &"ä".repeat(2001)), "body"),
            (save("ok", "t", "de", "b"), "lang"),
            (save("ok", "two\nlines", "fi", "b"), "title"),
            (save("ok", "t", "fi", "bell \u{7}"), "body"),
        ];
        for (s, field) in problems {
            let err = check_personal(&org, &s).expect_err(field);
            assert!(err.starts_with(field), "{field}: {err}");
        }
        assert!(
            check_personal(&org, &save("ok", &"é".repeat(100), "fi", &"ä".repeat(2000))).is_ok()
        );
        assert!(check_personal(&org, &save("ok", "t", "fi", "line 1\r\nline 2\tend")).is_ok());
    }

    fn stored(id: &str, body: String) -> PersonalCanned {
        PersonalCanned {
            id: id.into(),
            professional: "nurse-1".into(),
            code: id.into(),
            title: String::new(),
            lang: "fi".into(),
            body,
            updated_at_ms: 0,
        }
    }

    #[test]
    fn a_professionals_responses_are_bounded_in_number_and_bytes() {
        let full: Vec<_> = (0..MAX_PERSONAL)
            .map(|i| stored(&format!("p-{i}"), "b".into()))
            .collect();
        let new = save("new", "", "fi", "b");
        assert!(check_room(&full, &new).is_err_and(|e| e.contains("at most 200")));
        let edit = CannedSave {
            id: Some("p-3".into()),
            ..new.clone()
        };
        assert!(check_room(&full, &edit).is_ok(), "an edit adds nothing");

        // 4-byte characters: 33 long responses come to 264,000 bytes.
        let big = "😀".repeat(MAX_BODY_CHARS);
        let heavy: Vec<_> = (0..32)
            .map(|i| stored(&format!("p-{i}"), big.clone()))
            .collect();
        let one_more = save("more", "", "fi", &big);
        assert!(check_room(&heavy, &one_more).is_err_and(|e| e.starts_with("body")));
        let replace = CannedSave {
            id: Some("p-0".into()),
            ..one_more.clone()
        };
        assert!(
            check_room(&heavy, &replace).is_ok(),
            "the edited one is not counted twice"
        );
        assert!(check_room(&heavy[..31], &one_more).is_ok());
    }

    #[test]
    fn team_responses_come_once_per_language_for_the_teams_asked() {
        let org = Organisation::demo();
        let a = team_responses(&org, &["station-a".into()]);
        assert!(!a.is_empty());
        assert!(a.iter().all(|r| r.team == Some("station-a".into())));
        for lang in ["fi", "sv", "en"] {
            let hello = a
                .iter()
                .find(|r| r.lang == lang && r.code == "hello")
                .unwrap_or_else(|| panic!("hello in {lang}"));
            assert!(hello.body.contains("{client_name}"), "{}", hello.body);
        }
        let ids: std::collections::BTreeSet<_> = a.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), a.len(), "ids are unique");
        assert!(team_responses(&org, &[]).is_empty());
    }

    #[test]
    fn a_plain_body_is_listed_once_in_the_default_language() {
        let mut org = Organisation::demo();
        org.teams[0].canned = vec![crate::organisation::CannedText {
            code: "x".into(),
            title: "X".into(),
            body: "Plain".into(),
        }];
        let list = team_responses(&org, &[org.teams[0].id.clone()]);
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].lang.as_str(), list[0].body.as_str()),
            ("fi", "Plain")
        );
    }
}
