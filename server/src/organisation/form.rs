//! Contact forms: the fields a `form` service asks for (configuration and its checks), the
//! pure validation of a submission (each refusal names its field), the submission rendered as
//! the "Label: value" lines of the thread's first message, and the sender's reference number.

use super::Text;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Field ids a form may not use: the urlencoded names of the form's other inputs.
pub const RESERVED_IDS: &[&str] = &[
    "contact",
    "contact_email",
    "contact_phone",
    "client_ref",
    "lang",
];

/// The longest `max_len` a field may be given (characters).
pub const MAX_FIELD_LEN: usize = 10_000;

/// Longest accepted contact e-mail address (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// The fields of a `form` service, in the order they are shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub fields: Vec<FormField>,
}

/// One field of a contact form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// The key of the answer (`fields.<id>` in JSON, `fields[<id>]` or `<id>` urlencoded).
    pub id: String,
    pub label: Text,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Longest answer in characters (text kinds); a default per kind otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    /// The choices of a `choice` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FormOption>,
}

/// What a form field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// An e-mail address.
    Email,
    /// A phone number (Finnish unless it has a country code), stored as E.164.
    Phone,
    /// One of the options, by option id.
    Choice,
    /// Ticked or not (a required checkbox must be ticked).
    Checkbox,
    /// A calendar date `YYYY-MM-DD`.
    Date,
}

impl FieldKind {
    /// The name in configuration and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Textarea => "textarea",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Choice => "choice",
            Self::Checkbox => "checkbox",
            Self::Date => "date",
        }
    }

    /// Longest answer when the field sets no `max_len`.
    fn default_max_len(self) -> usize {
        match self {
            Self::Textarea => 4000,
            Self::Email => MAX_EMAIL_LEN,
            Self::Phone => 32,
            _ => 200,
        }
    }
}

/// One choice of a `choice` field: the id is what is submitted and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormOption {
    pub id: String,
    pub label: Text,
}

impl FormField {
    /// The longest answer accepted, in characters.
    pub fn max_len(&self) -> usize {
        self.max_len.unwrap_or(self.kind.default_max_len())
    }
}

