//! Outgoing mail. A message is written to the `mail_outbox` table, with a `mail.deliver` job, in the
//! transaction of the change that causes it, so a rolled-back change sends nothing and a committed one
//! always gets its message. The job hands the message to the transport: SMTP when `BACKLINE_SMTP_URL` is
//! set (`smtps://` for TLS, `smtp://...?tls=required` for STARTTLS, plain `smtp://` for a local relay),
//! otherwise the file transport, which writes each message as an RFC 5322 `.eml` file under
//! `<BACKLINE_DATA_DIR>/mail/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::AppContext;
use crate::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};

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
    /// An HTML alternative (every inserted value already escaped).
    pub body_html: Option<String>,
}

/// The job that delivers one message.
pub const DELIVER: JobKind = JobKind::new("mail.deliver")
    .max_attempts(12)
    .backoff(Duration::from_secs(30), Duration::from_secs(3 * 3600))
    .lease(Duration::from_secs(120));

/// Queues a message, and the job that delivers it, in the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, message: &Message, now: DateTime<Utc>) -> sqlx::Result<Uuid> {
    let id = crate::ids::new_id();
    sqlx::query!(r#"INSERT INTO mail_outbox (id, to_address, subject, body_text, body_html, created_at) VALUES ($1, $2, $3, $4, $5, $6)"#, id, &message.to, &message.subject, &message.body_text, message.body_html.as_deref(), now)
        .execute(&mut *conn)
        .await?;
    jobs::enqueue(
        conn,
        NewJob::new(DELIVER, serde_json::json!({ "message_id": id })).unique(format!("mail:{id}")),
        now,
    )
    .await?;
    Ok(id)
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    File(FileTransport),
    Smtp(Box<SmtpTransport>),
}

impl Transport {
    /// SMTP when a URL is given, else files under `mail_dir`.
    pub fn from_settings(smtp_url: Option<&str>, from: &str, mail_dir: PathBuf) -> Result<Self, String> {
        match smtp_url {
            Some(url) => Ok(Self::Smtp(Box::new(SmtpTransport::new(url, from)?))),
            None => Ok(Self::File(FileTransport::new(mail_dir))),
        }
    }

    async fn send(&self, id: Uuid, message: &Message, created_at: DateTime<Utc>) -> Result<(), String> {
        match self {
            Self::File(files) => files.deliver(id, message, created_at).map(|_| ()).map_err(|e| e.to_string()),
            Self::Smtp(smtp) => smtp.send(id, message).await,
        }
    }
}

/// Sends through an SMTP server.
#[derive(Clone)]
pub struct SmtpTransport {
    mailer: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    /// The whole delivery's bound: the SMTP client's own timeout does not cover every wait (a server
    /// that takes the connection and never greets), so each delivery is cut off after twice the step
    /// timeout whatever the server does.
    deadline: Duration,
}

impl SmtpTransport {
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        Self::with_timeout(url, from, Duration::from_secs(30))
    }

    /// [`SmtpTransport::new`] with how long the server has for each step of a delivery (30 s by default).
    pub fn with_timeout(url: &str, from: &str, timeout: Duration) -> Result<Self, String> {
        let mailer = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("BACKLINE_SMTP_URL is not usable: {e}"))?
            .timeout(Some(timeout))
            .build();
        let from = from.parse().map_err(|e| format!("BACKLINE_MAIL_FROM is not an address: {e}"))?;
        Ok(Self { mailer, from, deadline: timeout * 2 })
    }

    async fn send(&self, id: Uuid, message: &Message) -> Result<(), String> {
        use lettre::AsyncTransport as _;
        let to: lettre::message::Mailbox = message.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .message_id(Some(format!("<{id}@backline.invalid>")));
        let email = match &message.body_html {
            Some(html) => builder
                .multipart(lettre::message::MultiPart::alternative_plain_html(message.body_text.clone(), html.clone())),
            None => builder.header(lettre::message::header::ContentType::TEXT_PLAIN).body(message.body_text.clone()),
        }
        .map_err(|e| e.to_string())?;
        match tokio::time::timeout(self.deadline, self.mailer.send(email)).await {
            Ok(sent) => sent.map(|_| ()).map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "the SMTP server did not take the message within {} s (timed out)",
                self.deadline.as_secs()
            )),
        }
    }
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

