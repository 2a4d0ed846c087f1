//! Secrets that must be read back (webhook signing secrets, payout details) are sealed with
//! XChaCha20-Poly1305 under the server's key before they are stored. The key comes from
//! `BACKLINE_SECRET_KEY` (32 bytes, base64), or else from `<BACKLINE_DATA_DIR>/secret.key`, created on
//! first start (mode 0600). Losing the key loses what it sealed: back it up with the database.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

const VERSION: &str = "v1:";

pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// The key that signs what the server hands out and reads back (expiring links), derived from the
    /// sealing key so that one secret serves both.
    signing: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("BACKLINE_SECRET_KEY must be 32 bytes in base64")]
    BadKey,
    #[error("a sealed value is damaged or was sealed with another key")]
    CannotOpen,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> Self {
        use sha2::Digest as _;
        let signing: [u8; 32] =
            sha2::Sha256::new().chain_update(b"backline signing v1").chain_update(key).finalize().into();
        Self { cipher: XChaCha20Poly1305::new(Key::from_slice(key)), signing }
    }

    /// A box with a fresh random key (tests, and nothing that must survive a restart).
    pub fn ephemeral() -> Self {
        Self::from_key(&random_bytes::<32>())
    }

    /// An HMAC-SHA256 signature of `message` (unpadded base64url), for a value the server hands out
    /// and checks when it comes back (an expiring link).
    pub fn sign(&self, message: &[u8]) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use hmac::Mac as _;
        let mut mac = self.mac();
        mac.update(message);
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is [`SecretBox::sign`]'s for `message` (compared in constant time).
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use hmac::Mac as _;
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature) else { return false };
        let mut mac = self.mac();
        mac.update(message);
        mac.verify_slice(&bytes).is_ok()
    }

    fn mac(&self) -> hmac::Hmac<sha2::Sha256> {
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&self.signing).expect("HMAC takes a key of any length")
    }

    /// The configured key, or the data directory's (created on first use).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, CryptoError> {
        if let Some(text) = configured {
            let bytes = STANDARD.decode(text.trim()).map_err(|_| CryptoError::BadKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
            return Ok(Self::from_key(&key));
        }
        let path = data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Self::load(Some(&text), data_dir);
        }
        std::fs::create_dir_all(data_dir)?;
        let key = random_bytes::<32>();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&path)?, STANDARD.encode(key).as_bytes())?;
        tracing::warn!(path = %path.display(), "created a new secret key: back it up, or set BACKLINE_SECRET_KEY");
        Ok(Self::from_key(&key))
    }

    /// Seals `plaintext` as `v1:<base64 of nonce and ciphertext>`.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(bytes))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let encoded = sealed.strip_prefix(VERSION).ok_or(CryptoError::CannotOpen)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| CryptoError::CannotOpen)?;
        if bytes.len() < 24 {
            return Err(CryptoError::CannotOpen);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        self.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| CryptoError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let a = SecretBox::from_key(&[7; 32]);
        let signature = a.sign(b"file.1.1700000000");
        assert!(a.verify(b"file.1.1700000000", &signature));
        assert!(!a.verify(b"file.2.1700000000", &signature));
        assert!(!a.verify(b"file.1.1700000000", "not base64!"));
        assert!(!SecretBox::from_key(&[8; 32]).verify(b"file.1.1700000000", &signature));
        // The same key signs the same way after a restart.
        assert_eq!(SecretBox::from_key(&[7; 32]).sign(b"x"), a.sign(b"x"));
    }

    #[test]
    fn sealing_round_trips_and_detects_tampering_and_wrong_keys() {
        let sealed_box = SecretBox::ephemeral();
        let sealed = sealed_box.seal(b"whsec_123");
        assert!(!sealed.contains("whsec"));
        assert_ne!(sealed, sealed_box.seal(b"whsec_123"), "a fresh nonce every time");
        assert_eq!(sealed_box.open(&sealed).unwrap(), b"whsec_123");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealed_box.open(&String::from_utf8(tampered).unwrap()).is_err());
        assert!(SecretBox::ephemeral().open(&sealed).is_err());
    }

    #[test]
    fn the_data_directory_key_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = SecretBox::load(None, dir.path()).unwrap();
        let sealed = first.seal(b"x");
        let again = SecretBox::load(None, dir.path()).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), b"x");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(SecretBox::load(Some("c2hvcnQ="), dir.path()), Err(CryptoError::BadKey)));
    }
}
