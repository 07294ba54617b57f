//! The Telnyx Messaging API v2 as an SMS [`Gateway`]: `POST /v2/messages` with a Bearer key and
//! our id as `Idempotency-Key` (Telnyx replays the first answer to a byte-identical retry
//! within 24 hours, and sends nothing again), the message's `webhook_url` pointing at our
//! webhook with our id in its query; webhooks (`message.sent`, `message.finalized`,
//! `message.received`) signed with Ed25519 over `"{telnyx-timestamp}|{raw body}"`, verified
//! with the account's public key.

use super::gateway::{Delivery, Gateway, Outgoing, Report, SendError, WebhookError};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long one send may take before it counts as lost (and is tried again, with the same
/// idempotency key).
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// The query parameter of our webhook URL that carries our id of an SMS.
pub const OUR_ID_PARAM: &str = "sms";

/// Telnyx, configured for one organisation.
pub struct Telnyx {
    http: reqwest::Client,
    messages_url: String,
    api_key: String,
    from: String,
    webhook_url: String,
    public_key: Vec<u8>,
    tolerance_s: i64,
}

/// The DER prefix of an Ed25519 public key in SubjectPublicKeyInfo form (RFC 8410).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The 32-byte Ed25519 public key in `base64` — raw, or in SubjectPublicKeyInfo form as a
/// provider's portal may show it — if it is one.
pub fn public_key(base64: &str) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64.trim())
        .ok()?;
    match bytes.len() {
        32 => Some(bytes),
        44 if bytes[..12] == ED25519_SPKI_PREFIX => Some(bytes[12..].to_vec()),
        _ => None,
    }
}

#[derive(Serialize)]
struct SendBody<'a> {
    from: &'a str,
    to: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
    use_profile_webhooks: bool,
}

#[derive(Deserialize)]
struct SendAnswer {
    data: SendData,
}

#[derive(Deserialize)]
struct SendData {
    id: String,
}

#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    errors: Vec<ApiError>,
}

#[derive(Deserialize, Default, Clone)]
struct ApiError {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

impl ApiError {
    /// `40310 Invalid 'to' address: …`
    fn words(&self) -> String {
        let code = match &self.code {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        let mut out = code;
        for part in [&self.title, &self.detail].into_iter().flatten() {
            if !out.is_empty() {
                out.push_str(if out.ends_with(|c: char| c.is_ascii_digit()) {
                    " "
                } else {
                    ": "
                });
            }
            out.push_str(part);
        }
        out
    }
}

#[derive(Deserialize)]
struct Envelope {
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    event_type: String,
    #[serde(default)]
    occurred_at: Option<String>,
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    id: String,
    #[serde(default)]
    from: Option<Party>,
    #[serde(default)]
    to: Vec<Party>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    received_at: Option<String>,
    #[serde(default)]
    errors: Vec<ApiError>,
}

#[derive(Deserialize)]
struct Party {
    phone_number: String,
    #[serde(default)]
    status: Option<String>,
}

impl Telnyx {
    pub fn new(config: &super::SmsConfig) -> Result<Self, String> {
        let public_key = public_key(&config.public_key)
            .ok_or("sms.public_key must be the provider's base64 Ed25519 public key")?;
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Telnyx {
            http,
            messages_url: format!("{}/messages", config.api_url.trim_end_matches('/')),
            api_key: config.api_key.clone(),
            from: config.from.clone(),
            webhook_url: config.webhook_url.clone(),
            public_key,
            tolerance_s: config.webhook_tolerance_s,
        })
    }

    fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_s: i64,
    ) -> Result<(), WebhookError> {
        let signature = header("telnyx-signature-ed25519").ok_or(WebhookError::Unsigned)?;
        let timestamp = header("telnyx-timestamp").ok_or(WebhookError::Unsigned)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| WebhookError::BadSignature)?;
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookError::BadSignature)?;
        let mut signed = format!("{}|", timestamp.trim()).into_bytes();
        signed.extend_from_slice(body);
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.public_key)
            .verify(&signed, &signature)
            .map_err(|_| WebhookError::BadSignature)?;
        if (now_s - ts).abs() > self.tolerance_s {
            return Err(WebhookError::Stale);
        }
        Ok(())
    }
}

