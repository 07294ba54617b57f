//! Authentication: professionals' and identified clients' JWTs (HS256: signature, expiry,
//! audience), demo token minting, and resume tokens (an HMAC of the conversation id under the
//! server key, so a retried `start` can return the same token without storing it).

use crate::config::Config;
use console_protocol::{ConversationId, ResumeToken};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Default audience of professionals' tokens.
pub const CONSOLE_AUDIENCE: &str = "luukku-console";
/// Default audience of clients' tokens.
pub const CLIENT_AUDIENCE: &str = "luukku-client";

/// A token that was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("unknown professional")]
    UnknownProfessional,
    #[error("cannot read or create the server key: {0}")]
    Key(std::io::Error),
}

/// The claims Luukku reads from a JWT.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub aud: String,
    pub exp: u64,
    /// A professional signed in through the identity provider, not listed in the
    /// configuration: their teams and roles as the provider's claims gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// An identified client's level of assurance (the identification provider's `acr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// Verifies and (in demo mode) mints tokens.
pub struct Auth {
    console_enc: EncodingKey,
    console_dec: DecodingKey,
    console_validation: Validation,
    client_enc: EncodingKey,
    client_dec: DecodingKey,
    client_validation: Validation,
    resume_key: hmac::Key,
    /// Seals the sign-in's cookies (`seal`, `open`).
    cookie_key: ring::aead::LessSafeKey,
}

fn validation(audience: &str) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "aud", "sub"]);
    v.leeway = 5;
    v
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a document ticket signs: its purpose, the conversation and the reference.
fn ticket_message(conversation: &ConversationId, json: &str) -> Vec<u8> {
    [
        b"attachment\0",
        conversation.as_str().as_bytes(),
        b"\0",
        json.as_bytes(),
    ]
    .concat()
}

/// A new random server key (32 bytes, hex): the data dir's, or a cluster's shared one.
/// A 32-byte HMAC-SHA256 tag is always a valid ChaCha20 key; this is never reached.
fn unreachable_key() -> ring::aead::LessSafeKey {
    let zero = [0u8; 32];
    #[allow(clippy::unwrap_used)]
    ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &zero).unwrap(),
    )
}

/// The professional a verified console token names: the one the configuration lists under
/// its `sub`, else — a token a sign-in through the identity provider minted — one made of
/// the token's name, teams (those the organisation has) and roles (those Luukku knows).
pub fn professional_of(
    org: &crate::organisation::Organisation,
    claims: &Claims,
) -> Option<crate::organisation::Professional> {
    if let Some(p) = org.professional(&claims.sub.clone().into()) {
        return Some(p.clone());
    }
    let teams = claims.teams.as_ref()?;
    let roles = claims
        .roles
        .iter()
        .flatten()
        .filter_map(|r| crate::organisation::ProfessionalRole::parse(r))
        .collect();
    Some(crate::organisation::Professional {
        id: claims.sub.clone().into(),
        name: claims.name.clone().unwrap_or_else(|| claims.sub.clone()),
        teams: teams
            .iter()
            .filter(|t| org.team(&t.as_str().into()).is_some())
            .map(|t| t.as_str().into())
            .collect(),
        capacity: crate::organisation::DEFAULT_CAPACITY,
        roles,
    })
}

/// Whether two secrets are equal, compared in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn new_server_key() -> String {
    let key: [u8; 32] = rand::random();
    hex(&key)
}

/// Reads the server key from `dir/server.key`, creating it (32 random bytes, hex) if missing.
pub fn load_or_create_server_key(dir: &Path) -> Result<Vec<u8>, AuthError> {
    let path = dir.join("server.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text.trim().as_bytes().to_vec());
    }
    std::fs::create_dir_all(dir).map_err(AuthError::Key)?;
    let text = new_server_key();
    std::fs::write(&path, &text).map_err(AuthError::Key)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(text.into_bytes())
}

