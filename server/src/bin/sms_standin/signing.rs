//! Webhook signatures as Telnyx makes them: Ed25519 over `"{timestamp}|{raw body}"`, sent
//! base64-encoded in `telnyx-signature-ed25519` beside `telnyx-timestamp` (Unix seconds).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

/// The seed used without `--seed`, so that local demos always see the same public key. It is
/// public (it is in this file and in docs/sms-standin.md): a test key, never a secret.
pub const DEFAULT_SEED: &[u8; 32] = b"luukku sms stand-in test seed 01";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("--seed is not base64")]
    NotBase64,
    #[error("--seed must decode to 32 bytes, not {0}")]
    WrongLength(usize),
    #[error("ring rejected the seed: {0}")]
    Rejected(String),
}

/// Signs webhook bodies with one Ed25519 key.
pub struct Signer {
    key: Ed25519KeyPair,
}

impl Signer {
    pub fn from_seed(seed: &[u8; 32]) -> Result<Signer, SeedError> {
        let key = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| SeedError::Rejected(e.to_string()))?;
        Ok(Signer { key })
    }

    /// The 32-byte public key, base64-encoded as Telnyx's portal shows it.
    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.key.public_key().as_ref())
    }

    /// The `telnyx-signature-ed25519` header value for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        BASE64.encode(self.key.sign(&signed_message(timestamp, body)).as_ref())
    }
}

/// What is signed: the timestamp, a `|`, then the body exactly as sent.
fn signed_message(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}|").into_bytes();
    message.extend_from_slice(body);
    message
}

/// Decodes `--seed` (standard base64 of 32 bytes).
pub fn parse_seed(text: &str) -> Result<[u8; 32], SeedError> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|_| SeedError::NotBase64)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| SeedError::WrongLength(bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ED25519};

    fn verify(public_key_b64: &str, ts: &str, body: &str, signature_b64: &str) -> bool {
        let pk = BASE64.decode(public_key_b64).expect("public key is base64");
        let signature = BASE64.decode(signature_b64).expect("signature is base64");
        UnparsedPublicKey::new(&ED25519, pk)
            .verify(format!("{ts}|{body}").as_bytes(), &signature)
            .is_ok()
    }

    #[test]
    fn a_signature_verifies_over_timestamp_bar_body_as_telnyx_sdks_check_it() {
        let signer = Signer::from_seed(DEFAULT_SEED).expect("seed");
        let body = r#"{"data":{"event_type":"message.sent"},"meta":{"attempt":1}}"#;
        let signature = signer.sign(1_700_000_000, body.as_bytes());
        let pk = signer.public_key_base64();
        assert_eq!(BASE64.decode(&pk).expect("base64").len(), 32);
        assert_eq!(BASE64.decode(&signature).expect("base64").len(), 64);
        assert!(verify(&pk, "1700000000", body, &signature));
        // Another timestamp, another body or another key: the signature no longer holds.
        assert!(!verify(&pk, "1700000001", body, &signature));
        assert!(!verify(
            &pk,
            "1700000000",
            &body.replace("sent", "finalized"),
            &signature
        ));
        let other = Signer::from_seed(&[7; 32]).expect("seed");
        assert!(!verify(
            &other.public_key_base64(),
            "1700000000",
            body,
            &signature
        ));
    }

    #[test]
    fn the_default_seed_gives_a_stable_public_key() {
        let a = Signer::from_seed(DEFAULT_SEED).expect("seed");
        let b = Signer::from_seed(&parse_seed(&BASE64.encode(DEFAULT_SEED)).expect("seed"))
            .expect("seed");
        assert_eq!(a.public_key_base64(), b.public_key_base64());
        assert_eq!(a.public_key_base64(), DEFAULT_PUBLIC_KEY);
    }

    /// The public key of `DEFAULT_SEED`, as docs/sms-standin.md quotes it.
    const DEFAULT_PUBLIC_KEY: &str = "k0X5bi0Ip2D/jJvLaEwX0XjkTEDKTr1xaaSBii7po5Q=";

    #[test]
    fn a_seed_must_be_base64_of_32_bytes() {
        assert!(matches!(
            parse_seed("not base64!"),
            Err(SeedError::NotBase64)
        ));
        assert!(matches!(
            parse_seed(&BASE64.encode([1u8; 31])),
            Err(SeedError::WrongLength(31))
        ));
        assert_eq!(
            parse_seed(&BASE64.encode([1u8; 32])).expect("seed"),
            [1u8; 32]
        );
    }
}
