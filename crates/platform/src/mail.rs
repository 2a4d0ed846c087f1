//! Outgoing mail. A message is written to the `mail_outbox` table in the transaction of the change that
//! causes it, so a rolled-back change sends nothing and a committed one always gets its message. A
//! deliverer then hands each pending message to the transport: with no SMTP server configured, the file
//! transport writes it as an RFC 5322 `.eml` file under `<BACKLINE_DATA_DIR>/mail/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The sender address on every message.
pub const FROM: &str = "Backline <no-reply@backline.invalid>";

#[derive(Debug, Clone)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body_text: String,
}

/// Queues a message in the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, message: &Message, now: DateTime<Utc>) -> sqlx::Result<Uuid> {
    let id = crate::ids::new_id();
    sqlx::query("INSERT INTO mail_outbox (id, to_address, subject, body_text, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(&message.to)
        .bind(&message.subject)
        .bind(&message.body_text)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(id)
}

/// Writes each message as `<dir>/<id>.eml`.
#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn deliver(&self, id: Uuid, message: &Message, created_at: DateTime<Utc>) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{id}.eml"));
        // Written to a temporary name and renamed, so a reader never sees half a message.
        let partial = self.dir.join(format!(".{id}.eml.partial"));
        std::fs::write(&partial, render_eml(id, message, created_at))?;
        std::fs::rename(&partial, &path)?;
        Ok(path)
    }
}

/// Renders an RFC 5322 message with a UTF-8 text body.
pub fn render_eml(id: Uuid, message: &Message, created_at: DateTime<Utc>) -> String {
    let subject = if message.subject.is_ascii() {
        message.subject.clone()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, message.subject.as_bytes())
        )
    };
    let body = message.body_text.replace("\r\n", "\n").replace('\n', "\r\n");
    format!(
        "From: {FROM}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{id}@backline.invalid>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        message.to.replace(['\r', '\n'], ""),
        created_at.to_rfc2822(),
    )
}

/// Delivers up to `batch` pending messages; returns how many were delivered. Several deliverers may run
/// at once: each message is claimed with `FOR UPDATE SKIP LOCKED`.
pub async fn deliver_pending(pool: &PgPool, transport: &FileTransport, batch: i64) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows: Vec<(Uuid, String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, to_address, subject, body_text, created_at FROM mail_outbox
         WHERE delivered_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    let mut delivered = 0;
    for (id, to, subject, body_text, created_at) in rows {
        let message = Message { to, subject, body_text };
        match transport.deliver(id, &message, created_at) {
            Ok(_) => {
                sqlx::query("UPDATE mail_outbox SET delivered_at = now(), attempts = attempts + 1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                delivered += 1;
            }
            Err(err) => {
                tracing::warn!(%id, error = %err, "mail delivery failed; it will be retried");
                sqlx::query("UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                    .bind(id)
                    .bind(err.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(delivered)
}

/// Delivers pending mail every `every` until `stop` resolves.
pub async fn run_deliverer(
    pool: PgPool,
    transport: FileTransport,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        match deliver_pending(&pool, &transport, 100).await {
            Ok(n) if n > 0 => tracing::debug!(delivered = n, dir = %transport.dir().display(), "mail delivered"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "mail delivery round failed"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_has_crlf_headers_and_encodes_non_ascii_subjects() {
        let message =
            Message { to: "a@example.com".into(), subject: "Grüße".into(), body_text: "line 1\nline 2".into() };
        let eml = render_eml(Uuid::nil(), &message, DateTime::from_timestamp(0, 0).unwrap());
        assert!(eml.starts_with("From: Backline"));
        assert!(eml.contains("To: a@example.com\r\n"));
        assert!(eml.contains("Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"), "{eml}");
        assert!(eml.contains("\r\n\r\nline 1\r\nline 2\r\n"));
    }
}
