//! The one HTTP client of the cloud layer, with its one retry policy.
//!
//! Retries: connection failures and 5xx on idempotent requests, 429/503 honouring
//! `Retry-After`; capped exponential backoff with jitter; a stop request from Terraform
//! (StopProvider) cancels the wait. Knows HTTP, nothing of Flatcar, OpenStack or Terraform.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use tokio::sync::watch;

use crate::backoff::Backoff;

pub const USER_AGENT: &str = concat!("terraform-provider-flatcar/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{method} {url} failed: HTTP {status}{}", excerpt(body))]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{method} {url} failed: {reason}")]
    Transport {
        method: String,
        url: String,
        reason: String,
    },
    #[error("{url}: cancelled because Terraform asked the provider to stop")]
    Cancelled { url: String },
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        String::new()
    } else {
        // Shaped like every service message: echoed values and data never shown.
        format!(": {}", crate::openstack::error::shape_message(body))
    }
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1`: doubling, capped, with up to 25% jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        Backoff::doubling(self.base_delay, self.max_delay).delay(attempt)
    }
}

/// Cancels waits and retries when Terraform stops the provider.
#[derive(Clone, Debug)]
pub struct StopSignal(watch::Sender<bool>);

impl Default for StopSignal {
    fn default() -> StopSignal {
        StopSignal(watch::channel(false).0)
    }
}

impl StopSignal {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
    /// Un-stops: a new Terraform run starts (a debug provider serves one run after another,
    /// and a stop of the last must not cancel the next).
    pub fn resume(&self) {
        self.0.send_replace(false);
    }
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
    /// Resolves when Terraform asks the provider to stop.
    pub async fn stopped(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Sleeps for `d`; false when interrupted by a stop.
    pub async fn sleep(&self, d: Duration) -> bool {
        let mut rx = self.0.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = rx.wait_for(|s| *s) => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
    stop: StopSignal,
}

/// Whether a request may be sent again after a failure that may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, PUT, DELETE, PATCH with a full document: retried on 5xx, 429 and resets.
    Idempotent,
    /// POST that creates: retried only when the server said it did nothing (429, 503) or
    /// the connection was never made.
    NotIdempotent,
    /// A streamed body that cannot be replayed: sent exactly once.
    Once,
}

impl HttpClient {
    pub fn new(stop: StopSignal) -> Result<HttpClient, HttpError> {
        HttpClient::with_tls(stop, None, false)
    }

    /// A client trusting `cacert_pem` in addition to the system roots, or nothing at all
    /// when `insecure` (the provider's `insecure = true`).
    pub fn with_tls(
        stop: StopSignal,
        cacert_pem: Option<&[u8]>,
        insecure: bool,
    ) -> Result<HttpClient, HttpError> {
        let fail = |reason: String| HttpError::Transport {
            method: "set up".into(),
            url: String::new(),
            reason,
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(30))
            .danger_accept_invalid_certs(insecure);
        if let Some(pem) = cacert_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| fail(format!("CA certificates: {e}")))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| fail(e.to_string()))?;
        Ok(HttpClient {
            client,
            policy: RetryPolicy::default(),
            stop,
        })
    }

    /// The same client, deaf to stop requests: for clean-up that must run after a stop.
    pub fn uncancellable(&self) -> HttpClient {
        HttpClient {
            stop: StopSignal::default(),
            ..self.clone()
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> HttpClient {
        self.policy = policy;
        self
    }

    /// GET `url` as text, following redirects, retrying per the policy.
    pub async fn get_text(&self, url: &str) -> Result<String, HttpError> {
        let response = self.send_idempotent(Method::GET, url, |b| b).await?;
        response.text().await.map_err(|e| transport("GET", url, &e))
    }

    /// Sends an idempotent request, retrying per the policy; non-2xx final answers are errors.
    pub async fn send_idempotent(
        &self,
        method: Method,
        url: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        self.send(method, url, Idempotency::Idempotent, build).await
    }

    /// Sends a request, retrying per the policy and `idempotency`; `build` is called for
    /// every attempt. Non-2xx final answers are errors carrying the body.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        idempotency: Idempotency,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        let mut attempt = 0;
        loop {
            if self.stop.is_stopped() {
                return Err(HttpError::Cancelled { url: url.into() });
            }
            let result = build(self.client.request(method.clone(), url)).send().await;
            let retry_after = match result {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let wait = retry_after(&response);
                    if !retryable(status, idempotency) || attempt + 1 >= self.policy.max_attempts {
                        let body = response.text().await.unwrap_or_default();
                        return Err(HttpError::Status {
                            method: method.to_string(),
                            url: url.into(),
                            status: status.as_u16(),
                            body,
                        });
                    }
                    tracing::warn!(%url, status = status.as_u16(), attempt, "retrying");
                    wait
                }
                Err(e) => {
                    let may_resend = match idempotency {
                        Idempotency::Idempotent => true,
                        Idempotency::NotIdempotent => e.is_connect(),
                        Idempotency::Once => false,
                    };
                    if !may_resend || attempt + 1 >= self.policy.max_attempts {
                        return Err(transport(method.as_str(), url, &e));
                    }
                    tracing::warn!(%url, error = %e, attempt, "retrying after transport error");
                    None
                }
            };
            let delay = retry_after
                .map(|d| d.min(self.policy.max_delay))
                .unwrap_or_else(|| self.policy.backoff(attempt));
            if !self.stop.sleep(delay).await {
                return Err(HttpError::Cancelled { url: url.into() });
            }
            attempt += 1;
        }
    }
}

fn retryable(status: StatusCode, idempotency: Idempotency) -> bool {
    match idempotency {
        Idempotency::Idempotent => {
            status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
        }
        Idempotency::NotIdempotent => {
            status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS
        }
        Idempotency::Once => false,
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn transport(method: &str, url: &str, e: &reqwest::Error) -> HttpError {
    // reqwest's Display hides the cause (connection refused, reset, ...); show the chain.
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpError::Transport {
        method: method.into(),
        url: url.into(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_lasts_until_resumed() {
        let stop = StopSignal::default();
        assert!(!stop.is_stopped());
        stop.stop();
        assert!(stop.is_stopped());
        stop.resume();
        assert!(!stop.is_stopped());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert!(p.backoff(0) >= Duration::from_millis(250));
        assert!(p.backoff(0) < Duration::from_millis(320));
        assert!(p.backoff(3) >= Duration::from_secs(2));
        assert!(p.backoff(30) <= p.max_delay.mul_f64(1.25));
    }
}
