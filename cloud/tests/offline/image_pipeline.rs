//! The streaming pipeline against the local release server: every compression yields the
//! exact `.img` bytes, a tampered image never completes, and a dropped download resumes.

use crate::support;

use flatcar_cloud::flatcar::image_pipeline::{self, ImageSource, PipelineError};
use flatcar_cloud::flatcar::release::Compression;
use flatcar_cloud::http::{HttpClient, StopSignal};
use futures::StreamExt;
use sha2::{Digest, Sha512};
use support::http_server::{Fault, StaticServer};
use support::release_tree::{sha512sum, Release, ReleaseTree, SigningKey, IMAGE};

const VERSION: &str = "4593.2.5";

fn tree() -> (ReleaseTree, StaticServer) {
    let tree = ReleaseTree::build(
        SigningKey::generate("Pipeline"),
        &[Release {
            channel: "stable",
            version: VERSION,
            current: false,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    (tree, server)
}

fn source(tree: &ReleaseTree, server: &StaticServer, compression: Compression) -> ImageSource {
    let dir = tree.dir("stable", VERSION);
    let file = compression.file_name();
    ImageSource {
        url: format!("{}/stable/amd64-usr/{VERSION}/{file}", server.base_url),
        compression,
        download_sha512: sha512sum(&dir.join(&file)),
        image_sha512: sha512sum(&dir.join(IMAGE)),
    }
}

/// Drains the stream like an uploader would; returns the bytes' SHA-512 and the last error.
async fn drain(
    source: &ImageSource,
) -> (String, u64, Option<String>, image_pipeline::TransferOutcome) {
    let http = HttpClient::new(StopSignal::default()).expect("client");
    let (mut stream, outcome) = image_pipeline::open(&http, source).await.expect("open");
    let (mut hash, mut len, mut error) = (Sha512::new(), 0u64, None);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                hash.update(&bytes);
                len += bytes.len() as u64;
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    (hex::encode(hash.finalize()), len, error, outcome)
}

#[tokio::test]
async fn every_compression_yields_the_signed_image_bytes() {
    let (tree, server) = tree();
    for compression in [Compression::None, Compression::Gz, Compression::Bz2] {
        let src = source(&tree, &server, compression);
        let (sha, len, error, outcome) = drain(&src).await;
        assert_eq!(error, None, "{compression}");
        assert_eq!(sha, src.image_sha512, "{compression}");
        let summary = outcome.result().expect("verified");
        assert_eq!(summary.image_sha512, src.image_sha512);
        assert_eq!(summary.image_bytes, len);
        let on_disk = std::fs::metadata(tree.dir("stable", VERSION).join(compression.file_name()))
            .expect("file")
            .len();
        assert_eq!(summary.downloaded_bytes, on_disk, "{compression}");
    }
}

#[tokio::test]
async fn a_tampered_image_ends_in_an_error_instead_of_its_end() {
    let (tree, server) = tree();
    let path = tree.dir("stable", VERSION).join(IMAGE);
    let mut bytes = std::fs::read(&path).expect("image");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).expect("tamper");
    // The signed digest is the original one: compute it from the untampered bytes.
    bytes[middle] ^= 0x01;
    let mut src = source(&tree, &server, Compression::None);
    src.image_sha512 = hex::encode(Sha512::digest(&bytes));
    let (_, _, error, outcome) = drain(&src).await;
    assert!(error.is_some(), "the stream must not end cleanly");
    match outcome.result() {
        Err(PipelineError::DigestMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, src.image_sha512);
            assert_eq!(actual, sha512sum(&path));
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_compressed_download_is_checked_against_its_own_signed_digest() {
    let (tree, server) = tree();
    let mut src = source(&tree, &server, Compression::Gz);
    src.download_sha512 = "0".repeat(128);
    let (_, _, error, outcome) = drain(&src).await;
    assert!(error.is_some());
    assert!(
        matches!(outcome.result(), Err(PipelineError::DigestMismatch { what, .. }) if what.ends_with(".img.gz"))
    );
}

#[tokio::test]
async fn a_dropped_download_resumes_with_range_requests() {
    let (tree, server) = tree();
    let src = source(&tree, &server, Compression::None);
    if let Ok(mut faults) = server.faults.lock() {
        faults.push(Fault::ResetAfter {
            path_suffix: ".img".into(),
            bytes: 3000,
            times: 2,
        });
    }
    let (sha, _, error, outcome) = drain(&src).await;
    assert_eq!(error, None);
    assert_eq!(sha, src.image_sha512);
    assert_eq!(outcome.result().expect("verified").resumed, 2);
    assert!(
        server.requested(".img range=3000"),
        "{:?}",
        server.requests.lock().map(|r| r.clone())
    );
}