/// Field and option ids: 1–40 of `a-z`, `0-9`, `_`, `-`, starting with a letter (they become
/// HTML names and JSON keys).
fn is_safe_id(id: &str) -> bool {
    id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl Form {
    /// Checks the form of service `service`; returns a description of the first problem.
    pub fn check(&self, service: &str, langs: &[String]) -> Result<(), String> {
        if self.fields.is_empty() {
            return Err(format!("service {service}: the form has no fields"));
        }
        for (i, f) in self.fields.iter().enumerate() {
            let what = format!("service {service} form field {:?}", f.id);
            if !is_safe_id(&f.id) || RESERVED_IDS.contains(&f.id.as_str()) {
                return Err(format!(
                    "{what}: ids are 1-40 of a-z, 0-9, _ and -, start with a letter and are \
                     none of {}",
                    RESERVED_IDS.join(", ")
                ));
            }
            if self.fields[..i].iter().any(|o| o.id == f.id) {
                return Err(format!("{what}: the id is used twice"));
            }
            f.label.check(&format!("{what} label"), langs)?;
            if f.label.is_empty() {
                return Err(format!("{what}: the label is empty"));
            }
            if f.max_len.is_some_and(|n| n == 0 || n > MAX_FIELD_LEN) {
                return Err(format!("{what}: max_len must be 1 to {MAX_FIELD_LEN}"));
            }
            match (f.kind, f.options.is_empty()) {
                (FieldKind::Choice, true) => {
                    return Err(format!("{what}: a choice needs options"));
                }
                (FieldKind::Choice, false) => {}
                (_, false) => return Err(format!("{what}: only a choice has options")),
                (_, true) => {}
            }
            for (j, o) in f.options.iter().enumerate() {
                if !is_safe_id(&o.id) || f.options[..j].iter().any(|p| p.id == o.id) {
                    return Err(format!(
                        "{what}: option {:?} needs an id of its own (a-z, 0-9, _, -)",
                        o.id
                    ));
                }
                o.label.check(&format!("{what} option {}", o.id), langs)?;
            }
        }
        Ok(())
    }

    /// The field with this id.
    pub fn field(&self, id: &str) -> Option<&FormField> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Checks submitted answers: every problem by field id, or the answers as they are stored
    /// (text trimmed, phone numbers in E.164, checkboxes as booleans; blank optional answers
    /// and unticked checkboxes left out).
    pub fn validate(
        &self,
        answers: &BTreeMap<String, Value>,
    ) -> Result<BTreeMap<String, Value>, BTreeMap<String, String>> {
        let mut problems = BTreeMap::new();
        let mut clean = BTreeMap::new();
        for id in answers.keys().filter(|id| self.field(id).is_none()) {
            problems.insert(id.clone(), "unknown field".to_owned());
        }
        for f in &self.fields {
            match answer(f, answers.get(&f.id)) {
                Ok(Some(v)) => {
                    clean.insert(f.id.clone(), v);
                }
                Ok(None) if f.required => {
                    let why = match (f.kind, answers.get(&f.id)) {
                        (FieldKind::Checkbox, _) => "must be ticked",
                        (_, None | Some(Value::Null)) => "required",
                        _ => "empty",
                    };
                    problems.insert(f.id.clone(), why.to_owned());
                }
                Ok(None) => {}
                Err(why) => {
                    problems.insert(f.id.clone(), why);
                }
            }
        }
        if problems.is_empty() {
            Ok(clean)
        } else {
            Err(problems)
        }
    }

    /// The stored answers as "Label: value" lines in `lang`, in the form's order, for the
    /// thread's first message.
    pub fn render(&self, answers: &BTreeMap<String, Value>, lang: &str, fallback: &str) -> String {
        let mut lines = Vec::new();
        for f in &self.fields {
            let Some(v) = answers.get(&f.id) else {
                continue;
            };
            let value = match (f.kind, v) {
                (FieldKind::Checkbox, Value::Bool(b)) => yes_no(*b, lang).to_owned(),
                (FieldKind::Choice, Value::String(s)) => f
                    .options
                    .iter()
                    .find(|o| &o.id == s)
                    .map_or(s.clone(), |o| o.label.get(lang, fallback).to_owned()),
                (_, Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            let label = f.label.get(lang, fallback);
            if value.contains('\n') {
                lines.push(format!("{label}:\n{value}"));
            } else {
                lines.push(format!("{label}: {value}"));
            }
        }
        lines.join("\n")
    }
}

/// "Yes" or "no" in `lang` (English for a language without its words here).
fn yes_no(b: bool, lang: &str) -> &'static str {
    match (lang, b) {
        ("fi", true) => "Kyllä",
        ("fi", false) => "Ei",
        ("sv", true) => "Ja",
        ("sv", false) => "Nej",
        (_, true) => "Yes",
        (_, false) => "No",
    }
}

/// One answer checked against its field: `Ok(None)` when blank (or an unticked checkbox).
fn answer(f: &FormField, v: Option<&Value>) -> Result<Option<Value>, String> {
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Bool(b)) if f.kind == FieldKind::Checkbox => {
            return Ok(b.then_some(Value::Bool(true)))
        }
        Some(Value::String(s)) => s.trim(),
        Some(_) if f.kind == FieldKind::Checkbox => return Err("must be true or false".into()),
        Some(_) => return Err("must be text".into()),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > f.max_len() {
        return Err(format!("longer than {} characters", f.max_len()));
    }
    let clean = match f.kind {
        FieldKind::Text if text.contains(['\n', '\r']) => {
            return Err("must be a single line".into())
        }
        FieldKind::Text | FieldKind::Textarea => text.replace("\r\n", "\n"),
        FieldKind::Email => email(text).ok_or("not an e-mail address")?,
        FieldKind::Phone => phone(text).ok_or("not a phone number")?,
        FieldKind::Choice => match f.options.iter().find(|o| o.id == text) {
            Some(o) => o.id.clone(),
            None => return Err("not one of the options".into()),
        },
        FieldKind::Checkbox => match checkbox(text) {
            Some(ticked) => return Ok(ticked.then_some(Value::Bool(true))),
            None => return Err("must be true or false".into()),
        },
        FieldKind::Date => match jiff::civil::Date::strptime("%Y-%m-%d", text) {
            Ok(d) if text.len() == 10 => d.to_string(),
            _ => return Err("not a date (YYYY-MM-DD)".into()),
        },
    };
    Ok(Some(Value::String(clean)))
}

/// A checkbox as a form posts it: `on` (a browser's default value) or a yes/no word.
fn checkbox(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A checked e-mail address (trimmed), with a dot in its domain: mail is sent on the internet.
pub fn email(text: &str) -> Option<String> {
    let text = text.trim();
    let valid = text.len() <= MAX_EMAIL_LEN
        && email_address::EmailAddress::is_valid(text)
        && text
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
    valid.then(|| text.to_owned())
}

/// A valid phone number in E.164 (`+358401234567`); Finnish unless it has a country code.
pub fn phone(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 32 {
        return None;
    }
    let n = phonenumber::parse(Some(phonenumber::country::Id::FI), text).ok()?;
    phonenumber::is_valid(&n).then(|| n.format().mode(phonenumber::Mode::E164).to_string())
}

/// Checks the sender's contact details: (e-mail, phone) normalised, blank ones `None`; a bad
/// one is named `contact_email` or `contact_phone`.
#[allow(clippy::type_complexity)]
pub fn contact(
    email_in: Option<&str>,
    phone_in: Option<&str>,
) -> Result<(Option<String>, Option<String>), BTreeMap<String, String>> {
    let mut problems = BTreeMap::new();
    fn blank(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let e = blank(email_in).and_then(|s| {
        let ok = email(s);
        if ok.is_none() {
            problems.insert(
                "contact_email".to_owned(),
                "not an e-mail address".to_owned(),
            );
        }
        ok
    });
    let p = blank(phone_in).and_then(|s| {
        let ok = phone(s);
        if ok.is_none() {
            problems.insert("contact_phone".to_owned(), "not a phone number".to_owned());
        }
        ok
    });
    if problems.is_empty() {
        Ok((e, p))
    } else {
        Err(problems)
    }
}

/// The reference number a sender is shown: `F-` and the first eight characters of the
/// conversation id in upper case (`F-3FA2C91B`). Derived, so it is the same on every node and
/// every retry; short enough to read out on the phone. Not unique on its own: the
/// professional finds the thread by it together with the sender's details.
pub fn reference(conversation: &str) -> String {
    console_protocol::reference("form", &conversation.to_owned().into())
}

#[cfg(test)]
mod tests;
