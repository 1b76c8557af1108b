//! Which failures are worth another attempt, how long to wait first, and the one loop that
//! applies that policy to every request ([`Http::retrying`]: small GETs and downloads alike).
//! The policy is pure functions, so it is tested without a network.

use std::time::{Duration, SystemTime};

use reqwest::Url;

use super::client::{log_reason, Http, NetError};

/// Base of the exponential backoff, in milliseconds; tests shrink it.
pub(crate) const RETRY_BASE_ENV: &str = "CODEX_BOOTSTRAP_RETRY_BASE_MS";
const DEFAULT_BASE: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A server may ask for a pause; we honour it up to this bound rather than hang a CI job.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What one attempt failed with, and the wait the server asked for (`Retry-After`), if any.
pub(crate) type Tried<T> = Result<T, (NetError, Option<Duration>)>;

/// What the caller gets when the attempts run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// The last error as it is: a small GET, whose callers tell a 404 from a refused connect.
    Last,
    /// [`NetError::GaveUp`], naming how many attempts were made: a download.
    Counted,
}

impl Http {
    /// Run `attempt` (given its number, from 1) until it succeeds, fails in a way another attempt
    /// cannot mend ([`Http::worth_retrying`]), or `config.attempts` are spent. Between attempts
    /// it waits what the server asked for, else a jittered exponential [`backoff`]. What an
    /// attempt keeps between tries (a download's partial file and hash) is the caller's.
    pub(crate) async fn retrying<T>(
        &self,
        url: &Url,
        give_up: GiveUp,
        mut attempt: impl AsyncFnMut(u32) -> Tried<T>,
    ) -> Result<T, NetError> {
        let mut n = 0;
        loop {
            n += 1;
            let (e, wait) = match attempt(n).await {
                Ok(done) => return Ok(done),
                Err(failed) => failed,
            };
            let (shown, reason) = (crate::redact::DisplayUrl::from(url), log_reason(&e));
            if !self.worth_retrying(url, &e) {
                tracing::debug!("not retrying {shown}: {reason}");
                return Err(e);
            }
            if n >= self.config.attempts {
                tracing::debug!("giving up on {shown} after {n} attempts: {reason}");
                return Err(match give_up {
                    GiveUp::Last => e,
                    GiveUp::Counted => NetError::GaveUp {
                        url: (&url).into(),
                        attempts: n,
                        source: Box::new(e),
                    },
                });
            }
            let wait = wait.unwrap_or_else(|| backoff(n));
            tracing::debug!(
                "retrying {shown} in {} ms (attempt {} of {}): {reason}",
                wait.as_millis(),
                n + 1,
                self.config.attempts
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// Whether an HTTP status is transient.
pub(crate) fn status_is_transient(status: u16) -> bool {
    match status {
        // Request timeout and rate limiting: the server says "later".
        408 | 429 => true,
        // Server-side failures are usually transient on a CDN or object store.
        500..=599 => true,
        _ => false,
    }
}

/// Whether an I/O or transport error is transient: walks the `source()` chain for io kinds
/// that mean "the connection went away", and reqwest's timeout/connect flags.
pub(crate) fn error_is_transient(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            // Timeouts, refused/reset connects and broken bodies are worth another attempt.
            if r.is_timeout() || r.is_connect() || r.is_body() || r.is_request() {
                return true;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset
                    | ConnectionAborted
                    | ConnectionRefused
                    | BrokenPipe
                    | TimedOut
                    | UnexpectedEof
                    | Interrupted
            ) {
                return true;
            }
        }
        if e.to_string()
            .contains("connection closed before message completed")
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The wait before attempt `attempt` (1-based retry number): exponential with full jitter.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = std::env::var(RETRY_BASE_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_BASE, Duration::from_millis);
    let exp = base
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF);
    // Full jitter: spreads a fleet of runners that failed together.
    exp.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// Parse `Retry-After`: seconds, or an HTTP date; bounded.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = httpdate::parse_http_date(v).ok()?;
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(d.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(status_is_transient(s), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 416] {
            assert!(!status_is_transient(s), "{s}");
        }
    }

    #[test]
    fn io_kinds_through_source_chains() {
        #[derive(Debug, thiserror::Error)]
        #[error("wrapper")]
        struct Wrapper(#[source] std::io::Error);
        let reset = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(error_is_transient(&reset));
        let denied = Wrapper(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(!error_is_transient(&denied));
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("100000", now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(10));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(10)));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_jittered_exponential_and_capped() {
        // Unit tests do not set RETRY_BASE_ENV: the default base applies.
        for attempt in 1..6 {
            let full = DEFAULT_BASE * (1 << attempt);
            let d = backoff(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(30) <= MAX_BACKOFF);
    }
}
