//! A send request checked as Telnyx checks it: the `Idempotency-Key`'s form and the body's
//! fields (`to` in +E.164, a non-empty `text`, URLs, …), all problems named at once; and
//! where the message's webhooks go.

use crate::sms::{Direction, Sms};
use crate::telnyx_error::{ApiError, Refusal};
use serde_json::{Map, Value};
use warp::http::StatusCode;

/// URLs longer than this are refused, as Telnyx documents for error 10003.
const MAX_URL_LEN: usize = 2000;
/// Idempotency keys: 1 to 255 of `[A-Za-z0-9_:-]`.
const MAX_KEY_LEN: usize = 255;

/// Checks the form of an `Idempotency-Key`: `^[A-Za-z0-9_:-]{1,255}$`.
pub fn check_idempotency_key(key: &str) -> Result<(), Refusal> {
    let ok = (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-'));
    if ok {
        return Ok(());
    }
    Err(Refusal::one(
        StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::new(
            "10015",
            "Bad Request",
            "Idempotency-Key must be 1 to 255 letters, numbers, hyphens, underscores or colons.",
        ),
    ))
}

/// A send request that passed: the message, queued, and where its webhooks go, in order.
#[derive(Debug)]
pub struct Accepted {
    pub sms: Sms,
    pub targets: Vec<String>,
}

/// Checks `POST /v2/messages`'s body; `profile_webhook` is the messaging profile's URL.
pub fn check_send(body: &[u8], profile_webhook: Option<&str>) -> Result<Accepted, Refusal> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(Refusal::one(
            StatusCode::BAD_REQUEST,
            ApiError::new(
                "10015",
                "Bad Request",
                "The request failed because it was not well-formed.",
            ),
        ));
    };
    let mut errors = Vec::new();
    let to = check_to(fields.get("to"), &mut errors);
    let (from, profile) = check_sender(&fields, &mut errors);
    let text = check_text(&fields, &mut errors);
    check_type(&fields, &mut errors);
    let webhook_url = check_url(&fields, "webhook_url", "/webhook_url", &mut errors);
    let failover = check_url(
        &fields,
        "webhook_failover_url",
        "/webhook_failover_url",
        &mut errors,
    );
    let use_profile = check_use_profile(&fields, &mut errors);
    let (Some(to), Some(text), true) = (to, text, errors.is_empty()) else {
        return Err(Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        });
    };
    let profile_webhook = profile_webhook.filter(|_| use_profile);
    let targets = webhook_targets(webhook_url, failover.clone(), profile_webhook);
    let mut sms = Sms::new(Direction::Outbound, from, to, text);
    sms.messaging_profile_id = profile;
    sms.webhook_url = targets.first().cloned();
    sms.webhook_failover_url = failover;
    Ok(Accepted { sms, targets })
}

/// The message's own URLs first, then (unless `use_profile_webhooks` is false) the
/// profile's, as Telnyx tries them.
fn webhook_targets(
    webhook_url: Option<String>,
    failover: Option<String>,
    profile_webhook: Option<&str>,
) -> Vec<String> {
    let mut targets: Vec<String> = webhook_url.into_iter().chain(failover).collect();
    if let Some(url) = profile_webhook {
        if !targets.iter().any(|t| t == url) {
            targets.push(url.to_string());
        }
    }
    targets
}

/// `from` and `messaging_profile_id`: one of them is needed (a profile sends from its pool).
fn check_sender(
    fields: &Map<String, Value>,
    errors: &mut Vec<ApiError>,
) -> (Option<String>, Option<String>) {
    let profile = optional_string(fields, "messaging_profile_id", errors);
    let from = optional_string(fields, "from", errors);
    if fields.get("from").is_none_or(Value::is_null) && profile.is_none() {
        errors.push(missing(
            "/from",
            "'from' is required without a messaging_profile_id.",
        ));
    }
    (from, profile)
}

fn check_text(fields: &Map<String, Value>, errors: &mut Vec<ApiError>) -> Option<String> {
    match fields.get("text") {
        Some(Value::String(t)) if !t.is_empty() => Some(t.clone()),
        _ => {
            errors.push(missing(
                "/text",
                "'text' is required for SMS: a non-empty string.",
            ));
            None
        }
    }
}

fn check_type(fields: &Map<String, Value>, errors: &mut Vec<ApiError>) {
    match fields.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("SMS") => {}
        Some(_) => errors.push(
            ApiError::new("10015", "Bad Request", "The stand-in sends SMS only.").at("/type"),
        ),
    }
}

fn check_use_profile(fields: &Map<String, Value>, errors: &mut Vec<ApiError>) -> bool {
    match fields.get("use_profile_webhooks") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            let detail = "'use_profile_webhooks' is a boolean.";
            errors.push(ApiError::new("10015", "Bad Request", detail).at("/use_profile_webhooks"));
            true
        }
    }
}

