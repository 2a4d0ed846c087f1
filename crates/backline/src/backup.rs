//! `backline backup` and `backline restore`: a consistent dump of the database with a manifest of the
//! object-store files it references (with their checksums), and its restore into an empty database,
//! verified: the dump against its manifest, every ledger balance against its postings, every event's
//! ticket chain, every file against its checksum.
//!
//! Consistency: the manifest's file list is read in the very snapshot `pg_dump` dumps (a transaction
//! exports its snapshot and `pg_dump --snapshot` uses it), so every file the dump references is listed,
//! whatever is uploaded meanwhile.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use platform::storage::Storage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use tokio::io::AsyncWriteExt;

use crate::database::Database;

/// The manifest's own format; a restore refuses any other.
pub const FORMAT: u32 = 1;
const DUMP: &str = "database.dump";
const MANIFEST: &str = "manifest.json";
const OBJECTS: &str = "objects";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    /// The version of Backline that made it.
    pub backline: String,
    /// The newest migration the dump holds.
    pub migration: i64,
    pub database: Dumped,
    /// Whether the files themselves are in the backup's `objects/` folder (`--with-files`), or only
    /// listed (kept by the object store's own backup).
    pub files_included: bool,
    pub files: Vec<FileEntry>,
    /// Figures read in the dump's snapshot, compared after a restore.
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dumped {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    pub users: i64,
    pub ledger_accounts: i64,
    pub postings: i64,
    pub events: i64,
    pub tickets: i64,
}

/// What a restore found, each check with its outcome.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub manifest_created_at: DateTime<Utc>,
    pub totals: Totals,
    pub totals_match: bool,
    pub ledger: ledger::accounts::repo::LedgerAudit,
    pub ledger_ok: bool,
    pub chains_checked: usize,
    /// Events whose chain does not verify, with the reason.
    pub broken_chains: Vec<String>,
    pub files_checked: usize,
    pub files_copied: usize,
    /// Files missing from the object store or whose bytes do not match their checksum.
    pub bad_files: Vec<String>,
}

impl Restored {
    pub fn ok(&self) -> bool {
        self.totals_match && self.ledger_ok && self.broken_chains.is_empty() && self.bad_files.is_empty()
    }
}

async fn totals(conn: &mut PgConnection) -> sqlx::Result<Totals> {
    let row = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM users) AS "users!", (SELECT count(*) FROM ledger_accounts) AS "accounts!",
                  (SELECT count(*) FROM postings) AS "postings!", (SELECT count(*) FROM events) AS "events!",
                  (SELECT count(*) FROM tickets) AS "tickets!""#
    )
    .fetch_one(conn)
    .await?;
    Ok(Totals {
        users: row.users,
        ledger_accounts: row.accounts,
        postings: row.postings,
        events: row.events,
        tickets: row.tickets,
    })
}

/// SHA-256 and size of a file on disk, read as a stream.
async fn digest_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await.with_context(|| format!("opening {}", path.display()))?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let n = tokio::io::AsyncReadExt::read(&mut file, &mut buf).await?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, platform::hex::encode(&sha.finalize())))
}

