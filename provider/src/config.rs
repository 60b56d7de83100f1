//! The provider block: release settings and OpenStack authentication settings.
//!
//! Authentication is lazy: the values are stored at ConfigureProvider and only used when a
//! resource first talks to the cloud, so a configuration that only reads `flatcar_release`
//! needs no credentials.

use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value};

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
        ),
        Attribute::optional("signing_key", Type::String, "ASCII-armored OpenPGP public key trusted to sign releases. Default: the Flatcar image signing key `F88C FEDE FF29 A5B4 D952 3864 E25D 9AED 0593 B34A`, built into the provider."),
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

fn known_string(config: &Value, name: &str) -> Option<String> {
    config.get(name).as_str().map(str::to_string)
}

/// Checks what can be checked while values may still be unknown.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    if let Some(url) = known_string(config, "release_base_url") {
        if let Err(reason) = check_base_url(&url) {
            diags.push(
                Diagnostic::error("Invalid release_base_url", reason)
                    .at(AttributePath::root("release_base_url")),
            );
        }
    }
    if let Some(key) = known_string(config, "signing_key") {
        if let Err(e) = TrustedKey::from_armored(&key) {
            diags.push(
                Diagnostic::error("Invalid signing_key", format!("{e}. Give an ASCII-armored OpenPGP public key (`-----BEGIN PGP PUBLIC KEY BLOCK-----`)."))
                    .at(AttributePath::root("signing_key")),
            );
        }
    }
    diags
}

/// A base URL must be http(s) once `{channel}` is filled in.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let filled = url.replace("{channel}", "stable");
    match url::Url::parse(&filled) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) URL. Use e.g. \"{DEFAULT_BASE_URL}\" or a mirror such as \"https://mirror.example.org/flatcar/{{channel}}\".")),
    }
}

/// Builds the configuration; unknown values at this point are an error Terraform reports.
pub fn configure(config: &Value) -> Result<ProviderConfig, Diagnostics> {
    let diags = validate(config);
    if diags.has_errors() {
        return Err(diags);
    }
    let signing_key = known_string(config, "signing_key")
        .map(|armored| TrustedKey::from_armored(&armored))
        .transpose()
        .map_err(|e| {
            Diagnostics::from(
                Diagnostic::error("Invalid signing_key", e.to_string())
                    .at(AttributePath::root("signing_key")),
            )
        })?;
    let s = |name: &str| known_string(config, name);
    Ok(ProviderConfig {
        release_base_url: s("release_base_url").unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
        signing_key,
        cloud: CloudSettings {
            cloud: s("cloud"),
            auth_url: s("auth_url"),
            region: s("region"),
            application_credential_id: s("application_credential_id"),
            application_credential_secret: s("application_credential_secret"),
            username: s("username"),
            password: s("password"),
            project_name: s("project_name"),
            user_domain_name: s("user_domain_name"),
            project_domain_name: s("project_domain_name"),
            cacert_file: s("cacert_file"),
            insecure: config.get("insecure").as_bool().unwrap_or(false),
            endpoint_overrides: config
                .get("endpoint_overrides")
                .as_string_map()
                .unwrap_or_default(),
        },
    })
}
