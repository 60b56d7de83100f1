//! The profile's `apps:` (services installed into the cluster after Kubespray: today
//! JupyterHub through the zero-to-jupyterhub chart) and their checks. What the chart versions
//! demand of the cluster (`kubeVersion` of their `Chart.yaml`) is known here; the values the
//! generator writes for them are `render::apps`'s.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// Services installed into the cluster once Kubespray has deployed it (`apps/` of the
/// generated directory). Leave out for a bare cluster.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Apps {
    #[serde(default)]
    pub jupyterhub: Option<JupyterHub>,
}

/// JupyterHub (the zero-to-jupyterhub Helm chart) over HTTPS at `host`, with a Let's Encrypt
/// certificate that the chart's own proxy (autohttps) obtains on the first control plane
/// machine, which serves 80 and 443.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JupyterHub {
    /// The hub's DNS name, e.g. `hub.myalloc.projects.jetstream-cloud.org`; an A record must
    /// point at the first control plane machine's floating IP before the certificate is asked.
    /// Default: `dns.ingress_name` in `dns.zone` (whose record `up` makes).
    #[serde(default)]
    pub host: Option<String>,
    /// Contact address Let's Encrypt writes to about the certificate.
    pub contact_email: String,
    /// Which Let's Encrypt: `staging` (default; browsers warn, but no rate limit to hit while
    /// trying) or `production`.
    #[serde(default)]
    pub letsencrypt: LetsEncrypt,
    /// Version of the jupyterhub chart (https://hub.jupyter.org/helm-chart/), pinned.
    #[serde(default = "default_chart_version")]
    pub chart_version: String,
    /// Size of each user's home volume (a Cinder volume, `kubernetes.cinder_csi: true`), like
    /// `10Gi`; `none` for no persistent home.
    #[serde(default = "default_storage")]
    pub storage: String,
    /// Seconds a user's server may take to start (Cinder volumes attach slowly).
    #[serde(default = "default_start_timeout")]
    pub start_timeout: u32,
    /// Who may log in.
    pub authenticator: Authenticator,
    /// Users with admin rights in the hub.
    #[serde(default)]
    pub admin_users: Vec<String>,
    /// Chart values of one's own, merged over the generated ones (maps key by key, `null`
    /// removes a key), as Helm merges values files. No secrets here: they would be written
    /// under the output directory.
    #[serde(default)]
    pub values: BTreeMap<String, serde_json::Value>,
}

impl JupyterHub {
    /// The hub's host: its own, else the profile's ingress name.
    pub fn host_in(&self, dns: Option<&super::Dns>) -> Option<String> {
        self.host
            .clone()
            .or_else(|| dns.and_then(|d| d.ingress_fqdn()))
    }
}

/// Let's Encrypt's two services.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LetsEncrypt {
    #[default]
    Staging,
    Production,
}

impl LetsEncrypt {
    /// The ACME directory URL.
    pub fn acme_server(self) -> &'static str {
        match self {
            LetsEncrypt::Staging => "https://acme-staging-v02.api.letsencrypt.org/directory",
            LetsEncrypt::Production => "https://acme-v02.api.letsencrypt.org/directory",
        }
    }
}

/// How users log in. Secrets are read from the environment of `up --deploy`, never from the
/// profile.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authenticator {
    /// `dummy` (any user name, one shared password: workshops) or `github` (GitHub OAuth).
    #[serde(rename = "type")]
    pub kind: AuthenticatorKind,
    /// `dummy`: the environment variable holding the shared password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// `github`: the OAuth app's client ID (not secret).
    #[serde(default)]
    pub client_id: Option<String>,
    /// `github`: the environment variable holding the OAuth app's client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// `github`: members of these organizations may log in.
    #[serde(default)]
    pub allowed_organizations: Vec<String>,
    /// Users who may log in (besides the organizations' members).
    #[serde(default)]
    pub allowed_users: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticatorKind {
    Dummy,
    Github,
}

