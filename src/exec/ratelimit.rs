//! Per-API token buckets, so that a large apply never storms an API. AWS documents
//! request-token buckets per action (e.g. `CreateVpcEndpoint`: 4 tokens, refilling 0.3/s);
//! unionctl waits for a token before each call instead of hitting throttling errors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub burst: f64,
    pub per_second: f64,
}

struct Bucket {
    limit: Limit,
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    limits: HashMap<&'static str, Limit>,
    default: Limit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: HashMap<&'static str, Limit>, default: Limit) -> Self {
        RateLimiter {
            limits,
            default,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// How long to wait before `api` may be called; takes the token.
    fn reserve(&self, api: &str, now: Instant) -> Duration {
        let limit = self.limits.get(api).copied().unwrap_or(self.default);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(api.to_string()).or_insert(Bucket {
            limit,
            tokens: limit.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * b.limit.per_second).min(b.limit.burst);
        b.at = now;
        b.tokens -= 1.0;
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / b.limit.per_second)
        }
    }

    pub async fn acquire(&self, api: &str) {
        let wait = self.reserve(api, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The limiter for one quota holder (an AWS account and region, a GCP project, an Azure
/// subscription), made once per process: the data planes of a fleet that share an account
/// share its buckets, as they share its limits at the provider.
pub fn shared(quota: &str, make: impl FnOnce() -> RateLimiter) -> Arc<RateLimiter> {
    static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
    let mut all = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    all.entry(quota.to_string())
        .or_insert_with(|| Arc::new(make()))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_rate() {
        let limiter = RateLimiter::new(
            HashMap::from([(
                "CreateVpcEndpoint",
                Limit {
                    burst: 4.0,
                    per_second: 0.3,
                },
            )]),
            Limit {
                burst: 100.0,
                per_second: 100.0,
            },
        );
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..6)
            .map(|_| limiter.reserve("CreateVpcEndpoint", t0))
            .collect();
        assert!(waits[..4].iter().all(|w| w.is_zero()));
        // The fifth waits one refill (1/0.3 s), the sixth two.
        assert!((waits[4].as_secs_f64() - 1.0 / 0.3).abs() < 1e-6);
        assert!((waits[5].as_secs_f64() - 2.0 / 0.3).abs() < 1e-6);
        assert!(limiter.reserve("DescribeVpcs", t0).is_zero());
    }

    #[test]
    fn one_limiter_per_quota_holder() {
        let make = || {
            RateLimiter::new(
                HashMap::new(),
                Limit {
                    burst: 1.0,
                    per_second: 1.0,
                },
            )
        };
        let a = shared("aws:111111111111:us-east-2", make);
        assert!(Arc::ptr_eq(&a, &shared("aws:111111111111:us-east-2", make)));
        assert!(!Arc::ptr_eq(
            &a,
            &shared("aws:222222222222:us-east-2", make)
        ));
    }
}