async fn run(program: &Path, args: &[&std::ffi::OsStr], what: &str) -> anyhow::Result<()> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| format!("starting {}", program.display()))?;
    if !output.status.success() {
        bail!("{what} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// Writes a backup into `out` (a new or empty folder).
pub async fn backup(
    database: &Database,
    storage: &Storage,
    bin_dir: &Path,
    out: &Path,
    with_files: bool,
) -> anyhow::Result<Manifest> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty: a backup goes into a new folder", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("making {}", out.display()))?;
    let mut conn = PgConnection::connect_with(&database.owner_options()).await.context("connecting as the owner")?;
    let mut tx = conn.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let snapshot = sqlx::query_scalar!(r#"SELECT pg_export_snapshot() AS "s!""#).fetch_one(&mut *tx).await?;
    let dump = out.join(DUMP);
    run(
        &bin_dir.join("pg_dump"),
        &[
            "--format=custom".as_ref(),
            format!("--snapshot={snapshot}").as_ref(),
            "--file".as_ref(),
            dump.as_os_str(),
            "--dbname".as_ref(),
            database.owner_url().as_ref(),
        ],
        "pg_dump",
    )
    .await?;
    let files = sqlx::query_as!(FileEntry, "SELECT sha256, size, media_type FROM stored_files ORDER BY sha256")
        .fetch_all(&mut *tx)
        .await?;
    // sqlx's own table, made by the migrator rather than a migration: not known at compile time.
    let migration: i64 =
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM _sqlx_migrations").fetch_one(&mut *tx).await?;
    let totals = totals(&mut tx).await?;
    tx.commit().await?;
    conn.close().await?;

    if with_files {
        let folder = out.join(OBJECTS);
        std::fs::create_dir_all(&folder)?;
        for f in &files {
            copy_out(storage, f, &folder.join(&f.sha256)).await?;
        }
    }
    let (size, sha256) = digest_file(&dump).await?;
    let manifest = Manifest {
        format: FORMAT,
        created_at: Utc::now(),
        backline: env!("CARGO_PKG_VERSION").to_owned(),
        migration,
        database: Dumped { path: DUMP.to_owned(), size, sha256 },
        files_included: with_files,
        files,
        totals,
    };
    std::fs::write(out.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Copies a kept file out of the object store, checking its bytes on the way.
async fn copy_out(storage: &Storage, f: &FileEntry, to: &Path) -> anyhow::Result<()> {
    let mut stream =
        storage.read(&Storage::key_of(&f.sha256)).await.with_context(|| format!("reading {}", f.sha256))?;
    let mut file = tokio::fs::File::create(to).await?;
    let mut sha = Sha256::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        sha.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    let got = platform::hex::encode(&sha.finalize());
    ensure!(got == f.sha256, "the object store's copy of {} is damaged (its bytes hash to {got})", f.sha256);
    Ok(())
}

/// Reads and checks a backup's manifest and dump, before anything is touched.
pub async fn open(from: &Path) -> anyhow::Result<Manifest> {
    let text =
        std::fs::read(from.join(MANIFEST)).with_context(|| format!("reading {}", from.join(MANIFEST).display()))?;
    let manifest: Manifest = serde_json::from_slice(&text).context("the manifest is not a Backline backup manifest")?;
    ensure!(manifest.format == FORMAT, "the manifest's format is {}, this Backline reads {FORMAT}", manifest.format);
    let (size, sha256) = digest_file(&from.join(&manifest.database.path)).await?;
    ensure!(
        size == manifest.database.size && sha256 == manifest.database.sha256,
        "the dump does not match its manifest (damaged or replaced): {sha256}, expected {}",
        manifest.database.sha256
    );
    Ok(manifest)
}

/// Restores a checked backup into an empty database, then verifies it.
pub async fn restore(
    database: &Database,
    storage: &Storage,
    bin_dir: &Path,
    from: &Path,
    manifest: &Manifest,
) -> anyhow::Result<Restored> {
    let mut conn = PgConnection::connect_with(&database.owner_options()).await.context("connecting as the owner")?;
    let tables = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM pg_tables WHERE schemaname = 'public'"#)
        .fetch_one(&mut conn)
        .await?;
    ensure!(tables == 0, "a restore needs an empty database; this one holds {tables} tables");
    let dump: PathBuf = from.join(&manifest.database.path);
    run(
        &bin_dir.join("pg_restore"),
        &[
            "--no-owner".as_ref(),
            "--no-privileges".as_ref(),
            "--exit-on-error".as_ref(),
            "--single-transaction".as_ref(),
            "--dbname".as_ref(),
            database.owner_url().as_ref(),
            dump.as_os_str(),
        ],
        "pg_restore",
    )
    .await?;
    // Migrations this binary has and the backup lacks, then the application role's grants.
    database.migrate().await?;

    let mut files_copied = 0;
    let mut bad_files = Vec::new();
    for f in &manifest.files {
        let present = storage.digest(&Storage::key_of(&f.sha256)).await?;
        let good = present.as_ref().is_some_and(|(size, sha)| *size == f.size as u64 && *sha == f.sha256);
        if good {
            continue;
        }
        let copy = from.join(OBJECTS).join(&f.sha256);
        if manifest.files_included && copy.exists() {
            let staged = storage.stage_file(&copy).await?;
            if staged.sha256 == f.sha256 {
                storage.keep(staged).await?;
                files_copied += 1;
                continue;
            }
            bad_files.push(format!("{}: the backup's copy is damaged", f.sha256));
        } else if present.is_some() {
            bad_files.push(format!("{}: the stored bytes do not match", f.sha256));
        } else {
            bad_files.push(format!("{}: missing from the object store", f.sha256));
        }
    }

    let restored_totals = totals(&mut conn).await?;
    let audit = ledger::accounts::repo::audit(&mut conn).await?;
    let events = sqlx::query_scalar!("SELECT id FROM events ORDER BY id").fetch_all(&mut conn).await?;
    let mut broken_chains = Vec::new();
    for event in &events {
        let report = ticketing::chain::verify(&mut conn, ticketing::model::EventId(*event)).await?;
        if !report.valid {
            broken_chains.push(format!("{event}: {}", report.problem.unwrap_or_default()));
        }
    }
    conn.close().await?;
    Ok(Restored {
        manifest_created_at: manifest.created_at,
        totals: restored_totals,
        totals_match: restored_totals == manifest.totals,
        ledger_ok: audit.is_clean(),
        ledger: audit,
        chains_checked: events.len(),
        broken_chains,
        files_checked: manifest.files.len(),
        files_copied,
        bad_files,
    })
}