impl Authenticator {
    /// The environment variable `up --deploy` reads the secret from.
    pub fn secret_env(&self) -> &str {
        match self.kind {
            AuthenticatorKind::Dummy => {
                self.password_env.as_deref().unwrap_or(DEFAULT_PASSWORD_ENV)
            }
            AuthenticatorKind::Github => self
                .client_secret_env
                .as_deref()
                .unwrap_or(DEFAULT_CLIENT_SECRET_ENV),
        }
    }
}

/// Where the shared password of the `dummy` authenticator is read from by default.
pub const DEFAULT_PASSWORD_ENV: &str = "JUPYTERHUB_PASSWORD";
/// Where the GitHub OAuth client secret is read from by default.
pub const DEFAULT_CLIENT_SECRET_ENV: &str = "GITHUB_CLIENT_SECRET";

/// The chart versions this generator knows, with the oldest Kubernetes minor their
/// `Chart.yaml` `kubeVersion` admits (4.4.0: `">=1.28.0-0"`).
pub const KNOWN_CHARTS: &[(&str, (u32, u32))] = &[("4.4.0", (1, 28))];

/// The newest known chart, the default.
pub const DEFAULT_CHART: &str = "4.4.0";

fn default_chart_version() -> String {
    DEFAULT_CHART.to_string()
}

fn default_storage() -> String {
    "10Gi".to_string()
}

/// Ten minutes: z2jh's default of five is too short when a new Cinder volume is created and
/// attached and the image pulled on the same start.
fn default_start_timeout() -> u32 {
    600
}

/// The oldest Kubernetes `(major, minor)` chart `version` runs on; `None` for a version this
/// generator does not know.
pub fn min_kubernetes(chart_version: &str) -> Option<(u32, u32)> {
    KNOWN_CHARTS
        .iter()
        .find(|(v, _)| *v == chart_version)
        .map(|(_, k)| *k)
}

/// `10Gi`-like Kubernetes quantities of binary units, or `none`.
pub fn is_storage_size(s: &str) -> bool {
    if s == "none" {
        return true;
    }
    ["Mi", "Gi", "Ti"].iter().any(|unit| {
        s.strip_suffix(unit)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n != "0")
    })
}

/// A DNS name of at least two labels, each a DNS label, at most 253 characters.
pub fn is_host_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').count() >= 2 && s.split('.').all(super::validate::is_dns_label)
}

/// The path (dotted) of the first key in `values` that looks like a secret: a key whose name
/// says password, secret or token. Such a value would be written under the output directory.
pub fn secret_like_key(values: &BTreeMap<String, serde_json::Value>) -> Option<Vec<String>> {
    fn walk(map: &serde_json::Map<String, serde_json::Value>, path: &mut Vec<String>) -> bool {
        for (k, v) in map {
            path.push(k.clone());
            if looks_secret(k) && !v.is_null() {
                return true;
            }
            if let Some(inner) = v.as_object() {
                if walk(inner, path) {
                    return true;
                }
            }
            path.pop();
        }
        false
    }
    let map: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut path = Vec::new();
    walk(&map, &mut path).then_some(path)
}

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_sizes() {
        for ok in ["10Gi", "512Mi", "1Ti", "none"] {
            assert!(is_storage_size(ok), "{ok}");
        }
        for bad in ["10", "10GB", "Gi", "0Gi", "-1Gi", "1.5Gi", ""] {
            assert!(!is_storage_size(bad), "{bad}");
        }
    }

    #[test]
    fn host_names() {
        assert!(is_host_name("hub.myalloc.projects.jetstream-cloud.org"));
        for bad in ["hub", "hub..org", "-hub.org", "Hub.org", "hub.org."] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn secrets_in_values_are_found_by_path() {
        let values: BTreeMap<String, serde_json::Value> = serde_json::from_str(
            r#"{"hub": {"config": {"GitHubOAuthenticator": {"client_secret": "x"}}}, "singleuser": {}}"#,
        )
        .unwrap();
        assert_eq!(
            secret_like_key(&values),
            Some(
                ["hub", "config", "GitHubOAuthenticator", "client_secret"]
                    .map(String::from)
                    .to_vec()
            )
        );
        let fine: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(r#"{"singleuser": {"image": {"name": "jupyter/scipy"}}, "hub": {"cookieSecret": null}}"#)
                .unwrap();
        assert_eq!(secret_like_key(&fine), None);
    }
}
