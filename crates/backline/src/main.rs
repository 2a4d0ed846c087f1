//! The `backline` command: `serve`, `migrate`, `seed --demo`, `openapi`.

use std::process::ExitCode;

use anyhow::Context as _;
use std::time::Duration;

use backline::config::{Cli, Command, GlobalArgs, ServeArgs};
use backline::database::Database;
use clap::Parser as _;
use platform::http::EdgeLimits;
use platform::{AppContext, db, demo, mail, server, telemetry};

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
            let result = db::migrate(&database.pool).await.context("applying migrations");
            database.close().await;
            result?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Seed(_) => {
            let database = Database::open(&cli.global).await?;
            let result = seed(&database).await;
            database.close().await;
            result
        }
        Command::Serve(args) => serve(&cli.global, &args).await,
    }
}

async fn seed(database: &Database) -> anyhow::Result<()> {
    db::migrate(&database.pool).await.context("applying migrations")?;
    let report = demo::load(&database.pool, &backline::demo_datasets()).await?;
    tracing::info!(loaded = ?report.loaded, already_present = ?report.already_present, "demo data");
    Ok(())
}

async fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let database = Database::open(global).await?;
    let outcome = serve_with(global, &database, args).await;
    database.close().await;
    outcome
}

async fn serve_with(global: &GlobalArgs, database: &Database, args: &ServeArgs) -> anyhow::Result<()> {
    db::migrate(&database.pool).await.context("applying migrations")?;
    if args.demo {
        seed(database).await?;
    }
    let ctx = AppContext::new(database.pool.clone(), &args.public_url());
    let limits = EdgeLimits {
        body_limit_bytes: args.body_limit,
        request_timeout: args.request_timeout(),
        ..EdgeLimits::default()
    };
    let per_client = (args.rate_limit_per_minute > 0)
        .then(|| platform::ratelimit::Limit::new(args.rate_limit_per_minute, Duration::from_secs(60)));
    let app = backline::app(ctx, limits, per_client);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tokio::task::spawn_blocking(identity::password::warm_up);

    // Background work: stopped after the HTTP server has drained, before the database closes.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mail_dir = global.data_dir.join("mail");
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let mailer = tokio::spawn(mail::run_deliverer(
        database.pool.clone(),
        mail::FileTransport::new(&mail_dir),
        Duration::from_millis(500),
        stopped(stop_rx.clone()),
    ));
    tracing::info!(dir = %mail_dir.display(), "outgoing mail is written as .eml files (no SMTP server configured)");

    tracing::info!(%addr, public_url = %args.public_url(), "Backline is listening on http://{addr}");
    let drained = server::serve(listener, app, server::shutdown_signal(), args.shutdown_grace()).await?;
    tracing::info!(?drained, "HTTP server stopped");
    let _ = stop_tx.send(true);
    let _ = mailer.await;
    Ok(())
}
