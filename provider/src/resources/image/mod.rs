//! `flatcar_image`: create, read, update, delete and import. The verified streaming upload
//! itself is `flatcar_cloud::flatcar::publish`; the schema and model are in `model`, where
//! plan behaviour (defaults, replacement, unknown computed values) is declared.

mod model;

use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::flatcar::publish::{self, ImageOrigin, ImportMethod, PublishRequest};
use flatcar_cloud::flatcar::release::{Arch, Channel, Compression, DEFAULT_VERSION};
use flatcar_cloud::openstack::glance::Glance;
use tfplugin::framework::{timeouts, Attr, TypedResource};
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Schema};

use crate::errors;
use crate::release_attributes;
use crate::state::ProviderState;

use model::{changes, with_image};
pub use model::{schema, ImageModel};

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
        let mut diags = Diagnostics::default();
        if config.import_method.known() == Some(&ImportMethod::WebDownload)
            && config
                .compression
                .known()
                .is_some_and(|c| *c != Compression::None)
        {
            diags.push(Diagnostic::error(
                "web-download needs the uncompressed image",
                "Glance stores exactly what it downloads, and only the uncompressed `.img` can be verified against its signed digest: set compression = \"none\" or import_method = \"stream\".",
            ).at(AttributePath::root("import_method")));
        }
        diags
    }

    async fn create(&self, planned: ImageModel) -> Result<ImageModel, Diagnostics> {
        let provider = self.state.config()?;
        let query = release_attributes::query(
            &planned.channel,
            &planned.arch,
            &planned.version,
            &planned.base_url,
            &provider.release_base_url,
        )?;
        // The plan filled the schema's default.
        let compression = planned.compression.known_or(model::COMPRESSION);
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
            visibility: planned.visibility.str_or(model::VISIBILITY).to_string(),
            tags: planned.tags.items().to_vec(),
            properties: planned.properties.known().cloned().unwrap_or_default(),
            limit: timeouts::limit(&planned.timeouts, model::CREATE),
            // The plan filled the schema's default.
            import_method: planned.import_method.known_or_default(),
            owner: self.state.owner.clone(),
        };
        let published = publish::publish(&self.state.http, &cloud, &self.state.stop, &request)
            .await
            .map_err(errors::publish)?;
        let mut state = with_image(planned, &published.image);
        state.resolved_version = published.release.version.into();
        state.verified_fingerprint = published.release.signer_fingerprint.into();
        state.source_url = published.source_url.into();
        state.imported_by = Attr::Known(published.imported_by);
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
        // What the image's origin properties do not say is the schema's default.
        fn parsed<T: std::str::FromStr>(v: Option<String>) -> Option<T> {
            v.and_then(|v| v.parse().ok())
        }
        let model = ImageModel {
            channel: Attr::Known(parsed(origin.channel).unwrap_or(Channel::DEFAULT)),
            arch: Attr::Known(parsed(origin.arch).unwrap_or(Arch::DEFAULT)),
            version: Attr::Known(
                origin
                    .version
                    .or(origin.resolved_version.clone())
                    .unwrap_or_else(|| DEFAULT_VERSION.to_string()),
            ),
            compression: Attr::Known(parsed(origin.compression).unwrap_or(model::COMPRESSION)),
            properties: Some(origin.user_properties)
                .filter(|p| !p.is_empty())
                .into(),
            resolved_version: origin.resolved_version.into(),
            verified_fingerprint: origin.verified_fingerprint.into(),
            import_method: Attr::Known(ImportMethod::default()),
            imported_by: parsed(origin.imported_by).into(),
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