/// A Telnyx time (RFC 3339) in milliseconds.
fn millis(s: Option<&str>) -> Option<i64> {
    s?.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

#[async_trait::async_trait]
impl Gateway for Telnyx {
    async fn send(&self, sms: Outgoing<'_>) -> Result<String, SendError> {
        let body = SendBody {
            from: &self.from,
            to: sms.to,
            text: sms.text,
            webhook_url: sms.reports.then(|| {
                format!(
                    "{}{}{OUR_ID_PARAM}={}",
                    self.webhook_url,
                    if self.webhook_url.contains('?') {
                        '&'
                    } else {
                        '?'
                    },
                    sms.id
                )
            }),
            use_profile_webhooks: false,
        };
        let answer = self
            .http
            .post(&self.messages_url)
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", sms.id)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                SendError::Transient(format!(
                    "provider not reached: {}",
                    if e.is_timeout() {
                        "no answer in time".to_owned()
                    } else {
                        e.without_url().to_string()
                    }
                ))
            })?;
        let status = answer.status();
        let bytes = answer.bytes().await.unwrap_or_default();
        if status.is_success() {
            return serde_json::from_slice::<SendAnswer>(&bytes)
                .map(|a| a.data.id)
                .map_err(|_| {
                    SendError::Transient("the provider's answer had no message id".into())
                });
        }
        let errors = serde_json::from_slice::<ErrorAnswer>(&bytes).unwrap_or_default();
        let words = errors
            .errors
            .first()
            .map(ApiError::words)
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        match status.as_u16() {
            401 | 403 => Err(SendError::Transient(format!(
                "the provider refused our credentials ({}): {words}",
                status.as_u16()
            ))),
            408 | 409 | 425 | 429 => Err(SendError::Transient(words)),
            s if s >= 500 => Err(SendError::Transient(format!("provider error {s}: {words}"))),
            _ => Err(SendError::Permanent(words)),
        }
    }

    fn webhook(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_s: i64,
    ) -> Result<Report, WebhookError> {
        self.verify(header, body, now_s)?;
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not a Telnyx event: {e}")))?;
        // A NUL character cannot be stored as text (PostgreSQL refuses it) and has no place
        // in an id, a number or a message: refused, not retried for ever as a 5xx.
        if body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
            return Err(WebhookError::Malformed(
                "a NUL character in the event".into(),
            ));
        }
        let data = envelope.data;
        let p = data.payload;
        let first_to = p.to.first();
        match data.event_type.as_str() {
            "message.received" => {
                let from = p.from.ok_or(WebhookError::Malformed(
                    "an inbound message without from".into(),
                ))?;
                let to = first_to.ok_or(WebhookError::Malformed(
                    "an inbound message without to".into(),
                ))?;
                let received_at_ms = millis(p.received_at.as_deref())
                    .or_else(|| millis(data.occurred_at.as_deref()))
                    .unwrap_or(now_s * 1000);
                Ok(Report::Inbound {
                    provider_ref: p.id,
                    from: from.phone_number,
                    to: to.phone_number.clone(),
                    text: p.text.unwrap_or_default(),
                    received_at_ms,
                })
            }
            "message.sent" | "message.finalized" => {
                let status = first_to.and_then(|t| t.status.as_deref()).unwrap_or("");
                let state = match status {
                    "sent" | "delivery_unconfirmed" => Delivery::Sent,
                    "delivered" => Delivery::Delivered,
                    "sending_failed" | "delivery_failed" | "expired" => Delivery::Failed,
                    _ => return Ok(Report::Ignored),
                };
                let reason = (state == Delivery::Failed).then(|| {
                    p.errors
                        .first()
                        .map(ApiError::words)
                        .filter(|w| !w.is_empty())
                        .unwrap_or_else(|| status.replace('_', " "))
                });
                Ok(Report::Status {
                    ours: None,
                    provider_ref: p.id,
                    to: first_to.map(|t| t.phone_number.clone()),
                    state,
                    reason,
                })
            }
            _ => Ok(Report::Ignored),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    fn gateway(key: &Ed25519KeyPair) -> Telnyx {
        let config = crate::sms::SmsConfig {
            provider: "telnyx".into(),
            api_url: "http://127.0.0.1:9/v2".into(),
            api_key: "k".into(),
            from: "+358401110000".into(),
            public_key: base64::engine::general_purpose::STANDARD.encode(key.public_key()),
            webhook_url: "https://luukku.example/api/v1/sms/telnyx".into(),
            service: "sms-chat".into(),
            max_segments: 6,
            countries: vec!["FI".into()],
            webhook_tolerance_s: 300,
        };
        Telnyx::new(&config).expect("gateway")
    }

    fn key(seed: u8) -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("seed")
    }

    fn signed(key: &Ed25519KeyPair, ts: i64, body: &str) -> impl Fn(&str) -> Option<String> {
        let sig = key.sign(format!("{ts}|{body}").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(sig.as_ref());
        move |name: &str| match name {
            "telnyx-signature-ed25519" => Some(sig.clone()),
            "telnyx-timestamp" => Some(ts.to_string()),
            _ => None,
        }
    }

    #[test]
    fn a_public_key_reads_raw_or_in_subject_public_key_info_form() {
        let k = key(5);
        let raw = k.public_key().as_ref().to_vec();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        assert_eq!(public_key(&b64(&raw)), Some(raw.clone()));
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(&raw);
        assert_eq!(public_key(&b64(&spki)), Some(raw));
        assert_eq!(public_key("not base64!"), None);
        assert_eq!(public_key(&b64(&[1, 2, 3])), None);
    }

    const FINALIZED: &str = r#"{"data":{"event_type":"message.finalized","id":"e1","occurred_at":"2026-12-03T10:00:00.000+00:00","payload":{"id":"m1","direction":"outbound","to":[{"phone_number":"+358401234567","status":"delivery_failed"}],"errors":[{"code":"40002","title":"Message blocked","detail":"The operator refused it."}]},"record_type":"event"},"meta":{"attempt":1}}"#;

    #[test]
    fn a_signed_failed_report_reads_with_the_providers_reason() {
        let k = key(7);
        let g = gateway(&k);
        let report = g
            .webhook(&signed(&k, 1000, FINALIZED), FINALIZED.as_bytes(), 1010)
            .expect("report");
        assert_eq!(
            report,
            Report::Status {
                ours: None,
                provider_ref: "m1".into(),
                to: Some("+358401234567".into()),
                state: Delivery::Failed,
                reason: Some("40002 Message blocked: The operator refused it.".into()),
            }
        );
    }

    #[test]
    fn unsigned_forged_altered_and_stale_webhooks_are_refused() {
        let k = key(7);
        let g = gateway(&k);
        let body = FINALIZED.as_bytes();
        assert_eq!(
            g.webhook(&|_| None, body, 1000),
            Err(WebhookError::Unsigned)
        );
        let forger = key(8);
        assert_eq!(
            g.webhook(&signed(&forger, 1000, FINALIZED), body, 1000),
            Err(WebhookError::BadSignature)
        );
        let altered = FINALIZED.replace("delivery_failed", "delivered");
        assert_eq!(
            g.webhook(&signed(&k, 1000, FINALIZED), altered.as_bytes(), 1000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            g.webhook(&signed(&k, 1000, FINALIZED), body, 1000 + 301),
            Err(WebhookError::Stale)
        );
        let junk = "{\"hello\":1}";
        assert!(matches!(
            g.webhook(&signed(&k, 1000, junk), junk.as_bytes(), 1000),
            Err(WebhookError::Malformed(_))
        ));
    }

    #[test]
    fn an_inbound_sms_reads_with_its_numbers_text_and_time() {
        let k = key(3);
        let g = gateway(&k);
        let body = r#"{"data":{"event_type":"message.received","id":"e2","occurred_at":"2026-12-03T10:00:01Z","payload":{"id":"in1","direction":"inbound","type":"SMS","from":{"phone_number":"+358401234567","line_type":"Wireless"},"to":[{"phone_number":"+358401110000","status":"webhook_delivered"}],"text":"Kiitos, tulen huomenna.","received_at":"2026-12-03T10:00:00.500Z","errors":[]},"record_type":"event"},"meta":{"attempt":1}}"#;
        let report = g
            .webhook(&signed(&k, 5, body), body.as_bytes(), 5)
            .expect("inbound");
        assert_eq!(
            report,
            Report::Inbound {
                provider_ref: "in1".into(),
                from: "+358401234567".into(),
                to: "+358401110000".into(),
                text: "Kiitos, tulen huomenna.".into(),
                received_at_ms: 1_796_292_000_500,
            }
        );
    }
}
