//! Publishing a Flatcar release into Glance, verified: resolve and verify the release (before
//! any cloud call), create the image, stream download -> SHA-512 -> (decompress) -> Glance,
//! and check Glance's `os_hash_value`. Where the cloud offers `glance-direct`, the data is
//! staged and imported only after the digest matched, so an unverified image never becomes
//! active; otherwise it is uploaded with `PUT /file` (the body is cut short on a mismatch).
//! Any failure, timeout or stop deletes the image: nothing is left behind.
//!
//! The image records where it came from in properties (`flatcar_*`, `os_version`), so that
//! an import can tell what was published ([`ImageOrigin`]).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backoff::{poll, Backoff};
use crate::flatcar::image_pipeline::{self, ImageSource, PipelineError};
use crate::flatcar::release::{Compression, ReleaseError, ReleaseQuery, VerifiedRelease};
use crate::flatcar::signature::TrustedKey;
use crate::http::{HttpClient, StopSignal};
use crate::openstack::glance::{Glance, Image, NewImage};
use crate::openstack::{CloudError, CloudSession, DeleteError};

/// Properties every image gets unless the user overrides them (`os_version` too).
pub const DEFAULT_PROPERTIES: &[(&str, &str)] =
    &[("hw_qemu_guest_agent", "yes"), ("os_distro", "flatcar")];
/// Prefix of the properties where the publisher records what it published.
pub const ORIGIN_PREFIX: &str = "flatcar_";

/// What to publish and how the image looks in Glance.
#[derive(Debug, Clone)]
pub struct PublishRequest<'a> {
    pub query: ReleaseQuery,
    pub compression: Compression,
    pub key: &'a TrustedKey,
    pub name: String,
    pub visibility: String,
    pub tags: Vec<String>,
    /// The user's properties; they override the defaults.
    pub properties: BTreeMap<String, String>,
    /// Upload and import must finish within this.
    pub limit: Duration,
}

/// A published, verified image.
#[derive(Debug, Clone)]
pub struct Published {
    pub image: Image,
    pub release: VerifiedRelease,
    /// The release file that was downloaded.
    pub source_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Release(#[from] ReleaseError),
    /// A Glance call failed; `context` says which.
    #[error("{context}: {source}")]
    Cloud {
        context: &'static str,
        source: CloudError,
    },
    #[error("cannot download the Flatcar image: {0}")]
    Download(PipelineError),
    #[error("{0}")]
    Verification(PipelineError),
    #[error("uploading the image to Glance failed: {0}")]
    Upload(CloudError),
    #[error("transferring the Flatcar image failed: {0}")]
    Transfer(PipelineError),
    #[error("image {id} ended in status `killed`")]
    Killed { id: String },
    #[error("image {id} was deleted while it was being imported")]
    Disappeared { id: String },
    #[error("Glance's SHA-512 is {glance}, the verified image's is {verified}")]
    StoredDifferently { glance: String, verified: String },
    #[error("the upload did not finish within {0:?}")]
    TimedOut(Duration),
    #[error("cancelled because a stop was requested")]
    Cancelled,
}

/// A failed publish: why, and the image that could not be deleted afterwards, if any.
#[derive(Debug)]
pub struct PublishFailure {
    pub error: PublishError,
    pub leftover: Option<(String, CloudError)>,
}

impl From<PublishError> for PublishFailure {
    fn from(error: PublishError) -> PublishFailure {
        PublishFailure {
            error,
            leftover: None,
        }
    }
}

fn cloud(context: &'static str) -> impl FnOnce(CloudError) -> PublishError {
    move |source| PublishError::Cloud { context, source }
}

/// Where a published image came from, as recorded in its properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOrigin {
    pub channel: Option<String>,
    pub arch: Option<String>,
    pub version: Option<String>,
    pub compression: Option<String>,
    pub resolved_version: Option<String>,
    pub verified_fingerprint: Option<String>,
    /// The properties the user set (neither recorded origin nor unchanged defaults).
    pub user_properties: BTreeMap<String, String>,
}

