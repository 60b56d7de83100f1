//! `flatcar_image`: schema, model and CRUD glue. The verified streaming upload itself is
//! `flatcar_cloud::flatcar::publish`; plan behaviour (defaults, replacement, unknown
//! computed values) is declared on the schema.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use flatcar_cloud::flatcar::publish::{self, ImageOrigin, PublishRequest};
use flatcar_cloud::flatcar::release::{
    Compression, ReleaseQuery, DEFAULT_ARCH, DEFAULT_CHANNEL, DEFAULT_VERSION,
};
use flatcar_cloud::openstack::glance::{Glance, Image, ImageChange};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tfplugin::framework::{timeouts, Attr, Timeouts, TypedResource};
use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value};

use crate::errors;
use crate::release_attributes;
use crate::state::ProviderState;

const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];
const CREATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageModel {
    pub name: Attr<String>,
    pub channel: Attr<String>,
    pub arch: Attr<String>,
    pub version: Attr<String>,
    pub compression: Attr<String>,
    pub base_url: Attr<String>,
    pub visibility: Attr<String>,
    pub properties: Attr<BTreeMap<String, String>>,
    pub tags: Attr<Vec<String>>,
    pub id: Attr<String>,
    pub status: Attr<String>,
    pub size: Attr<i64>,
    pub checksum: Attr<String>,
    pub os_hash_algo: Attr<String>,
    pub os_hash_value: Attr<String>,
    pub resolved_version: Attr<String>,
    pub verified_fingerprint: Attr<String>,
    pub source_url: Attr<String>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    let computed = |name: &str, ty: Type, description: &str| {
        Attribute::computed(name, ty, description).use_state_for_unknown()
    };
    let block = Block {
        description: "The Flatcar Container Linux OpenStack image in Glance. The release's signed DIGESTS are verified with the trusted OpenPGP key before any cloud call; the image is streamed from the release server into Glance in one pass (never on disk), its SHA-512 checked against the signed digest and against Glance's `os_hash_value`. Where the cloud offers `glance-direct` import, the image becomes active only after the digest matched. On any failure the half-made image is deleted.".into(),
        attributes: vec![
            Attribute::required("name", s.clone(), "Image name in Glance. Changes in place."),
            Attribute::optional("channel", s.clone(), "Release channel: `stable`, `beta`, `alpha` or `lts`. Default `stable`. Changing it replaces the image.").default(DEFAULT_CHANNEL).requires_replace(),
            Attribute::optional("arch", s.clone(), "`amd64` or `arm64`. Default `amd64`. Changing it replaces the image.").default(DEFAULT_ARCH).requires_replace(),
            Attribute::optional("version", s.clone(), "`current` (default: the current release at creation time) or an exact version, e.g. from `flatcar_release.version`. Changing it replaces the image.").default(DEFAULT_VERSION).requires_replace(),
            Attribute::optional("compression", s.clone(), "Which release file to download: `none` (default; the `.img` is a qcow2 with internal compression, so outer compression saves little), `gz` or `bz2`. Either way Glance receives the uncompressed qcow2. Changing it replaces the image.").default("none").requires_replace(),
            Attribute::optional("base_url", s.clone(), "Overrides the provider's `release_base_url` for this image (same `{channel}` rule)."),
            Attribute::optional("visibility", s.clone(), "`private` (default), `shared`, `community` or `public`. Changes in place.").default("private"),
            Attribute::optional("properties", Type::map(Type::String), "Extra image properties, e.g. Jetstream2's `hw_disk_bus = \"scsi\"`, `hw_scsi_model = \"virtio-scsi\"`, `os_require_quiesce = \"yes\"`. `hw_qemu_guest_agent = \"yes\"`, `os_distro = \"flatcar\"` and `os_version` are always set unless overridden here. Changes in place."),
            Attribute::optional("tags", Type::set(s.clone()), "Image tags. Changes in place.").default(Value::List(Vec::new())),
            computed("id", s.clone(), "Glance image ID."),
            computed("status", s.clone(), "Glance status (`active` once created)."),
            computed("size", Type::Number, "Size in bytes as stored by Glance."),
            computed("checksum", s.clone(), "Glance's MD5 checksum of the data."),
            computed("os_hash_algo", s.clone(), "Glance's hash algorithm (`sha512`)."),
            computed("os_hash_value", s.clone(), "Glance's SHA-512 of the stored data: equal to the signed digest of the `.img`."),
            computed("resolved_version", s.clone(), "The exact Flatcar version uploaded."),
            computed("verified_fingerprint", s.clone(), "Fingerprint of the key or subkey whose signature was verified."),
            computed("source_url", s, "The release file that was downloaded."),
        ],
        blocks: vec![timeouts::block(&[("create", "60m"), ("delete", "10m")])],
        ..Block::default()
    };
    Schema::new(0, block)
}

