//! `scim-bench`: the load benchmark over real HTTP (docs/performance.md).
//!
//! Starts the real `scim-server` binary on a temporary SQLite database
//! (pinned with `taskset` to `--server-cpus`, while the benchmark runs on
//! `--load-cpus`), preloads users and groups through the API, runs each
//! workload at `--concurrency` for `--seconds`, measures the ceilings in
//! the same run (GET /healthz on the same server; a raw one-row-per-
//! transaction SQLite insert loop at the same `synchronous`), and prints
//! each workload as a ratio to its ceiling. `--mode rss` (or `all`) adds
//! the memory and start-up check on 1,000,000 users. With `--url` and
//! `--token` it loads a server that is already running instead.

mod ceiling;
mod client;
mod floor;
mod load;
mod report;
mod reuse;
mod rss;
mod server;
mod workloads;

use clap::{Parser, ValueEnum};
use load::{Load, Next};
use report::{Row, Target};
use server::{Server, Spec};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The floor server (`floor.rs`, this binary run as `--floor-server`)
/// allocates with the real server's allocator, or the floors would carry a
/// cost the real server does not pay.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Set in the environment of the re-executed, pinned benchmark.
const PINNED_ENV: &str = "SCIM_BENCH_PINNED";

#[derive(Debug, Clone, Parser)]
#[command(name = "scim-bench", about = "Load benchmark of scim-server over HTTP")]
struct Args {
    /// What to run: the workloads, the 1M-user memory/start-up check, or both.
    #[arg(long, value_enum, default_value_t = Mode::Main)]
    mode: Mode,
    /// Seconds each workload is measured (after a warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Warm-up seconds before each measurement (not counted).
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Concurrent workers, one keep-alive connection each.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Users preloaded through the API.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Group sizes of W5.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,50000")]
    groups: Vec<usize>,
    /// Only these workloads (healthz, W1..W6), e.g. `--only W2,W3`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Users in the memory check's database.
    #[arg(long, default_value_t = 1_000_000)]
    rss_users: usize,
    /// Seconds each read workload runs in the memory check.
    #[arg(long, default_value_t = 10)]
    rss_seconds: u64,
    /// CPUs (taskset list) for the server; empty: not pinned.
    #[arg(long, default_value = "0")]
    server_cpus: String,
    /// CPUs (taskset list) for this load generator; empty: not pinned.
    #[arg(long, default_value = "1")]
    load_cpus: String,
    /// `[storage.sqlite] synchronous` of the server and the raw ceiling.
    #[arg(long, default_value = "full")]
    synchronous: String,
    /// The server's `[log] level`; empty: its default (info, one line per
    /// request, written to a file in the run directory).
    #[arg(long, default_value = "")]
    log_level: String,
    /// The scim-server binary; default: next to this one.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Where the run directory is made; default: the system temp dir.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the run directory (databases, server logs).
    #[arg(long)]
    keep: bool,
    /// Run on the database of an earlier `--keep` run in this directory
    /// instead of preloading a new one (for profiling: the same data, no
    /// minute of preloading). Its users and the groups of `--groups` are
    /// read from the file; W1, W4 and W5 change them, as in any run.
    #[arg(long, conflicts_with = "url")]
    reuse: Option<PathBuf>,
    /// A running server's base URL (`http://host:port/scim/v2`) instead of
    /// starting one; needs `--token`.
    #[arg(long, requires = "token")]
    url: Option<String>,
    #[arg(long)]
    token: Option<String>,
    /// Skip the floors (`floor.rs`) that follow W1, W2, W3 and W6.
    #[arg(long)]
    no_floor: bool,
    /// Internal: serve the floor on this database (started by the run).
    #[arg(long, hide = true)]
    floor_server: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Main,
    Rss,
    All,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(db) = &args.floor_server {
        return match floor::serve(db, &args.synchronous) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(code) = pin_self(&args) {
        return code;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Re-executes this benchmark under `taskset -c LOAD_CPUS` once; returns
/// the child's exit code, or `None` when already pinned (or not asked to).
fn pin_self(args: &Args) -> Option<ExitCode> {
    if args.load_cpus.is_empty() || std::env::var_os(PINNED_ENV).is_some() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let status = std::process::Command::new("taskset")
        .arg("-c")
        .arg(&args.load_cpus)
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(PINNED_ENV, "1")
        .status();
    match status {
        Ok(s) => Some(ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1))),
        Err(e) => {
            eprintln!("warning: cannot pin with taskset ({e}); running unpinned");
            None
        }
    }
}

pub(crate) fn progress(msg: impl std::fmt::Display) {
    eprintln!("[scim-bench] {msg}");
}

/// The run directory, removed at the end unless `--keep`.
struct RunDir {
    path: PathBuf,
    keep: bool,
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = match &args.reuse {
        Some(path) => RunDir {
            path: path.clone(),
            keep: true,
        },
        None => RunDir {
            path: base.join(format!("scim-bench-{run_id}")),
            keep: args.keep,
        },
    };
    std::fs::create_dir_all(&dir.path).map_err(|e| format!("cannot create {}: {e}", dir.path.display()))?;
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this binary: {e}"))?
            .with_file_name("scim-server"),
    };
    let spec = Spec {
        bin,
        db: dir.path.join("scim.db"),
        cpus: args.server_cpus.clone(),
        synchronous: args.synchronous.clone(),
        log_level: args.log_level.clone(),
    };
    println!("{}", how_it_ran(&args, &dir.path));
    let mut all_ok = true;
    if args.mode != Mode::Rss {
        all_ok &= main_run(&args, &spec, &run_id).await?;
    }
    if args.mode != Mode::Main {
        if args.url.is_some() {
            return Err("the memory check starts its own server; it cannot use --url".into());
        }
        let spec = Spec {
            db: dir.path.join("rss.db"),
            ..spec
        };
        progress(format!("memory check: writing {} users into SQLite", args.rss_users));
        let r = rss::check(
            &spec,
            args.rss_users,
            args.concurrency,
            Duration::from_secs(args.rss_seconds),
        )
        .await?;
        println!("\n## Memory and start-up ({} users)\n\n{}", r.users, report::rss(&r));
        all_ok &= r.end.hwm < 64 * 1024 && r.startups.iter().all(|d| d.as_millis() < 200);
        all_ok &= r.runs.iter().all(|(_, o, _)| o.status_5xx == 0 && o.socket_errors == 0);
    }
    println!("load average at the end: {}", loadavg());
    Ok(all_ok)
}

