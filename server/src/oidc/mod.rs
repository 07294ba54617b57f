//! The organisation's OpenID Connect provider as this server uses it (the `openidconnect`
//! crate does the protocol): discovery, the authorization-code request with PKCE, `state` and
//! `nonce`, the code exchange, refresh, and the ID token's checks — signature by the
//! provider's JWKS (RS256 or ES256; a key id not in the set fetches the set again, so a
//! rotated key is picked up), issuer, audience, expiry and issue time within the configured
//! clock skew, nonce. Claims beyond the standard ones (groups, roles, an identity code) are
//! read from the verified token's own payload.

pub mod config;
pub mod login;
pub mod patient;

pub use config::OidcConfig;

use base64::Engine;
use openidconnect::core::{
    CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    TokenResponse,
};
use serde_json::{Map, Value};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The relying party as discovery makes it: an authorization endpoint, maybe a token and a
/// userinfo endpoint.
type Rp = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The JWKS is fetched again for an unknown key id at most this often.
const REDISCOVER_EVERY: Duration = Duration::from_secs(2);

/// Why the provider or its token was refused. The text names the problem, never the token.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached or described itself wrongly: {0}")]
    Discovery(String),
    #[error("the identity provider refused the sign-in: {0}")]
    Exchange(String),
    #[error("the identity provider gave no ID token")]
    NoIdToken,
    #[error("the ID token was refused: {0}")]
    Token(String),
}

/// A request to send the browser to the provider with, and what the callback must match.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A verified sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The provider's subject.
    pub subject: String,
    /// The level of assurance (`acr`), when the token says.
    pub acr: Option<String>,
    /// Every claim of the verified ID token.
    pub claims: Map<String, Value>,
    /// To get a new ID token later without the browser, when the provider gave one.
    pub refresh_token: Option<String>,
    /// The ID token itself, as verified.
    pub id_token: String,
}

impl SignedIn {
    /// A string claim.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A claim listing strings (a single string counts as a list of one).
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.claims.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }
}

/// The provider, discovered.
pub struct Oidc {
    config: OidcConfig,
    http: openidconnect::reqwest::Client,
    provider: tokio::sync::RwLock<(CoreProviderMetadata, Instant)>,
}

