//! Publishing a Flatcar release into Glance, verified: resolve and verify the release (before
//! any cloud call), then one of two ways ([`ImportMethod`]):
//! - **stream**: create the image, stream download -> SHA-512 -> (decompress) -> Glance, and
//!   check Glance's `os_hash_value`. Where the cloud offers `glance-direct`, the data is staged
//!   and imported only after the digest matched, so an unverified image never becomes active;
//!   otherwise it is uploaded with `PUT /file` (the body is cut short on a mismatch);
//! - **web-download**: create the image hidden (`os_hidden`), let Glance fetch the release
//!   file itself (no byte crosses the client's uplink), and un-hide it only when Glance's
//!   `os_hash_value` equals the signed SHA-512; a mismatch deletes it. `auto` takes this way
//!   when the cloud offers it and the file is uncompressed, and streams when Glance cannot
//!   fetch the file (a private mirror, a cloud without internet).
//!
//! Any failure, timeout or stop deletes the image: nothing is left behind. A create the
//! process could not finish (SIGKILL, OOM, a closed laptop) is marked in the image itself
//! ([`create_marker`]); the next create of the same image deletes such
//! leftovers first, so a kill at any point ends, after the next apply, with one image.
//!
//! The image records where it came from in properties (`flatcar_*`, `os_version`), so that
//! an import can tell what was published ([`ImageOrigin`]).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backoff::{poll, Backoff};
use crate::create_marker;
use crate::flatcar::image_pipeline::{self, ImageSource, PipelineError};
use crate::flatcar::release::{
    string_enum, Compression, ReleaseError, ReleaseQuery, VerifiedRelease,
};
use crate::flatcar::signature::TrustedKey;
use crate::http::{HttpClient, StopSignal};
use crate::openstack::glance::{Glance, Image, ImageChange, NewImage};
use crate::openstack::{CloudError, CloudSession, DeleteError};

/// Properties every image gets unless the user overrides them (`os_version` too).
pub const DEFAULT_PROPERTIES: &[(&str, &str)] =
    &[("hw_qemu_guest_agent", "yes"), ("os_distro", "flatcar")];
/// Prefix of the properties where the publisher records what it published.
pub const ORIGIN_PREFIX: &str = "flatcar_";
/// The create key of the image `request` makes: the same for every attempt at that image.
pub fn create_key(request: &PublishRequest<'_>) -> String {
    let q = &request.query;
    create_marker::key(&[
        "flatcar_image",
        request.owner.as_str(),
        request.name.as_str(),
        q.channel.as_str(),
        q.arch.as_str(),
        q.version.as_str(),
    ])
}

/// Deletes the images an interrupted create of the same image left (`creating`), hidden or not.
async fn delete_leftovers(glance: &Glance<'_>, key: &str) -> Result<(), PublishError> {
    let leftovers = glance
        .list_with_property(create_marker::CREATE_KEY, key)
        .await
        .map_err(cloud("Cannot look for images of an interrupted create"))?;
    for image in leftovers
        .iter()
        .filter(|i| create_marker::is_leftover(&i.properties, key))
    {
        tracing::warn!(
            id = %image.id,
            status = %image.status,
            attempt = image.properties.get(create_marker::CREATE_ATTEMPT).map(String::as_str).unwrap_or("?"),
            "deleting an image an interrupted create left behind"
        );
        glance.delete(&image.id).await.map_err(cloud(
            "Cannot delete an image an interrupted create left behind",
        ))?;
    }
    Ok(())
}

/// The longest wait between two looks at an image Glance is importing: a finished import is
/// seen at most this late. Half a second, as the benchmark's own poller of Glance looks: at
/// 1 s a finished import waited up to a second (half a second on average) to be seen, twice as
/// long as that poller, and a small GET every half second is nothing beside an import.
const IMPORT_POLL_CAP: Duration = Duration::from_millis(500);

string_enum!(
    /// Which way the image's bytes reach Glance.
    #[derive(Default)]
    ImportMethod {
        /// web-download where the cloud offers it and the file is uncompressed, else stream;
        /// and stream when Glance's download fails.
        #[default]
        Auto = "auto",
        /// Through this process (the client's uplink), verified while streaming.
        Stream = "stream",
        /// Glance downloads the release file itself; verified by Glance's digest before
        /// un-hiding.
        WebDownload = "web-download",
    }
);

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
    pub import_method: ImportMethod,
    /// Whose image it is (the caller's workspace identity): part of the create key, so a
    /// create never takes another owner's image of the same name for its own leftover.
    pub owner: String,
}

