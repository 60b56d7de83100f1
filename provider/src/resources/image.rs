//! `flatcar_image`: the Flatcar OpenStack image, verified (OpenPGP + SHA-512) and streamed
//! into Glance in one pass, in bounded memory, with nothing left behind on failure.
//!
//! Create: resolve and verify the release (before any cloud call), create the Glance image,
//! stream download -> SHA-512 -> (decompress) -> Glance. Where the cloud offers
//! `glance-direct`, the data is staged and imported only after the digest matched, so an
//! unverified image never becomes active; otherwise it is uploaded with `PUT /file` (the
//! body is cut short on a mismatch). Glance's `os_hash_value` must equal our SHA-512. Any
//! failure, timeout or stop deletes the image.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostic, Diagnostics,
    PlanRequest, PlanResponse, Resource, Schema, Type, Value,
};

use crate::data_sources::release::read_error;
use crate::flatcar::release::{Compression, ReleaseQuery};
use crate::image_pipeline::{self, ImageSource, PipelineError};
use crate::openstack::glance::{Glance, Image, ImageChange, NewImage};
use crate::provider::ProviderState;
use crate::release_attributes;
use crate::resources::polling::{poll, Backoff};
use crate::resources::{cloud_diag, timeouts};

pub struct ImageResource {
    pub state: Arc<ProviderState>,
}

/// Properties every image gets unless `properties` overrides them (`os_version` too).
const DEFAULT_PROPERTIES: &[(&str, &str)] =
    &[("hw_qemu_guest_agent", "yes"), ("os_distro", "flatcar")];
/// Image properties where the provider records what it created, for import.
const META: &str = "flatcar_";
const REPLACING: &[&str] = &["channel", "arch", "version", "compression"];
const COMPUTED: &[&str] = &[
    "id",
    "status",
    "size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "resolved_version",
    "verified_fingerprint",
    "source_url",
];
const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];
const CREATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

pub fn schema() -> Schema {
    let s = Type::String;
    let mut block = Block {
        description: "The Flatcar Container Linux OpenStack image in Glance. The release's signed DIGESTS are verified with the trusted OpenPGP key before any cloud call; the image is streamed from the release server into Glance in one pass (never on disk), its SHA-512 checked against the signed digest and against Glance's `os_hash_value`. Where the cloud offers `glance-direct` import, the image becomes active only after the digest matched. On any failure the half-made image is deleted.".into(),
        attributes: vec![
            Attribute::required("name", s.clone(), "Image name in Glance. Changes in place."),
            Attribute::optional_computed("channel", s.clone(), "Release channel: `stable`, `beta`, `alpha` or `lts`. Default `stable`. Changing it replaces the image."),
            Attribute::optional_computed("arch", s.clone(), "`amd64` or `arm64`. Default `amd64`. Changing it replaces the image."),
            Attribute::optional_computed("version", s.clone(), "`current` (default: the current release at creation time) or an exact version, e.g. from `flatcar_release.version`. Changing it replaces the image."),
            Attribute::optional_computed("compression", s.clone(), "Which release file to download: `none` (default; the `.img` is a qcow2 with internal compression, so outer compression saves little), `gz` or `bz2`. Either way Glance receives the uncompressed qcow2. Changing it replaces the image."),
            Attribute::optional("base_url", s.clone(), "Overrides the provider's `release_base_url` for this image (same `{channel}` rule)."),
            Attribute::optional_computed("visibility", s.clone(), "`private` (default), `shared`, `community` or `public`. Changes in place."),
            Attribute::optional("properties", Type::map(Type::String), "Extra image properties, e.g. Jetstream2's `hw_disk_bus = \"scsi\"`, `hw_scsi_model = \"virtio-scsi\"`, `os_require_quiesce = \"yes\"`. `hw_qemu_guest_agent = \"yes\"`, `os_distro = \"flatcar\"` and `os_version` are always set unless overridden here. Changes in place."),
            Attribute::optional_computed("tags", Type::set(s.clone()), "Image tags. Changes in place."),
            Attribute::computed("id", s.clone(), "Glance image ID."),
            Attribute::computed("status", s.clone(), "Glance status (`active` once created)."),
            Attribute::computed("size", Type::Number, "Size in bytes as stored by Glance."),
            Attribute::computed("checksum", s.clone(), "Glance's MD5 checksum of the data."),
            Attribute::computed("os_hash_algo", s.clone(), "Glance's hash algorithm (`sha512`)."),
            Attribute::computed("os_hash_value", s.clone(), "Glance's SHA-512 of the stored data: equal to the signed digest of the `.img`."),
            Attribute::computed("resolved_version", s.clone(), "The exact Flatcar version uploaded."),
            Attribute::computed("verified_fingerprint", s.clone(), "Fingerprint of the key or subkey whose signature was verified."),
            Attribute::computed("source_url", s, "The release file that was downloaded."),
        ],
        ..Block::default()
    };
    block
        .blocks
        .push(timeouts::block(&[("create", "60m"), ("delete", "10m")]));
    Schema::new(0, block)
}

