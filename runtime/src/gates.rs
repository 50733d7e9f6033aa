//! Health signals: HTTP probes, Prometheus text scraped from an instance's /metrics, and
//! PromQL over a Prometheus server's HTTP API. Quantiles follow `histogram_quantile`.

use std::time::Duration;

/// `GET http://127.0.0.1:PORT/PATH`: the status code, or why there was none.
pub fn http_status(port: u16, path: &str, timeout: Duration) -> Result<u16, String> {
    let url = format!("http://127.0.0.1:{port}{path}");
    match crate::http::agent(timeout, true).get(&url).call() {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(err) => Err(err.to_string()),
    }
}

fn http_text(url: &str, timeout: Duration) -> Result<String, String> {
    let mut resp = crate::http::agent(timeout, false).get(url).call().map_err(|e| e.to_string())?;
    resp.body_mut().read_to_string().map_err(|e| e.to_string())
}

/// What one scrape of Prometheus text says about requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub requests: f64,
    pub errors: f64,
    /// Cumulative histogram buckets: (upper bound in seconds, count), sorted by bound.
    pub buckets: Vec<(f64, f64)>,
}

impl Sample {
    /// The sum of two samples (two instances).
    pub fn add(&mut self, other: &Sample) {
        self.requests += other.requests;
        self.errors += other.errors;
        for (le, count) in &other.buckets {
            match self.buckets.iter_mut().find(|(b, _)| b == le) {
                Some((_, c)) => *c += count,
                None => self.buckets.push((*le, *count)),
            }
        }
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    /// `self - earlier`: what happened between two scrapes.
    pub fn since(&self, earlier: &Sample) -> Sample {
        let buckets = self
            .buckets
            .iter()
            .map(|(le, c)| (*le, c - earlier.buckets.iter().find(|(b, _)| b == le).map(|(_, e)| *e).unwrap_or(0.0)))
            .collect();
        Sample { requests: self.requests - earlier.requests, errors: self.errors - earlier.errors, buckets }
    }

    /// Failed requests as a percentage, or `None` without traffic.
    pub fn error_percent(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| self.errors / self.requests * 100.0)
    }

    /// The `q`-quantile (0..1) of latency in seconds, as `histogram_quantile` computes it:
    /// linear interpolation inside the bucket that holds the rank.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut prev = (0.0, 0.0);
        for (le, count) in &self.buckets {
            if *count >= rank {
                if le.is_infinite() {
                    return Some(prev.0);
                }
                let in_bucket = count - prev.1;
                if in_bucket <= 0.0 {
                    return Some(*le);
                }
                return Some(prev.0 + (le - prev.0) * (rank - prev.1) / in_bucket);
            }
            prev = (*le, *count);
        }
        Some(prev.0)
    }
}

/// Parses Prometheus text: counters named `*_requests_total` (a `status` label of 5xx counts
/// as an error) and one histogram's `*_bucket{le=...}` series.
pub fn parse_metrics(text: &str) -> Sample {
    let mut s = Sample::default();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.trim().parse::<f64>() else { continue };
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let label = |key: &str| {
            labels.split(',').find_map(|kv| {
                kv.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().trim_matches('"').to_string())
            })
        };
        if name.ends_with("_requests_total") {
            s.requests += value;
            if label("status").is_some_and(|st| st.starts_with('5')) {
                s.errors += value;
            }
        } else if name.ends_with("_bucket")
            && let Some(le) = label("le")
        {
            let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::INFINITY) };
            s.buckets.push((bound, value));
        }
    }
    s.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    s
}

pub fn scrape(port: u16) -> Result<Sample, String> {
    http_text(&format!("http://127.0.0.1:{port}/metrics"), Duration::from_secs(2)).map(|t| parse_metrics(&t))
}

/// Runs an instant PromQL query and returns its first value.
pub fn prometheus_query(base: &str, promql: &str) -> Result<f64, String> {
    let encoded: String = promql
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let url = format!("{}/api/v1/query?query={encoded}", base.trim_end_matches('/'));
    let body = http_text(&url, Duration::from_secs(5))?;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("not JSON: {e}"))?;
    let value = &json["data"]["result"][0]["value"][1];
    value.as_str().and_then(|v| v.parse().ok()).ok_or_else(|| format!("the query returned no value: {body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE demo_requests_total counter\ndemo_requests_total{status=\"200\"} 90\ndemo_requests_total{status=\"500\"} 10\n\
demo_request_duration_seconds_bucket{le=\"0.1\"} 50\ndemo_request_duration_seconds_bucket{le=\"0.5\"} 90\ndemo_request_duration_seconds_bucket{le=\"+Inf\"} 100\n";

    #[test]
    fn error_rate_and_quantiles_follow_prometheus() {
        let s = parse_metrics(TEXT);
        assert_eq!(s.error_percent(), Some(10.0));
        // Rank 50 of 100 falls at the top of the first bucket.
        assert_eq!(s.quantile(0.5), Some(0.1));
        // Rank 70 is halfway through the 0.1..0.5 bucket.
        assert!((s.quantile(0.7).unwrap() - 0.3).abs() < 1e-9);
        // Beyond the last finite bucket, histogram_quantile answers that bucket's bound.
        assert_eq!(s.quantile(0.99), Some(0.5));
    }

    #[test]
    fn deltas_between_scrapes() {
        let before = parse_metrics(TEXT);
        let mut after = before.clone();
        after.requests += 10.0;
        after.errors += 5.0;
        assert_eq!(after.since(&before).error_percent(), Some(50.0));
    }
}
