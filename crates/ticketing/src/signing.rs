//! Ticket codes and their signed QR payloads.
//!
//! A code is 24 characters of RFC 4648 base32 (120 random bits). The QR payload is
//! `BL1.<event id, 32 hex digits>.<code>.<signature>`, where the signature is Ed25519 over the bytes
//! `BL1.<event id>.<code>` with the event's key, in unpadded base64url. A door scanner holding the event's
//! public key (`GET /v1/events/{id}/checkin-key`) verifies a payload offline; the server checks the same
//! signature when a payload is scanned.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use uuid::Uuid;

pub const PREFIX: &str = "BL1";
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh ticket code.
pub fn new_code() -> String {
    let bytes: [u8; 15] = platform::crypto::random_bytes();
    let mut code = String::with_capacity(24);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            code.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    code
}

/// Whether `text` has the shape of a code (what a person might type at the door).
pub fn is_code(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| ALPHABET.contains(&b))
}

/// A new event key: the private half (to seal) and the public half.
pub fn new_key() -> ([u8; 32], [u8; 32]) {
    let secret: [u8; 32] = platform::crypto::random_bytes();
    let public = SigningKey::from_bytes(&secret).verifying_key().to_bytes();
    (secret, public)
}

fn message(event: Uuid, code: &str) -> String {
    format!("{PREFIX}.{}.{code}", event.simple())
}

/// The QR payload of `code` at `event`, signed with the event's private key.
pub fn payload(secret: &[u8; 32], event: Uuid, code: &str) -> String {
    let message = message(event, code);
    let signature = SigningKey::from_bytes(secret).sign(message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("not a Backline ticket payload")]
    Malformed,
    #[error("the signature does not match the event's key")]
    BadSignature,
}

/// Reads a payload: its event and code, without checking the signature.
pub fn parse(payload: &str) -> Result<(Uuid, &str, &str), PayloadError> {
    let mut parts = payload.trim().split('.');
    let (Some(PREFIX), Some(event), Some(code), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PayloadError::Malformed);
    };
    let event = Uuid::try_parse(event).map_err(|_| PayloadError::Malformed)?;
    if !is_code(code) {
        return Err(PayloadError::Malformed);
    }
    Ok((event, code, signature))
}

/// Verifies a payload with the event's public key; answers its event and code.
pub fn verify(public: &[u8; 32], payload: &str) -> Result<(Uuid, String), PayloadError> {
    let (event, code, signature) = parse(payload)?;
    let key = VerifyingKey::from_bytes(public).map_err(|_| PayloadError::BadSignature)?;
    let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|_| PayloadError::Malformed)?;
    let signature = Signature::from_slice(&bytes).map_err(|_| PayloadError::Malformed)?;
    key.verify(message(event, code).as_bytes(), &signature).map_err(|_| PayloadError::BadSignature)?;
    Ok((event, code.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_24_base32_characters_and_differ() {
        let a = new_code();
        assert!(is_code(&a), "{a}");
        assert_ne!(a, new_code());
        assert!(!is_code("abc"));
        assert!(!is_code(&"1".repeat(24)));
    }

    #[test]
    fn payloads_verify_with_an_independent_ed25519_implementation() {
        let (secret, public) = new_key();
        let event = Uuid::now_v7();
        let code = new_code();
        let qr = payload(&secret, event, &code);
        assert_eq!(verify(&public, &qr), Ok((event, code.clone())));

        // ed25519-compact shares no code with ed25519-dalek.
        let (message, signature) = qr.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let key = ed25519_compact::PublicKey::from_slice(&public).unwrap();
        key.verify(message, &ed25519_compact::Signature::from_slice(&signature).unwrap()).unwrap();
    }

    #[test]
    fn altered_or_foreign_payloads_are_refused() {
        let (secret, public) = new_key();
        let (_, other_public) = new_key();
        let event = Uuid::now_v7();
        let code = new_code();
        let qr = payload(&secret, event, &code);
        assert_eq!(verify(&other_public, &qr), Err(PayloadError::BadSignature));
        let other_code = new_code();
        assert_eq!(verify(&public, &qr.replace(&code, &other_code)), Err(PayloadError::BadSignature));
        let other_event = Uuid::now_v7();
        assert_eq!(
            verify(&public, &qr.replace(&event.simple().to_string(), &other_event.simple().to_string())),
            Err(PayloadError::BadSignature)
        );
        assert_eq!(verify(&public, "BL1.x.y.z"), Err(PayloadError::Malformed));
        assert_eq!(verify(&public, &format!("{qr}.extra")), Err(PayloadError::Malformed));
    }
}
