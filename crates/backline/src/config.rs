//! Command line and configuration. Every option can also be set through the environment variable named
//! in `backline --help`; flags win over the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use platform::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "backline",
    version,
    about = "Backline: the open platform for the music and creative economy",
    long_about = "Backline: the open platform for the music and creative economy.\n\n\
                  With no DATABASE_URL, Backline runs a private PostgreSQL cluster under its data directory \
                  (from the machine's PostgreSQL server binaries) and stops it on exit."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (applies pending migrations first).
    Serve(ServeArgs),
    /// Run only background workers (jobs, timers, mail), no HTTP. Any number may run at once.
    Worker(WorkerArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Load data into the database.
    Seed(SeedArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Verify an event's ticket chain: every record intact, none missing. Exits non-zero if not.
    VerifyTicketChain(VerifyChainArgs),
    /// Run the security self-check against this installation and print its results (kept like the
    /// daily run's). Exits non-zero if a check fails.
    SecurityCheck(SecurityCheckArgs),
    /// Back up into a new folder: a consistent dump of the database and a manifest of the files it
    /// references, with their checksums (and the files themselves with --with-files).
    Backup(BackupArgs),
    /// Restore a backup into an empty database (and its files into the object store), then verify
    /// every ledger balance, ticket chain and file checksum. Exits non-zero if anything does not verify.
    Restore(RestoreArgs),
    /// Print a sales report's reconciliation proof: per currency, its net revenue = unmatched + the
    /// platform's fee + each payee's share, exactly. Exits non-zero if any currency does not reconcile.
    RoyaltiesProof(RoyaltiesProofArgs),
}

#[derive(Debug, Args)]
pub struct SecurityCheckArgs {
    /// The address users reach this installation at (as `serve --public-url`).
    #[arg(long, env = "BACKLINE_PUBLIC_URL", default_value = "http://localhost:8080")]
    pub public_url: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The folder to write (new, or empty).
    pub out: PathBuf,
    /// Copy the referenced files into the backup too (`objects/`), checking each one's bytes.
    #[arg(long)]
    pub with_files: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup's folder.
    pub from: PathBuf,
}

#[derive(Debug, Args)]
pub struct RoyaltiesProofArgs {
    /// The report's id.
    pub report_id: uuid::Uuid,
}

#[derive(Debug, Args)]
pub struct VerifyChainArgs {
    /// The event's id.
    pub event_id: uuid::Uuid,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PostgreSQL server to use; with none, Backline runs its own embedded cluster.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// The database's owner role, for migrations only (with DATABASE_URL): the service then connects as
    /// DATABASE_URL's role, which the owner grants row privileges and nothing more (see
    /// docs/operations.md). Unset, DATABASE_URL's role migrates and is the service's role too.
    #[arg(long, env = "BACKLINE_DATABASE_OWNER_URL", global = true, hide_env_values = true)]
    pub database_owner_url: Option<String>,

    /// A streaming read replica of the database: public searches, the directory, analytics and
    /// statements read from it while it is up and within BACKLINE_REPLICA_MAX_LAG; everything else,
    /// and those too while it is not, uses the primary.
    #[arg(long, env = "BACKLINE_DATABASE_REPLICA_URL", global = true, hide_env_values = true)]
    pub database_replica_url: Option<String>,

    /// Seconds the read replica may be behind the primary before it is bypassed.
    #[arg(long, env = "BACKLINE_REPLICA_MAX_LAG", default_value_t = 5.0, global = true)]
    pub replica_max_lag: f64,

    /// Where Backline keeps its files: the embedded cluster, outgoing mail (mail/), locks.
    #[arg(long, env = "BACKLINE_DATA_DIR", default_value = "./.backline", global = true)]
    pub data_dir: PathBuf,

    /// Directory holding `initdb` and `postgres` for the embedded cluster (found automatically if unset).
    #[arg(long, env = "BACKLINE_PG_BINDIR", global = true)]
    pub pg_bindir: Option<PathBuf>,

    /// Unprivileged user that runs the embedded cluster when Backline runs as root (default: postgres, else nobody).
    #[arg(long, env = "BACKLINE_PG_USER", global = true)]
    pub pg_user: Option<String>,

    /// Key that seals stored secrets (webhook secrets, payout details): 32 bytes, base64. Unset, a key is
    /// created in the data directory on first start.
    #[arg(long, env = "BACKLINE_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,

    /// SMTP server for outgoing mail: `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (plain, for a local relay). Unset, mail is written as .eml files under
    /// <data dir>/mail.
    #[arg(long, env = "BACKLINE_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of outgoing mail.
    #[arg(long, env = "BACKLINE_MAIL_FROM", default_value = "Backline <no-reply@backline.invalid>", global = true)]
    pub mail_from: String,

    /// Let webhook deliveries go to loopback and private addresses (development only: it lets an endpoint
    /// reach into the server's own network).
    #[arg(long, env = "BACKLINE_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: bool,

    /// Stripe secret API key (`sk_live_...`, `sk_test_...` or a restricted `rk_...`). Set, payments may
    /// name the `stripe` provider and payouts to Stripe Connect accounts go through Stripe.
    #[arg(long, env = "BACKLINE_STRIPE_SECRET_KEY", global = true, hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// Stripe's API base URL (changed only to reach a proxy or a local replay server).
    #[arg(long, env = "BACKLINE_STRIPE_API_BASE", default_value = "https://api.stripe.com", global = true)]
    pub stripe_api_base: String,

    /// Most database connections this process opens.
    #[arg(long, env = "BACKLINE_DB_MAX_CONNECTIONS", default_value_t = 20, global = true)]
    pub db_max_connections: u32,

    /// Where files (artwork, audio) are kept: a local directory (default `<data dir>/objects`), unless an
    /// S3 bucket is set.
    #[arg(long, env = "BACKLINE_STORAGE_DIR", global = true)]
    pub storage_dir: Option<PathBuf>,

    /// The folder stores of protocol `directory` deliver into (default `<data dir>/drops`): each such
    /// store has its own folder under it, where batches are written and acknowledgements read.
    #[arg(long, env = "BACKLINE_DROPS_DIR", global = true)]
    pub drops_dir: Option<PathBuf>,

    /// Uploads (audio, artwork, documents, sales reports) one account, and one client address, may
    /// start in an hour; past it 429 with Retry-After.
    #[arg(long, env = "BACKLINE_UPLOADS_PER_HOUR", default_value_t = 20, global = true)]
    pub uploads_per_hour: u32,

    /// Scan each project file uploaded with this command before anyone may use it (words split at
    /// spaces; the file's path is added last; exit 0 means clean, 1 infected), such as
    /// `clamdscan --no-summary --fdpass`. Until scanned, a file waits in quarantine.
    #[arg(long, env = "BACKLINE_SCAN_COMMAND", global = true)]
    pub scan_command: Option<String>,

    /// Keep files in this S3 bucket (with BACKLINE_S3_REGION, BACKLINE_S3_ENDPOINT for S3-compatible
    /// servers, and the access key pair).
    #[arg(long, env = "BACKLINE_S3_BUCKET", global = true)]
    pub s3_bucket: Option<String>,

    #[arg(long, env = "BACKLINE_S3_REGION", default_value = "us-east-1", global = true)]
    pub s3_region: String,

    /// An S3-compatible endpoint (MinIO, Ceph, ...), such as http://127.0.0.1:9000.
    #[arg(long, env = "BACKLINE_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,

    #[arg(long, env = "BACKLINE_S3_ACCESS_KEY_ID", global = true, hide_env_values = true)]
    pub s3_access_key_id: Option<String>,

    #[arg(long, env = "BACKLINE_S3_SECRET_ACCESS_KEY", global = true, hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,

    /// Log format: `text` (human-readable) or `json` (one object a line). Level: RUST_LOG (default info).
    #[arg(long, env = "BACKLINE_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,
}

impl GlobalArgs {
    pub fn webhook_policy(&self) -> notify::webhooks::DeliveryPolicy {
        notify::webhooks::DeliveryPolicy { allow_private_targets: self.webhook_allow_private }
    }

    /// Stripe's API client, when a secret key is configured.
    pub fn stripe(&self) -> anyhow::Result<Option<ledger::stripe::Client>> {
        let Some(key) = self.stripe_secret_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        let config = ledger::stripe::StripeConfig {
            secret_key: key.to_owned(),
            base_url: self.stripe_api_base.clone(),
            timeout: Duration::from_secs(30),
        };
        Ok(Some(ledger::stripe::Client::new(&config)?))
    }

    /// The object storage files are kept in; uploads are staged in `<data dir>/staging`.
    pub fn storage(&self) -> anyhow::Result<platform::storage::Storage> {
        let backend = match &self.s3_bucket {
            Some(bucket) => platform::storage::Backend::S3 {
                bucket: bucket.clone(),
                region: self.s3_region.clone(),
                endpoint: self.s3_endpoint.clone(),
                access_key_id: self.s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: self.s3_secret_access_key.clone().unwrap_or_default(),
            },
            None => platform::storage::Backend::Local(
                self.storage_dir.clone().unwrap_or_else(|| self.data_dir.join("objects")),
            ),
        };
        let limit = platform::ratelimit::Limit::new(self.uploads_per_hour, std::time::Duration::from_secs(60 * 60));
        let mut storage =
            platform::storage::Storage::open(&backend, &self.data_dir.join("staging"))?.with_upload_limit(limit);
        if let Some(command) = &self.scan_command {
            storage = storage.with_scanner(command.split_whitespace().map(str::to_owned).collect());
        }
        Ok(storage)
    }

    /// How this installation is configured, for the security self-check.
    pub fn posture(&self, demo: bool) -> platform::context::Posture {
        platform::context::Posture {
            secret_key_configured: self.secret_key.as_deref().is_some_and(|k| !k.trim().is_empty()),
            webhooks_to_private_addresses: self.webhook_allow_private,
            demo,
        }
    }

    /// The folder directory stores deliver into.
    pub fn drops(&self) -> PathBuf {
        self.drops_dir.clone().unwrap_or_else(|| self.data_dir.join("drops"))
    }

    /// Where outgoing mail goes.
    pub fn mail_transport(&self) -> anyhow::Result<platform::mail::Transport> {
        platform::mail::Transport::from_settings(self.smtp_url.as_deref(), &self.mail_from, self.data_dir.join("mail"))
            .map_err(anyhow::Error::msg)
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BACKLINE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The address users reach this service at, used in links sent by email (default: http://<listen>).
    #[arg(long, env = "BACKLINE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Load the demo data at start (only what is not loaded yet).
    #[arg(long, env = "BACKLINE_DEMO")]
    pub demo: bool,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BACKLINE_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Seconds a request may take before it is answered 503 `request_timeout`.
    #[arg(long, env = "BACKLINE_REQUEST_TIMEOUT", default_value_t = 30.0)]
    pub request_timeout: f64,

    /// Requests one client address may make per minute, across every process (0: no limit).
    #[arg(long, env = "BACKLINE_RATE_LIMIT_PER_MINUTE", default_value_t = 1200)]
    pub rate_limit_per_minute: u32,

    /// Jobs this process runs at once (0: run no jobs here, leave them to `backline worker`).
    #[arg(long, env = "BACKLINE_WORKERS", default_value_t = 16)]
    pub workers: usize,

    /// The payment provider of payments that do not name one: `sandbox` or `stripe` (needs
    /// BACKLINE_STRIPE_SECRET_KEY).
    #[arg(long, env = "BACKLINE_PAYMENT_PROVIDER", default_value = "sandbox", value_parser = ["sandbox", "stripe"])]
    pub payment_provider: String,

    /// Stripe webhook endpoint secrets, comma-separated (several while rotating). Unset, Stripe webhooks
    /// are refused.
    #[arg(long, env = "BACKLINE_STRIPE_WEBHOOK_SECRETS", value_delimiter = ',', hide_env_values = true)]
    pub stripe_webhook_secrets: Vec<String>,

    /// The sandbox payment provider's webhook secret.
    #[arg(long, env = "BACKLINE_SANDBOX_WEBHOOK_SECRET", default_value = "whsec_sandbox", hide_env_values = true)]
    pub sandbox_webhook_secret: String,

    /// Withdrawals of at least this amount (minor units) wait for an admin's approval. Unset: none do.
    #[arg(long, env = "BACKLINE_WITHDRAWAL_APPROVAL_FROM")]
    pub withdrawal_approval_from: Option<i64>,

    /// Seconds given to requests in flight to finish after SIGINT or SIGTERM.
    #[arg(long, env = "BACKLINE_SHUTDOWN_GRACE", default_value_t = 20.0)]
    pub shutdown_grace: f64,
}

impl ServeArgs {
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.request_timeout.max(0.001))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs_f64(self.shutdown_grace.max(0.0))
    }
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs this process runs at once.
    #[arg(long, env = "BACKLINE_WORKERS", default_value_t = 32)]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Load the demo dataset of every domain (idempotent).
    #[arg(long, required = true)]
    pub demo: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_documentation() {
        let cli = Cli::try_parse_from(["backline", "serve"]).unwrap();
        let Command::Serve(serve) = cli.command else { panic!("not serve") };
        assert_eq!(serve.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(serve.public_url(), "http://127.0.0.1:8080");
        assert_eq!(cli.global.data_dir, PathBuf::from("./.backline"));
        assert_eq!(cli.global.log_format, LogFormat::Text);
    }

    #[test]
    fn bad_log_format_is_refused() {
        let err = Cli::try_parse_from(["backline", "--log-format", "xml", "migrate"]).unwrap_err();
        assert!(err.to_string().contains("unknown log format"), "{err}");
    }
}