impl Oidc {
    /// Discovers the provider (its metadata and signing keys).
    pub async fn discover(config: OidcConfig) -> Result<Oidc, OidcError> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Discovery(e.to_string()))?;
        let provider = fetch(&config, &http).await?;
        Ok(Oidc {
            config,
            http,
            provider: tokio::sync::RwLock::new((provider, Instant::now())),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Fetches the metadata and keys again, unless that was done a moment ago.
    async fn rediscover(&self) -> Result<(), OidcError> {
        let mut provider = self.provider.write().await;
        if provider.1.elapsed() < REDISCOVER_EVERY {
            return Ok(());
        }
        *provider = (fetch(&self.config, &self.http).await?, Instant::now());
        Ok(())
    }

    fn client(&self, provider: &CoreProviderMetadata, redirect: &str) -> Result<Rp, OidcError> {
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| OidcError::Discovery(format!("redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            provider.clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the browser to sign in (code flow, PKCE S256, fresh `state` and
    /// `nonce`); `login_hint` and `acr_values` are passed on when given; `fresh` asks the
    /// provider to authenticate again even when it has a session (`prompt=login`).
    pub async fn authorize(
        &self,
        redirect: &str,
        login_hint: Option<&str>,
        acr_values: Option<&str>,
        fresh: bool,
    ) -> Result<Authorization, OidcError> {
        let provider = self.provider.read().await;
        let client = self.client(&provider.0, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        if let Some(acr) = acr_values {
            request = request.add_extra_param("acr_values", acr.to_owned());
        }
        if fresh {
            request = request.add_prompt(openidconnect::core::CoreAuthPrompt::Login);
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the callback's `code` and verifies the ID token against `nonce`.
    pub async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        redirect: &str,
    ) -> Result<SignedIn, OidcError> {
        let response = {
            let provider = self.provider.read().await;
            let client = self.client(&provider.0, redirect)?;
            client
                .exchange_code(AuthorizationCode::new(code.to_owned()))
                .map_err(|e| OidcError::Exchange(e.to_string()))?
                .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Exchange(describe_request_error(&e)))?
        };
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?.to_string();
        let mut signed = self.verify(&id_token, Some(nonce)).await?;
        signed.refresh_token = response.refresh_token().map(|t| t.secret().clone());
        Ok(signed)
    }

    /// A new ID token through `refresh_token` (no browser); verified without a nonce.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        redirect: &str,
    ) -> Result<SignedIn, OidcError> {
        let response = {
            let provider = self.provider.read().await;
            let client = self.client(&provider.0, redirect)?;
            client
                .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
                .map_err(|e| OidcError::Exchange(e.to_string()))?
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Exchange(describe_request_error(&e)))?
        };
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?.to_string();
        let mut signed = self.verify(&id_token, None).await?;
        signed.refresh_token = response
            .refresh_token()
            .map(|t| t.secret().clone())
            .or_else(|| Some(refresh_token.to_owned()));
        Ok(signed)
    }

    /// Verifies an ID token (and its `nonce`, when one was sent); a key id the known set
    /// lacks fetches the set again once.
    pub async fn verify(&self, raw: &str, nonce: Option<&str>) -> Result<SignedIn, OidcError> {
        match self.verify_once(raw, nonce).await {
            Err(Refusal::UnknownKey) => {
                self.rediscover().await?;
                self.verify_once(raw, nonce)
                    .await
                    .map_err(Refusal::into_error)
            }
            other => other.map_err(Refusal::into_error),
        }
    }

    async fn verify_once(&self, raw: &str, nonce: Option<&str>) -> Result<SignedIn, Refusal> {
        let token =
            CoreIdToken::from_str(raw).map_err(|_| Refusal::Other("not a signed JWT".into()))?;
        let skew = chrono::Duration::seconds(i64::try_from(self.config.clock_skew_s).unwrap_or(60));
        let provider = self.provider.read().await;
        let client = self
            .client(&provider.0, &self.config.console_redirect())
            .map_err(|e| Refusal::Other(e.to_string()))?;
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            ])
            // Expiry with the skew allowed: the token is checked as if it were `skew` earlier.
            .set_time_fn(move || chrono::Utc::now() - skew)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > chrono::Utc::now() + skew {
                    Err("issued in the future".to_owned())
                } else {
                    Ok(())
                }
            });
        let claims = match nonce {
            Some(n) => token.claims(&verifier, &Nonce::new(n.to_owned())),
            None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
        };
        let claims = claims.map_err(|e| match e {
            openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            ) => Refusal::UnknownKey,
            other => Refusal::Other(other.to_string()),
        })?;
        let subject = claims.subject().as_str().to_owned();
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_owned());
        // The signature is verified: the payload's other claims are the provider's.
        let payload = raw
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
            .ok_or_else(|| Refusal::Other("unreadable payload".into()))?;
        Ok(SignedIn {
            subject,
            acr,
            claims: payload,
            refresh_token: None,
            id_token: raw.to_owned(),
        })
    }
}

enum Refusal {
    UnknownKey,
    Other(String),
}

impl Refusal {
    fn into_error(self) -> OidcError {
        match self {
            Refusal::UnknownKey => {
                OidcError::Token("signed with a key the provider does not publish".into())
            }
            Refusal::Other(why) => OidcError::Token(why),
        }
    }
}

async fn fetch(
    config: &OidcConfig,
    http: &openidconnect::reqwest::Client,
) -> Result<CoreProviderMetadata, OidcError> {
    let issuer = IssuerUrl::new(config.issuer.clone())
        .map_err(|e| OidcError::Discovery(format!("issuer URL: {e}")))?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| OidcError::Discovery(e.to_string()))
}

fn describe_request_error<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