fn text(v: &Value, name: &str, default: &str) -> String {
    v.get(name).as_str().unwrap_or(default).to_string()
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn validate_config(config: &Value) -> Diagnostics {
    let mut diags = release_attributes::validate_config(config);
    if let Some(c) = config.get("compression").as_str() {
        if let Err(reason) = c.parse::<Compression>() {
            diags.push(
                Diagnostic::error("Invalid compression", reason)
                    .at(AttributePath::root("compression")),
            );
        }
    }
    if let Some(v) = config.get("visibility").as_str() {
        if !VISIBILITIES.contains(&v) {
            diags.push(
                Diagnostic::error(
                    "Invalid visibility",
                    format!("{v:?} is not one of {}.", VISIBILITIES.join(", ")),
                )
                .at(AttributePath::root("visibility")),
            );
        }
    }
    if config.get("name").as_str() == Some("") {
        diags.push(
            Diagnostic::error("Invalid name", "The image name must not be empty.")
                .at(AttributePath::root("name")),
        );
    }
    if let Value::Map(props) = config.get("properties") {
        for key in props.keys() {
            if key.starts_with(META)
                || key.starts_with("os_glance")
                || [
                    "id",
                    "name",
                    "status",
                    "visibility",
                    "tags",
                    "os_hash_value",
                ]
                .contains(&key.as_str())
            {
                diags.push(
                    Diagnostic::error(
                        "Reserved image property",
                        format!("{key:?} is managed by Glance or by this provider; set it through its own attribute or choose another name."),
                    )
                    .at(AttributePath::root("properties").key(key)),
                );
            }
        }
    }
    timeouts::validate(config, &mut diags);
    diags
}

/// What the provider records on the image so that import can rebuild the state.
fn meta_properties(
    state: &Value,
    resolved_version: &str,
    fingerprint: &str,
) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    for key in ["channel", "arch", "version", "compression"] {
        meta.insert(format!("{META}{key}"), text(state, key, ""));
    }
    meta.insert(
        format!("{META}verified_fingerprint"),
        fingerprint.to_string(),
    );
    meta.insert("os_version".into(), resolved_version.to_string());
    meta
}

/// The state for `image`, keeping what only the configuration knows from `base`.
fn state_for(image: &Image, base: &Value) -> Value {
    let mut state = base.clone();
    let set = |state: &mut Value, k: &str, v: Option<String>| {
        state.set(k, v.map(Value::String).unwrap_or(Value::Null))
    };
    set(&mut state, "id", Some(image.id.clone()));
    set(&mut state, "name", Some(image.name.clone()));
    set(&mut state, "status", Some(image.status.clone()));
    set(&mut state, "visibility", Some(image.visibility.clone()));
    set(&mut state, "checksum", image.checksum.clone());
    set(&mut state, "os_hash_algo", image.os_hash_algo.clone());
    set(&mut state, "os_hash_value", image.os_hash_value.clone());
    state.set(
        "size",
        image
            .size
            .map(|s| Value::Number(s.into()))
            .unwrap_or(Value::Null),
    );
    let mut tags = image.tags.clone();
    tags.sort();
    state.set(
        "tags",
        Value::List(tags.into_iter().map(Value::String).collect()),
    );
    // Only the properties the configuration manages are compared.
    if let Value::Map(managed) = base.get("properties") {
        let current: BTreeMap<String, Value> = managed
            .keys()
            .filter_map(|k| {
                image
                    .properties
                    .get(k)
                    .map(|v| (k.clone(), Value::string(v)))
            })
            .collect();
        state.set("properties", Value::Map(current));
    }
    state
}

impl ImageResource {
    async fn create(&self, planned: &Value) -> ApplyResponse {
        ApplyResponse::from_result(self.create_inner(planned).await, Value::Null)
    }

