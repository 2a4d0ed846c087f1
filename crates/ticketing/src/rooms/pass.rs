//! The pass a waiting room gives an admitted buyer: `BLP1.<event>.<account>.<expiry>.<signature>`, the
//! event and account ids as 32 hex digits, the end of the purchase window in Unix seconds, and an Ed25519
//! signature (unpadded base64url) over everything before it, made with the event's key (the one that
//! signs its tickets; its public half is `GET /v1/events/{id}/checkin-key`). A pass is bound to one
//! account and one event; the room's record of it says whether it bought its order already.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use uuid::Uuid;

pub const PREFIX: &str = "BLP1";

/// What a verified pass says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub event: Uuid,
    pub account: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("not a waiting-room pass")]
    Malformed,
    #[error("the signature does not match the event's key")]
    BadSignature,
}

fn message(pass: &Pass) -> String {
    format!("{PREFIX}.{}.{}.{}", pass.event.simple(), pass.account.simple(), pass.expires_at.timestamp())
}

/// The pass, signed with the event's private key.
pub fn sign(secret: &[u8; 32], pass: &Pass) -> String {
    let message = message(pass);
    let signature = SigningKey::from_bytes(secret).sign(message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// Reads a pass and checks its signature with the event's public key. Whether it is this caller's, for
/// this event and still within its window is the caller's to check.
pub fn verify(public: &[u8; 32], text: &str) -> Result<Pass, PassError> {
    let (signed, signature) = text.trim().rsplit_once('.').ok_or(PassError::Malformed)?;
    let mut parts = signed.split('.');
    let (Some(PREFIX), Some(event), Some(account), Some(expires), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PassError::Malformed);
    };
    let event = Uuid::try_parse(event).map_err(|_| PassError::Malformed)?;
    let account = Uuid::try_parse(account).map_err(|_| PassError::Malformed)?;
    let expires_at =
        expires.parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or(PassError::Malformed)?;
    let pass = Pass { event, account, expires_at };
    // Only the canonical spelling verifies (no leading zeros, no upper-case hex).
    if message(&pass) != signed {
        return Err(PassError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|_| PassError::Malformed)?;
    let signature = Signature::from_slice(&bytes).map_err(|_| PassError::Malformed)?;
    let key = VerifyingKey::from_bytes(public).map_err(|_| PassError::BadSignature)?;
    key.verify(signed.as_bytes(), &signature).map_err(|_| PassError::BadSignature)?;
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> Pass {
        Pass {
            event: Uuid::now_v7(),
            account: Uuid::now_v7(),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_pass_verifies_with_the_event_key_and_an_independent_implementation() {
        let (secret, public) = crate::signing::new_key();
        let p = pass();
        let text = sign(&secret, &p);
        assert_eq!(verify(&public, &text), Ok(p));
        // ed25519-compact shares no code with ed25519-dalek.
        let (message, signature) = text.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let key = ed25519_compact::PublicKey::from_slice(&public).unwrap();
        key.verify(message, &ed25519_compact::Signature::from_slice(&signature).unwrap()).unwrap();
    }

    #[test]
    fn altered_or_foreign_passes_are_refused() {
        let (secret, public) = crate::signing::new_key();
        let (_, other) = crate::signing::new_key();
        let p = pass();
        let text = sign(&secret, &p);
        assert_eq!(verify(&other, &text), Err(PassError::BadSignature));
        // Another account, a later expiry, another event: the signature no longer matches.
        let someone = Uuid::now_v7().simple().to_string();
        assert_eq!(
            verify(&public, &text.replace(&p.account.simple().to_string(), &someone)),
            Err(PassError::BadSignature)
        );
        assert_eq!(verify(&public, &text.replace("1800000000", "1900000000")), Err(PassError::BadSignature));
        let event = Uuid::now_v7().simple().to_string();
        assert_eq!(verify(&public, &text.replace(&p.event.simple().to_string(), &event)), Err(PassError::BadSignature));
        // Not a pass at all, or spelled otherwise than it was signed.
        assert_eq!(verify(&public, "BLP1.x.y.z.s"), Err(PassError::Malformed));
        assert_eq!(verify(&public, &format!("{text}.extra")), Err(PassError::Malformed));
        assert_eq!(verify(&public, &text.replacen("BLP1", "BL1", 1)), Err(PassError::Malformed));
        assert_eq!(verify(&public, &text.replace("1800000000", "01800000000")), Err(PassError::Malformed));
        assert_eq!(verify(&public, ""), Err(PassError::Malformed));
    }
}
