//! `flatcar_release`: resolves a Flatcar release ("current" -> exact version) and verifies
//! its signed DIGESTS with the trusted key.

use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::flatcar::release::ReleaseQuery;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{from_value, to_value, Attr};
use tfplugin::{Attribute, Block, DataSource, Diagnostic, Diagnostics, Schema, Type, Value};

use crate::errors;
use crate::release_attributes;
use crate::state::ProviderState;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseModel {
    pub channel: Attr<String>,
    pub arch: Attr<String>,
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
                Attribute::optional_computed("channel", s.clone(), "Release channel: `stable`, `beta`, `alpha` or `lts`. Default `stable`."),
                Attribute::optional_computed("arch", s.clone(), "CPU architecture: `amd64` or `arm64`. Default `amd64`."),
                Attribute::optional_computed("version", s.clone(), "`current` (default) or an exact version such as `4593.2.5`. Always the exact version after the read."),
                Attribute::optional("base_url", s.clone(), "Overrides the provider's `release_base_url` for this release (same `{channel}` placeholder rule)."),
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

fn model(value: &Value) -> Result<ReleaseModel, Diagnostics> {
    from_value(value.clone()).map_err(|e| {
        Diagnostic::error(
            "Provider bug: value does not match the model",
            format!("flatcar_release: {e}"),
        )
        .into()
    })
}

#[async_trait]
impl DataSource for ReleaseDataSource {
    fn type_name(&self) -> &'static str {
        "flatcar_release"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        match model(config) {
            Ok(c) => release_attributes::validate(&c.channel, &c.arch, &c.version, &c.base_url),
            Err(d) => d,
        }
    }

    async fn read(&self, config: &Value) -> Result<Value, Diagnostics> {
        let config = model(config)?;
        let provider = self.state.config()?;
        let query = ReleaseQuery::new(
            config.channel.as_str(),
            config.arch.as_str(),
            config.version.as_str(),
            config.base_url.as_str(),
            &provider.release_base_url,
        )
        .map_err(|e| errors::release(&e))?;
        let trusted_key = provider
            .trusted_key()
            .map_err(|e| errors::release(&e.into()))?;
        let release = query
            .resolve(&self.state.http, trusted_key)
            .await
            .map_err(|e| errors::release(&e))?;
        tracing::info!(version = %release.version, signer = %release.signer_fingerprint, "verified Flatcar release");
        let state = ReleaseModel {
            channel: query.channel.as_str().into(),
            arch: query.arch.as_str().into(),
            id: format!("{}/{}/{}", query.channel, query.arch, release.version).into(),
            version: release.version.into(),
            base_url: config.base_url,
            image_url: release.image_url.into(),
            digests_url: release.digests_url.into(),
            signature_url: release.signature_url.into(),
            sha512: release.sha512.into(),
            verified_fingerprint: release.signer_fingerprint.into(),
        };
        to_value(&state).map_err(|e| {
            Diagnostic::error("Provider bug: cannot encode the state", e.to_string()).into()
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
