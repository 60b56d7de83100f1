//! `flatcar_release`: resolves a Flatcar release ("current" -> exact version) and verifies
//! its signed DIGESTS with the trusted key.

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::{Attribute, Block, DataSource, Diagnostic, Diagnostics, Schema, Type, Value};

use crate::flatcar::release::{ReleaseError, ReleaseQuery};
use crate::provider::ProviderState;
use crate::release_attributes::validate_config;

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

pub fn read_error(e: &ReleaseError) -> Diagnostics {
    let summary = match e {
        ReleaseError::Http(_) => "Cannot fetch the Flatcar release",
        ReleaseError::Manifest { .. } => "Unexpected content on the Flatcar release server",
        ReleaseError::Signature(_) => "Flatcar release signature verification failed",
        ReleaseError::BadBaseUrl(_) => "Invalid release server URL",
    };
    let hint = match e {
        ReleaseError::Signature(_) => " Do not use this release: check the mirror, or set `signing_key` if it is signed by your own key.",
        ReleaseError::Http(_) => " Check the version, channel and base URL, and that the release server is reachable.",
        _ => "",
    };
    Diagnostic::error(summary, format!("{e}.{hint}")).into()
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
        validate_config(config)
    }

    async fn read(&self, config: &Value) -> Result<Value, Diagnostics> {
        let diags = validate_config(config);
        if diags.has_errors() {
            return Err(diags);
        }
        let provider = self.state.config()?;
        let text =
            |name: &str, default: &str| config.get(name).as_str().unwrap_or(default).to_string();
        let query = ReleaseQuery {
            channel: text("channel", "stable")
                .parse()
                .map_err(|e: String| Diagnostic::error("Invalid channel", e))?,
            arch: text("arch", "amd64")
                .parse()
                .map_err(|e: String| Diagnostic::error("Invalid arch", e))?,
            version: text("version", "current"),
            base_url: config
                .get("base_url")
                .as_str()
                .unwrap_or(&provider.release_base_url)
                .to_string(),
        };
        let trusted_key = provider.trusted_key().map_err(|e| read_error(&e.into()))?;
        let release = query
            .resolve(&self.state.http, trusted_key)
            .await
            .map_err(|e| read_error(&e))?;
        tracing::info!(version = %release.version, signer = %release.signer_fingerprint, "verified Flatcar release");
        Ok(Value::object([
            ("channel", Value::string(query.channel.as_str())),
            ("arch", Value::string(query.arch.as_str())),
            (
                "id",
                Value::string(format!(
                    "{}/{}/{}",
                    query.channel, query.arch, release.version
                )),
            ),
            ("version", Value::string(release.version)),
            ("base_url", config.get("base_url").clone()),
            ("image_url", Value::string(release.image_url)),
            ("digests_url", Value::string(release.digests_url)),
            ("signature_url", Value::string(release.signature_url)),
            ("sha512", Value::string(release.sha512)),
            (
                "verified_fingerprint",
                Value::string(release.signer_fingerprint),
            ),
        ]))
    }
}
