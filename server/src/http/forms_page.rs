//! The contact form as a plain server-rendered HTML page, for browsers without JavaScript: the
//! form (labels, required marks, the sender's earlier answers and the problems next to their
//! fields), the receipt with the reference and deadline, and a short page for other refusals.
//! Every organisation text and every submitted value is escaped.

use crate::organisation::{FieldKind, Form, FormField, Organisation, Service};
use console_protocol::{Answers, FormContact};
use std::collections::BTreeMap;

/// The page's own words in one language.
struct Words {
    send: &'static str,
    required: &'static str,
    contact: &'static str,
    contact_hint: &'static str,
    email: &'static str,
    phone: &'static str,
    fix: &'static str,
    thanks: &'static str,
    reference: &'static str,
    due: &'static str,
    choose: &'static str,
}

fn words(lang: &str) -> &'static Words {
    match lang {
        "fi" => &Words {
            send: "Lähetä",
            required: "Tähdellä (*) merkityt kohdat ovat pakollisia.",
            contact: "Yhteystietosi",
            contact_hint: "Anna sähköpostiosoite tai puhelinnumero, jotta voimme vastata.",
            email: "Sähköposti",
            phone: "Puhelinnumero",
            fix: "Korjaa merkityt kohdat ja lähetä lomake uudelleen.",
            thanks: "Kiitos, yhteydenottosi on vastaanotettu.",
            reference: "Viitenumerosi",
            due: "Vastaamme viimeistään",
            choose: "Valitse",
        },
        "sv" => &Words {
            send: "Skicka",
            required: "Fält markerade med stjärna (*) är obligatoriska.",
            contact: "Dina kontaktuppgifter",
            contact_hint: "Ange e-postadress eller telefonnummer så att vi kan svara.",
            email: "E-post",
            phone: "Telefonnummer",
            fix: "Rätta de markerade fälten och skicka formuläret igen.",
            thanks: "Tack, vi har tagit emot ditt meddelande.",
            reference: "Ditt referensnummer",
            due: "Vi svarar senast",
            choose: "Välj",
        },
        _ => &Words {
            send: "Send",
            required: "Fields marked with an asterisk (*) are required.",
            contact: "Your contact details",
            contact_hint: "Give an e-mail address or a phone number so that we can reply.",
            email: "E-mail",
            phone: "Phone number",
            fix: "Please correct the marked fields and send the form again.",
            thanks: "Thank you, we have received your message.",
            reference: "Your reference number",
            due: "We will reply by",
            choose: "Choose",
        },
    }
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page around `body`.
fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:40em;margin:1em auto;\
         padding:0 1em;line-height:1.4}}label{{display:block;font-weight:bold;margin-top:1em}}\
         input[type=text],input[type=email],input[type=tel],input[type=date],textarea,select\
         {{width:100%;box-sizing:border-box;padding:.4em}}.error{{color:#a00;margin:.2em 0}}\
         button{{margin-top:1.5em;padding:.5em 1.5em}}</style></head><body>\n{body}\n</body></html>\n",
        lang = esc(lang),
        title = esc(title),
    )
}

/// What was sent before, to show again beside the problems.
pub struct Filled<'a> {
    pub fields: &'a Answers,
    pub contact: &'a FormContact,
    pub errors: &'a BTreeMap<String, String>,
}

/// The form of `service` in `lang`; `client_ref` makes a double click store one submission.
pub fn form_page(
    org: &Organisation,
    service: &Service,
    form: &Form,
    lang: &str,
    client_ref: &str,
    filled: &Filled<'_>,
) -> String {
    let w = words(lang);
    let title = org.text(&service.name, Some(lang));
    let mut b = format!("<h1>{}</h1>\n", esc(title));
    if !filled.errors.is_empty() {
        b.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>\n",
            esc(w.fix)
        ));
    }
    b.push_str(&format!("<p>{}</p>\n", esc(w.required)));
    b.push_str(&format!(
        "<form method=\"post\" action=\"/api/v1/forms/{}\" accept-charset=\"utf-8\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{}\">\n\
         <input type=\"hidden\" name=\"client_ref\" value=\"{}\">\n",
        esc(service.id.as_str()),
        esc(lang),
        esc(client_ref)
    ));
    for f in &form.fields {
        let value = match filled.fields.get(&f.id) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Bool(true)) => "on".to_owned(),
            _ => String::new(),
        };
        b.push_str(&field(org, f, lang, &value, filled.errors.get(&f.id), w));
    }
    b.push_str(&format!(
        "<fieldset><legend>{}</legend><p>{}</p>\n",
        esc(w.contact),
        esc(w.contact_hint)
    ));
    if let Some(e) = filled.errors.get("contact") {
        b.push_str(&format!(
            "<p class=\"error\" id=\"contact-error\">{}</p>\n",
            esc(e)
        ));
    }
    let email = filled.contact.email.as_deref().unwrap_or_default();
    let phone = filled.contact.phone.as_deref().unwrap_or_default();
    b.push_str(&input(
        "contact_email",
        w.email,
        "email",
        email,
        filled.errors.get("contact_email"),
    ));
    b.push_str(&input(
        "contact_phone",
        w.phone,
        "tel",
        phone,
        filled.errors.get("contact_phone"),
    ));
    b.push_str(&format!(
        "</fieldset>\n<button type=\"submit\">{}</button>\n</form>",
        esc(w.send)
    ));
    page(lang, title, &b)
}

