//! `flatcar_release`: resolves a Flatcar release ("current" -> exact version) and verifies
//! its signed DIGESTS with the trusted key.

use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::flatcar::release::{
    Arch, Channel, DEFAULT_ARCH, DEFAULT_CHANNEL, DEFAULT_VERSION,
};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Attr, TypedDataSource};
use tfplugin::{Attribute, Block, Diagnostics, Schema, Type};

use crate::errors;
use crate::release_attributes;
use crate::state::ProviderState;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseModel {
    pub channel: Attr<Channel>,
    pub arch: Attr<Arch>,
    pub version: Attr<String>,
    pub base_url: Attr<String>,
    pub id: Attr<String>,
    pub image_url: Attr<String>,
    pub digests_url: Attr<String>,
    pub signature_url: Attr<String>,
    pub sha512: Attr<String>,
    pub verified_fingerprint: Attr<String>,
}

pub struct ReleaseDataSource {
    pub state: Arc<ProviderState>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    Schema::new(
        0,
        Block {
            description: "Resolves a Flatcar Container Linux release on a channel to its exact version and verifies the OpenPGP signature of the OpenStack image's DIGESTS with the trusted key. Nothing is downloaded but the small text files.".into(),
            attributes: vec![
                Attribute::optional_computed("channel", s.clone(), &format!("Release channel. Default `{DEFAULT_CHANNEL}`.")).validate(release_attributes::CHANNEL),
                Attribute::optional_computed("arch", s.clone(), &format!("CPU architecture. Default `{DEFAULT_ARCH}`.")).validate(release_attributes::ARCH),
                Attribute::optional_computed("version", s.clone(), &format!("Default `{DEFAULT_VERSION}`. Always the exact version after the read.")).validate(release_attributes::VERSION),
                Attribute::optional("base_url", s.clone(), "Overrides the provider's `release_base_url` for this release (same `{channel}` placeholder rule).").validate(release_attributes::BASE_URL),
                Attribute::computed("id", s.clone(), "`<channel>/<arch>/<version>`."),
                Attribute::computed("image_url", s.clone(), "URL of the uncompressed OpenStack image (`flatcar_production_openstack_image.img`, qcow2) of the exact version."),
                Attribute::computed("digests_url", s.clone(), "URL of the clear-signed DIGESTS file that was verified."),
                Attribute::computed("signature_url", s.clone(), "URL of the detached OpenPGP signature of the image."),
                Attribute::computed("sha512", s.clone(), "SHA-512 of the uncompressed `.img`, lowercase hex, from the verified DIGESTS."),
                Attribute::computed("verified_fingerprint", s, "Fingerprint of the key or signing subkey whose signature was verified."),
            ],
            ..Block::default()
        },
    )
}

#[async_trait]
impl TypedDataSource for ReleaseDataSource {
    type Model = ReleaseModel;

    fn type_name(&self) -> &'static str {
        "flatcar_release"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, config: ReleaseModel) -> Result<ReleaseModel, Diagnostics> {
        let provider = self.state.config()?;
        let query = release_attributes::query(
            &config.channel,
            &config.arch,
            &config.version,
            &config.base_url,
            &provider.release_base_url,
        )?;
        let trusted_key = provider
            .trusted_key()
            .map_err(|e| errors::release(&e.into()))?;
        let release = query
            .resolve(&self.state.http, trusted_key)
            .await
            .map_err(|e| errors::release(&e))?;
        tracing::info!(version = %release.version, signer = %release.signer_fingerprint, "verified Flatcar release");
        Ok(ReleaseModel {
            channel: Attr::Known(query.channel),
            arch: Attr::Known(query.arch),
            id: format!("{}/{}/{}", query.channel, query.arch, release.version).into(),
            version: release.version.into(),
            base_url: config.base_url,
            image_url: release.image_url.into(),
            digests_url: release.digests_url.into(),
            signature_url: release.signature_url.into(),
            sha512: release.sha512.into(),
            verified_fingerprint: release.signer_fingerprint.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_has_exactly_the_schema_attributes() {
        tfplugin::framework::check_model::<ReleaseModel>(&schema()).unwrap();
    }
}