    async fn create_inner(&self, planned: &Value) -> Result<Value, Diagnostics> {
        let provider = self.state.config()?;
        let http = &self.state.http;
        let compression: Compression = text(planned, "compression", "none")
            .parse()
            .map_err(|e: String| Diagnostic::error("Invalid compression", e))?;
        let query = ReleaseQuery {
            channel: text(planned, "channel", "stable")
                .parse()
                .map_err(|e: String| Diagnostic::error("Invalid channel", e))?,
            arch: text(planned, "arch", "amd64")
                .parse()
                .map_err(|e: String| Diagnostic::error("Invalid arch", e))?,
            version: text(planned, "version", "current"),
            base_url: planned
                .get("base_url")
                .as_str()
                .unwrap_or(&provider.release_base_url)
                .to_string(),
        };
        // 1. Verify the release before anything touches the cloud.
        let trusted_key = provider.trusted_key().map_err(|e| read_error(&e.into()))?;
        let release = query
            .resolve(http, trusted_key)
            .await
            .map_err(|e| read_error(&e))?;
        let file = compression.file_name();
        let download_sha512 = match compression {
            Compression::None => release.sha512.clone(),
            _ => {
                query
                    .signed_digest(http, trusted_key, &release.version, &file)
                    .await
                    .map_err(|e| read_error(&e))?
                    .0
            }
        };
        let source = ImageSource {
            url: format!(
                "{}{file}",
                query
                    .directory_url(&release.version)
                    .map_err(|e| read_error(&e))?
            ),
            compression,
            download_sha512,
            image_sha512: release.sha512.clone(),
        };
        tracing::info!(version = %release.version, url = %source.url, "verified release; uploading image");

        // 2. Create the image.
        let cloud = self.state.cloud().await?;
        let glance = Glance::new(&cloud);
        let direct = glance
            .import_methods()
            .await
            .map_err(|e| cloud_diag(&e, "Cannot read the cloud's image import methods"))?
            .iter()
            .any(|m| m == "glance-direct");
        let mut properties: BTreeMap<String, String> = DEFAULT_PROPERTIES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        properties.extend(meta_properties(
            planned,
            &release.version,
            &release.signer_fingerprint,
        ));
        if let Some(user) = planned.get("properties").as_string_map() {
            properties.extend(user);
        }
        let new = NewImage {
            name: text(planned, "name", ""),
            visibility: text(planned, "visibility", "private"),
            tags: string_list(planned.get("tags")),
            properties,
        };
        let image = glance
            .create(&new)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot create the Glance image"))?;
        tracing::info!(id = %image.id, direct, "created image; streaming data");

        // 3-4. Stream, verify, import; on any failure, timeout or stop: delete.
        let limit = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let outcome = tokio::select! {
            r = tokio::time::timeout(limit, self.transfer(&glance, &image.id, &source, direct)) => match r {
                Ok(result) => result,
                Err(_) => Err(Diagnostic::error("Image upload timed out", format!("The upload did not finish within {limit:?} (timeouts.create). The image was deleted.")).into()),
            },
            _ = self.state.stop.stopped() => Err(Diagnostic::error("Image upload cancelled", "Terraform asked the provider to stop. The half-made image was deleted.").into()),
        };
        match outcome {
            Ok(stored) => {
                let mut state = state_for(&stored, planned);
                state.set("resolved_version", Value::string(&release.version));
                state.set(
                    "verified_fingerprint",
                    Value::string(&release.signer_fingerprint),
                );
                state.set("source_url", Value::string(&source.url));
                Ok(state)
            }
            Err(mut diags) => {
                if let Err(e) = glance.delete(&image.id).await {
                    diags.push(Diagnostic::error(
                        "The failed image could not be deleted",
                        format!(
                            "{e}. Delete image {} by hand (openstack image delete {}).",
                            image.id, image.id
                        ),
                    ));
                }
                Err(diags)
            }
        }
    }