impl ImageOrigin {
    pub fn of(image: &Image) -> ImageOrigin {
        let recorded = |key: &str| {
            image
                .properties
                .get(&format!("{ORIGIN_PREFIX}{key}"))
                .cloned()
        };
        ImageOrigin {
            channel: recorded("channel"),
            arch: recorded("arch"),
            version: recorded("version"),
            compression: recorded("compression"),
            resolved_version: image.properties.get("os_version").cloned(),
            verified_fingerprint: recorded("verified_fingerprint"),
            user_properties: image
                .properties
                .iter()
                .filter(|(k, v)| {
                    !k.starts_with(ORIGIN_PREFIX)
                        && k.as_str() != "os_version"
                        && !DEFAULT_PROPERTIES.iter().any(|(dk, dv)| dk == k && dv == v)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// Whether `key` is managed by Glance or by the publisher, not settable as a property.
pub fn is_reserved_property(key: &str) -> bool {
    key.starts_with(ORIGIN_PREFIX)
        || key.starts_with("os_glance")
        || [
            "id",
            "name",
            "status",
            "visibility",
            "tags",
            "os_hash_value",
        ]
        .contains(&key)
}

/// Publishes the release; on failure the image is deleted (or named in the failure).
pub async fn publish(
    http: &HttpClient,
    session: &CloudSession,
    stop: &StopSignal,
    request: &PublishRequest<'_>,
) -> Result<Published, PublishFailure> {
    // 1. Verify the release before anything touches the cloud.
    let query = &request.query;
    let release = query
        .resolve(http, request.key)
        .await
        .map_err(PublishError::from)?;
    let file = request.compression.file_name();
    let download_sha512 = match request.compression {
        Compression::None => release.sha512.clone(),
        _ => {
            query
                .signed_digest(http, request.key, &release.version, &file)
                .await
                .map_err(PublishError::from)?
                .0
        }
    };
    let source = ImageSource {
        url: format!(
            "{}{file}",
            query
                .directory_url(&release.version)
                .map_err(PublishError::from)?
        ),
        compression: request.compression,
        download_sha512,
        image_sha512: release.sha512.clone(),
    };
    tracing::info!(version = %release.version, url = %source.url, "verified release; uploading image");

    // 2. Create the image.
    let glance = Glance::new(session);
    let direct = glance
        .import_methods()
        .await
        .map_err(cloud("Cannot read the cloud's image import methods"))?
        .iter()
        .any(|m| m == "glance-direct");
    let mut properties: BTreeMap<String, String> = DEFAULT_PROPERTIES
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let recorded = [
        ("channel", query.channel.as_str().to_string()),
        ("arch", query.arch.as_str().to_string()),
        ("version", query.version.clone()),
        ("compression", request.compression.as_str().to_string()),
        ("verified_fingerprint", release.signer_fingerprint.clone()),
    ];
    for (key, value) in recorded {
        properties.insert(format!("{ORIGIN_PREFIX}{key}"), value);
    }
    properties.insert("os_version".into(), release.version.clone());
    properties.extend(request.properties.clone());
    let new = NewImage {
        name: request.name.clone(),
        visibility: request.visibility.clone(),
        tags: request.tags.clone(),
        properties,
    };
    let image = glance
        .create(&new)
        .await
        .map_err(cloud("Cannot create the Glance image"))?;
    tracing::info!(id = %image.id, direct, "created image; streaming data");

    // 3-4. Stream, verify, import; on any failure, timeout or stop: delete.
    let limit = request.limit;
    let outcome = tokio::select! {
        r = tokio::time::timeout(limit, transfer(http, &glance, &image.id, &source, direct)) => {
            r.unwrap_or(Err(PublishError::TimedOut(limit)))
        }
        _ = stop.stopped() => Err(PublishError::Cancelled),
    };
    match outcome {
        Ok(stored) => Ok(Published {
            image: stored,
            release,
            source_url: source.url,
        }),
        Err(error) => Err(PublishFailure {
            error,
            leftover: glance
                .delete(&image.id)
                .await
                .err()
                .map(|e| (image.id.clone(), e)),
        }),
    }
}

async fn transfer(
    http: &HttpClient,
    glance: &Glance<'_>,
    id: &str,
    source: &ImageSource,
    direct: bool,
) -> Result<Image, PublishError> {
    let (stream, outcome) = image_pipeline::open(http, source)
        .await
        .map_err(PublishError::Download)?;
    let body = reqwest::Body::wrap_stream(stream);
    let sent = if direct {
        glance.stage(id, body).await
    } else {
        glance.upload(id, body).await
    };
    let summary = match (outcome.result(), sent) {
        (Ok(summary), Ok(())) => summary,
        (Err(e @ PipelineError::DigestMismatch { .. }), _) => {
            return Err(PublishError::Verification(e))
        }
        (Err(PipelineError::Incomplete), Err(e)) | (Ok(_), Err(e)) => {
            return Err(PublishError::Upload(e))
        }
        (Err(e), _) => return Err(PublishError::Transfer(e)),
    };
    if direct {
        glance
            .import_staged(id)
            .await
            .map_err(cloud("Glance refused to import the staged image"))?;
    }
    let image = wait_until_active(glance, id).await?;
    match (&image.os_hash_algo, &image.os_hash_value) {
        (Some(algo), Some(value)) if algo == "sha512" && *value != summary.image_sha512 => {
            Err(PublishError::StoredDifferently {
                glance: value.clone(),
                verified: summary.image_sha512,
            })
        }
        _ => Ok(image),
    }
}

/// Polls with capped backoff until the image is active; `killed` or a vanished image fail.
async fn wait_until_active(glance: &Glance<'_>, id: &str) -> Result<Image, PublishError> {
    let backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    poll(backoff, || async {
        match glance
            .get(id)
            .await
            .map_err(cloud("Cannot read the image"))?
        {
            Some(image) if image.status == "active" => Ok(Some(image)),
            Some(image) if image.status == "killed" => {
                Err(PublishError::Killed { id: id.to_string() })
            }
            Some(_) => Ok(None),
            None => Err(PublishError::Disappeared { id: id.to_string() }),
        }
    })
    .await
}

/// Deletes an image and waits until Glance no longer has it, within `limit`.
pub async fn delete_and_wait(
    session: &CloudSession,
    id: &str,
    limit: Duration,
) -> Result<(), DeleteError> {
    let glance = Glance::new(session);
    glance.delete(id).await.map_err(DeleteError::Cloud)?;
    let backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
    let gone = poll(backoff, || async {
        let image = glance.get(id).await.map_err(DeleteError::Cloud)?;
        Ok::<_, DeleteError>(image.is_none().then_some(()))
    });
    tokio::time::timeout(limit, gone)
        .await
        .map_err(|_| DeleteError::TimedOut {
            id: id.to_string(),
            limit,
        })?
}