fn wanted(args: &Args, name: &str) -> bool {
    args.only.is_empty() || args.only.iter().any(|o| o.eq_ignore_ascii_case(name))
}

async fn main_run(args: &Args, spec: &Spec, run_id: &str) -> Result<bool, String> {
    let (server, addr, token) = match (&args.url, &args.token) {
        (Some(url), Some(token)) => (None, addr_of(url)?, token.clone()),
        _ => {
            let token = spec.tenant_with_token("bench", args.reuse.is_none())?;
            let server = Server::start(spec).await?;
            progress(format!(
                "server pid {} on {} (CPUs {}), ready in {:.0} ms",
                server.pid,
                server.addr,
                server.cpus(),
                server.startup.as_secs_f64() * 1000.0
            ));
            let addr = server.addr;
            (Some(server), addr, token)
        }
    };
    let load = Load {
        addr,
        concurrency: args.concurrency,
        warmup: Duration::from_secs(args.warmup),
        window: Duration::from_secs(args.seconds),
        server_pid: server.as_ref().map(|s| s.pid),
    };
    let needs_users = ["W2", "W3", "W4", "W5", "W6"].iter().any(|w| wanted(args, w));
    let mut users = std::sync::Arc::new(Vec::new());
    let reused = match &args.reuse {
        Some(_) => Some(reuse::read(&spec.db, &args.groups)?),
        None => None,
    };
    if let Some(r) = &reused {
        users = std::sync::Arc::new(r.users.clone());
        println!(
            "Reused: {} users and groups {:?} of {}\n",
            r.users.len(),
            args.groups,
            spec.db.display()
        );
    } else if needs_users && args.users > 0 {
        progress(format!("preloading {} users through POST /Bulk", args.users));
        let (ids, took) = workloads::timed(workloads::load_users(addr, &token, args.users, args.concurrency)).await;
        users = std::sync::Arc::new(ids?);
        println!(
            "Preload: {} users through POST /Bulk (1,000 operations a request, {} at a time) in {:.1} s ({:.0} users/s)\n",
            args.users,
            args.concurrency,
            took.as_secs_f64(),
            args.users as f64 / took.as_secs_f64()
        );
    }
    let mut groups = Vec::new();
    if let Some(r) = reused {
        groups = r.groups.into_iter().filter(|_| wanted(args, "W5")).collect();
    } else if wanted(args, "W5") && !users.is_empty() {
        progress(format!("creating groups of {:?} members", args.groups));
        let (g, took) = workloads::timed(workloads::load_groups(addr, &token, &users, &args.groups)).await;
        groups = g?;
        println!(
            "Groups: {:?} members through PATCH add (1,000 members a request) in {:.1} s\n",
            args.groups,
            took.as_secs_f64()
        );
    }
    let n = users.len();
    let mut seed = 1u64;
    let mut run = |name: &str, next: Next| {
        seed += 1;
        let (token, name) = (token.clone(), name.to_string());
        async move {
            progress(format!(
                "{name}: {} s at concurrency {}",
                load.window.as_secs(),
                load.concurrency
            ));
            let o = load::run(load, &token, seed, next).await;
            if let Some(e) = &o.first_error {
                progress(format!("{name}: first error: {e}"));
            }
            o
        }
    };
    let mut healthz = Vec::new();
    if wanted(args, "healthz") {
        healthz.push(run("healthz", workloads::healthz()).await);
    }
    let mut rows: Vec<(String, load::Outcome)> = Vec::new();
    if wanted(args, "W2") && n > 0 {
        rows.push((
            "W2 GET /Users/{id}".into(),
            run("W2", workloads::w2_get(workloads::BASE, users.clone())).await,
        ));
    }
    if wanted(args, "W3") && n > 0 {
        rows.push((
            "W3 GET /Users?filter=userName eq".into(),
            run("W3", workloads::w3_filter(workloads::BASE, n)).await,
        ));
    }
    if wanted(args, "W6") && n > 0 {
        rows.push((
            "W6 GET /Users?startIndex=rnd&count=100".into(),
            run("W6", workloads::w6_page(workloads::BASE, n)).await,
        ));
    }
    if wanted(args, "W4") && n > 0 {
        rows.push((
            "W4 PATCH /Users/{id}".into(),
            run("W4", workloads::w4_patch(users.clone())).await,
        ));
    }
    for (size, id) in &groups {
        let next = workloads::w5_add_member(users.clone(), id.clone(), *size, args.concurrency);
        rows.push((format!("W5 PATCH group of {size}: add 1"), run("W5", next).await));
    }
    if wanted(args, "W1") {
        rows.push(("W1 POST /Users".into(), run("W1", workloads::w1_create(run_id)).await));
    }
    if wanted(args, "healthz") {
        healthz.push(run("healthz (again)", workloads::healthz()).await);
    }
    let raw = if wanted(args, "W1") {
        progress("raw SQLite insert ceiling");
        let dir = spec.db.parent().map(PathBuf::from).unwrap_or_default();
        let (sync, secs) = (spec.synchronous.clone(), Duration::from_secs(args.seconds.clamp(1, 5)));
        Some(
            tokio::task::spawn_blocking(move || ceiling::raw_inserts(&dir, &sync, secs))
                .await
                .map_err(|e| format!("raw ceiling: {e}"))??,
        )
    } else {
        None
    };
    let ceiling = healthz.iter().map(load::Outcome::rate).fold(0.0, f64::max);
    let ours = server.is_some();
    if let Some(mut s) = server {
        s.stop();
    }
    let (table, ok) = assemble(healthz, rows, raw);
    println!("{table}");
    let floors_wanted = ["W1", "W2", "W3", "W6"].iter().any(|w| wanted(args, w));
    if ours && floors_wanted && !args.no_floor && n > 0 && ceiling <= 0.0 {
        progress("floors skipped: they are measured against /healthz (add healthz to --only)");
    }
    if ours && floors_wanted && !args.no_floor && n > 0 && ceiling > 0.0 {
        let w1 = raw.is_some().then_some(run_id);
        let floors = floor::measure(spec, load, users, w1).await?;
        println!(
            "Floors: the least a server on actix-web and SQLite does per workload (no auth, logging, \
             validation or projection; docs/performance.md), on the same database and CPU:\n\n{}",
            report::floors(&floors, ceiling, raw)
        );
    }
    Ok(ok)
}

