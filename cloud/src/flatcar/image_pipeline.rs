//! Download -> verify -> (decompress) -> upload, streaming, in one pass over the bytes.
//!
//! The download is hashed (SHA-512) as it arrives, decompressed when the release file is
//! compressed, hashed again, and handed to the uploader as a request body. Nothing touches
//! the disk; memory is bounded by a few chunk buffers. When the stream ends, both digests
//! are compared with the signed ones; on a mismatch the body ends with an error instead of
//! its end, so the receiver never gets a complete unverified image. A dropped connection
//! during the download is resumed with a `Range` request where the server supports it.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_compression::tokio::bufread::{BzDecoder, GzipDecoder};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::{CONTENT_LENGTH, RANGE};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha512};
use tokio::io::AsyncRead;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::flatcar::release::Compression;
use crate::http::{HttpClient, HttpError};

const CHUNK: usize = 64 * 1024;
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
const RESUME_ATTEMPTS: u32 = 5;

/// What to download and what it must hash to.
#[derive(Debug, Clone)]
pub struct ImageSource {
    pub url: String,
    pub compression: Compression,
    /// Signed SHA-512 of the file downloaded (the compressed file when compressed).
    pub download_sha512: String,
    /// Signed SHA-512 of the uncompressed `.img`, which is what gets uploaded.
    pub image_sha512: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    #[error("download failed: {0}")]
    Download(String),
    #[error("decompressing {url} failed: {reason}")]
    Decompress { url: String, reason: String },
    #[error("SHA-512 mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("the upload stopped before the image was complete")]
    Incomplete,
}

/// What one transfer did, once its stream has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSummary {
    pub downloaded_bytes: u64,
    pub image_bytes: u64,
    /// SHA-512 of the bytes handed to the uploader, lowercase hex.
    pub image_sha512: String,
    pub resumed: u32,
}

/// Filled in by the stream when it ends (or fails): the cause of a failed upload is here,
/// not in the HTTP client's error about a broken body.
#[derive(Clone, Default)]
pub struct TransferOutcome(Arc<Mutex<Option<Result<TransferSummary, PipelineError>>>>);

impl TransferOutcome {
    fn set(&self, result: Result<TransferSummary, PipelineError>) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(result);
        }
    }

    /// The result, or `Incomplete` when the stream never ended.
    pub fn result(&self) -> Result<TransferSummary, PipelineError> {
        self.0
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .unwrap_or(Err(PipelineError::Incomplete))
    }
}

pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// Opens the download and returns the verified, decompressed byte stream and its outcome.
pub async fn open(
    http: &HttpClient,
    source: &ImageSource,
) -> Result<(ByteStream, TransferOutcome), PipelineError> {
    let outcome = TransferOutcome::default();
    let first = http
        .send_idempotent(Method::GET, &source.url, |b| b)
        .await
        .map_err(|e| PipelineError::Download(e.to_string()))?;
    let total = first
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let counters = Arc::new(Mutex::new(Counters::new(total)));
    let download = resuming_download(
        http.clone(),
        source.url.clone(),
        first,
        Arc::clone(&counters),
        outcome.clone(),
    );

    let reader = StreamReader::new(Box::pin(download));
    let decoded: Box<dyn AsyncRead + Send + Unpin> = match source.compression {
        Compression::None => Box::new(reader),
        Compression::Gz => Box::new(GzipDecoder::new(reader)),
        Compression::Bz2 => Box::new(BzDecoder::new(reader)),
    };
    let image_hash = Arc::new(Mutex::new((Sha512::new(), 0u64)));
    let hashing = Arc::clone(&image_hash);
    let url = source.url.clone();
    let fail = outcome.clone();
    let body = ReaderStream::with_capacity(decoded, CHUNK).map(move |chunk| {
        match &chunk {
            Ok(bytes) => {
                if let Ok(mut h) = hashing.lock() {
                    h.0.update(bytes);
                    h.1 += bytes.len() as u64;
                }
            }
            Err(e) => fail.set(Err(PipelineError::Decompress {
                url: url.clone(),
                reason: e.to_string(),
            })),
        }
        chunk
    });
    let finish = {
        let (outcome, source) = (outcome.clone(), source.clone());
        futures::stream::once(async move {
            let (hasher, image_bytes) = image_hash.lock().map(|h| h.clone()).unwrap_or_default();
            let (download_sha, downloaded_bytes, resumed) = counters
                .lock()
                .map(|c| (hex::encode(c.hash.clone().finalize()), c.done, c.resumed))
                .unwrap_or_default();
            let image_sha = hex::encode(hasher.finalize());
            let result = check(&source, &download_sha, &image_sha).map(|()| TransferSummary {
                downloaded_bytes,
                image_bytes,
                image_sha512: image_sha,
                resumed,
            });
            let failed = result.is_err();
            outcome.set(result);
            failed.then(|| Err(io::Error::other("image digest mismatch: upload aborted")))
        })
        .filter_map(futures::future::ready)
    };
    Ok((Box::pin(body.chain(finish)), outcome))
}