    async fn transfer(
        &self,
        glance: &Glance<'_>,
        id: &str,
        source: &ImageSource,
        direct: bool,
    ) -> Result<Image, Diagnostics> {
        let (stream, outcome) = image_pipeline::open(&self.state.http, source)
            .await
            .map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Cannot download the Flatcar image",
                    e.to_string(),
                ))
            })?;
        let body = reqwest::Body::wrap_stream(stream);
        let sent = if direct {
            glance.stage(id, body).await
        } else {
            glance.upload(id, body).await
        };
        let summary = match (outcome.result(), sent) {
            (Ok(summary), Ok(())) => summary,
            (Err(e @ PipelineError::DigestMismatch { .. }), _) => {
                return Err(Diagnostic::error(
                    "Flatcar image verification failed",
                    format!("{e}. The image was not imported and has been deleted."),
                )
                .into())
            }
            (Err(PipelineError::Incomplete), Err(e)) | (Ok(_), Err(e)) => {
                return Err(cloud_diag(&e, "Uploading the image to Glance failed"))
            }
            (Err(e), _) => {
                return Err(Diagnostic::error(
                    "Transferring the Flatcar image failed",
                    e.to_string(),
                )
                .into())
            }
        };
        if direct {
            glance
                .import_staged(id)
                .await
                .map_err(|e| cloud_diag(&e, "Glance refused to import the staged image"))?;
        }
        let image = wait_until_active(glance, id).await?;
        match (&image.os_hash_algo, &image.os_hash_value) {
            (Some(algo), Some(value)) if algo == "sha512" && *value != summary.image_sha512 => Err(Diagnostic::error(
                "Glance stored different bytes",
                format!("Glance's SHA-512 is {value}, the verified image's is {}. The image has been deleted.", summary.image_sha512),
            )
            .into()),
            _ => Ok(image),
        }
    }
}

/// Polls with capped backoff until the image is active; `killed` or a vanished image fail.
async fn wait_until_active(glance: &Glance<'_>, id: &str) -> Result<Image, Diagnostics> {
    let backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    poll(backoff, || async {
        match glance
            .get(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot read the image"))?
        {
            Some(image) if image.status == "active" => Ok(Some(image)),
            Some(image) if image.status == "killed" => Err(Diagnostic::error(
                "Glance could not store the image",
                format!("Image {id} ended in status `killed`; see the Glance logs."),
            )
            .into()),
            Some(_) => Ok(None),
            None => Err(Diagnostic::error(
                "The image disappeared",
                format!("Image {id} was deleted while it was being imported."),
            )
            .into()),
        }
    })
    .await
}

#[async_trait]
impl Resource for ImageResource {
    fn type_name(&self) -> &'static str {
        "flatcar_image"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(config)
    }

    async fn plan(&self, request: PlanRequest<'_>) -> PlanResponse {
        let mut planned = request.proposed_new_state;
        for (key, default) in [
            ("channel", "stable"),
            ("arch", "amd64"),
            ("version", "current"),
            ("compression", "none"),
            ("visibility", "private"),
        ] {
            if planned.get(key).is_null() {
                planned.set(key, Value::string(default));
            }
        }
        if planned.get("tags").is_null() {
            planned.set("tags", Value::List(Vec::new()));
        }
        let mut response = PlanResponse::default();
        let create = request.prior_state.is_null();
        let replace: Vec<&str> = if create {
            Vec::new()
        } else {
            REPLACING
                .iter()
                .copied()
                .filter(|k| request.prior_state.get(k) != planned.get(k))
                .collect()
        };
        if create || !replace.is_empty() {
            for key in COMPUTED {
                planned.set(key, Value::Unknown);
            }
        }
        response.requires_replace = replace.into_iter().map(AttributePath::root).collect();
        response.planned_state = planned;
        response
    }

    async fn apply(&self, request: ApplyRequest<'_>) -> ApplyResponse {
        if request.planned_state.is_null() {
            return self.delete(request.prior_state).await;
        }
        if request.prior_state.is_null() {
            return self.create(request.planned_state).await;
        }
        self.update(request.prior_state, request.planned_state)
            .await
    }

    async fn read(&self, state: &Value) -> Result<Value, Diagnostics> {
        let Some(id) = state.get("id").as_str() else {
            return Ok(Value::Null);
        };
        let cloud = self.state.cloud().await?;
        match Glance::new(&cloud).get(id).await {
            Ok(Some(image)) => Ok(state_for(&image, state)),
            Ok(None) => {
                tracing::warn!(%id, "image is gone; removing it from state");
                Ok(Value::Null)
            }
            Err(e) => Err(cloud_diag(&e, "Cannot read the image")),
        }
    }

    async fn import(&self, id: &str) -> Result<Value, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let image = Glance::new(&cloud)
            .get(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot read the image"))?
            .ok_or_else(|| Diagnostic::error("No such image", format!("Glance has no image with ID {id:?}. Check the ID with `openstack image list`.")))?;
        let meta = |key: &str| image.properties.get(&format!("{META}{key}")).cloned();
        let resolved = image.properties.get("os_version").cloned();
        let user: BTreeMap<String, Value> = image
            .properties
            .iter()
            .filter(|(k, v)| {
                !k.starts_with(META)
                    && k.as_str() != "os_version"
                    && !DEFAULT_PROPERTIES.iter().any(|(dk, dv)| dk == k && dv == v)
            })
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect();
        let or = |v: Option<String>, d: &str| Value::string(v.unwrap_or_else(|| d.to_string()));
        let base = Value::object([
            ("channel", or(meta("channel"), "stable")),
            ("arch", or(meta("arch"), "amd64")),
            (
                "version",
                or(meta("version").or(resolved.clone()), "current"),
            ),
            ("compression", or(meta("compression"), "none")),
            ("base_url", Value::Null),
            (
                "properties",
                if user.is_empty() {
                    Value::Null
                } else {
                    Value::Map(user)
                },
            ),
            (
                "resolved_version",
                resolved.map(Value::String).unwrap_or(Value::Null),
            ),
            (
                "verified_fingerprint",
                meta("verified_fingerprint")
                    .map(Value::String)
                    .unwrap_or(Value::Null),
            ),
            ("source_url", Value::Null),
            ("timeouts", Value::Null),
        ]);
        Ok(state_for(&image, &base))
    }
}

