//! Password hashing with Argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP baseline). Hashing runs on
//! threads of its own, at lowered priority, one per two cores (at least one): a flood of logins queues
//! here, and the scheduler always prefers the threads that answer every other request. Verifying a login for an unknown account still runs one full
//! verification against a dummy hash, so that timing does not reveal which accounts exist.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads and the queue that feeds them.
static POOL: LazyLock<std::sync::mpsc::Sender<Job>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    for i in 0..(cores / 2).max(1) {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new().name(format!("password-hash-{i}")).spawn(move || {
            platform::threads::lower_current_thread_priority();
            loop {
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            }
        });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start a password hashing thread");
        }
    }
    tx
});

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_blocking("dummy password for timing equality"));

fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).expect("hashing cannot fail with valid parameters").to_string()
}

fn verify_blocking(password: &str, stored: Option<&str>) -> bool {
    let (stored, real) = match stored {
        Some(hash) => (hash, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    argon2().verify_password(password.as_bytes(), &parsed).is_ok() && real
}

/// Runs `work` on the hashing threads and waits for its result without blocking the runtime.
async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    POOL.send(Box::new(move || {
        let _ = tx.send(work());
    }))
    .map_err(|_| anyhow::anyhow!("the password hashing threads have stopped"))?;
    Ok(rx.await?)
}

/// Hashes a new password.
pub async fn hash(password: String) -> anyhow::Result<String> {
    bounded(move || hash_blocking(&password)).await
}

/// Checks a password against a stored hash; with no hash (unknown account), costs the same and fails.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    bounded(move || verify_blocking(&password, stored.as_deref())).await
}

/// Computes the dummy hash ahead of the first login.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_record_their_parameters() {
        let hashed = hash("correct horse battery".into()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hashed}");
        assert!(verify("correct horse battery".into(), Some(hashed.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(hashed)).await.unwrap());
        assert!(!verify("dummy password for timing equality".into(), None).await.unwrap());
    }
}
