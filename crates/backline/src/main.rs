//! The `backline` command: `serve`, `worker`, `migrate`, `seed --demo`, `openapi`, `verify-ticket-chain`.

use std::process::ExitCode;
use std::str::FromStr as _;

use anyhow::Context as _;
use std::time::Duration;

use std::sync::Arc;

use backline::config::{Cli, Command, GlobalArgs, ServeArgs, WorkerArgs};
use backline::database::Database;
use clap::Parser as _;
use platform::http::EdgeLimits;
use platform::{AppContext, demo, jobs, server, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.global.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("backline: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("backline: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            let doc = backline::openapi_document();
            let text = serde_json::to_string_pretty(&doc)?;
            std::io::Write::write_all(&mut std::io::stdout(), format!("{text}\n").as_bytes())?;
            Ok(())
        }
        Command::Migrate => {
            let database = Database::open(&cli.global).await?;
            let result = database.migrate().await;
            database.close().await;
            result?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Seed(_) => {
            let database = Database::open(&cli.global).await?;
            let result = seed(&cli.global, &database).await;
            database.close().await;
            result
        }
        Command::VerifyTicketChain(args) => {
            let database = Database::open(&cli.global).await?;
            let result = verify_chain(&database, args.event_id).await;
            database.close().await;
            result
        }
        Command::RoyaltiesProof(args) => {
            let database = Database::open(&cli.global).await?;
            let result = royalties_proof(&database, args.report_id).await;
            database.close().await;
            result
        }
        Command::SecurityCheck(args) => {
            let database = Database::open(&cli.global).await?;
            let result = security_check(&cli.global, &database, &args).await;
            database.close().await;
            result
        }
        Command::Backup(args) => {
            let database = Database::open(&cli.global).await?;
            let result = backup(&cli.global, &database, &args).await;
            database.close().await;
            result
        }
        Command::Restore(args) => {
            // The backup is checked before any database is opened or created.
            let manifest = backline::backup::open(&args.from).await?;
            let database = Database::open(&cli.global).await?;
            let result = restore(&cli.global, &database, &args, &manifest).await;
            database.close().await;
            result
        }
        Command::Serve(args) => serve(&cli.global, &args).await,
        Command::Worker(args) => {
            let database = Database::open(&cli.global).await?;
            let result = work(&cli.global, &database, &args).await;
            database.close().await;
            result
        }
    }
}

async fn security_check(
    global: &GlobalArgs,
    database: &Database,
    args: &backline::config::SecurityCheckArgs,
) -> anyhow::Result<()> {
    database.migrate().await?;
    let ctx = AppContext::new(database.pool.clone(), &args.public_url).with_posture(global.posture(false));
    let run = identity::selfcheck::service::run(&ctx, "command").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = serde_json::to_string_pretty(&run)?;
    std::io::Write::write_all(&mut std::io::stdout(), format!("{text}\n").as_bytes())?;
    anyhow::ensure!(run.passed, "a security check failed (see the results above)");
    Ok(())
}

async fn backup(global: &GlobalArgs, database: &Database, args: &backline::config::BackupArgs) -> anyhow::Result<()> {
    let bin_dir = platform::embedded::find_bin_dir(global.pg_bindir.as_deref())?;
    let manifest = backline::backup::backup(database, &global.storage()?, &bin_dir, &args.out, args.with_files).await?;
    tracing::info!(
        folder = %args.out.display(),
        files = manifest.files.len(),
        dump_bytes = manifest.database.size,
        "backup written"
    );
    Ok(())
}

async fn restore(
    global: &GlobalArgs,
    database: &Database,
    args: &backline::config::RestoreArgs,
    manifest: &backline::backup::Manifest,
) -> anyhow::Result<()> {
    let bin_dir = platform::embedded::find_bin_dir(global.pg_bindir.as_deref())?;
    let report = backline::backup::restore(database, &global.storage()?, &bin_dir, &args.from, manifest).await?;
    let mut value = serde_json::to_value(&report)?;
    value["ok"] = serde_json::Value::Bool(report.ok());
    let text = serde_json::to_string_pretty(&value)?;
    std::io::Write::write_all(&mut std::io::stdout(), format!("{text}\n").as_bytes())?;
    anyhow::ensure!(report.ok(), "the restored data does not verify (see the report above)");
    Ok(())
}

