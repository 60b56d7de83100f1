//! Where credentials come from and what Keystone is asked.
//!
//! Precedence, per value: the provider block, then the named `clouds.yaml` entry (`cloud`
//! or `OS_CLOUD`), then the `OS_*` variables of an openrc. Application credentials
//! (Jetstream2's way) authenticate without a scope: Keystone refuses a scoped request.

use std::collections::BTreeMap;
use std::path::PathBuf;

use saphyr::{LoadableYamlNode, Yaml};
use serde_json::json;

use crate::openstack::CloudError;

/// OpenStack settings as the user gave them (the provider block); `OS_*` variables and clouds.yaml fill the rest
/// when the cloud is first used.
#[derive(Debug, Clone, Default)]
pub struct CloudSettings {
    pub cloud: Option<String>,
    pub auth_url: Option<String>,
    pub region: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_secret: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub project_name: Option<String>,
    pub user_domain_name: Option<String>,
    pub project_domain_name: Option<String>,
    pub cacert_file: Option<String>,
    pub insecure: bool,
    pub endpoint_overrides: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Password {
        username: String,
        password: String,
        user_domain_name: String,
        project_name: String,
        project_domain_name: String,
    },
    ApplicationCredential {
        id: String,
        secret: String,
    },
}

/// Everything needed to reach a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudProfile {
    /// Keystone v3 base URL, ending in `/v3`.
    pub auth_url: String,
    pub region: Option<String>,
    pub interface: String,
    pub credentials: Credentials,
    pub cacert_file: Option<String>,
    pub insecure: bool,
    pub endpoint_overrides: BTreeMap<String, String>,
}

impl CloudProfile {
    /// The `POST /v3/auth/tokens` body.
    pub fn token_request(&self) -> serde_json::Value {
        match &self.credentials {
            Credentials::ApplicationCredential { id, secret } => json!({
                "auth": {"identity": {"methods": ["application_credential"],
                    "application_credential": {"id": id, "secret": secret}}}
            }),
            Credentials::Password {
                username,
                password,
                user_domain_name,
                project_name,
                project_domain_name,
            } => json!({
                "auth": {
                    "identity": {"methods": ["password"], "password": {"user": {
                        "name": username, "password": password, "domain": {"name": user_domain_name}}}},
                    "scope": {"project": {"name": project_name, "domain": {"name": project_domain_name}}}
                }
            }),
        }
    }
}

/// Values from one source, by their openrc names without the `OS_` prefix, lowercase.
type Source = BTreeMap<String, String>;

fn from_settings(s: &CloudSettings) -> Source {
    let pairs = [
        ("auth_url", &s.auth_url),
        ("region_name", &s.region),
        ("application_credential_id", &s.application_credential_id),
        (
            "application_credential_secret",
            &s.application_credential_secret,
        ),
        ("username", &s.username),
        ("password", &s.password),
        ("project_name", &s.project_name),
        ("user_domain_name", &s.user_domain_name),
        ("project_domain_name", &s.project_domain_name),
        ("cacert", &s.cacert_file),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| {
            v.clone()
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v))
        })
        .collect()
}

const ENV_KEYS: &[&str] = &[
    "auth_url",
    "region_name",
    "application_credential_id",
    "application_credential_secret",
    "username",
    "password",
    "project_name",
    "user_domain_name",
    "project_domain_name",
    "cacert",
    "interface",
];

fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Source {
    let mut out: Source = ENV_KEYS
        .iter()
        .filter_map(|k| {
            env(&format!("OS_{}", k.to_uppercase()))
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v))
        })
        .collect();
    // openrc files from Horizon also use these spellings.
    for (alias, key) in [
        ("OS_TENANT_NAME", "project_name"),
        ("OS_REGION", "region_name"),
        ("OS_ENDPOINT_TYPE", "interface"),
    ] {
        if let Some(v) = env(alias).filter(|v| !v.is_empty()) {
            out.entry(key.to_string()).or_insert(v);
        }
    }
    out
}

