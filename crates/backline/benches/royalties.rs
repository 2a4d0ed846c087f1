//! Royalties benchmark: a store's sales report of 1,000,000 usage lines (generated, about 54 MB)
//! uploaded over HTTP and read end to end by the job (until its stream says so) (parse, each line's exact revenue, the lines
//! summed per summary, key and use type and loaded with `COPY`, matching by identifier, summaries,
//! royalty lines), with the process's peak RSS; beside it, in the same run and on the same PostgreSQL,
//! the same lines parsed and written a row each with batched multi-row `INSERT`s, the same rows copied
//! inside PostgreSQL (what storing each line costs at best), and the reconciliation checked exact. `BACKLINE_BENCH_DSR_LINES` changes the size. Run with
//! `cargo bench -p backline --bench royalties`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use platform::AppContext;
use platform::storage::{Backend, Storage};
use support::{Client, peak_rss_mb, serve};

/// Sales lines per recording in the generated report.
const PER: u64 = 50;
/// Rows per `INSERT` of the baseline (16 columns: within PostgreSQL's 65,535 parameters).
const BATCH: usize = 1_000;

/// A table of usage lines, a row each: what the baseline writes.
const LINES_TABLE: &str = "(
    report_id uuid NOT NULL, file_number integer NOT NULL, line bigint NOT NULL, summary_id text NOT NULL,
    block_id text NOT NULL, transaction_id text NOT NULL, record_type text NOT NULL, isrc text, icpn text,
    dsp_id text, proprietary_ids text[], title text, artist text, royalty_bearing boolean NOT NULL,
    usages bigint NOT NULL, use_type text NOT NULL, revenue numeric NOT NULL, match_key text)";

/// Whether a line is the first of its resource in its block, which alone carries the resource's
/// description in the baseline's rows (as a report writes it once per block): narrower rows, a faster
/// baseline.
#[derive(Default)]
struct Described {
    block: String,
    keys: Vec<String>,
}

impl Described {
    fn first(&mut self, u: &royalties::dsr::Usage, key: Option<&str>) -> bool {
        if u.block_id != self.block {
            self.block.clone_from(&u.block_id);
            self.keys.clear();
        }
        let Some(key) = key else { return true };
        if self.keys.iter().any(|k| k == key) {
            return false;
        }
        self.keys.push(key.to_owned());
        true
    }
}

/// The baseline: the same file parsed by the same reader, a row a line written with multi-row INSERTs.
async fn insert_baseline(pool: &sqlx::PgPool, file: &Path) -> (u64, Duration) {
    sqlx::raw_sql(&format!("CREATE TABLE bench_usages {LINES_TABLE}; CREATE TABLE bench_floor {LINES_TABLE}"))
        .execute(pool)
        .await
        .unwrap();
    let report = uuid::Uuid::now_v7();
    let (sink, mut rows) = tokio::sync::mpsc::channel::<Vec<(royalties::dsr::Usage, bool)>>(4);
    let path = file.to_owned();
    let started = Instant::now();
    let reader = tokio::task::spawn_blocking(move || {
        let input = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path).unwrap());
        let mut batch = Vec::with_capacity(BATCH);
        let mut allocation = royalties::allocation::Allocation::default();
        let mut described = Described::default();
        royalties::dsr::Reader::new()
            .read(input, &mut allocation, |u| {
                let describes = described.first(u, u.match_key().as_deref());
                batch.push((u.clone(), describes));
                if batch.len() == BATCH {
                    sink.blocking_send(std::mem::take(&mut batch)).unwrap();
                }
            })
            .unwrap();
        if !batch.is_empty() {
            sink.blocking_send(batch).unwrap();
        }
    });
    let mut conn = pool.acquire().await.unwrap();
    let mut written = 0u64;
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    while let Some(batch) = rows.recv().await {
        let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO bench_usages (report_id, file_number, line, summary_id, block_id, transaction_id, \
             record_type, isrc, icpn, dsp_id, proprietary_ids, title, artist, royalty_bearing, usages, use_type, \
             revenue, match_key) ",
        );
        q.push_values(&batch, |mut b, (u, describes)| {
            let described = |v: Option<&str>| if *describes { v.map(str::to_owned) } else { None };
            b.push_bind(report)
                .push_bind(1i32)
                .push_bind(u.line as i64)
                .push_bind(&u.summary_id)
                .push_bind(&u.block_id)
                .push_bind(&u.transaction_id)
                .push_bind(&u.record_type)
                .push_bind(described(u.isrc.as_deref()))
                .push_bind(described(u.icpn.as_deref()))
                .push_bind(described(u.dsp_id.as_deref()))
                .push_bind(describes.then_some(&u.proprietary_ids))
                .push_bind(described(Some(&u.title)))
                .push_bind(described(Some(&u.artist)))
                .push_bind(u.royalty_bearing)
                .push_bind(u.usages)
                .push_bind(&u.use_type)
                .push_bind(royalties::allocation::text(u.revenue))
                .push_unseparated("::numeric")
                .push_bind(u.match_key());
        });
        q.build().execute(&mut *tx).await.unwrap();
        written += batch.len() as u64;
    }
    tx.commit().await.unwrap();
    reader.await.unwrap();
    (written, started.elapsed())
}

