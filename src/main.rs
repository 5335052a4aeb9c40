#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    use clap::Parser;
    use statuscast::cli::{Cli, Command};

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STATUSCAST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command() {
        Command::Serve(args) => statuscast::server::serve(args).await.map_err(Into::into),
        Command::CheckConfig { config } => statuscast::server::check_config(&config).map_err(Into::into),
        Command::Copy { from, to, force } => statuscast::cli::copy::run(&from, &to, force).await.map_err(Into::into),
        Command::Maintenance { action, url, token } => {
            statuscast::cli::client::maintenance(action, &url, token).await.map_err(Into::into)
        }
        Command::Incident { action, url, token } => {
            statuscast::cli::client::incident(action, &url, token).await.map_err(Into::into)
        }
    };
    // Every acknowledged write is already on disk: nothing is left to flush.
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("statuscast: {e}");
            std::process::exit(1)
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `hydrate()` in lib.rs.
}