fn clouds_yaml_paths(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = env("OS_CLIENT_CONFIG_FILE") {
        paths.push(PathBuf::from(p));
    }
    paths.push(PathBuf::from("clouds.yaml"));
    if let Some(home) = env("HOME") {
        paths.push(PathBuf::from(home).join(".config/openstack/clouds.yaml"));
    }
    paths.push(PathBuf::from("/etc/openstack/clouds.yaml"));
    paths
}

fn yaml_scalar(node: &Yaml) -> Option<String> {
    if let Some(s) = node.as_str() {
        return Some(s.to_string());
    }
    if let Some(b) = node.as_bool() {
        return Some(b.to_string());
    }
    node.as_integer().map(|i| i.to_string())
}

/// The named entry of the first clouds.yaml that has it.
fn from_clouds_yaml(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Source, CloudError> {
    let mut searched = Vec::new();
    for path in clouds_yaml_paths(env) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            searched.push(path.display().to_string());
            continue;
        };
        let docs = Yaml::load_from_str(&text).map_err(|e| CloudError::Config {
            problem: format!("{} is not valid YAML: {e}", path.display()),
            hint: "Fix the file or point OS_CLIENT_CONFIG_FILE at another one.".into(),
        })?;
        let Some(entry) = docs
            .first()
            .and_then(|d| d.as_mapping_get("clouds"))
            .and_then(|c| c.as_mapping_get(name))
        else {
            searched.push(path.display().to_string());
            continue;
        };
        let mut out = Source::new();
        if let Some(auth) = entry.as_mapping_get("auth").and_then(|a| a.as_mapping()) {
            for (k, v) in auth {
                if let (Some(k), Some(v)) = (k.as_str(), yaml_scalar(v)) {
                    out.insert(k.to_string(), v);
                }
            }
        }
        for (key, as_key) in [
            ("region_name", "region_name"),
            ("interface", "interface"),
            ("cacert", "cacert"),
            ("verify", "verify"),
        ] {
            if let Some(v) = entry.as_mapping_get(key).and_then(yaml_scalar) {
                out.insert(as_key.to_string(), v);
            }
        }
        return Ok(out);
    }
    Err(CloudError::Config {
        problem: format!(
            "no clouds.yaml entry named {name:?} (searched {})",
            searched.join(", ")
        ),
        hint: "Set `cloud` to an entry that exists, or set OS_CLIENT_CONFIG_FILE.".into(),
    })
}

