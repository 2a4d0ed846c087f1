//! Process metrics in the Prometheus text exposition format: requests by route, method and status,
//! request latency histograms by route, database pool usage, and the figures each domain reads from the
//! database when `/metrics` is scraped (its registered collectors: jobs waiting and dead, payments by
//! outcome, tickets issued, webhook deliveries failing).
//!
//! Hand-written rather than a metrics crate: the set is small and fixed, and this keeps the dependency
//! tree lean. Labels are bounded: routes are the matched route templates, never raw paths.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct RouteSeries {
    by_status: BTreeMap<u16, u64>,
    bucket_counts: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Shared, cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    routes: Arc<Mutex<BTreeMap<(String, String), RouteSeries>>>,
    collectors: Arc<Mutex<BTreeMap<&'static str, Collector>>>,
}

/// One gauge value read at scrape time.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The metric's name (`backline_...`).
    pub name: &'static str,
    pub help: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Sample {
    pub fn new(name: &'static str, help: &'static str, value: f64) -> Self {
        Self { name, help, labels: Vec::new(), value }
    }

    pub fn label(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.labels.push((name, value.into()));
        self
    }
}

/// Reads some figures from the database when `/metrics` is scraped.
pub type Collector = Arc<
    dyn Fn(sqlx::PgPool) -> std::pin::Pin<Box<dyn std::future::Future<Output = sqlx::Result<Vec<Sample>>> + Send>>
        + Send
        + Sync,
>;

/// A point-in-time reading of the database pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolReading {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = routes.entry((method.to_owned(), route.to_owned())).or_default();
        *series.by_status.entry(status).or_default() += 1;
        series.count += 1;
        series.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            series.bucket_counts[i] += 1;
        }
    }

    /// Adds (or replaces) the collector named `name`, which `/metrics` runs at each scrape.
    pub fn add_collector(&self, name: &'static str, collector: Collector) {
        self.collectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(name, collector);
    }

    /// Runs every collector (each within two seconds; one that fails or is slow is left out and logged).
    pub async fn collect(&self, pool: &sqlx::PgPool) -> Vec<Sample> {
        let collectors: Vec<Collector> =
            self.collectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect();
        let mut samples = Vec::new();
        for collector in collectors {
            match tokio::time::timeout(Duration::from_secs(2), collector(pool.clone())).await {
                Ok(Ok(found)) => samples.extend(found),
                Ok(Err(err)) => tracing::warn!(error = %err, "a metrics collector failed"),
                Err(_) => tracing::warn!("a metrics collector took more than 2 s"),
            }
        }
        samples
    }

    /// Renders gauges read at scrape time, each metric's HELP and TYPE once.
    pub fn render_samples(samples: &[Sample]) -> String {
        let mut out = String::new();
        let mut named: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
        for sample in samples {
            named.entry(sample.name).or_default().push(sample);
        }
        for (name, group) in named {
            let _ = writeln!(out, "# HELP {name} {}", group[0].help);
            let _ = writeln!(out, "# TYPE {name} gauge");
            for sample in group {
                let labels: Vec<String> = sample.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {}", sample.value);
                } else {
                    let _ = writeln!(out, "{name}{{{}}} {}", labels.join(","), sample.value);
                }
            }
        }
        out
    }

    /// Renders every series, with the pool reading when there is a pool.
    pub fn render(&self, pool: Option<PoolReading>) -> String {
        let mut out = String::with_capacity(4096);
        let routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);

        out.push_str("# HELP backline_http_requests_total HTTP requests answered, by route, method and status.\n");
        out.push_str("# TYPE backline_http_requests_total counter\n");
        for ((method, route), series) in routes.iter() {
            for (status, count) in &series.by_status {
                let _ = writeln!(
                    out,
                    "backline_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(method),
                    escape(route)
                );
            }
        }

        out.push_str(
            "# HELP backline_http_request_duration_seconds Time to answer HTTP requests, by route and method.\n",
        );
        out.push_str("# TYPE backline_http_request_duration_seconds histogram\n");
        for ((method, route), series) in routes.iter() {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(series.bucket_counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "backline_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ =
                writeln!(out, "backline_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", series.count);
            let _ = writeln!(out, "backline_http_request_duration_seconds_sum{{{labels}}} {}", series.sum_seconds);
            let _ = writeln!(out, "backline_http_request_duration_seconds_count{{{labels}}} {}", series.count);
        }
        drop(routes);

        if let Some(pool) = pool {
            out.push_str("# HELP backline_db_pool_connections Database connections held by the pool, by state.\n");
            out.push_str("# TYPE backline_db_pool_connections gauge\n");
            let _ = writeln!(out, "backline_db_pool_connections{{state=\"idle\"}} {}", pool.idle);
            let _ = writeln!(
                out,
                "backline_db_pool_connections{{state=\"in_use\"}} {}",
                pool.size.saturating_sub(pool.idle)
            );
            out.push_str("# HELP backline_db_pool_max_connections Most connections the pool may open.\n");
            out.push_str("# TYPE backline_db_pool_max_connections gauge\n");
            let _ = writeln!(out, "backline_db_pool_max_connections {}", pool.max);
        }
        out
    }
}

/// Escapes a label value as the exposition format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_render_as_gauges_with_one_help_per_metric() {
        let samples = [
            Sample::new("backline_jobs_waiting", "Jobs waiting to run.", 3.0).label("kind", "mail.deliver"),
            Sample::new("backline_jobs_waiting", "Jobs waiting to run.", 1.0).label("kind", "a\"b"),
            Sample::new("backline_oldest", "Oldest.", 2.5),
        ];
        let text = Metrics::render_samples(&samples);
        assert_eq!(text.matches("# HELP backline_jobs_waiting").count(), 1, "{text}");
        assert!(text.contains("# TYPE backline_jobs_waiting gauge"), "{text}");
        assert!(text.contains("backline_jobs_waiting{kind=\"mail.deliver\"} 3"), "{text}");
        assert!(text.contains("backline_jobs_waiting{kind=\"a\\\"b\"} 1"), "{text}");
        assert!(text.contains("backline_oldest 2.5"), "{text}");
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_bounds_inclusive() {
        let metrics = Metrics::default();
        metrics.observe_request("GET", "/v1/things/{id}", 200, Duration::from_millis(1));
        metrics.observe_request("GET", "/v1/things/{id}", 404, Duration::from_millis(3));
        metrics.observe_request("GET", "/v1/things/{id}", 200, Duration::from_secs(20));
        let text = metrics.render(Some(PoolReading { size: 4, idle: 3, max: 10 }));
        let labels = "method=\"GET\",route=\"/v1/things/{id}\"";
        assert!(text.contains(&format!("backline_http_requests_total{{{labels},status=\"200\"}} 2")), "{text}");
        assert!(text.contains(&format!("backline_http_requests_total{{{labels},status=\"404\"}} 1")), "{text}");
        // 1 ms is exactly the first bound, so it counts there.
        assert!(text.contains(&format!("_bucket{{{labels},le=\"0.001\"}} 1")), "{text}");
        assert!(text.contains(&format!("_bucket{{{labels},le=\"0.005\"}} 2")), "{text}");
        assert!(text.contains(&format!("_bucket{{{labels},le=\"10\"}} 2")), "{text}");
        assert!(text.contains(&format!("_bucket{{{labels},le=\"+Inf\"}} 3")), "{text}");
        assert!(text.contains(&format!("_count{{{labels}}} 3")), "{text}");
        assert!(text.contains("backline_db_pool_connections{state=\"in_use\"} 1"), "{text}");
        assert!(text.contains("backline_db_pool_max_connections 10"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