impl ImageResource {
    async fn update(&self, prior: &Value, planned: &Value) -> ApplyResponse {
        let result = async {
            let id = prior.get("id").as_str().unwrap_or_default().to_string();
            let cloud = self.state.cloud().await?;
            let glance = Glance::new(&cloud);
            let current = glance
                .get(&id)
                .await
                .map_err(|e| cloud_diag(&e, "Cannot read the image"))?
                .ok_or_else(|| Diagnostic::error("The image is gone", format!("Image {id} no longer exists; run `terraform apply` again to recreate it.")))?;
            let mut changes = Vec::new();
            for key in ["name", "visibility"] {
                if prior.get(key) != planned.get(key) {
                    changes.push(ImageChange::Set(key.into(), serde_json::Value::String(text(planned, key, ""))));
                }
            }
            if prior.get("tags") != planned.get("tags") {
                changes.push(ImageChange::Set("tags".into(), serde_json::json!(string_list(planned.get("tags")))));
            }
            let before = prior.get("properties").as_string_map().unwrap_or_default();
            let after = planned.get("properties").as_string_map().unwrap_or_default();
            for (k, v) in &after {
                if before.get(k) != Some(v) || current.properties.get(k) != Some(v) {
                    let value = serde_json::Value::String(v.clone());
                    changes.push(if current.properties.contains_key(k) { ImageChange::Set(k.clone(), value) } else { ImageChange::Add(k.clone(), value) });
                }
            }
            for k in before.keys().filter(|k| !after.contains_key(*k)) {
                match DEFAULT_PROPERTIES.iter().find(|(dk, _)| dk == k) {
                    Some((_, default)) => changes.push(ImageChange::Set(k.clone(), serde_json::Value::String(default.to_string()))),
                    None if current.properties.contains_key(k) => changes.push(ImageChange::Remove(k.clone())),
                    None => {}
                }
            }
            let image = if changes.is_empty() {
                current
            } else {
                glance.update(&id, &changes).await.map_err(|e| cloud_diag(&e, "Cannot update the image"))?
            };
            Ok::<_, Diagnostics>(state_for(&image, planned))
        }
        .await;
        ApplyResponse::from_result(result, prior.clone())
    }

    async fn delete(&self, prior: &Value) -> ApplyResponse {
        let result = async {
            let Some(id) = prior.get("id").as_str() else {
                return Ok(());
            };
            let cloud = self.state.cloud().await?;
            let glance = Glance::new(&cloud);
            glance
                .delete(id)
                .await
                .map_err(|e| cloud_diag(&e, "Cannot delete the image"))?;
            // Wait until Glance no longer lists it.
            let limit = timeouts::get(prior, "delete", Duration::from_secs(600));
            let backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
            let gone = tokio::time::timeout(
                limit,
                poll(backoff, || async {
                    let image = glance
                        .get(id)
                        .await
                        .map_err(|e| cloud_diag(&e, "Cannot read the image being deleted"))?;
                    Ok::<_, Diagnostics>(image.is_none().then_some(()))
                }),
            )
            .await;
            gone.map_err(|_| {
                Diagnostics::from(Diagnostic::error(
                    "Image deletion timed out",
                    format!("Image {id} still exists after {limit:?}."),
                ))
            })?
        }
        .await;
        ApplyResponse::from_result(result.map(|()| Value::Null), prior.clone())
    }
}