async fn verify_chain(database: &Database, event: uuid::Uuid) -> anyhow::Result<()> {
    let mut conn = database.pool.acquire().await?;
    let report = match ticketing::chain::verify(&mut conn, ticketing::model::EventId(event)).await {
        Err(sqlx::Error::RowNotFound) => anyhow::bail!("no event {event}"),
        other => other?,
    };
    let text = serde_json::to_string_pretty(&report)?;
    std::io::Write::write_all(&mut std::io::stdout(), format!("{text}\n").as_bytes())?;
    anyhow::ensure!(
        report.valid,
        "the ticket chain of {event} is broken at record {}: {}",
        report.first_invalid_seq.unwrap_or_default(),
        report.problem.unwrap_or_default()
    );
    Ok(())
}

async fn royalties_proof(database: &Database, report: uuid::Uuid) -> anyhow::Result<()> {
    let mut conn = database.pool.acquire().await?;
    let id = royalties::model::ReportId(report);
    let Some(row) = royalties::reports::repo::report(&mut conn, id).await? else {
        anyhow::bail!("no report {report}");
    };
    let proof = royalties::statements::service::prove(&mut conn, id, row.org_id, chrono::Utc::now()).await?;
    let mut out =
        format!("Report {report}: {} {} ({} to {})\n", row.sender_name, row.message_id, row.usage_start, row.usage_end);
    for c in &proof.currencies {
        out.push_str(&format!(
            "{}\n  net revenue  {}\n  unmatched    {}\n  fee          {}\n",
            c.currency, c.total, c.unmatched, c.fee
        ));
        for p in &c.payees {
            out.push_str(&format!("  {:<12} {}  ({}, {})\n", "payee", p.amount, p.name, p.kind));
        }
        out.push_str(&format!(
            "  difference   {}  {}\n",
            c.difference,
            if c.exact { "exact" } else { "DOES NOT RECONCILE" }
        ));
    }
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    anyhow::ensure!(proof.exact, "the report {report} does not reconcile");
    Ok(())
}

async fn seed(global: &GlobalArgs, database: &Database) -> anyhow::Result<()> {
    database.migrate().await?;
    let secrets = platform::crypto::SecretBox::load(global.secret_key.as_deref(), &global.data_dir)?;
    let env =
        demo::DemoEnv { secrets: Arc::new(secrets), storage: Arc::new(global.storage()?), now: chrono::Utc::now() };
    let report = demo::load(&database.pool, &backline::demo_datasets(), &env).await?;
    tracing::info!(loaded = ?report.loaded, already_present = ?report.already_present, "demo data");
    Ok(())
}

/// `backline worker`: jobs only, until SIGINT or SIGTERM; the jobs in flight finish first.
async fn work(global: &GlobalArgs, database: &Database, args: &WorkerArgs) -> anyhow::Result<()> {
    let shutdown = server::shutdown_signal();
    database.migrate().await?;
    let secrets = platform::crypto::SecretBox::load(global.secret_key.as_deref(), &global.data_dir)?;
    let ctx = AppContext::new(database.pool.clone(), "http://localhost")
        .with_secrets(secrets)
        .with_storage(global.storage()?)
        .with_drops(global.drops())
        .with_posture(global.posture(false));
    let config = jobs::WorkerConfig { concurrency: args.concurrency.max(1), ..jobs::WorkerConfig::default() };
    let registry =
        Arc::new(backline::job_registry(global.mail_transport()?, global.webhook_policy(), global.stripe()?));
    jobs::run(ctx, registry, config, shutdown).await
}

async fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<()> {
    // Before anything else: from here on, Ctrl-C and SIGTERM mean a graceful stop.
    let shutdown = server::shutdown_signal();
    // Settings that cannot work are refused before anything starts.
    if args.payment_provider == "stripe" && global.stripe()?.is_none() {
        anyhow::bail!("BACKLINE_PAYMENT_PROVIDER=stripe needs BACKLINE_STRIPE_SECRET_KEY");
    }
    let database = Database::open(global).await?;
    // A database that is gone for good stops the service too: its supervisor (systemd, Kubernetes)
    // starts it again rather than it answering 503 for ever.
    let (lost_tx, lost_rx) = tokio::sync::oneshot::channel();
    let lost = database.lost();
    let stop = async move {
        tokio::select! {
            () = shutdown => {}
            reason = lost => {
                tracing::error!(%reason, "the database is gone; stopping");
                let _ = lost_tx.send(reason);
            }
        }
    };
    let outcome = serve_with(global, &database, args, stop).await;
    database.close().await;
    if let Ok(reason) = lost_rx.await {
        anyhow::bail!("the embedded PostgreSQL cluster stopped and could not be started again: {reason}");
    }
    outcome
}