impl Auth {
    /// Builds the verifier from the configuration and the server key.
    pub fn new(config: &Config, server_key: &[u8]) -> Self {
        let derive = |label: &[u8]| {
            hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, server_key), label).as_ref())
        };
        let console_secret = config
            .auth
            .jwt_secret
            .clone()
            .unwrap_or_else(|| derive(b"jwt"));
        let client_secret = config
            .auth
            .client_jwt_secret
            .clone()
            .unwrap_or_else(|| console_secret.clone());
        let console_aud = config
            .auth
            .console_audience
            .as_deref()
            .unwrap_or(CONSOLE_AUDIENCE);
        let client_aud = config
            .auth
            .client_audience
            .as_deref()
            .unwrap_or(CLIENT_AUDIENCE);
        Auth {
            console_enc: EncodingKey::from_secret(console_secret.as_bytes()),
            console_dec: DecodingKey::from_secret(console_secret.as_bytes()),
            console_validation: validation(console_aud),
            client_enc: EncodingKey::from_secret(client_secret.as_bytes()),
            client_dec: DecodingKey::from_secret(client_secret.as_bytes()),
            client_validation: validation(client_aud),
            resume_key: hmac::Key::new(
                hmac::HMAC_SHA256,
                hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, server_key), b"resume").as_ref(),
            ),
            cookie_key: {
                let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, server_key), b"cookie");
                // A 32-byte key is what CHACHA20_POLY1305 takes; an HMAC-SHA256 tag is one.
                let unbound =
                    ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, tag.as_ref());
                match unbound {
                    Ok(k) => ring::aead::LessSafeKey::new(k),
                    Err(_) => unreachable_key(),
                }
            },
        }
    }

    /// Verifies a professional's token.
    pub fn verify_professional(&self, token: &str) -> Result<Claims, AuthError> {
        Ok(decode::<Claims>(token, &self.console_dec, &self.console_validation)?.claims)
    }

    /// Verifies an identified client's token.
    pub fn verify_client(&self, token: &str) -> Result<Claims, AuthError> {
        Ok(decode::<Claims>(token, &self.client_dec, &self.client_validation)?.claims)
    }

    /// Mints a professional's token valid for `ttl_s` seconds (demo mode and tests).
    pub fn mint_professional(&self, id: &str, ttl_s: u64) -> String {
        let aud = self
            .console_validation
            .aud
            .as_ref()
            .and_then(|a| a.iter().next().cloned());
        self.mint(&self.console_enc, id, None, aud.unwrap_or_default(), ttl_s)
    }

    /// Mints the console token of a professional signed in through the identity provider,
    /// carrying the name, teams and roles its claims gave.
    pub fn mint_signed_in(
        &self,
        id: &str,
        name: &str,
        teams: Vec<String>,
        roles: Vec<String>,
        ttl_s: u64,
    ) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let aud = self
            .console_validation
            .aud
            .as_ref()
            .and_then(|a| a.iter().next().cloned())
            .unwrap_or_default();
        let claims = Claims {
            sub: id.to_owned(),
            name: Some(name.to_owned()),
            aud,
            exp: now + ttl_s,
            teams: Some(teams),
            roles: Some(roles),
            acr: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.console_enc).unwrap_or_default()
    }

    /// Seals `plain` for a cookie (ChaCha20-Poly1305 under a key derived from the server key,
    /// a fresh nonce each time, `purpose` bound as associated data): the browser can neither
    /// read nor change it.
    pub fn seal(&self, purpose: &str, plain: &str) -> String {
        use base64::Engine;
        let nonce_bytes: [u8; 12] = rand::random();
        let mut data = plain.as_bytes().to_vec();
        let sealed = self.cookie_key.seal_in_place_append_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce_bytes),
            ring::aead::Aad::from(purpose.as_bytes()),
            &mut data,
        );
        if sealed.is_err() {
            return String::new();
        }
        let mut out = nonce_bytes.to_vec();
        out.extend(data);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    /// What [`Auth::seal`] sealed for `purpose`, if `sealed` is intact.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, rest) = bytes.split_at(12);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = rest.to_vec();
        let plain = self
            .cookie_key
            .open_in_place(nonce, ring::aead::Aad::from(purpose.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Mints an identified client's token (demo identification and tests).
    pub fn mint_client(&self, sub: &str, name: &str, ttl_s: u64) -> String {
        self.mint_client_at(sub, name, ttl_s, None)
    }

    /// [`Auth::mint_client`] for a client identified at level of assurance `acr`.
    pub fn mint_client_at(&self, sub: &str, name: &str, ttl_s: u64, acr: Option<&str>) -> String {
        let aud = self
            .client_validation
            .aud
            .as_ref()
            .and_then(|a| a.iter().next().cloned());
        let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let claims = Claims {
            sub: sub.to_owned(),
            name: Some(name.to_owned()),
            aud: aud.unwrap_or_default(),
            exp: now + ttl_s,
            teams: None,
            roles: None,
            acr: acr.map(str::to_owned),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.client_enc).unwrap_or_default()
    }

    fn mint(
        &self,
        key: &EncodingKey,
        sub: &str,
        name: Option<String>,
        aud: String,
        ttl_s: u64,
    ) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let claims = Claims {
            sub: sub.to_owned(),
            name,
            aud,
            exp: now + ttl_s,
            teams: None,
            roles: None,
            acr: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, key).unwrap_or_default()
    }

    /// The resume token of a conversation.
    pub fn resume_token(&self, conversation: &ConversationId) -> ResumeToken {
        ResumeToken(hex(hmac::sign(
            &self.resume_key,
            conversation.as_str().as_bytes(),
        )
        .as_ref()))
    }

    /// The ticket of a document uploaded to `conversation`: its reference, signed under the
    /// server key, so that only the upload endpoint (which checked and stored the document)
    /// can attach a document to a message, and only in that conversation.
    pub fn attachment_ticket(
        &self,
        conversation: &ConversationId,
        attachment: &console_protocol::AttachmentRef,
    ) -> String {
        let json = serde_json::to_string(attachment).unwrap_or_default();
        let tag = hmac::sign(&self.resume_key, &ticket_message(conversation, &json));
        format!("{}.{}", hex(json.as_bytes()), hex(tag.as_ref()))
    }

    /// The document a ticket names, when the server made it for `conversation`.
    pub fn check_attachment_ticket(
        &self,
        conversation: &ConversationId,
        ticket: &str,
    ) -> Option<console_protocol::AttachmentRef> {
        let (json, tag) = ticket.split_once('.')?;
        let json = String::from_utf8(unhex(json)?).ok()?;
        hmac::verify(
            &self.resume_key,
            &ticket_message(conversation, &json),
            &unhex(tag)?,
        )
        .ok()?;
        serde_json::from_str(&json).ok()
    }

    /// Whether `token` is the resume token of `conversation` (constant time).
    pub fn check_resume(&self, conversation: &ConversationId, token: &ResumeToken) -> bool {
        same_secret(&self.resume_token(conversation).0, &token.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(
            &Config::demo("/tmp/unused"),
            b"0123456789abcdef0123456789abcdef",
        )
    }

    #[test]
    fn minted_tokens_verify_and_audiences_do_not_mix() {
        let a = auth();
        let t = a.mint_professional("nurse-1", 60);
        assert_eq!(a.verify_professional(&t).expect("valid").sub, "nurse-1");
        assert!(
            a.verify_client(&t).is_err(),
            "console token must not identify a client"
        );
        let c = a.mint_client("010101-123A", "Maija Meikäläinen", 60);
        assert_eq!(
            a.verify_client(&c).expect("valid").name.as_deref(),
            Some("Maija Meikäläinen")
        );
        assert!(a.verify_professional(&c).is_err());
    }

    #[test]
    fn tampered_and_foreign_tokens_are_refused() {
        let a = auth();
        let t = a.mint_professional("nurse-1", 60);
        let mut bad = t.clone();
        bad.pop();
        bad.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(a.verify_professional(&bad).is_err());
        let other = Auth::new(
            &Config::demo("/tmp/unused"),
            b"another key another key another k",
        );
        assert!(a
            .verify_professional(&other.mint_professional("nurse-1", 60))
            .is_err());
        assert!(a.verify_professional("not a jwt").is_err());
    }

    #[test]
    fn attachment_tickets_hold_only_for_their_conversation() {
        let a = auth();
        let doc = console_protocol::AttachmentRef {
            id: "d1".into(),
            name: "lab.pdf".into(),
            mime: "application/pdf".into(),
            size: 42,
        };
        let (c1, c2) = (ConversationId::from("c1"), ConversationId::from("c2"));
        let ticket = a.attachment_ticket(&c1, &doc);
        assert_eq!(a.check_attachment_ticket(&c1, &ticket), Some(doc.clone()));
        assert_eq!(a.check_attachment_ticket(&c2, &ticket), None);
        // A changed reference (a bigger size, another id) does not verify.
        let forged = a.attachment_ticket(&c1, &doc).replacen("34", "35", 1);
        assert_eq!(a.check_attachment_ticket(&c1, &forged), None);
        for junk in ["", ".", "zz.zz", "abc", "7b7d.00"] {
            assert_eq!(a.check_attachment_ticket(&c1, junk), None, "{junk:?}");
        }
        let other = Auth::new(
            &Config::demo("/tmp/unused"),
            b"another key another key another k",
        );
        assert_eq!(other.check_attachment_ticket(&c1, &ticket), None);
    }

    #[test]
    fn resume_tokens_are_per_conversation() {
        let a = auth();
        let c1 = ConversationId::from("c1");
        let t = a.resume_token(&c1);
        assert!(a.check_resume(&c1, &t));
        assert!(!a.check_resume(&ConversationId::from("c2"), &t));
    }
}