/// A published, verified image.
#[derive(Debug, Clone)]
pub struct Published {
    pub image: Image,
    pub release: VerifiedRelease,
    /// The release file that was downloaded.
    pub source_url: String,
    /// How the bytes reached Glance: `stream` or `web-download`.
    pub imported_by: ImportMethod,
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
    #[error("Glance downloaded {url} by web-download and stored SHA-512 {glance}, but the signed DIGESTS say {verified}: the server sent other bytes than Flatcar signed; the image is deleted")]
    WebDownloadMismatch {
        url: String,
        glance: String,
        verified: String,
    },
    #[error("Glance could not import {url} by web-download: {reason}")]
    WebDownloadFailed { url: String, reason: String },
    #[error("import_method = \"web-download\" {reason}; use \"auto\" or \"stream\"")]
    WebDownloadUnavailable { reason: String },
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
    /// `stream` or `web-download`.
    pub imported_by: Option<String>,
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
            imported_by: recorded("import_method"),
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

    // 2. Choose the way and create the image.
    // The import methods and the look-up of an interrupted create's leftovers are independent:
    // one round trip for both.
    let glance = Glance::new(session);
    let key = create_key(request);
    let (methods, ()) = tokio::try_join!(
        async {
            glance
                .import_methods()
                .await
                .map_err(cloud("Cannot read the cloud's image import methods"))
        },
        delete_leftovers(&glance, &key),
    )?;
    let direct = methods.iter().any(|m| m == "glance-direct");
    let offers_web = methods.iter().any(|m| m == "web-download");
    let uncompressed = request.compression == Compression::None;
    let web = match request.import_method {
        ImportMethod::Stream => false,
        ImportMethod::Auto => offers_web && uncompressed,
        ImportMethod::WebDownload if !uncompressed => {
            return Err(PublishError::WebDownloadUnavailable {
                reason: format!(
                    "cannot be combined with compression = \"{}\" (Glance stores what it downloads; only the uncompressed image can be verified)",
                    request.compression.as_str()
                ),
            }
            .into())
        }
        ImportMethod::WebDownload if !offers_web => {
            return Err(PublishError::WebDownloadUnavailable {
                reason: format!(
                    "is not offered by this cloud (GET /v2/info/import lists {})",
                    if methods.is_empty() { "none".to_string() } else { methods.join(", ") }
                ),
            }
            .into())
        }
        ImportMethod::WebDownload => true,
    };
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
    properties.extend(create_marker::marks(&key));
    properties.extend(request.properties.clone());
    let new = |hidden: bool, by: ImportMethod| {
        let mut properties = properties.clone();
        properties.insert(format!("{ORIGIN_PREFIX}import_method"), by.as_str().into());
        NewImage {
            name: request.name.clone(),
            hidden,
            visibility: request.visibility.clone(),
            tags: request.tags.clone(),
            properties,
        }
    };
    let started = tokio::time::Instant::now();

    // 3. web-download: Glance fetches the file; the image stays hidden until verified.
    if web {
        let image = glance
            .create(&new(true, ImportMethod::WebDownload))
            .await
            .map_err(cloud("Cannot create the Glance image"))?;
        tracing::info!(id = %image.id, url = %source.url, "created hidden image; Glance downloads it (web-download)");
        let outcome = bounded(
            stop,
            request.limit,
            web_download(&glance, &image.id, &source),
        )
        .await;
        match outcome {
            Ok(stored) => {
                return Ok(Published {
                    image: stored,
                    release,
                    source_url: source.url,
                    imported_by: ImportMethod::WebDownload,
                })
            }
            Err(error) => {
                let leftover = glance
                    .delete(&image.id)
                    .await
                    .err()
                    .map(|e| (image.id.clone(), e));
                let fall_back = request.import_method == ImportMethod::Auto
                    && matches!(error, PublishError::WebDownloadFailed { .. })
                    && leftover.is_none();
                if !fall_back {
                    return Err(PublishFailure { error, leftover });
                }
                tracing::info!(%error, "web-download failed; streaming the image through this machine instead");
            }
        }
    }

