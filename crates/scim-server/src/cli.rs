//! The command line: `serve` (the default), tenants, tokens, the audit log,
//! migrations and the configuration check.
//!
//! Output rule: what a command produces goes to stdout (a token, a list,
//! audit events, the checked configuration); everything else (logs,
//! notices) goes to stderr, so `TOKEN=$(scim-server token create ...)`
//! captures exactly the token.

use crate::admin::{self, AdminError};
use crate::app::{self, StartError};
use crate::config::{Config, ConfigError};
use crate::observability::{self, ObservabilityError};
use crate::store::{self, OpenError};
use clap::{Parser, Subcommand};
use scim_store::{AuditEvent, AuditQuery, Store, StoreError, rfc3339};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "scim-server",
    version,
    about = "A SCIM 2.0 provisioning server (RFC 7643/7644)"
)]
pub struct Cli {
    /// The configuration file; else $SCIM_CONFIG, else ./scim-server.toml
    /// when present, else the built-in defaults. SCIM__SECTION__KEY
    /// environment variables override it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve SCIM over HTTP(S) (the default).
    Serve,
    /// Create, list and delete tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Create, list and revoke bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print audit events, oldest first.
    Audit(AuditArgs),
    /// Open the store and apply its pending migrations.
    Migrate,
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    Create {
        name: String,
    },
    List,
    /// Deletes the tenant with all its users, groups, tokens and audit events.
    Delete {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Prints the new token on stdout, once; only its hash is stored.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        description: Option<String>,
        /// Binds the token to this user id of the tenant: /Me then means
        /// that user.
        #[arg(long, value_name = "ID")]
        user: Option<String>,
    },
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoked tokens stop working everywhere within `[auth] cache_ttl_secs`.
    Revoke { id: String },
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only this tenant (default: all).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only events at or after TIME: RFC 3339 (2024-05-01T12:00:00Z) or an
    /// age such as 30m, 12h, 7d.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events about this resource id.
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validates the configuration and prints it, with secrets redacted.
    Check,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Log(#[from] ObservabilityError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot wait for shutdown signals: {0}")]
    Signal(std::io::Error),
    #[error("cannot write to stdout: {0}")]
    Output(std::io::Error),
}

/// One line of command output on stdout. A closed pipe (`| head`) is an
/// error to stop on, not a panic as with `println!`.
fn emit(line: impl std::fmt::Display) -> Result<(), CliError> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{line}").map_err(CliError::Output)
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = Config::load(cli.config.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config(ConfigCommand::Check) = command {
        emit(config.to_toml()?.trim_end())?;
        eprintln!("configuration OK (backend '{}')", config.storage.backend);
        return Ok(());
    }
    observability::init_tracing(&config.log)?;
    match command {
        Command::Serve => serve(config).await,
        Command::Config(ConfigCommand::Check) => Ok(()),
        Command::Migrate => {
            // Opening applies what is pending (SQLite, PostgreSQL; Redis
            // has no schema), under a lock where instances may race.
            let (store, shown) = store::open_described(&config, Arc::new(config.registry()?)).await?;
            let _ = tokio::task::spawn_blocking(move || drop(store)).await;
            eprintln!("{shown}: the store is up to date");
            Ok(())
        }
        other => {
            let store = store::open(&config, Arc::new(config.registry()?)).await?;
            let result = admin_command(store.as_ref(), other).await;
            // Closing may join SQLite's writer thread.
            let _ = tokio::task::spawn_blocking(move || drop(store)).await;
            result
        }
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let public = config.public_origin();
    let running = app::start(config).await?;
    if let Some(token) = app::bootstrap(running.store.as_ref()).await? {
        let base = match public {
            Some(origin) => format!("{origin}{}", crate::http::BASE_PATH),
            None => running.base_url.clone(),
        };
        eprintln!("{}", first_run_notice(&base, &token));
    }
    let signal = shutdown_signal().await;
    match &signal {
        Ok(name) => tracing::info!(signal = name, "shutting down: finishing in-flight requests"),
        Err(e) => tracing::error!(error = %e, "cannot wait for signals; shutting down"),
    }
    running.stop().await;
    tracing::info!("stopped");
    signal.map(|_| ()).map_err(CliError::Signal)
}

fn first_run_notice(base: &str, token: &str) -> String {
    let rule = "=".repeat(78);
    format!(
        "\n{rule}\n  First start: created tenant 'default' and a bearer token for it.\n\n  \
         Give your identity provider (Entra ID: Tenant URL / Secret Token;\n  \
         Okta: SCIM connector base URL / Bearer token):\n\n    \
         Base URL:  {base}\n    \
         Token:     {token}\n\n  \
         The token is shown only this once; only its hash is stored. More with\n  \
         `scim-server token create --tenant default`. Identity providers call\n  \
         HTTPS only: configure [server.tls] or a TLS proxy (docs/idp-setup.md).\n{rule}\n"
    )
}

#[cfg(unix)]
async fn shutdown_signal() -> Result<&'static str, std::io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => Ok("SIGTERM"),
        _ = int.recv() => Ok("SIGINT"),
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() -> Result<&'static str, std::io::Error> {
    tokio::signal::ctrl_c().await.map(|_| "Ctrl-C")
}

async fn admin_command(store: &dyn Store, command: Command) -> Result<(), CliError> {
    match command {
        Command::Tenant(TenantCommand::Create { name }) => {
            let t = admin::create_tenant(store, &name).await?;
            eprintln!("created tenant '{}' (id {})", t.name, t.id);
        }
        Command::Tenant(TenantCommand::List) => {
            for t in store.tenants().await? {
                emit(format_args!("{}\t{}\t{}", t.name, t.id, rfc3339(t.created)))?;
            }
        }
        Command::Tenant(TenantCommand::Delete { name }) => {
            let t = admin::delete_tenant(store, &name).await?;
            eprintln!("deleted tenant '{}' with all its data", t.name);
        }
        Command::Token(TokenCommand::Create {
            tenant,
            description,
            user,
        }) => {
            let (record, token) = admin::create_token(store, &tenant, description.as_deref(), user.as_deref()).await?;
            eprintln!(
                "created token {} for tenant '{tenant}'; it is shown only now:",
                record.id
            );
            emit(&token)?;
        }
        Command::Token(TokenCommand::List { tenant }) => {
            let names = tenant_names(store).await?;
            let tenant_id = match tenant {
                Some(name) => Some(admin::tenant(store, &name).await?.id),
                None => None,
            };
            emit("ID\tTENANT\tCREATED\tLAST USED\tREVOKED\tUSER\tDESCRIPTION")?;
            for t in store.tokens(tenant_id.as_deref()).await? {
                let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(rfc3339).unwrap_or_else(|| "-".into());
                emit(format_args!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    names.get(&t.tenant).map(String::as_str).unwrap_or(&t.tenant),
                    rfc3339(t.created),
                    when(t.last_used),
                    when(t.revoked),
                    t.user.as_deref().unwrap_or("-"),
                    t.description.as_deref().unwrap_or("")
                ))?;
            }
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            admin::revoke_token(store, &id).await?;
            eprintln!("revoked token {id}");
        }
        Command::Audit(args) => audit(store, args).await?,
        Command::Serve | Command::Migrate | Command::Config(_) => {}
    }
    Ok(())
}

