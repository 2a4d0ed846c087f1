//! The `backline` command: `serve`, `migrate`, `seed --demo`, `openapi`.

use std::process::ExitCode;

use anyhow::Context as _;
use backline::config::{Cli, Command, ServeArgs};
use backline::database::Database;
use clap::Parser as _;
use platform::http::EdgeLimits;
use platform::{AppContext, db, demo, server, telemetry};

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

async fn serve(global: &backline::config::GlobalArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let database = Database::open(global).await?;
    let outcome = serve_with(&database, args).await;
    database.close().await;
    outcome
}

async fn serve_with(database: &Database, args: &ServeArgs) -> anyhow::Result<()> {
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
    let app = backline::app(ctx, limits);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, public_url = %args.public_url(), "Backline is listening on http://{addr}");
    let drained = server::serve(listener, app, server::shutdown_signal(), args.shutdown_grace()).await?;
    tracing::info!(?drained, "HTTP server stopped");
    Ok(())
}