    // 4. Stream, verify, import; on any failure, timeout or stop: delete.
    let image = glance
        .create(&new(false, ImportMethod::Stream))
        .await
        .map_err(cloud("Cannot create the Glance image"))?;
    tracing::info!(id = %image.id, direct, "created image; streaming data");
    let limit = request.limit.saturating_sub(started.elapsed());
    let outcome = bounded(
        stop,
        limit,
        transfer(http, &glance, &image.id, &source, direct),
    )
    .await;
    match outcome {
        Ok(stored) => Ok(Published {
            image: stored,
            release,
            source_url: source.url,
            imported_by: ImportMethod::Stream,
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

/// `work` within `limit`, cut short by a stop.
async fn bounded<T>(
    stop: &StopSignal,
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, PublishError>>,
) -> Result<T, PublishError> {
    tokio::select! {
        r = tokio::time::timeout(limit, work) => r.unwrap_or(Err(PublishError::TimedOut(limit))),
        _ = stop.stopped() => Err(PublishError::Cancelled),
    }
}

/// Starts the web-download import, waits for it, compares Glance's SHA-512 with the signed
/// one and only then un-hides the image.
async fn web_download(
    glance: &Glance<'_>,
    id: &str,
    source: &ImageSource,
) -> Result<Image, PublishError> {
    let failed = |reason: String| PublishError::WebDownloadFailed {
        url: source.url.clone(),
        reason,
    };
    glance
        .import_web_download(id, &source.url)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let backoff = Backoff::new(Duration::from_millis(200), IMPORT_POLL_CAP);
    let image = poll(backoff, || async {
        match glance
            .get(id)
            .await
            .map_err(cloud("Cannot read the image"))?
        {
            Some(image) if image.status == "active" => Ok(Some(Ok(image))),
            Some(image) if image.status == "killed" => {
                Err(PublishError::Killed { id: id.to_string() })
            }
            Some(image) if image.failed_import.is_some() && image.status != "importing" => {
                Ok(Some(Err(())))
            }
            Some(_) => Ok(None),
            None => Err(PublishError::Disappeared { id: id.to_string() }),
        }
    })
    .await?;
    let image = match image {
        Ok(image) => image,
        Err(()) => {
            let reason = glance
                .import_task_message(id)
                .await
                .unwrap_or_else(|| "the import task failed (Glance gave no reason)".into());
            return Err(failed(reason));
        }
    };
    match (&image.os_hash_algo, &image.os_hash_value) {
        (Some(algo), Some(value)) if algo == "sha512" && *value == source.image_sha512 => {}
        (algo, value) => {
            return Err(PublishError::WebDownloadMismatch {
                url: source.url.clone(),
                glance: match (algo, value) {
                    (Some(a), Some(v)) if a == "sha512" => v.clone(),
                    (a, v) => format!(
                        "{} (algorithm {})",
                        v.as_deref().unwrap_or("none"),
                        a.as_deref().unwrap_or("none")
                    ),
                },
                verified: source.image_sha512.clone(),
            })
        }
    }
    // Visible and finished in one change: a later create of the same key must not take it
    // for the leftover of an interrupted one. Glance may still be finishing the import when
    // the change lands (a concurrent update can win), so it is read back and made again until
    // Glance shows it.
    let changes = [
        ImageChange::Set("os_hidden".into(), serde_json::Value::Bool(false)),
        ImageChange::Set(
            create_marker::CREATE_STATE.into(),
            create_marker::CREATED.into(),
        ),
    ];
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
    for attempt in 1..=UNHIDE_ATTEMPTS {
        glance
            .update(id, &changes)
            .await
            .map_err(cloud("Cannot un-hide the verified image"))?;
        let seen = glance
            .get(id)
            .await
            .map_err(cloud("Cannot read the un-hidden image back"))?
            .ok_or_else(|| PublishError::Disappeared { id: id.to_string() })?;
        if unhidden(&seen) {
            return Ok(seen);
        }
        tracing::warn!(%id, attempt, "Glance does not show the image un-hidden yet; changing it again");
        tokio::time::sleep(backoff.next_delay()).await;
    }
    Err(PublishError::Cloud {
        context: "Cannot un-hide the verified image",
        source: CloudError::Decode {
            url: id.to_string(),
            reason: format!(
                "after {UNHIDE_ATTEMPTS} changes Glance still shows it hidden or unfinished"
            ),
        },
    })
}

/// How often the un-hide is made again before giving up.
const UNHIDE_ATTEMPTS: u32 = 5;

/// Whether Glance shows the verified image visible and finished.
fn unhidden(image: &Image) -> bool {
    !image.hidden
        && image
            .properties
            .get(create_marker::CREATE_STATE)
            .map(String::as_str)
            == Some(create_marker::CREATED)
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
        _ => glance
            .update(
                id,
                &[ImageChange::Set(
                    create_marker::CREATE_STATE.into(),
                    create_marker::CREATED.into(),
                )],
            )
            .await
            .map_err(cloud("Cannot mark the image as created")),
    }
}

/// Polls with capped backoff until the image is active; `killed` or a vanished image fail.
async fn wait_until_active(glance: &Glance<'_>, id: &str) -> Result<Image, PublishError> {
    let backoff = Backoff::new(Duration::from_millis(200), IMPORT_POLL_CAP);
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