async fn serve_with(
    global: &GlobalArgs,
    database: &Database,
    args: &ServeArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    database.migrate().await?;
    if args.demo {
        seed(global, database).await?;
    }
    let secrets = platform::crypto::SecretBox::load(global.secret_key.as_deref(), &global.data_dir)?;
    let mut ctx = AppContext::new(database.pool.clone(), &args.public_url())
        .with_secrets(secrets)
        .with_storage(global.storage()?)
        .with_drops(global.drops())
        .with_posture(global.posture(args.demo));
    if let Some(url) = &global.database_replica_url {
        // Connected lazily: a replica that is down at start is bypassed, not fatal.
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .context("BACKLINE_DATABASE_REPLICA_URL is not a valid PostgreSQL URL")?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(global.db_max_connections)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options);
        let max_lag = Duration::try_from_secs_f64(global.replica_max_lag.max(0.0))
            .context("BACKLINE_REPLICA_MAX_LAG is not a number of seconds")?;
        let replica = Arc::new(platform::replica::Replica::new(pool, max_lag));
        tokio::spawn(platform::replica::watch(replica.clone(), database.pool.clone(), ctx.clock.clone()));
        ctx = ctx.with_replica(replica);
    }
    let ctx_for_jobs = ctx.clone();
    let limits = EdgeLimits {
        body_limit_bytes: args.body_limit,
        request_timeout: args.request_timeout(),
        ..EdgeLimits::default()
    };
    let per_client = (args.rate_limit_per_minute > 0)
        .then(|| platform::ratelimit::Limit::new(args.rate_limit_per_minute, Duration::from_secs(60)));
    let stripe = global.stripe()?;
    let default_provider = ledger::payments::Provider::parse(&args.payment_provider).unwrap_or_default();
    let ledger_settings = ledger::LedgerSettings {
        default_provider,
        stripe: stripe.clone(),
        providers: ledger::ProviderSecrets {
            stripe: args.stripe_webhook_secrets.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            sandbox: args.sandbox_webhook_secret.clone(),
        },
        withdrawals: ledger::payouts::WithdrawalSettings {
            approval_from: args.withdrawal_approval_from,
            ..ledger::payouts::WithdrawalSettings::default()
        },
    };
    let web_settings =
        web::WebSettings { demo: args.demo, ledger: ledger_settings.clone(), ..web::WebSettings::default() };
    let app = backline::app_with_web(ctx, limits, per_client, ledger_settings, web_settings);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tokio::task::spawn_blocking(identity::password::warm_up);

    // Background work: stopped after the HTTP server has drained, before the database closes.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mail_transport = global.mail_transport()?;
    let workers = (args.workers > 0).then(|| {
        let config = jobs::WorkerConfig { concurrency: args.workers, ..jobs::WorkerConfig::default() };
        let registry =
            Arc::new(backline::job_registry(mail_transport.clone(), global.webhook_policy(), stripe.clone()));
        let mut rx = stop_rx.clone();
        tokio::spawn(jobs::run(ctx_for_jobs.clone(), registry, config, async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }))
    });
    match &mail_transport {
        platform::mail::Transport::File(files) => {
            tracing::info!(dir = %files.dir().display(), "outgoing mail is written as .eml files (no SMTP server configured)");
        }
        platform::mail::Transport::Smtp(_) => tracing::info!("outgoing mail goes to the SMTP server"),
    }

    tracing::info!(%addr, public_url = %args.public_url(), "Backline is listening on http://{addr}");
    let drained = server::serve(listener, app, shutdown, args.shutdown_grace()).await?;
    tracing::info!(?drained, "HTTP server stopped");
    let _ = stop_tx.send(true);
    if let Some(workers) = workers {
        workers.await??;
    }
    Ok(())
}