/// A label, the problem (if any) and a one-line input named `name`.
fn input(name: &str, label: &str, kind: &str, value: &str, error: Option<&String>) -> String {
    let mut s = format!("<label for=\"f-{name}\">{}</label>\n", esc(label));
    s.push_str(&error_line(name, error));
    s.push_str(&format!(
        "<input type=\"{kind}\" id=\"f-{name}\" name=\"{name}\" value=\"{}\"{}>\n",
        esc(value),
        described(name, error)
    ));
    s
}

fn error_line(name: &str, error: Option<&String>) -> String {
    error.map_or(String::new(), |e| {
        format!("<p class=\"error\" id=\"f-{name}-error\">{}</p>\n", esc(e))
    })
}

fn described(name: &str, error: Option<&String>) -> String {
    if error.is_some() {
        format!(" aria-invalid=\"true\" aria-describedby=\"f-{name}-error\"")
    } else {
        String::new()
    }
}

/// One form field with its label, required mark, earlier value and problem.
fn field(
    org: &Organisation,
    f: &FormField,
    lang: &str,
    value: &str,
    error: Option<&String>,
    w: &Words,
) -> String {
    let id = esc(&f.id);
    let mark = if f.required { " *" } else { "" };
    let required = if f.required { " required" } else { "" };
    let label = esc(org.text(&f.label, Some(lang)));
    let extra = described(&id, error);
    let max = f.max_len();
    let control = match f.kind {
        FieldKind::Textarea => format!(
            "<textarea id=\"f-{id}\" name=\"{id}\" rows=\"8\" maxlength=\"{max}\"{required}{extra}>{}</textarea>",
            esc(value)
        ),
        FieldKind::Checkbox => {
            let checked = if value.is_empty() { "" } else { " checked" };
            return format!(
                "{}<label><input type=\"checkbox\" id=\"f-{id}\" name=\"{id}\" value=\"on\"{checked}{required}{extra}> {label}{mark}</label>\n",
                error_line(&id, error)
            );
        }
        FieldKind::Choice => {
            let mut s = format!(
                "<select id=\"f-{id}\" name=\"{id}\"{required}{extra}><option value=\"\">{}</option>",
                esc(w.choose)
            );
            for o in &f.options {
                let selected = if o.id == value { " selected" } else { "" };
                s.push_str(&format!(
                    "<option value=\"{}\"{selected}>{}</option>",
                    esc(&o.id),
                    esc(org.text(&o.label, Some(lang)))
                ));
            }
            s + "</select>"
        }
        kind => {
            let html_kind = match kind {
                FieldKind::Email => "email",
                FieldKind::Phone => "tel",
                FieldKind::Date => "date",
                _ => "text",
            };
            format!(
                "<input type=\"{html_kind}\" id=\"f-{id}\" name=\"{id}\" value=\"{}\" maxlength=\"{max}\"{required}{extra}>",
                esc(value)
            )
        }
    };
    format!(
        "<label for=\"f-{id}\">{label}{mark}</label>\n{}{control}\n",
        error_line(&id, error)
    )
}

/// The receipt: the reference number and the reply deadline.
pub fn received_page(
    org: &Organisation,
    service: &Service,
    lang: &str,
    reference: &str,
    due_at: Option<&str>,
) -> String {
    let w = words(lang);
    let title = org.text(&service.name, Some(lang));
    let mut b = format!(
        "<h1>{}</h1>\n<p role=\"status\">{}</p>\n<p>{}: <strong data-reference>{}</strong></p>\n",
        esc(title),
        esc(w.thanks),
        esc(w.reference),
        esc(reference)
    );
    if let Some(due) = due_at {
        // `2026-12-09T16:00:00+02:00` is shown as `2026-12-09 16:00` (local time).
        let shown = due.get(..16).unwrap_or(due).replace('T', " ");
        b.push_str(&format!(
            "<p>{}: <time datetime=\"{}\">{}</time></p>\n",
            esc(w.due),
            esc(due),
            esc(&shown)
        ));
    }
    page(lang, title, &b)
}

/// A short page for a refusal that is not about the fields.
pub fn message_page(lang: &str, title: &str, message: &str) -> String {
    page(
        lang,
        title,
        &format!("<h1>{}</h1>\n<p>{}</p>", esc(title), esc(message)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<b a=\"1\">&'"), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
    }
}