fn missing(pointer: &'static str, detail: &str) -> ApiError {
    ApiError::new("10004", "Missing required parameter", detail).at(pointer)
}

/// `to`: one +E.164 number, as a string or an array of one (as Telnyx accepts it).
fn check_to(value: Option<&Value>, errors: &mut Vec<ApiError>) -> Option<String> {
    let number = match value {
        None | Some(Value::Null) => {
            errors.push(missing("/to", "'to' is required."));
            return None;
        }
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(items)) if items.len() == 1 => items[0].as_str(),
        Some(_) => None,
    };
    match number {
        Some(n) if is_e164(n) => Some(n.to_string()),
        _ => {
            errors.push(
                ApiError::new(
                    "40310",
                    "Invalid 'to' address",
                    "The 'to' address should be a single valid number in +E.164 format.",
                )
                .at("/to"),
            );
            None
        }
    }
}

/// `from` or `messaging_profile_id`: absent, or a non-empty string.
fn optional_string(
    fields: &Map<String, Value>,
    name: &'static str,
    errors: &mut Vec<ApiError>,
) -> Option<String> {
    let pointer = match name {
        "from" => "/from",
        _ => "/messaging_profile_id",
    };
    match fields.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            errors.push(
                ApiError::new(
                    "10015",
                    "Bad Request",
                    format!("'{name}' is a non-empty string."),
                )
                .at(pointer),
            );
            None
        }
    }
}

fn check_url(
    fields: &Map<String, Value>,
    name: &str,
    pointer: &'static str,
    errors: &mut Vec<ApiError>,
) -> Option<String> {
    let value = match fields.get(name) {
        None | Some(Value::Null) => return None,
        Some(v) => v,
    };
    if let Some(url) = value.as_str().filter(|u| is_http_url(u)) {
        return Some(url.to_string());
    }
    errors.push(
        ApiError::new(
            "10003",
            "Invalid URL",
            "The URL provided was invalid, malformed, or too long. URLs can be a maximum of \
             2000 characters.",
        )
        .at(pointer),
    );
    None
}

/// An absolute `http`/`https` URL of at most 2000 characters.
pub fn is_http_url(url: &str) -> bool {
    url.len() <= MAX_URL_LEN
        && reqwest::Url::parse(url)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false)
}

/// `+`, then 7 to 15 digits, the first not 0.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_needs_the_plus_and_7_to_15_digits_not_starting_with_0() {
        assert!(is_e164("+358401234567"));
        assert!(is_e164("+1234567"));
        assert!(!is_e164("0401234567"));
        assert!(!is_e164("358401234567"));
        assert!(!is_e164("+0401234567"));
        assert!(!is_e164("+123456"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+358 40 123 4567"));
    }

    #[test]
    fn idempotency_keys_follow_telnyx_pattern() {
        assert!(check_idempotency_key("8e03978e-40d5-43e8-bc93-6894a57f9326").is_ok());
        assert!(check_idempotency_key("sms:42_a").is_ok());
        assert!(check_idempotency_key(&"k".repeat(255)).is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
        assert!(check_idempotency_key("has space").is_err());
        assert!(check_idempotency_key("ä").is_err());
    }

    #[test]
    fn a_bad_to_and_an_empty_text_are_both_named() {
        let body = br#"{"from":"+358401111111","to":"0401234567","text":""}"#;
        let refusal = check_send(body, None).expect_err("refused");
        assert_eq!(refusal.status, StatusCode::UNPROCESSABLE_ENTITY);
        let pointers: Vec<_> = refusal
            .errors
            .iter()
            .filter_map(|e| e.source.as_ref().map(|s| s.pointer))
            .collect();
        assert_eq!(pointers, ["/to", "/text"]);
    }

    #[test]
    fn webhooks_go_to_the_message_urls_then_the_profile() {
        let body = br#"{"from":"+358401111111","to":["+358402222222"],"text":"Hei",
            "webhook_url":"http://a.test/hook","webhook_failover_url":"http://b.test/hook"}"#;
        let accepted = check_send(body, Some("http://profile.test/hook")).expect("accepted");
        assert_eq!(
            accepted.targets,
            [
                "http://a.test/hook",
                "http://b.test/hook",
                "http://profile.test/hook"
            ]
        );
        let body = br#"{"from":"+358401111111","to":"+358402222222","text":"Hei",
            "use_profile_webhooks":false}"#;
        let accepted = check_send(body, Some("http://profile.test/hook")).expect("accepted");
        assert!(accepted.targets.is_empty());
    }
}
