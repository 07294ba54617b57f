//! Contact forms over plain HTTP: `POST /api/v1/forms/{service}` (a JSON or urlencoded body;
//! a JSON answer, or an HTML page when the browser asks for `text/html`) and
//! `GET /forms/{service}` (the form as HTML, for browsers without JavaScript). Nothing is
//! written here: the submission goes through a client session on the node that writes
//! (`bridge`), so a door of a cluster serves it like the primary.

use super::api::query_or_empty;
use super::bridge::{self, Outcome};
use super::forms_page::{self, Filled};
use super::json_error;
use crate::context::ServerCtx;
use crate::organisation::{Form, Service};
use crate::tunnel::Exchange;
use console_protocol::{Answers, ErrorCode, FormContact, SubmitForm, TeamId};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use warp::http::{HeaderMap, StatusCode};
use warp::{Filter, Reply};

/// The largest body accepted (a form's longest answers, URL-encoded, fit well inside it, and
/// the `submit_form` frame made of it stays under the default frame limit).
const MAX_BODY_BYTES: u64 = 32 * 1024;

/// A submission as JSON: `{"fields":{…},"contact":{"email","phone"},"client_ref","lang","team"}`.
#[derive(Debug, Default, Deserialize)]
struct Body {
    #[serde(default)]
    fields: Answers,
    #[serde(default)]
    contact: Option<FormContact>,
    #[serde(default)]
    client_ref: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    team: Option<TeamId>,
}

type Shared = (Arc<ServerCtx>, Option<Arc<Exchange>>);

