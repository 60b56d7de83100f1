//! The provider block: release settings and OpenStack authentication settings.
//!
//! Authentication is lazy: the values are stored at ConfigureProvider and only used when a
//! resource first talks to the cloud, so a configuration that only reads `flatcar_release`
//! needs no credentials.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfplugin::framework::{from_value, validators, Attr};
use tfplugin::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Validator, Value,
};

use flatcar_cloud::flatcar::release::DEFAULT_BASE_URL;
use flatcar_cloud::flatcar::signature::{SignatureError, TrustedKey};
use flatcar_cloud::openstack::auth::CloudSettings;

/// The provider block, validated.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub release_base_url: String,
    /// `signing_key` when set; None means Flatcar's built-in key (see [`Self::trusted_key`]).
    pub signing_key: Option<TrustedKey>,
    pub cloud: CloudSettings,
}

impl ProviderConfig {
    /// The key release signatures must verify against: `signing_key`, else the built-in
    /// Flatcar key, read on first use so that plans that verify nothing do not pay for it.
    pub fn trusted_key(&self) -> Result<&TrustedKey, SignatureError> {
        match &self.signing_key {
            Some(key) => Ok(key),
            None => TrustedKey::flatcar_shared(),
        }
    }
}

const STRING_SETTINGS: &[(&str, &str, bool)] = &[
    ("cloud", "Name of an entry in `clouds.yaml` (also `OS_CLOUD`).", false),
    ("auth_url", "Keystone URL, e.g. `https://js2.jetstream-cloud.org:5000/v3/` (also `OS_AUTH_URL`).", false),
    ("region", "Region name (also `OS_REGION_NAME`).", false),
    ("application_credential_id", "Application credential ID: Jetstream2's way to authenticate (also `OS_APPLICATION_CREDENTIAL_ID`).", false),
    ("application_credential_secret", "Application credential secret (also `OS_APPLICATION_CREDENTIAL_SECRET`).", true),
    ("username", "User name for password authentication (also `OS_USERNAME`).", false),
    ("password", "Password (also `OS_PASSWORD`).", true),
    ("project_name", "Project to scope the token to (also `OS_PROJECT_NAME`).", false),
    ("user_domain_name", "Domain of the user (also `OS_USER_DOMAIN_NAME`, default `Default`).", false),
    ("project_domain_name", "Domain of the project (also `OS_PROJECT_DOMAIN_NAME`, default `Default`).", false),
    ("cacert_file", "PEM file of CA certificates to trust for the cloud's endpoints (also `OS_CACERT`).", false),
];

pub fn schema() -> Schema {
    let mut attributes: Vec<Attribute> = STRING_SETTINGS
        .iter()
        .map(|(name, description, sensitive)| {
            let a = Attribute::optional(name, Type::String, description);
            if *sensitive {
                a.sensitive()
            } else {
                a
            }
        })
        .collect();
    attributes.extend([
        Attribute::optional("insecure", Type::Bool, "Skip TLS verification of the cloud's endpoints. Default `false`; never use it in production."),
        Attribute::optional("endpoint_overrides", Type::map(Type::String), "Service type to endpoint URL, replacing the catalog's entry (e.g. `{ image = \"http://127.0.0.1:9292\" }`)."),
        Attribute::optional(
            "release_base_url",
            Type::String,
            &format!("Base URL of the Flatcar release server or a mirror of it. `{{channel}}` is replaced by the channel name; below it the path is `<arch>-usr/<version>/`. Default `{DEFAULT_BASE_URL}`."),
        )
        .validate(crate::release_attributes::BASE_URL),
        Attribute::optional("signing_key", Type::String, "ASCII-armored OpenPGP public key trusted to sign releases. Default: the Flatcar image signing key `F88C FEDE FF29 A5B4 D952 3864 E25D 9AED 0593 B34A`, built into the provider.")
            .validate(Validator::ParsesAs("an ASCII-armored OpenPGP public key", check_signing_key)),
    ]);
    Schema::new(
        0,
        Block {
            description: "The Flatcar provider resolves and verifies Flatcar Container Linux releases, uploads the verified OpenStack image into Glance and boots Flatcar servers on Nova. Cloud credentials are needed only by resources; `flatcar_release` alone needs none.".into(),
            attributes,
            ..Block::default()
        },
    )
}

/// The provider block as Terraform sends it; one field per attribute of [`schema`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderModel {
    pub cloud: Attr<String>,
    pub auth_url: Attr<String>,
    pub region: Attr<String>,
    pub application_credential_id: Attr<String>,
    pub application_credential_secret: Attr<String>,
    pub username: Attr<String>,
    pub password: Attr<String>,
    pub project_name: Attr<String>,
    pub user_domain_name: Attr<String>,
    pub project_domain_name: Attr<String>,
    pub cacert_file: Attr<String>,
    pub insecure: Attr<bool>,
    pub endpoint_overrides: Attr<BTreeMap<String, String>>,
    pub release_base_url: Attr<String>,
    pub signing_key: Attr<String>,
}

/// Checks what can be checked while values may still be unknown: the declared validators.
pub fn validate(config: &Value) -> Diagnostics {
    validators::check(&schema().block, &mut config.clone())
}

/// A base URL must be http(s) once `{channel}` is filled in.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let filled = url.replace("{channel}", "stable");
    match url::Url::parse(&filled) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) URL. Use e.g. \"{DEFAULT_BASE_URL}\" or a mirror such as \"https://mirror.example.org/flatcar/{{channel}}\".")),
    }
}

fn check_signing_key(armored: &str) -> Result<(), String> {
    TrustedKey::from_armored(armored).map(drop).map_err(|e| {
        format!("{e}. Give an ASCII-armored OpenPGP public key (`-----BEGIN PGP PUBLIC KEY BLOCK-----`).")
    })
}

/// Builds the configuration; unknown values at this point are an error Terraform reports.
pub fn configure(config: &Value) -> Result<ProviderConfig, Diagnostics> {
    let diags = validate(config);
    if diags.has_errors() {
        return Err(diags);
    }
    let m: ProviderModel = from_value(config.clone()).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Provider bug: the provider block does not match its model",
            format!("{e}. Please report this."),
        ))
    })?;
    let signing_key = m
        .signing_key
        .as_str()
        .map(TrustedKey::from_armored)
        .transpose()
        .map_err(|e| {
            Diagnostics::from(
                Diagnostic::error("Invalid signing_key", e.to_string())
                    .at(AttributePath::root("signing_key")),
            )
        })?;
    Ok(ProviderConfig {
        release_base_url: m
            .release_base_url
            .into_known()
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
        signing_key,
        cloud: CloudSettings {
            cloud: m.cloud.into_known(),
            auth_url: m.auth_url.into_known(),
            region: m.region.into_known(),
            application_credential_id: m.application_credential_id.into_known(),
            application_credential_secret: m.application_credential_secret.into_known(),
            username: m.username.into_known(),
            password: m.password.into_known(),
            project_name: m.project_name.into_known(),
            user_domain_name: m.user_domain_name.into_known(),
            project_domain_name: m.project_domain_name.into_known(),
            cacert_file: m.cacert_file.into_known(),
            insecure: m.insecure.known_or(false),
            endpoint_overrides: m.endpoint_overrides.into_known().unwrap_or_default(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_has_exactly_the_schema_attributes() {
        tfplugin::framework::check_model::<ProviderModel>(&schema()).unwrap();
    }
}
