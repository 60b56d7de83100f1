//! `flatcar_image`: create, read, update, delete and import. The verified streaming upload
//! itself is `flatcar_cloud::flatcar::publish`; the schema and model are in `model`, where
//! plan behaviour (defaults, replacement, unknown computed values) is declared.

mod model;

use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::flatcar::publish::{self, ImageOrigin, ImportMethod, PublishRequest};
use flatcar_cloud::flatcar::release::{
    Compression, ReleaseQuery, DEFAULT_ARCH, DEFAULT_CHANNEL, DEFAULT_VERSION,
};
use flatcar_cloud::openstack::glance::Glance;
use tfplugin::framework::{timeouts, Attr, TypedResource};
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Schema};

use crate::errors;
use crate::release_attributes;
use crate::state::ProviderState;

use model::{changes, with_image};
pub use model::{schema, ImageModel};

const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];

pub struct ImageResource {
    pub state: Arc<ProviderState>,
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
        if let Some(m) = config
            .import_method
            .as_str()
            .filter(|m| ImportMethod::parse(m).is_none())
        {
            fail(
                AttributePath::root("import_method"),
                "Invalid import_method",
                format!("{m:?} is not one of {}.", ImportMethod::ALL.join(", ")),
            );
        }
        if config.import_method.as_str() == Some("web-download")
            && config.compression.as_str().is_some_and(|c| c != "none")
        {
            fail(
                AttributePath::root("import_method"),
                "web-download needs the uncompressed image",
                "Glance stores exactly what it downloads, and only the uncompressed `.img` can be verified against its signed digest: set compression = \"none\" or import_method = \"stream\".".into(),
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
            limit: timeouts::limit(&planned.timeouts, model::CREATE),
            import_method: ImportMethod::parse(planned.import_method.str_or("auto"))
                .unwrap_or_default(),
            owner: self.state.owner.clone(),
        };
        let published = publish::publish(&self.state.http, &cloud, &self.state.stop, &request)
            .await
            .map_err(errors::publish)?;
        let mut state = with_image(planned, &published.image);
        state.resolved_version = published.release.version.into();
        state.verified_fingerprint = published.release.signer_fingerprint.into();
        state.source_url = published.source_url.into();
        state.imported_by = published.imported_by.as_str().to_string().into();
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
        let limit = timeouts::limit(&prior.timeouts, model::DELETE);
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
            import_method: Attr::Known("auto".into()),
            imported_by: origin.imported_by.into(),
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