/// Resolves the credentials of the provider block against clouds.yaml and `OS_*`.
pub fn resolve(
    settings: &CloudSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CloudProfile, CloudError> {
    let explicit = from_settings(settings);
    let cloud_name = settings
        .cloud
        .clone()
        .or_else(|| env("OS_CLOUD"))
        .filter(|c| !c.is_empty());
    let cloud = match &cloud_name {
        Some(name) => from_clouds_yaml(name, env)?,
        None => Source::new(),
    };
    let environment = from_env(env);
    let get = |key: &str| -> Option<String> {
        explicit
            .get(key)
            .or_else(|| cloud.get(key))
            .or_else(|| environment.get(key))
            .cloned()
    };
    let missing = |what: &str| {
        CloudError::Config {
        problem: format!("no {what} is configured for OpenStack"),
        hint: "Source your openrc (e.g. Jetstream2's application-credential openrc), set `cloud` to a clouds.yaml entry, or set the provider block's attributes.".into(),
    }
    };
    let auth_url = get("auth_url").ok_or_else(|| missing("auth_url (OS_AUTH_URL)"))?;
    let auth_url = normalize_auth_url(&auth_url);
    let credentials = match (
        get("application_credential_id"),
        get("application_credential_secret"),
    ) {
        (Some(id), Some(secret)) => Credentials::ApplicationCredential { id, secret },
        (Some(_), None) => {
            return Err(missing(
                "application_credential_secret (OS_APPLICATION_CREDENTIAL_SECRET)",
            ))
        }
        _ => Credentials::Password {
            username: get("username")
                .ok_or_else(|| missing("username (OS_USERNAME) or application credential"))?,
            password: get("password").ok_or_else(|| missing("password (OS_PASSWORD)"))?,
            project_name: get("project_name")
                .ok_or_else(|| missing("project_name (OS_PROJECT_NAME)"))?,
            user_domain_name: get("user_domain_name").unwrap_or_else(|| "Default".into()),
            project_domain_name: get("project_domain_name").unwrap_or_else(|| "Default".into()),
        },
    };
    let insecure = settings.insecure || cloud.get("verify").is_some_and(|v| v == "false");
    Ok(CloudProfile {
        auth_url,
        region: get("region_name"),
        interface: get("interface")
            .map(|i| i.trim_end_matches("URL").to_string())
            .unwrap_or_else(|| "public".into()),
        credentials,
        cacert_file: get("cacert"),
        insecure,
        endpoint_overrides: settings.endpoint_overrides.clone(),
    })
}

/// Keystone's v3 base: Jetstream2's openrc says `.../v3/`, others omit the version.
pub fn normalize_auth_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.ends_with("/v3") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/v3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn jetstream2_openrc_gives_an_unscoped_application_credential() {
        let env = env_of(&[
            ("OS_AUTH_TYPE", "v3applicationcredential"),
            ("OS_AUTH_URL", "https://js2.jetstream-cloud.org:5000/v3/"),
            ("OS_APPLICATION_CREDENTIAL_ID", "abc"),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "s3cret"),
            ("OS_REGION_NAME", "IU"),
            ("OS_INTERFACE", "public"),
        ]);
        let p = resolve(&CloudSettings::default(), &env).unwrap();
        assert_eq!(p.auth_url, "https://js2.jetstream-cloud.org:5000/v3");
        assert_eq!(p.region.as_deref(), Some("IU"));
        let body = p.token_request();
        assert!(
            body["auth"].get("scope").is_none(),
            "application credentials must not be scoped"
        );
        assert_eq!(
            body["auth"]["identity"]["application_credential"]["id"],
            "abc"
        );
    }

    #[test]
    fn the_provider_block_wins_over_the_environment() {
        let env = env_of(&[
            ("OS_AUTH_URL", "http://env:5000"),
            ("OS_USERNAME", "env-user"),
            ("OS_PASSWORD", "p"),
            ("OS_PROJECT_NAME", "proj"),
        ]);
        let settings = CloudSettings {
            username: Some("block-user".into()),
            ..CloudSettings::default()
        };
        let p = resolve(&settings, &env).unwrap();
        assert_eq!(p.auth_url, "http://env:5000/v3");
        match p.credentials {
            Credentials::Password {
                username,
                project_domain_name,
                ..
            } => {
                assert_eq!(username, "block-user");
                assert_eq!(project_domain_name, "Default");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clouds_yaml_entries_are_read() {
        let dir = std::env::temp_dir().join(format!("clouds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("clouds.yaml");
        std::fs::write(&file, "clouds:\n  js2:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://k:5000\n      application_credential_id: id1\n      application_credential_secret: sec\n    region_name: IU\n    verify: false\n").unwrap();
        let path = file.display().to_string();
        let env = env_of(&[("OS_CLIENT_CONFIG_FILE", &path), ("OS_CLOUD", "js2")]);
        let p = resolve(&CloudSettings::default(), &env).unwrap();
        assert_eq!(
            p.credentials,
            Credentials::ApplicationCredential {
                id: "id1".into(),
                secret: "sec".into()
            }
        );
        assert!(p.insecure);
        let missing = resolve(
            &CloudSettings {
                cloud: Some("nope".into()),
                ..CloudSettings::default()
            },
            &env,
        )
        .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("no clouds.yaml entry named \"nope\""),
            "{missing}"
        );
    }

    #[test]
    fn missing_credentials_say_what_to_do() {
        let err = resolve(&CloudSettings::default(), &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("Source your openrc"), "{err}");
    }
}
