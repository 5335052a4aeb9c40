//! The command line: `statuscast serve` (the default), `check-config`, `copy` (one database
//! into another, [`copy`]), and the operator client commands (`incident`, `maintenance`) that
//! talk to a running statuscast over its JSON API ([`client`]).

pub mod client;
pub mod copy;

use crate::server::settings::ServeArgs;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "statuscast",
    version,
    args_override_self = true,
    about = "Live system status, server-rendered and pushed over Server-Sent Events."
)]
pub struct Cli {
    /// What to do; without one, `serve` (as `cargo leptos serve|watch` run it).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The command, `serve` with its defaults (and environment) when none was given.
    pub fn command(self) -> Command {
        self.command.unwrap_or_else(|| Cli::parse_from(["statuscast", "serve"]).command.expect("serve was given"))
    }
}

// `Serve` is much larger than the client commands; it is parsed once at start.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the status pages, the SSE stream and the API.
    #[command(args_override_self = true)]
    Serve(ServeArgs),
    /// Schedule, list or cancel maintenance windows on a running statuscast (its JSON API).
    Maintenance {
        #[command(subcommand)]
        action: MaintenanceAction,
        /// The statuscast to talk to.
        #[arg(long, env = "STATUSCAST_URL", default_value = "http://127.0.0.1:3000", global = true)]
        url: String,
        /// The operator token.
        #[arg(long, env = "STATUSCAST_ADMIN_TOKEN", hide_env_values = true, global = true)]
        token: Option<String>,
    },
    /// Open, update, resolve or list incidents on a running statuscast (its JSON API).
    Incident {
        #[command(subcommand)]
        action: IncidentAction,
        /// The statuscast to talk to.
        #[arg(long, env = "STATUSCAST_URL", default_value = "http://127.0.0.1:3000", global = true)]
        url: String,
        /// The operator token.
        #[arg(long, env = "STATUSCAST_ADMIN_TOKEN", hide_env_values = true, global = true)]
        token: Option<String>,
    },
    /// Copy everything (state, check history, incidents, maintenance, sessions) from one
    /// database into another, e.g. `--from sqlite://data/statuscast.db --to postgres://…`.
    /// Stop the servers using --from first. Prints the rows copied per table.
    Copy {
        /// The database to read: sqlite://PATH or postgres://….
        #[arg(long)]
        from: String,
        /// The database to write; it must be empty, unless --force.
        #[arg(long)]
        to: String,
        /// Replace what the target holds.
        #[arg(long)]
        force: bool,
    },
    /// Validate a statuscast.toml without serving; prints what it found, or the error with
    /// its file, line, column and field.
    CheckConfig {
        /// The file to check.
        #[arg(long, env = "STATUSCAST_CONFIG", default_value = "statuscast.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum IncidentAction {
    /// Open an incident; viewers see it at once.
    Open {
        #[arg(long)]
        title: String,
        /// none, minor, major or critical.
        #[arg(long)]
        impact: String,
        /// The first update's text.
        #[arg(long)]
        message: String,
        /// investigating (default), identified, monitoring or resolved.
        #[arg(long)]
        status: Option<String>,
        /// An affected component id; repeat for several.
        #[arg(long = "component")]
        components: Vec<String>,
    },
    /// Add an update to an incident's timeline.
    Update {
        id: i64,
        /// investigating, identified, monitoring or resolved.
        #[arg(long)]
        status: String,
        #[arg(long)]
        message: String,
        /// Change the impact: none, minor, major or critical.
        #[arg(long)]
        impact: Option<String>,
    },
    /// Resolve an incident (an update with status resolved).
    Resolve {
        id: i64,
        #[arg(long)]
        message: String,
    },
    /// Active incidents; with --resolved, the recently resolved ones too.
    List {
        #[arg(long)]
        resolved: bool,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum MaintenanceAction {
    /// Schedule a window: the components are under maintenance from --starts to --ends.
    Add {
        #[arg(long)]
        title: String,
        /// RFC 3339, e.g. 2026-12-01T22:00:00Z.
        #[arg(long)]
        starts: String,
        #[arg(long)]
        ends: String,
        /// A component id; repeat for several.
        #[arg(long = "component", required = true)]
        components: Vec<String>,
    },
    /// Windows that are active or to come.
    List,
    /// Cancel a window by id.
    Cancel { id: i64 },
}