fn check(source: &ImageSource, download_sha: &str, image_sha: &str) -> Result<(), PipelineError> {
    if source.compression != Compression::None && download_sha != source.download_sha512 {
        return Err(PipelineError::DigestMismatch {
            what: source.url.clone(),
            expected: source.download_sha512.clone(),
            actual: download_sha.to_string(),
        });
    }
    if image_sha != source.image_sha512 {
        return Err(PipelineError::DigestMismatch {
            what: format!("the uncompressed image from {}", source.url),
            expected: source.image_sha512.clone(),
            actual: image_sha.to_string(),
        });
    }
    Ok(())
}

struct Counters {
    hash: Sha512,
    done: u64,
    total: Option<u64>,
    started: Instant,
    last_report: Instant,
    resumed: u32,
}

impl Counters {
    fn new(total: Option<u64>) -> Counters {
        let now = Instant::now();
        Counters {
            hash: Sha512::new(),
            done: 0,
            total,
            started: now,
            last_report: now,
            resumed: 0,
        }
    }

    fn add(&mut self, bytes: &[u8]) {
        self.hash.update(bytes);
        self.done += bytes.len() as u64;
        if self.last_report.elapsed() >= PROGRESS_EVERY {
            self.last_report = Instant::now();
            self.report();
        }
    }

    fn report(&self) {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = self.done as f64 / secs;
        let mib = |b: f64| b / (1024.0 * 1024.0);
        match self.total {
            Some(total) if total > 0 => {
                let eta = (total.saturating_sub(self.done)) as f64 / rate.max(1.0);
                tracing::info!(
                    "image transfer: {:.1} of {:.1} MiB ({:.0}%), {:.1} MiB/s, ETA {:.0} s",
                    mib(self.done as f64),
                    mib(total as f64),
                    100.0 * self.done as f64 / total as f64,
                    mib(rate),
                    eta
                );
            }
            _ => tracing::info!(
                "image transfer: {:.1} MiB, {:.1} MiB/s",
                mib(self.done as f64),
                mib(rate)
            ),
        }
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

struct Download {
    http: HttpClient,
    url: String,
    current: Option<ResponseStream>,
    counters: Arc<Mutex<Counters>>,
    outcome: TransferOutcome,
    attempts: u32,
}

/// The download as a stream of chunks that resumes after a dropped connection.
fn resuming_download(
    http: HttpClient,
    url: String,
    first: reqwest::Response,
    counters: Arc<Mutex<Counters>>,
    outcome: TransferOutcome,
) -> impl Stream<Item = io::Result<Bytes>> + Send {
    let state = Download {
        http,
        url,
        current: Some(Box::pin(first.bytes_stream())),
        counters,
        outcome,
        attempts: 0,
    };
    futures::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        loop {
            let current = state.current.as_mut()?;
            match current.next().await {
                Some(Ok(bytes)) => {
                    if let Ok(mut c) = state.counters.lock() {
                        c.add(&bytes);
                    }
                    return Some((Ok(bytes), Some(state)));
                }
                None => {
                    if let Ok(c) = state.counters.lock() {
                        c.report();
                    }
                    return None;
                }
                Some(Err(e)) => match state.resume(&e).await {
                    Ok(()) => continue,
                    Err(err) => {
                        state.outcome.set(Err(err.clone()));
                        return Some((Err(io::Error::other(err.to_string())), None));
                    }
                },
            }
        }
    })
}

impl Download {
    async fn resume(&mut self, cause: &reqwest::Error) -> Result<(), PipelineError> {
        let offset = self.counters.lock().map(|c| c.done).unwrap_or(0);
        self.attempts += 1;
        if self.attempts > RESUME_ATTEMPTS {
            return Err(PipelineError::Download(format!(
                "{}: {cause} (gave up after {RESUME_ATTEMPTS} resumes)",
                self.url
            )));
        }
        tracing::warn!(url = %self.url, offset, attempt = self.attempts, "download interrupted ({cause}); resuming");
        let response = self
            .http
            .send_idempotent(Method::GET, &self.url, |b| {
                b.header(RANGE, format!("bytes={offset}-"))
            })
            .await
            .map_err(|e: HttpError| PipelineError::Download(e.to_string()))?;
        if response.status() != StatusCode::PARTIAL_CONTENT && offset > 0 {
            return Err(PipelineError::Download(format!(
                "{}: interrupted at byte {offset} ({cause}) and the server cannot resume (answered {} to a Range request)",
                self.url,
                response.status()
            )));
        }
        if let Ok(mut c) = self.counters.lock() {
            c.resumed += 1;
        }
        self.current = Some(Box::pin(response.bytes_stream()));
        Ok(())
    }
}