async fn tenant_names(store: &dyn Store) -> Result<HashMap<String, String>, CliError> {
    Ok(store.tenants().await?.into_iter().map(|t| (t.id, t.name)).collect())
}

async fn audit(store: &dyn Store, args: AuditArgs) -> Result<(), CliError> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let names = tenant_names(store).await?;
    let tenants = match &args.tenant {
        Some(name) => vec![admin::tenant(store, name).await?.id],
        None => {
            let mut ids: Vec<String> = names.keys().cloned().collect();
            ids.sort();
            ids
        }
    };
    let query = AuditQuery {
        after_seq: None,
        since,
        resource_id: args.resource.clone(),
        limit: args.limit,
    };
    let mut events: Vec<AuditEvent> = Vec::new();
    for t in &tenants {
        events.extend(store.audit(t, &query).await?);
    }
    events.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then(a.tenant.cmp(&b.tenant))
            .then(a.seq.cmp(&b.seq))
    });
    events.truncate(usize::try_from(args.limit).unwrap_or(usize::MAX));
    for e in events {
        if args.json {
            match serde_json::to_string(&e) {
                Ok(line) => emit(line)?,
                Err(err) => return Err(CliError::Usage(format!("cannot render an audit event: {err}"))),
            }
        } else {
            emit(format_args!(
                "{} {} #{} {} {} {} v{} actor={} request={} {}",
                rfc3339(e.time),
                names.get(&e.tenant).map(String::as_str).unwrap_or(&e.tenant),
                e.seq,
                e.op.as_str(),
                e.kind.as_str(),
                e.resource_id,
                e.version,
                e.actor.as_deref().unwrap_or("-"),
                e.request_id,
                e.change
            ))?;
        }
    }
    Ok(())
}

/// RFC 3339, or an age: `90s`, `30m`, `12h`, `7d`.
fn parse_since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, CliError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let bad = || {
        CliError::Usage(format!(
            "--since '{text}': expected RFC 3339 or an age such as 30m, 12h, 7d"
        ))
    };
    let (n, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let age = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(chrono::Utc::now() - age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let cli = Cli::try_parse_from(["scim-server"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from([
            "scim-server",
            "token",
            "create",
            "--tenant",
            "acme",
            "--description",
            "Entra",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::Token(TokenCommand::Create { .. }))));
        let cli = Cli::try_parse_from([
            "scim-server",
            "audit",
            "--tenant",
            "acme",
            "--since",
            "2h",
            "--limit",
            "5",
            "--json",
            "--config",
            "x.toml",
        ])
        .unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("x.toml")));
        assert!(Cli::try_parse_from(["scim-server", "token", "create"]).is_err());
        Cli::try_parse_from(["scim-server", "config", "check"]).unwrap();
        Cli::try_parse_from(["scim-server", "tenant", "delete", "acme"]).unwrap();
    }

    #[test]
    fn since_accepts_times_and_ages() {
        let t = parse_since("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(rfc3339(t), "2024-05-01T12:00:00.000Z");
        let age = chrono::Utc::now() - parse_since("2h").unwrap();
        assert!((age.num_minutes() - 120).abs() <= 1);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("5w").is_err());
    }
}
