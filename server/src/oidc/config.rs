//! `[oidc]`: the organisation's OpenID Connect provider, through which professionals sign in
//! to the console (authorization code + PKCE, the server as the confidential or public
//! client), and how its claims become teams and roles; `[identification]`: the strong
//! identification provider patients use inside a chat.

use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// This server's client id at the provider (the ID token's audience).
    pub client_id: String,
    /// The client secret, when the provider registered this server as a confidential client
    /// (also `LUUKKU_OIDC_CLIENT_SECRET`); none: a public client (PKCE only).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Where browsers reach this server (`https://chat.example.fi`): the redirect URI the
    /// provider sends them back to is `{public_url}/auth/console/callback`.
    pub public_url: String,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim listing the professional's groups (`groups`).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// A group `{team_prefix}{team id}` makes them a member of that team (`team:`).
    #[serde(default = "default_team_prefix")]
    pub team_prefix: String,
    /// The claim listing the professional's roles at the provider (`roles`).
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// The provider's roles that give a Luukku role: `{ "shift-lead" = "supervisor",
    /// "tietosuojavastaava" = "dpo" }`; a role named like a Luukku role gives it too.
    #[serde(default)]
    pub role_map: HashMap<String, String>,
    /// The claim carrying the display name (`name`).
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// Seconds of clock difference tolerated on `exp` and `iat` (60).
    #[serde(default = "default_skew")]
    pub clock_skew_s: u64,
    /// Lifetime of the console token a sign-in gives (1 h); the console renews it through
    /// the provider's refresh token when it runs out.
    #[serde(default = "default_console_ttl")]
    pub console_token_ttl_s: u64,
    /// How long a sign-in may be renewed that way before the provider's sign-in page is
    /// needed again (a shift: 12 h), as long as the provider's own session allows.
    #[serde(default = "default_session_ttl")]
    pub session_ttl_s: u64,
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into()]
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_team_prefix() -> String {
    "team:".into()
}
fn default_roles_claim() -> String {
    "roles".into()
}
fn default_name_claim() -> String {
    "name".into()
}
fn default_skew() -> u64 {
    60
}
fn default_console_ttl() -> u64 {
    3600
}
fn default_session_ttl() -> u64 {
    12 * 3600
}

impl OidcConfig {
    /// Checks what can be checked without the provider.
    pub fn validate(&self) -> Result<(), String> {
        for (name, url) in [
            ("oidc.issuer", &self.issuer),
            ("oidc.public_url", &self.public_url),
        ] {
            if !(url.starts_with("https://")
                || url.starts_with("http://127.0.0.1")
                || url.starts_with("http://localhost"))
            {
                return Err(format!(
                    "{name} must be an https URL (plain http only on 127.0.0.1 or localhost)"
                ));
            }
        }
        if self.client_id.trim().is_empty() {
            return Err("oidc.client_id is empty".into());
        }
        for role in self.role_map.values() {
            if !["supervisor", "dpo"].contains(&role.as_str()) {
                return Err(format!("oidc.role_map names an unknown role {role:?}"));
            }
        }
        if self.clock_skew_s > 300 {
            return Err("oidc.clock_skew_s is at most 300".into());
        }
        Ok(())
    }

    /// The redirect URI of the console's sign-in.
    pub fn console_redirect(&self) -> String {
        format!(
            "{}/auth/console/callback",
            self.public_url.trim_end_matches('/')
        )
    }
}

/// `[identification]`: patients identify strongly inside a chat (see `oidc::patient`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IdentificationConfig {
    /// The strong-identification provider's issuer URL.
    pub issuer: String,
    /// This server's client id there.
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Where browsers reach this server: the redirect URI is
    /// `{public_url}/auth/client/callback`.
    pub public_url: String,
    /// The levels of assurance the provider uses, lowest first.
    #[serde(default = "default_levels")]
    pub acr_levels: Vec<String>,
    /// The lowest level accepted (one of `acr_levels`).
    #[serde(default = "default_min")]
    pub min_acr: String,
    /// The claim carrying the personal identity code (`hetu`).
    #[serde(default = "default_hetu_claim")]
    pub hetu_claim: String,
    /// The claim carrying the name (`name`).
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    #[serde(default = "default_skew")]
    pub clock_skew_s: u64,
}

fn default_levels() -> Vec<String> {
    vec![
        "http://ftn.ficora.fi/2017/loa2".into(),
        "http://ftn.ficora.fi/2017/loa3".into(),
    ]
}
fn default_min() -> String {
    "http://ftn.ficora.fi/2017/loa2".into()
}
fn default_hetu_claim() -> String {
    "hetu".into()
}

impl IdentificationConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.as_oidc()
            .validate()
            .map_err(|e| e.replace("oidc.", "identification."))?;
        if !self.acr_levels.contains(&self.min_acr) {
            return Err("identification.min_acr is not one of identification.acr_levels".into());
        }
        Ok(())
    }

    /// The provider as the OpenID Connect module takes it.
    pub fn as_oidc(&self) -> OidcConfig {
        OidcConfig {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            public_url: self.public_url.clone(),
            scopes: vec!["profile".into()],
            groups_claim: "groups".into(),
            team_prefix: "team:".into(),
            roles_claim: "roles".into(),
            role_map: Default::default(),
            name_claim: self.name_claim.clone(),
            clock_skew_s: self.clock_skew_s,
            console_token_ttl_s: 3600,
            session_ttl_s: 3600,
        }
    }

    pub(super) fn redirect(&self) -> String {
        format!(
            "{}/auth/client/callback",
            self.public_url.trim_end_matches('/')
        )
    }

    /// The rank of `acr` among the levels (none: unknown, below all).
    pub fn rank(&self, acr: Option<&str>) -> Option<usize> {
        acr.and_then(|a| self.acr_levels.iter().position(|l| l == a))
    }
}
