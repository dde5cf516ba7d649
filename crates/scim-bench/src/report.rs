//! The printed report: how the run was made, and one table row per
//! workload with its ratio to the ceiling measured in the same run.

use crate::load::Outcome;
use crate::rss::RssReport;

/// One row of the table.
pub struct Row {
    pub name: String,
    pub outcome: Outcome,
    /// What the ratio is taken against, e.g. "healthz" or "raw insert".
    pub against: String,
    /// The ratio, and the target it is held to (`ratio >= min` unless
    /// `at_most`).
    pub ratio: Option<f64>,
    pub target: Option<Target>,
}

#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    fn holds(self, ratio: f64) -> bool {
        match self {
            Target::AtLeast(t) => ratio >= t,
            Target::AtMost(t) => ratio <= t,
        }
    }

    fn text(self) -> String {
        match self {
            Target::AtLeast(t) => format!(">= {t}x"),
            Target::AtMost(t) => format!("<= {t}x"),
        }
    }
}

impl Row {
    /// Whether the row meets its target and had no 5xx or socket error.
    pub fn ok(&self) -> bool {
        let target_ok = match (self.ratio, self.target) {
            (Some(r), Some(t)) => t.holds(r),
            _ => true,
        };
        target_ok && self.outcome.status_5xx == 0 && self.outcome.socket_errors == 0
    }
}

pub fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn cpu(o: &Outcome) -> String {
    o.cpu_per_request()
        .map(|d| format!("{} µs", d.as_micros()))
        .unwrap_or_default()
}

fn errors(o: &Outcome) -> String {
    if o.errors() == 0 {
        return "0".into();
    }
    let mut parts = Vec::new();
    if o.status_5xx > 0 {
        parts.push(format!("{} 5xx", o.status_5xx));
    }
    if o.status_other > 0 {
        parts.push(format!("{} other", o.status_other));
    }
    if o.socket_errors > 0 {
        parts.push(format!("{} socket", o.socket_errors));
    }
    parts.join(", ")
}

/// The first cells of a table row: name, rate, latencies, errors, CPU.
fn measured(name: &str, o: &Outcome) -> String {
    format!(
        "| {name} | {:.0} | {} | {} | {} | {} |",
        o.rate(),
        ms(o.p50_us()),
        ms(o.p99_us()),
        errors(o),
        cpu(o)
    )
}

/// The Markdown table of the rows.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| workload | req/s | p50 | p99 | errors | server CPU/req | ratio | target | |\n|---|---:|---:|---:|---:|---:|---|---|---|\n",
    );
    for r in rows {
        let o = &r.outcome;
        let ratio = match r.ratio {
            Some(x) => format!("{x:.2}x {}", r.against),
            None => r.against.clone(),
        };
        let target = r.target.map(Target::text).unwrap_or_default();
        let verdict = match (r.target, r.ok()) {
            (None, true) => "",
            (Some(_), true) if r.ratio.is_none() => "",
            (_, true) => "ok",
            (_, false) => "MISSED",
        };
        out.push_str(&format!("{} {ratio} | {target} | {verdict} |\n", measured(&r.name, o)));
    }
    out
}

/// The floor table (`floor.rs`). Each floor's rate is shown against its
/// ceiling (the real /healthz rate, or the raw insert rate for W1), then
/// as the best a real server could do: the floor plus what every real
/// request pays and the bare /healthz floor does not (the real /healthz
/// time minus the bare one: request id, span, log line, metrics; not for
/// W1, whose rate is bound by commits rather than CPU). When even that
/// best misses the target, the target is out of reach on this stack; for
/// the /healthz shares, the ratio could only rise by making every request
/// slower.
pub fn floors(floors: &[crate::floor::Measured], ceiling: f64, raw: Option<f64>) -> String {
    use crate::floor::Share;
    let bare = floors.first().map(|f| f.outcome.rate());
    // Seconds per request that every real request adds to a bare one.
    let middleware = bare.map(|b| (1.0 / ceiling - 1.0 / b).max(0.0)).unwrap_or(0.0);
    let mut out = String::from(
        "| floor | req/s | p50 | p99 | errors | server CPU/req | of its ceiling | best real ratio | target | |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for (i, f) in floors.iter().enumerate() {
        let o = &f.outcome;
        // A create is not bound by the server's CPU but by commits: the
        // middleware's time hides in the wait, so its floor is its best.
        let best_rate = match f.target {
            Some(Share::RawInsert(_)) => o.rate(),
            _ => 1.0 / (1.0 / o.rate() + middleware),
        };
        let (of, against, target) = match f.target {
            Some(Share::RawInsert(t)) => (raw.unwrap_or(f64::NAN), "raw insert", Some(t)),
            Some(Share::Healthz(t)) => (ceiling, "/healthz", Some(t)),
            None => (ceiling, "/healthz", None),
        };
        let (share, best) = (o.rate() / of, best_rate / of);
        let verdict = match target {
            Some(t) if best < t => "out of reach on this stack",
            Some(_) => "within reach",
            None => "",
        };
        let target = target.map(|t| format!(">= {t}x")).unwrap_or_default();
        let best = if i == 0 { String::new() } else { format!("{best:.2}x") };
        out.push_str(&format!(
            "{} {share:.2}x {against} | {best} | {target} | {verdict} |\n",
            measured(f.name, o)
        ));
    }
    out
}

/// The memory and start-up section.
pub fn rss(r: &RssReport) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut out = format!(
        "Database: {} users written straight into SQLite (the rows the store writes per create) in {:.1} s, {:.0} MiB file; server CPUs {}\n\n",
        r.users,
        r.generate.as_secs_f64(),
        r.db_bytes as f64 / 1048576.0,
        r.server_cpus
    );
    let starts: Vec<String> = r
        .startups
        .iter()
        .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
        .collect();
    let worst = r.startups.iter().max().copied().unwrap_or_default();
    out.push_str(&format!(
        "Start-up to /readyz 200 on the existing database: {} (target < 200 ms: {})\n\n",
        starts.join(", "),
        if worst.as_millis() < 200 { "ok" } else { "MISSED" }
    ));
    out.push_str(
        "| workload on 1M users | req/s | p50 | p99 | errors | server CPU/req | peak RSS | of which anon / file |\n|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for (name, o, m) in &r.runs {
        out.push_str(&format!(
            "| {name} | {:.0} | {} | {} | {} | {} | {:.1} MiB | {:.1} / {:.1} MiB |\n",
            o.rate(),
            ms(o.p50_us()),
            ms(o.p99_us()),
            errors(o),
            cpu(o),
            mib(m.rss),
            mib(m.anon),
            mib(m.file)
        ));
    }
    let ok = r.end.hwm < 64 * 1024;
    out.push_str(&format!(
        "\nVmHWM (peak resident set over the whole process life): {:.1} MiB (target < 64 MiB: {}); \
         VmRSS at the end {:.1} MiB (anon {:.1}, file {:.1})\n",
        mib(r.end.hwm),
        if ok { "ok" } else { "MISSED" },
        mib(r.end.rss),
        mib(r.end.anon),
        mib(r.end.file)
    ));
    out
}
