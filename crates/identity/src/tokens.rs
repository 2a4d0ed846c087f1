//! Opaque secrets: access tokens, refresh tokens, API keys and single-use email tokens. Each is 256
//! random bits, base64url-encoded behind a prefix that says what it is; only its SHA-256 is stored. A
//! slow hash is not needed for secrets with this much entropy.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Access,
    Refresh,
    ApiKey,
    Email,
}

impl Kind {
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Access => "bla_",
            Self::Refresh => "blr_",
            Self::ApiKey => "bk_",
            Self::Email => "ble_",
        }
    }
}

/// A new secret and the hash to store.
pub fn generate(kind: Kind) -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

/// The stored form of a presented secret.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_behind_their_prefix() {
        let (token, stored) = generate(Kind::ApiKey);
        assert!(token.starts_with("bk_"));
        assert_eq!(token.len(), 3 + 43);
        assert_eq!(stored, hash(&token));
        assert_eq!(stored.len(), 32);
        assert_ne!(generate(Kind::ApiKey).0, token);
    }
}
