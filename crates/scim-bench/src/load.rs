//! Running one workload: `concurrency` workers, each with its own
//! keep-alive connection, sending requests back to back for a warm-up and
//! then a bounded measurement window; latencies go into HDR histograms.

use crate::client::{Conn, Method};
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request a workload asks for.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<Vec<u8>>,
    /// Whether this request is the workload's measured operation (W5 also
    /// sends unmeasured removals that keep the group at its size).
    pub measured: bool,
}

impl Req {
    pub fn get(path: String) -> Req {
        Req {
            method: Method::Get,
            path,
            body: None,
            measured: true,
        }
    }

    pub fn with_body(method: Method, path: String, body: Vec<u8>) -> Req {
        Req {
            method,
            path,
            body: Some(body),
            measured: true,
        }
    }
}

/// What a worker keeps between its requests.
pub struct Worker {
    pub index: usize,
    pub rng: Rng,
    /// Requests this worker has made (for unique names).
    pub seq: u64,
    /// W5: the member this worker added last and must remove next.
    pub pending: Option<String>,
}

/// The next request of a workload, for one worker.
pub type Next = Arc<dyn Fn(&mut Worker) -> Req + Send + Sync>;

/// A tiny deterministic generator (xorshift64): each worker its own, so
/// picks cost no locking and runs are repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// How a workload went.
pub struct Outcome {
    /// Measured requests answered inside the window.
    pub requests: u64,
    pub window: Duration,
    /// Microseconds.
    pub hist: Histogram<u64>,
    pub status_5xx: u64,
    /// Any other non-2xx status (the workloads expect only 2xx).
    pub status_other: u64,
    pub socket_errors: u64,
    /// The first failure seen, to say what went wrong.
    pub first_error: Option<String>,
    /// Every request answered inside the window, measured or not.
    pub answered: u64,
    /// Server CPU time used during the window (all its threads).
    pub server_cpu: Option<Duration>,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64().max(1e-9)
    }

    pub fn p50_us(&self) -> u64 {
        self.hist.value_at_quantile(0.50)
    }

    pub fn p99_us(&self) -> u64 {
        self.hist.value_at_quantile(0.99)
    }

    /// Server CPU time per answered request: the cost of one request,
    /// nearly independent of what else runs on a shared machine.
    pub fn cpu_per_request(&self) -> Option<Duration> {
        let cpu = self.server_cpu?;
        (self.answered > 0).then(|| cpu / u32::try_from(self.answered).unwrap_or(u32::MAX))
    }

    pub fn errors(&self) -> u64 {
        self.status_5xx + self.status_other + self.socket_errors
    }

    fn merge(&mut self, other: Outcome) {
        self.requests += other.requests;
        let _ = self.hist.add(&other.hist);
        self.status_5xx += other.status_5xx;
        self.status_other += other.status_other;
        self.socket_errors += other.socket_errors;
        self.answered += other.answered;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn empty(window: Duration) -> Outcome {
        Outcome {
            requests: 0,
            window,
            hist: new_hist(),
            status_5xx: 0,
            status_other: 0,
            socket_errors: 0,
            first_error: None,
            answered: 0,
            server_cpu: None,
        }
    }
}

/// 1 µs to 60 s with three significant digits.
#[allow(clippy::expect_used, reason = "constant bounds that are valid; only bad bounds fail")]
fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// The load settings shared by every workload of a run.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub addr: SocketAddr,
    pub concurrency: usize,
    pub warmup: Duration,
    pub window: Duration,
    /// The server process, whose CPU time is read around the window.
    pub server_pid: Option<u32>,
}

/// CPU time (user + system, all threads) a process has used so far, from
/// /proc/PID/stat in clock ticks (100 a second on Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces: state is 3rd,
    // utime the 14th and stime the 15th field of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Runs a workload: `concurrency` workers for `warmup + window`; only
/// requests started inside the window are counted.
pub async fn run(load: Load, token: &str, seed: u64, next: Next) -> Outcome {
    let started = Instant::now();
    let measure_from = started + load.warmup;
    let until = measure_from + load.window;
    let cpu_probe = load.server_pid.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            let before = cpu_ticks(pid);
            tokio::time::sleep_until(until.into()).await;
            let after = cpu_ticks(pid);
            match (before, after) {
                (Some(b), Some(a)) => Some(Duration::from_millis(a.saturating_sub(b) * 10)),
                _ => None,
            }
        })
    });
    let mut tasks = Vec::with_capacity(load.concurrency);
    for index in 0..load.concurrency {
        let next = next.clone();
        let token = token.to_string();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(load.addr, Some(&token));
            let mut worker = Worker {
                index,
                rng: Rng::new(seed ^ ((index as u64 + 1) << 32)),
                seq: 0,
                pending: None,
            };
            let mut out = Outcome::empty(load.window);
            loop {
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                let req = next(&mut worker);
                worker.seq += 1;
                let result = conn.request(req.method, &req.path, req.body.as_deref()).await;
                let in_window = t0 >= measure_from;
                let counted = req.measured && in_window;
                if in_window && result.is_ok() {
                    out.answered += 1;
                }
                match result {
                    Ok(status) if (200..300).contains(&status) => {
                        if counted {
                            out.requests += 1;
                            let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
                            let _ = out.hist.record(us);
                        }
                    }
                    Ok(status) => {
                        if status >= 500 {
                            out.status_5xx += 1;
                        } else {
                            out.status_other += 1;
                        }
                        if out.first_error.is_none() {
                            let body = String::from_utf8_lossy(conn.body())
                                .chars()
                                .take(300)
                                .collect::<String>();
                            out.first_error = Some(format!("{} {} -> {status}: {body}", req.method.as_str(), req.path));
                        }
                        // W5's removal must follow its own addition only.
                        worker.pending = None;
                    }
                    Err(e) => {
                        out.socket_errors += 1;
                        if out.first_error.is_none() {
                            out.first_error = Some(format!("{} {}: {e}", req.method.as_str(), req.path));
                        }
                        worker.pending = None;
                        // A refused connection would otherwise spin.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            out
        }));
    }
    let mut total = Outcome::empty(load.window);
    if let Some(probe) = cpu_probe {
        total.server_cpu = probe.await.ok().flatten();
    }
    for t in tasks {
        match t.await {
            Ok(o) => total.merge(o),
            Err(e) => {
                total.socket_errors += 1;
                total.first_error.get_or_insert_with(|| format!("worker failed: {e}"));
            }
        }
    }
    total
}