pub struct ImageResource {
    pub state: Arc<ProviderState>,
}

/// `model` with what Glance says of `image`; only the properties the model manages are kept.
fn with_image(mut model: ImageModel, image: &Image) -> ImageModel {
    model.id = image.id.clone().into();
    model.name = image.name.clone().into();
    model.status = image.status.clone().into();
    model.visibility = image.visibility.clone().into();
    model.checksum = image.checksum.clone().into();
    model.os_hash_algo = image.os_hash_algo.clone().into();
    model.os_hash_value = image.os_hash_value.clone().into();
    model.size = image.size.into();
    let mut tags = image.tags.clone();
    tags.sort();
    model.tags = Attr::Known(tags);
    if let Some(managed) = model.properties.known() {
        let current = managed
            .keys()
            .filter_map(|k| image.properties.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        model.properties = Attr::Known(current);
    }
    model
}

/// The JSON-patch changes that take `current` from `prior` to `planned`.
fn changes(prior: &ImageModel, planned: &ImageModel, current: &Image) -> Vec<ImageChange> {
    let mut out = Vec::new();
    let text = |a: &Attr<String>| Json::String(a.str_or("").to_string());
    if prior.name != planned.name {
        out.push(ImageChange::Set("name".into(), text(&planned.name)));
    }
    if prior.visibility != planned.visibility {
        out.push(ImageChange::Set(
            "visibility".into(),
            text(&planned.visibility),
        ));
    }
    if prior.tags != planned.tags {
        out.push(ImageChange::Set(
            "tags".into(),
            serde_json::json!(planned.tags.items()),
        ));
    }
    let before = prior.properties.known().cloned().unwrap_or_default();
    let after = planned.properties.known().cloned().unwrap_or_default();
    for (k, v) in &after {
        if before.get(k) != Some(v) || current.properties.get(k) != Some(v) {
            let value = Json::String(v.clone());
            out.push(if current.properties.contains_key(k) {
                ImageChange::Set(k.clone(), value)
            } else {
                ImageChange::Add(k.clone(), value)
            });
        }
    }
    for k in before.keys().filter(|k| !after.contains_key(*k)) {
        match publish::DEFAULT_PROPERTIES.iter().find(|(dk, _)| dk == k) {
            Some((_, default)) => out.push(ImageChange::Set(
                k.clone(),
                Json::String(default.to_string()),
            )),
            None if current.properties.contains_key(k) => out.push(ImageChange::Remove(k.clone())),
            None => {}
        }
    }
    out
}

#[async_trait]
impl TypedResource for ImageResource {
    type Model = ImageModel;

    fn type_name(&self) -> &'static str {
        "flatcar_image"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: ImageModel) -> Diagnostics {
        let mut diags = release_attributes::validate(
            &config.channel,
            &config.arch,
            &config.version,
            &config.base_url,
        );
        let mut fail = |path: AttributePath, summary: &str, detail: String| {
            diags.push(Diagnostic::error(summary, detail).at(path))
        };
        if let Some(Err(reason)) = config.compression.as_str().map(str::parse::<Compression>) {
            fail(
                AttributePath::root("compression"),
                "Invalid compression",
                reason,
            );
        }
        if let Some(v) = config
            .visibility
            .as_str()
            .filter(|v| !VISIBILITIES.contains(v))
        {
            fail(
                AttributePath::root("visibility"),
                "Invalid visibility",
                format!("{v:?} is not one of {}.", VISIBILITIES.join(", ")),
            );
        }
        if config.name.as_str() == Some("") {
            fail(
                AttributePath::root("name"),
                "Invalid name",
                "The image name must not be empty.".into(),
            );
        }
        for key in config.properties.known().into_iter().flat_map(|p| p.keys()) {
            if publish::is_reserved_property(key) {
                fail(AttributePath::root("properties").key(key), "Reserved image property", format!("{key:?} is managed by Glance or by this provider; set it through its own attribute or choose another name."));
            }
        }
        diags
    }

    async fn create(&self, planned: ImageModel) -> Result<ImageModel, Diagnostics> {
        let provider = self.state.config()?;
        let query = ReleaseQuery::new(
            planned.channel.as_str(),
            planned.arch.as_str(),
            planned.version.as_str(),
            planned.base_url.as_str(),
            &provider.release_base_url,
        )
        .map_err(|e| errors::release(&e))?;
        let compression: Compression =
            planned
                .compression
                .str_or("none")
                .parse()
                .map_err(|e: String| {
                    Diagnostic::error("Invalid compression", e)
                        .at(AttributePath::root("compression"))
                })?;
        // The key is checked before the cloud session exists: nothing touches the cloud
        // until the release is verified.
        let key = provider
            .trusted_key()
            .map_err(|e| errors::release(&e.into()))?;
        let cloud = self.state.cloud().await?;
        let request = PublishRequest {
            query,
            compression,
            key,
            name: planned.name.str_or("").to_string(),
            visibility: planned.visibility.str_or("private").to_string(),
            tags: planned.tags.items().to_vec(),
            properties: planned.properties.known().cloned().unwrap_or_default(),
            limit: timeouts::limit(&planned.timeouts, "create", CREATE_TIMEOUT),
        };
        let published = publish::publish(&self.state.http, &cloud, &self.state.stop, &request)
            .await
            .map_err(errors::publish)?;
        let mut state = with_image(planned, &published.image);
        state.resolved_version = published.release.version.into();
        state.verified_fingerprint = published.release.signer_fingerprint.into();
        state.source_url = published.source_url.into();
        Ok(state)
    }

    async fn read(&self, state: ImageModel) -> Result<Option<ImageModel>, Diagnostics> {
        let Some(id) = state.id.known().cloned() else {
            return Ok(None);
        };
        let cloud = self.state.cloud().await?;
        match Glance::new(&cloud).get(&id).await {
            Ok(Some(image)) => Ok(Some(with_image(state, &image))),
            Ok(None) => {
                tracing::warn!(%id, "image is gone; removing it from state");
                Ok(None)
            }
            Err(e) => Err(errors::cloud(&e, "Cannot read the image").into()),
        }
    }

    async fn update(
        &self,
        prior: ImageModel,
        planned: ImageModel,
    ) -> Result<ImageModel, Diagnostics> {
        let id = prior.id.str_or("").to_string();
        let cloud = self.state.cloud().await?;
        let glance = Glance::new(&cloud);
        let current = glance
            .get(&id)
            .await
            .map_err(|e| errors::cloud(&e, "Cannot read the image"))?
            .ok_or_else(|| {
                Diagnostic::error(
                    "The image is gone",
                    format!(
                        "Image {id} no longer exists; run `terraform apply` again to recreate it."
                    ),
                )
            })?;
        let changes = changes(&prior, &planned, &current);
        let image = if changes.is_empty() {
            current
        } else {
            glance
                .update(&id, &changes)
                .await
                .map_err(|e| errors::cloud(&e, "Cannot update the image"))?
        };
        Ok(with_image(planned, &image))
    }

    async fn delete(&self, prior: ImageModel) -> Result<(), Diagnostics> {
        let Some(id) = prior.id.as_str() else {
            return Ok(());
        };
        let cloud = self.state.cloud().await?;
        let limit = timeouts::limit(&prior.timeouts, "delete", DELETE_TIMEOUT);
        publish::delete_and_wait(&cloud, id, limit)
            .await
            .map_err(|e| errors::delete(&e, "image", " (timeouts.delete)").into())
    }

    async fn import(&self, id: &str) -> Result<ImageModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let image = Glance::new(&cloud)
            .get(id)
            .await
            .map_err(|e| errors::cloud(&e, "Cannot read the image"))?
            .ok_or_else(|| Diagnostic::error("No such image", format!("Glance has no image with ID {id:?}. Check the ID with `openstack image list`.")))?;
        let origin = ImageOrigin::of(&image);
        let or = |v: Option<String>, default: &str| {
            Attr::Known(v.unwrap_or_else(|| default.to_string()))
        };
        let model = ImageModel {
            channel: or(origin.channel, DEFAULT_CHANNEL),
            arch: or(origin.arch, DEFAULT_ARCH),
            version: or(
                origin.version.or(origin.resolved_version.clone()),
                DEFAULT_VERSION,
            ),
            compression: or(origin.compression, "none"),
            properties: Some(origin.user_properties)
                .filter(|p| !p.is_empty())
                .into(),
            resolved_version: origin.resolved_version.into(),
            verified_fingerprint: origin.verified_fingerprint.into(),
            ..ImageModel::default()
        };
        Ok(with_image(model, &image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_has_exactly_the_schema_attributes() {
        tfplugin::framework::check_model::<ImageModel>(&schema()).unwrap();
    }
}