pub fn routes(
    ctx: Arc<ServerCtx>,
    exchange: Option<Arc<Exchange>>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let shared = warp::any().map(move || (ctx.clone(), exchange.clone()));
    let post = warp::path!("api" / "v1" / "forms" / String)
        .and(warp::post())
        .and(shared.clone())
        .and(warp::header::headers_cloned())
        .and(query_or_empty())
        .and(warp::body::content_length_limit(MAX_BODY_BYTES))
        .and(warp::body::bytes())
        .then(
            |id: String, shared: Shared, headers, query, body: bytes::Bytes| async move {
                submit(id, shared, headers, query, &body).await
            },
        );
    let preflight = warp::path!("api" / "v1" / "forms" / String)
        .and(warp::method())
        .and_then(|_id: String, m: warp::http::Method| async move {
            if m == warp::http::Method::OPTIONS {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
        .map(|| {
            let r = warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT);
            let r = warp::reply::with_header(r, "access-control-allow-methods", "POST");
            let r = warp::reply::with_header(
                r,
                "access-control-allow-headers",
                "content-type, authorization",
            );
            let r = warp::reply::with_header(r, "access-control-max-age", "600");
            any_origin(r.into_response())
        });
    let page = warp::path!("forms" / String)
        .and(warp::get())
        .and(shared)
        .and(query_or_empty())
        .and(warp::header::optional::<String>("accept-language"))
        .map(
            |id: String, (ctx, _): Shared, query: HashMap<String, String>, al| {
                page(&ctx, &id, query.get("lang").map(String::as_str), al)
            },
        );
    post.or(preflight).unify().or(page).unify()
}

/// Lets the widget on another site read the answer (no credentials: a bearer token is sent
/// by the page itself, never a cookie).
fn any_origin(r: warp::reply::Response) -> warp::reply::Response {
    warp::reply::with_header(r, "access-control-allow-origin", "*").into_response()
}

/// An HTML reply.
fn html(status: StatusCode, body: String) -> warp::reply::Response {
    let r = warp::reply::with_status(warp::reply::html(body), status);
    warp::reply::with_header(r, "cache-control", "no-store").into_response()
}

/// The form service `id`, or the reply refusing it (404 unknown, 400 not a form service).
fn form_service<'a>(
    ctx: &'a ServerCtx,
    id: &str,
) -> Result<(&'a Service, &'a Form), (StatusCode, &'static str, &'static str)> {
    let org = &ctx.config.organisation;
    let Some(service) = org.services.iter().find(|s| s.id.as_str() == id) else {
        return Err((StatusCode::NOT_FOUND, "not_found", "no such service"));
    };
    match service.form.as_ref().filter(|_| service.channel == "form") {
        Some(form) => Ok((service, form)),
        None => Err((
            StatusCode::BAD_REQUEST,
            "not_a_form",
            "this service takes no contact form (a chat starts on the WebSocket)",
        )),
    }
}

/// `GET /forms/{service}`: the form in `?lang=` (else `Accept-Language`, else the default).
fn page(
    ctx: &ServerCtx,
    id: &str,
    lang: Option<&str>,
    accept_language: Option<String>,
) -> warp::reply::Response {
    let org = &ctx.config.organisation;
    let lang = org.negotiate(lang, accept_language.as_deref());
    match form_service(ctx, id) {
        Ok((service, form)) => {
            let client_ref = uuid::Uuid::new_v4().to_string();
            let empty = Filled {
                fields: &Answers::new(),
                contact: &FormContact::default(),
                errors: &BTreeMap::new(),
            };
            let body = forms_page::form_page(org, service, form, lang, &client_ref, &empty);
            html(StatusCode::OK, body)
        }
        Err((_, _, message)) => html(
            StatusCode::NOT_FOUND,
            forms_page::message_page(lang, "404", message),
        ),
    }
}

/// `POST /api/v1/forms/{service}`.
async fn submit(
    id: String,
    (ctx, exchange): Shared,
    headers: HeaderMap,
    query: HashMap<String, String>,
    body: &[u8],
) -> warp::reply::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let wants_html = header("accept").is_some_and(|a| a.contains("text/html"));
    let org = &ctx.config.organisation;
    let (service, form) = match form_service(&ctx, &id) {
        Ok(found) => found,
        Err((status, code, message)) => return refusal(wants_html, status, code, message, "fi"),
    };
    let body = match parse(header("content-type"), body) {
        Ok(body) => body,
        Err(message) => {
            let lang = org.language(None);
            return refusal(
                wants_html,
                StatusCode::BAD_REQUEST,
                "bad_request",
                message,
                lang,
            );
        }
    };
    let wanted = body
        .lang
        .as_deref()
        .or(query.get("lang").map(String::as_str));
    let lang = org.negotiate(wanted, header("accept-language")).to_owned();
    let token = header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let submission = SubmitForm {
        service: service.id.clone(),
        fields: body.fields.clone(),
        contact: body.contact.clone(),
        client_ref: body.client_ref.clone().filter(|r| !r.trim().is_empty()),
        team: body.team.clone(),
        lang: Some(lang.clone()),
    };
    let outcome = bridge::submit(&ctx, &exchange, token, submission).await;
    let answer = Answer {
        ctx: &ctx,
        service,
        form,
        lang: &lang,
        body: &body,
    };
    if wants_html {
        answer.html(outcome)
    } else {
        answer.json(outcome)
    }
}

/// A JSON error, or the same as a short HTML page.
fn refusal(
    wants_html: bool,
    status: StatusCode,
    code: &str,
    message: &str,
    lang: &str,
) -> warp::reply::Response {
    if wants_html {
        let title = status.as_str().to_owned();
        html(status, forms_page::message_page(lang, &title, message))
    } else {
        any_origin(json_error(status, code, message))
    }
}

/// The body as JSON or as `application/x-www-form-urlencoded`.
fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Body, &'static str> {
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if ct.starts_with("application/json") {
        serde_json::from_slice(body).map_err(|_| "the body is not the JSON of a form")
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Ok(urlencoded(body))
    } else {
        Err("send application/json or application/x-www-form-urlencoded")
    }
}

/// Reads `fields[<id>]=…` or `<id>=…`, and `contact_email`, `contact_phone`, `client_ref`,
/// `lang`, `team` (the reserved names no field may have).
fn urlencoded(body: &[u8]) -> Body {
    let mut b = Body::default();
    let mut contact = FormContact::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "contact_email" => contact.email = Some(v),
            "contact_phone" => contact.phone = Some(v),
            "client_ref" => b.client_ref = Some(v),
            "lang" => b.lang = Some(v),
            "team" => b.team = Some(TeamId::from(v)),
            key => {
                let id = key
                    .strip_prefix("fields[")
                    .and_then(|k| k.strip_suffix(']'))
                    .unwrap_or(key);
                b.fields.insert(id.to_owned(), serde_json::Value::String(v));
            }
        }
    }
    if contact != FormContact::default() {
        b.contact = Some(contact);
    }
    b
}