#[tokio::main]
async fn main() {
    let lines: u64 = std::env::var("BACKLINE_BENCH_DSR_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let blocks = (lines / (2 * PER)).max(1);
    let work = tempfile::Builder::new().prefix("royalties-bench-").tempdir_in(std::env::temp_dir()).unwrap();
    let db = testkit::TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(10).connect(&db.url()).await.unwrap();
    let storage = Storage::open(&Backend::Local(work.path().join("objects")), &work.path().join("staging")).unwrap();
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid").with_storage(storage);
    let addr = serve(ctx.clone()).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    // The report, on disk.
    let file = work.path().join("DSR_bench.tsv");
    {
        let mut out = std::fs::File::create(&file).unwrap();
        testkit::dsr::write("DSR-BENCH", blocks, PER, &mut [&mut out]).unwrap();
    }
    let size = std::fs::metadata(&file).unwrap().len();
    let usage_lines = blocks * 2 * PER;
    println!("royalties benchmark: {cores} cores; a report of {usage_lines} usage lines ({:.0} MB)", size as f64 / 1e6);

    // A label, through the API.
    let key = support::label_key(&pool).await;
    let mut client = Client::connect(addr).await;
    let (_, org) = client
        .send("POST", "/v1/orgs", Some(&key), Some(r#"{"slug": "bench-label", "name": "Bench", "kind": "label"}"#))
        .await;
    let org: serde_json::Value = serde_json::from_slice(&org).unwrap();
    let org = org["id"].as_str().unwrap().to_owned();
    // The label's catalog holds every recording the report names, so every line is matched and
    // allocated (written directly: only the reading is measured).
    sqlx::query!(
        "INSERT INTO tracks (id, org_id, title, display_artist, isrc, created_at, updated_at)
         SELECT gen_random_uuid(), $1, 'Song ' || b || '-' || r, 'Nova', 'DEA12' || lpad((b * 10 + r)::text, 7, '0'),
                now(), now()
         FROM generate_series(1, $2::bigint) b, generate_series(1, 2) r",
        uuid::Uuid::parse_str(&org).unwrap(),
        blocks as i64
    )
    .execute(&pool)
    .await
    .unwrap();

    // End to end: upload, then the job reads it whole.
    let dir = tempfile::tempdir().unwrap();
    let mail = platform::mail::Transport::File(platform::mail::FileTransport::new(dir.path()));
    let registry = std::sync::Arc::new(backline::job_registry(
        mail,
        notify::webhooks::DeliveryPolicy { allow_private_targets: true },
        None,
    ));
    let config = platform::jobs::WorkerConfig {
        concurrency: 2,
        poll_interval: Duration::from_millis(20),
        id: "bench".into(),
        passes: None,
    };
    tokio::spawn(platform::jobs::run(ctx.clone(), registry, config, std::future::pending()));
    let mut events = support::Events::open(addr, &key).await;
    let started = Instant::now();
    let (status, body) = support::send_file(
        addr,
        "POST",
        &format!("/v1/royalties/reports?label_id={org}"),
        &key,
        "text/tab-separated-values",
        &file,
    )
    .await;
    assert_eq!(status, 202, "upload: {body}");
    let uploaded = started.elapsed();
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rid = report["id"].as_str().unwrap().to_owned();
    // The job says on the stream when the report is read (after its commit), loaded or refused.
    let end = events
        .wait_for(|data| {
            data.contains(&rid) && (data.contains("\"phase\":\"done\"") || data.contains("\"phase\":\"refused\""))
        })
        .await;
    let total = started.elapsed();
    assert!(end.contains("\"phase\":\"done\""), "{end}");
    let (_, answer) = client.send("GET", &format!("/v1/royalties/reports/{rid}"), Some(&key), None).await;
    let report: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(report["status"], "loaded", "{report}");
    assert_eq!(report["usage_lines"].as_u64(), Some(usage_lines));
    let rate = usage_lines as f64 / total.as_secs_f64();
    println!(
        "ingest end to end: {usage_lines} lines in {:.2} s (upload {:.2} s) = {rate:.0} lines/s",
        total.as_secs_f64(),
        uploaded.as_secs_f64()
    );
    println!("peak RSS of the process (server, job and client): {:.0} MB", peak_rss_mb());
    let (_, proof) = client.send("GET", &format!("/v1/royalties/reports/{rid}/reconciliation"), Some(&key), None).await;
    let proof: serde_json::Value = serde_json::from_slice(&proof).unwrap();
    assert_eq!(proof["exact"], true, "{proof}");
    println!("reconciliation: exact ({} summaries)", proof["summaries"].as_array().map_or(0, Vec::len));
    let matched: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM royalty_lines WHERE report_id = $1::text::uuid"#, rid)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(matched as u64, blocks * 2 * 2, "every recording matched, in both summaries' territories");
    println!("matched: every line ({matched} royalty lines)");
    let groups: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM royalty_usage_totals WHERE report_id = $1::text::uuid"#,
        rid
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    println!("stored: {groups} rows of usage totals (per summary, recording and use type) for {usage_lines} lines");

    // Baseline: the same lines, a row each, with batched multi-row INSERTs.
    let (written, took) = insert_baseline(&pool, &file).await;
    assert_eq!(written, usage_lines);
    let insert_rate = written as f64 / took.as_secs_f64();
    println!(
        "baseline, {BATCH}-row INSERTs: {written} lines in {:.2} s = {insert_rate:.0} lines/s; ingest/INSERT ratio {:.2}",
        took.as_secs_f64(),
        rate / insert_rate
    );

    // The floor of storing a row a line: the baseline's rows copied inside PostgreSQL into a table
    // like theirs (no file, no parsing, no network), which no way of sending them can beat.
    let started = Instant::now();
    // The bench's own tables are made at run time, unknown to the checked macros.
    let copied =
        sqlx::query("INSERT INTO bench_floor SELECT * FROM bench_usages").execute(&pool).await.unwrap().rows_affected();
    let took = started.elapsed();
    assert_eq!(copied, usage_lines);
    let floor_rate = copied as f64 / took.as_secs_f64();
    println!(
        "floor of a row a line, INSERT … SELECT inside PostgreSQL: {:.2} s = {floor_rate:.0} lines/s; ingest/floor {:.2}",
        took.as_secs_f64(),
        rate / floor_rate
    );
}