/// Orders the rows, computes each ratio against its ceiling.
fn assemble(healthz: Vec<load::Outcome>, rows: Vec<(String, load::Outcome)>, raw: Option<f64>) -> (String, bool) {
    // The higher of the two /healthz runs: the conservative ceiling.
    let ceiling = healthz.iter().map(load::Outcome::rate).fold(0.0, f64::max);
    let rate_of = |prefix: &str| rows.iter().find(|(n, _)| n.starts_with(prefix)).map(|(_, o)| o.rate());
    let p50_of = |size: &str| {
        rows.iter()
            .find(|(n, _)| n.starts_with(&format!("W5 PATCH group of {size}:")))
            .map(|(_, o)| o.p50_us() as f64)
    };
    let w1 = rate_of("W1");
    let smallest_w5 = rows
        .iter()
        .find(|(n, _)| n.starts_with("W5"))
        .and_then(|(n, _)| n.strip_prefix("W5 PATCH group of "))
        .and_then(|s| s.split(':').next())
        .map(str::to_string);
    let w5_base = smallest_w5.as_deref().and_then(p50_of);
    let mut out = Vec::new();
    for (i, h) in healthz.into_iter().enumerate() {
        out.push(Row {
            name: if i == 0 {
                "GET /healthz (HTTP ceiling)".into()
            } else {
                "GET /healthz (again, after)".into()
            },
            outcome: h,
            against: "ceiling".into(),
            ratio: None,
            target: None,
        });
    }
    for (name, o) in rows {
        let (against, ratio, target) = match name.get(..2).unwrap_or("") {
            "W1" => (
                "raw insert".to_string(),
                raw.map(|r| o.rate() / r),
                Some(Target::AtLeast(2.0)),
            ),
            "W2" => ("healthz".into(), Some(o.rate() / ceiling), Some(Target::AtLeast(0.5))),
            "W3" => ("healthz".into(), Some(o.rate() / ceiling), Some(Target::AtLeast(0.4))),
            "W4" => ("W1".into(), w1.map(|w| o.rate() / w), Some(Target::AtLeast(0.8))),
            "W6" => ("healthz".into(), Some(o.rate() / ceiling), Some(Target::AtLeast(0.05))),
            "W5" => {
                let base = w5_base;
                let label = format!("p50 / p50 at {}", smallest_w5.as_deref().unwrap_or("?"));
                let last = name.contains("group of 50000");
                (
                    label,
                    base.map(|b| o.p50_us() as f64 / b),
                    last.then_some(Target::AtMost(1.5)),
                )
            }
            _ => (String::new(), None, None),
        };
        out.push(Row {
            name,
            outcome: o,
            against,
            ratio: ratio.filter(|r| r.is_finite()),
            target,
        });
    }
    let mut text = report::table(&out);
    if let Some(r) = raw {
        text.push_str(&format!(
            "| raw SQLite insert, 1 row per transaction (write ceiling) | {r:.0} | | | | | ceiling | | |\n"
        ));
    }
    let ok = out.iter().all(Row::ok);
    (text, ok)
}

