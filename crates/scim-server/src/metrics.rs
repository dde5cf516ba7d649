//! Prometheus metrics, hand-rolled: counters and histograms are atomics,
//! label sets are looked up under a read lock (written once per new label
//! set), and `/metrics` renders the text exposition format.
//!
//! Labels are bounded: routes are match patterns (`/scim/v2/Users/{id}`),
//! never raw paths, and unmatched requests share one route label.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let n = bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// A map from a label set to a metric, created on first use.
#[derive(Debug)]
struct Family<K: Ord, V> {
    items: RwLock<BTreeMap<K, Arc<V>>>,
}

impl<K: Ord + Clone, V: Default> Family<K, V> {
    fn new() -> Self {
        Family {
            items: RwLock::new(BTreeMap::new()),
        }
    }

    fn get(&self, key: &K) -> Arc<V> {
        if let Some(v) = self
            .items
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
        {
            return v.clone();
        }
        let mut items = self.items.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        items.entry(key.clone()).or_default().clone()
    }

    fn snapshot(&self) -> Vec<(K, Arc<V>)> {
        self.items
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Everything `/metrics` shows.
#[derive(Debug)]
pub struct Metrics {
    /// (method, route, status) -> count.
    requests: Family<(String, String, u16), AtomicU64>,
    /// (method, route) -> latency.
    latency: Family<(String, String), Histogram>,
    /// store operation -> latency.
    store_ops: Family<&'static str, Histogram>,
    /// store operation -> failures other than NotFound/Conflict-type outcomes.
    store_errors: Family<&'static str, AtomicU64>,
    token_cache_hits: AtomicU64,
    token_cache_misses: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            requests: Family::new(),
            latency: Family::new(),
            store_ops: Family::new(),
            store_errors: Family::new(),
            token_cache_hits: AtomicU64::new(0),
            token_cache_misses: AtomicU64::new(0),
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let (method, route) = (method.to_string(), route.to_string());
        self.requests
            .get(&(method.clone(), route.clone(), status))
            .fetch_add(1, Ordering::Relaxed);
        self.latency.get(&(method, route)).observe(elapsed);
    }

    pub fn observe_store(&self, op: &'static str, elapsed: Duration, failed: bool) {
        self.store_ops.get(&op).observe(elapsed);
        if failed {
            self.store_errors.get(&op).fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn token_cache_hit(&self) {
        self.token_cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn token_cache_miss(&self) {
        self.token_cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP scim_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE scim_http_requests_total counter\n");
        for ((method, route, status), n) in self.requests.snapshot() {
            let _ = writeln!(
                out,
                "scim_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(&method),
                escape(&route),
                n.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP scim_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE scim_http_request_duration_seconds histogram\n");
        for ((method, route), h) in self.latency.snapshot() {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(&method), escape(&route));
            h.render(&mut out, "scim_http_request_duration_seconds", &labels);
        }
        out.push_str("# HELP scim_store_operation_duration_seconds Store call latency by operation.\n");
        out.push_str("# TYPE scim_store_operation_duration_seconds histogram\n");
        for (op, h) in self.store_ops.snapshot() {
            h.render(
                &mut out,
                "scim_store_operation_duration_seconds",
                &format!("op=\"{op}\""),
            );
        }
        out.push_str("# HELP scim_store_errors_total Store calls that failed unexpectedly (unavailable, backend).\n");
        out.push_str("# TYPE scim_store_errors_total counter\n");
        for (op, n) in self.store_errors.snapshot() {
            let _ = writeln!(
                out,
                "scim_store_errors_total{{op=\"{op}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        for (name, help, v) in [
            (
                "scim_token_cache_hits_total",
                "Requests authenticated from the token cache.",
                &self.token_cache_hits,
            ),
            (
                "scim_token_cache_misses_total",
                "Requests whose token was not in the cache.",
                &self.token_cache_misses,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// Label values escape backslash, quote and newline.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let m = Metrics::new();
        m.observe_request("GET", "/scim/v2/Users", 200, Duration::from_millis(3));
        m.observe_request("GET", "/scim/v2/Users", 200, Duration::from_millis(30));
        m.observe_store("get", Duration::from_micros(200), false);
        m.token_cache_hit();
        let text = m.render();
        assert!(text.contains("scim_http_requests_total{method=\"GET\",route=\"/scim/v2/Users\",status=\"200\"} 2"));
        assert!(text.contains(
            "scim_http_request_duration_seconds_bucket{method=\"GET\",route=\"/scim/v2/Users\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "scim_http_request_duration_seconds_bucket{method=\"GET\",route=\"/scim/v2/Users\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("scim_store_operation_duration_seconds_count{op=\"get\"} 1"));
        assert!(text.contains("scim_token_cache_hits_total 1"));
        assert!(text.contains("scim_token_cache_misses_total 0"));
    }
}