/// What the answer to one submission needs.
struct Answer<'a> {
    ctx: &'a ServerCtx,
    service: &'a Service,
    form: &'a Form,
    lang: &'a str,
    body: &'a Body,
}

/// The status and code of a session's refusal that is not about the fields.
fn status_of(code: ErrorCode) -> (StatusCode, &'static str) {
    match code {
        ErrorCode::BadFrame => (StatusCode::BAD_REQUEST, "bad_request"),
        ErrorCode::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        ErrorCode::Forbidden => (StatusCode::CONFLICT, "conflict"),
        ErrorCode::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
        ErrorCode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        ErrorCode::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    }
}

impl Answer<'_> {
    fn json(&self, outcome: Outcome) -> warp::reply::Response {
        let reply = match outcome {
            Outcome::Received(r) => {
                let body = serde_json::json!({
                    "conversation": r.conversation, "reference": r.reference, "due_at": r.due_at,
                });
                warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED)
                    .into_response()
            }
            Outcome::Refused(e) => match (e.code, e.fields) {
                (ErrorCode::BadFrame, Some(fields)) => {
                    let body = serde_json::json!({"error": "invalid", "fields": fields});
                    warp::reply::with_status(
                        warp::reply::json(&body),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .into_response()
                }
                (code, _) => {
                    let (status, name) = status_of(code);
                    json_error(status, name, &e.message)
                }
            },
            Outcome::Unauthorized => json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the bearer token was not accepted",
            ),
            Outcome::Unavailable(why) => {
                json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", why)
            }
        };
        any_origin(reply)
    }

    fn html(&self, outcome: Outcome) -> warp::reply::Response {
        let org = &self.ctx.config.organisation;
        match outcome {
            Outcome::Received(r) => html(
                StatusCode::OK,
                forms_page::received_page(
                    org,
                    self.service,
                    self.lang,
                    &r.reference,
                    r.due_at.as_deref(),
                ),
            ),
            Outcome::Refused(e) if e.code == ErrorCode::BadFrame && e.fields.is_some() => {
                let errors = e.fields.unwrap_or_default();
                let client_ref = self
                    .body
                    .client_ref
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let none = FormContact::default();
                let filled = Filled {
                    fields: &self.body.fields,
                    contact: self.body.contact.as_ref().unwrap_or(&none),
                    errors: &errors,
                };
                let page = forms_page::form_page(
                    org,
                    self.service,
                    self.form,
                    self.lang,
                    &client_ref,
                    &filled,
                );
                html(StatusCode::UNPROCESSABLE_ENTITY, page)
            }
            Outcome::Refused(e) => {
                let (status, _) = status_of(e.code);
                refusal(true, status, "", &e.message, self.lang)
            }
            Outcome::Unauthorized => refusal(
                true,
                StatusCode::UNAUTHORIZED,
                "",
                "the bearer token was not accepted",
                self.lang,
            ),
            Outcome::Unavailable(why) => {
                refusal(true, StatusCode::SERVICE_UNAVAILABLE, "", why, self.lang)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_names_fill_fields_and_contact() {
        let b = urlencoded(
            b"fields%5Bname%5D=Maija+M&message=Hei%0Avaan&contact_email=a%40b.fi&client_ref=r1&lang=sv",
        );
        assert_eq!(b.fields["name"], "Maija M");
        assert_eq!(b.fields["message"], "Hei\nvaan");
        assert_eq!(b.contact.and_then(|c| c.email).as_deref(), Some("a@b.fi"));
        assert_eq!(b.client_ref.as_deref(), Some("r1"));
        assert_eq!(b.lang.as_deref(), Some("sv"));
    }
}
