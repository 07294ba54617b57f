//! The `[sms]` section: the organisation's SMS gateway (its provider, credentials, sender and
//! webhook key), where unmatched SMS from patients go, and how long an SMS may be.

use console_protocol::ServiceId;
use serde::Deserialize;

/// The SMS gateway of the organisation. Absent: no SMS chat (the console's SMS composer is
/// off and an SMS `send` is refused); notifications may still go to `notifications.sms_sink`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// The provider's API: `telnyx` (Telnyx Messaging API v2).
    #[serde(default = "default_provider")]
    pub provider: String,
    /// The provider's API base, e.g. `https://api.telnyx.com/v2` (a stand-in's URL in tests).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The API key (better from `LUUKKU_SMS_API_KEY` than from the file).
    #[serde(default)]
    pub api_key: String,
    /// The sender: the organisation's number in E.164, or an alphanumeric sender id (then
    /// patients cannot reply).
    pub from: String,
    /// The provider's public key that signs its webhooks (Telnyx: the account's Ed25519
    /// public key, base64).
    pub public_key: String,
    /// Where the provider reaches this server's webhook: the public URL of
    /// `/api/v1/sms/telnyx`.
    pub webhook_url: String,
    /// The `sms` service whose team gets an SMS that matches no open case (or several).
    pub service: ServiceId,
    /// Longest SMS a professional may send, in messages (segments).
    #[serde(default = "default_max_segments")]
    pub max_segments: usize,
    /// Countries (ISO 3166, e.g. `FI`) whose mobile numbers may receive SMS.
    #[serde(default = "default_countries")]
    pub countries: Vec<String>,
    /// How old a signed webhook may be (its timestamp), in seconds.
    #[serde(default = "default_tolerance")]
    pub webhook_tolerance_s: i64,
}

fn default_provider() -> String {
    "telnyx".into()
}

fn default_api_url() -> String {
    "https://api.telnyx.com/v2".into()
}

fn default_max_segments() -> usize {
    6
}

fn default_countries() -> Vec<String> {
    vec!["FI".into()]
}

fn default_tolerance() -> i64 {
    300
}

/// The stand-in provider's public key for its default seed (docs/sms-standin.md).
pub const STANDIN_PUBLIC_KEY: &str = "k0X5bi0Ip2D/jJvLaEwX0XjkTEDKTr1xaaSBii7po5Q=";

impl SmsConfig {
    /// The demo's SMS chat: the stand-in provider as it starts by default
    /// (`cargo run --bin luukku-sms-standin -- --api-key demo --webhook …`), on
    /// 127.0.0.1:8025, answering to this server at `listen`.
    pub fn demo(listen: std::net::SocketAddr) -> Self {
        SmsConfig {
            provider: default_provider(),
            api_url: "http://127.0.0.1:8025/v2".into(),
            api_key: "demo".into(),
            from: "+358401110000".into(),
            public_key: STANDIN_PUBLIC_KEY.into(),
            webhook_url: format!("http://{listen}/api/v1/sms/telnyx"),
            service: "sms-chat".into(),
            max_segments: default_max_segments(),
            countries: default_countries(),
            webhook_tolerance_s: default_tolerance(),
        }
    }

    /// Checks what can be checked without the network; `service` is checked against the
    /// organisation by the caller.
    pub fn validate(&self) -> Result<(), String> {
        if self.provider != "telnyx" {
            return Err(format!(
                "sms.provider {:?} is not supported (supported: telnyx)",
                self.provider
            ));
        }
        for (key, url) in [
            ("api_url", &self.api_url),
            ("webhook_url", &self.webhook_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("sms.{key} must be an http(s):// URL"));
            }
        }
        if self.api_key.trim().is_empty() {
            return Err("sms.api_key (or LUUKKU_SMS_API_KEY) is required".into());
        }
        if self.from.trim().is_empty() {
            return Err("sms.from (the sender number or id) is required".into());
        }
        if super::telnyx::public_key(&self.public_key).is_none() {
            return Err("sms.public_key must be the provider's base64 Ed25519 public key".into());
        }
        if !(1..=10).contains(&self.max_segments) {
            return Err("sms.max_segments must be 1–10".into());
        }
        if self.countries.is_empty() {
            return Err("sms.countries must name at least one country".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_points_at_the_stand_in_and_is_valid() {
        let demo = SmsConfig::demo(([127, 0, 0, 1], 8080).into());
        assert_eq!(demo.validate(), Ok(()));
        assert_eq!(demo.webhook_url, "http://127.0.0.1:8080/api/v1/sms/telnyx");
    }

    #[test]
    fn an_unusable_gateway_is_refused_by_name() {
        let good = SmsConfig::demo(([127, 0, 0, 1], 8080).into());
        let mut c = good.clone();
        c.provider = "twilio".into();
        assert!(c.validate().is_err_and(|e| e.contains("sms.provider")));
        let mut c = good.clone();
        c.public_key = "bm90IGEga2V5".into();
        assert!(c.validate().is_err_and(|e| e.contains("sms.public_key")));
        let mut c = good.clone();
        c.api_key = " ".into();
        assert!(c
            .validate()
            .is_err_and(|e| e.contains("LUUKKU_SMS_API_KEY")));
        let mut c = good;
        c.max_segments = 0;
        assert!(c.validate().is_err_and(|e| e.contains("max_segments")));
    }
}