/// Renders an RFC 5322 message: a UTF-8 text body, or text and HTML alternatives.
pub fn render_eml(id: Uuid, message: &Message, created_at: DateTime<Utc>) -> String {
    let subject = if message.subject.is_ascii() {
        message.subject.clone()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, message.subject.as_bytes())
        )
    };
    let crlf = |text: &str| text.replace("\r\n", "\n").replace('\n', "\r\n");
    let head = format!(
        "From: {FROM}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{id}@backline.invalid>\r\nMIME-Version: 1.0\r\n",
        message.to.replace(['\r', '\n'], ""),
        created_at.to_rfc2822(),
    );
    match &message.body_html {
        None => format!(
            "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
            crlf(&message.body_text)
        ),
        Some(html) => {
            let boundary = format!("=_backline_{}", id.simple());
            format!(
                "{head}Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n --{boundary}--\r\n",
                crlf(&message.body_text),
                crlf(html)
            )
        }
    }
}

/// Delivers one message, unless it was delivered already (jobs run at least once).
pub async fn deliver(pool: &PgPool, transport: &Transport, id: Uuid) -> Result<bool, String> {
    deliver_inner(pool, transport, id).await.map_err(|e| e.to_string())?
}

async fn deliver_inner(pool: &PgPool, transport: &Transport, id: Uuid) -> sqlx::Result<Result<bool, String>> {
    // No transaction or lock is held while the server is talked to: a slow or silent server holds this
    // job only, never a database connection. The job's lease (longer than the transport's timeout)
    // keeps two workers from sending the same message at once.
    #[derive(sqlx::FromRow)]
    struct Outgoing {
        to_address: String,
        subject: String,
        body_text: String,
        body_html: Option<String>,
        created_at: DateTime<Utc>,
        delivered_at: Option<DateTime<Utc>>,
    }
    let row: Option<Outgoing> = sqlx::query_as!(
        Outgoing,
        r#"SELECT to_address, subject, body_text, body_html, created_at, delivered_at FROM mail_outbox WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row.filter(|r| r.delivered_at.is_none()) else { return Ok(Ok(false)) };
    let created_at = row.created_at;
    let message =
        Message { to: row.to_address, subject: row.subject, body_text: row.body_text, body_html: row.body_html };
    let outcome = transport.send(id, &message, created_at).await;
    sqlx::query!(
        r#"UPDATE mail_outbox SET attempts = attempts + 1, delivered_at = $2, last_error = $3 WHERE id = $1"#,
        id,
        outcome.is_ok().then(Utc::now),
        outcome.as_ref().err()
    )
    .execute(pool)
    .await?;
    Ok(outcome.map(|()| true))
}

/// Registers the delivery job with a worker.
pub fn register(registry: &mut Registry, transport: Transport) {
    let transport = std::sync::Arc::new(transport);
    registry.register(DELIVER, move |ctx: AppContext, job: Job| {
        let transport = transport.clone();
        async move {
            let id: Uuid = job.field("message_id")?;
            deliver(&ctx.db, &transport, id).await.map_err(JobFailure::retry)?;
            Ok(())
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_has_crlf_headers_and_encodes_non_ascii_subjects() {
        let message = Message {
            to: "a@example.com".into(),
            subject: "Grüße".into(),
            body_text: "line 1\nline 2".into(),
            body_html: None,
        };
        let eml = render_eml(Uuid::nil(), &message, DateTime::from_timestamp(0, 0).unwrap());
        assert!(eml.starts_with("From: Backline"));
        assert!(eml.contains("To: a@example.com\r\n"));
        assert!(eml.contains("Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"), "{eml}");
        assert!(eml.contains("\r\n\r\nline 1\r\nline 2\r\n"));
    }

    #[test]
    fn html_mail_is_multipart_alternative() {
        let message = Message {
            to: "a@example.com".into(),
            subject: "Hi".into(),
            body_text: "plain".into(),
            body_html: Some("<p>&lt;b&gt;</p>".into()),
        };
        let eml = render_eml(Uuid::nil(), &message, DateTime::from_timestamp(0, 0).unwrap());
        assert!(eml.contains("Content-Type: multipart/alternative; boundary="), "{eml}");
        assert!(
            eml.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nplain\r\n")
        );
        assert!(eml.contains(
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>&lt;b&gt;</p>\r\n"
        ));
        assert!(eml.trim_end().ends_with("--"));
    }
}