/// `host:port` of a base URL such as `http://127.0.0.1:8080/scim/v2`.
fn addr_of(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("'{url}': only http:// URLs can be loaded"))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    hostport
        .to_socket_addrs()
        .map_err(|e| format!("'{url}': {e}"))?
        .next()
        .ok_or_else(|| format!("'{url}' resolves to nothing"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The machine and the settings, printed first.
fn how_it_ran(args: &Args, dir: &std::path::Path) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "# scim-bench\n\nMachine: {cores} x {cpu}, Linux {}; load average at the start {}\n\
         Server: {} (CPUs {}), SQLite synchronous={}, log level {}, database in {}\n\
         Load: this process on CPUs {}, {} workers, {} s warm-up + {} s per workload\n",
        kernel.trim(),
        loadavg(),
        match &args.url {
            Some(u) => format!("already running at {u}"),
            None => "scim-server serve, release binary, started by the benchmark".into(),
        },
        if args.server_cpus.is_empty() {
            "not pinned"
        } else {
            &args.server_cpus
        },
        args.synchronous,
        if args.log_level.is_empty() {
            "info (default)"
        } else {
            &args.log_level
        },
        dir.display(),
        server::cpus_of("/proc/self/status"),
        args.concurrency,
        args.warmup,
        args.seconds
    )
}
