//! The apps `up --deploy` installs after Kubespray (`apps:` of the profile): the
//! zero-to-jupyterhub values of `apps/jupyterhub/values.yaml` (merged with the profile's own
//! values as Helm merges values files) and the context of `apps/install.yml`, the play that
//! installs the chart with Kubespray's helm on the first control plane machine.
//!
//! How 80/443 are served (Kubespray v2.31 has no ingress addon any more): the chart's own
//! automatic HTTPS (`proxy.https.type: letsencrypt`, a Traefik pod called autohttps) runs on
//! the first control plane machine (`proxy.traefik.nodeSelector`) and takes that machine's
//! ports 80 and 443 as host ports (`proxy.traefik.extraPorts`), so its floating IP serves the
//! hub and answers Let's Encrypt's HTTP-01 challenge; `proxy-public` stays a ClusterIP service
//! (no cloud load balancer needed). The first control plane machine is the one `up` never
//! replaces, so the address (and a DNS record for it) outlives every other change. Only that
//! machine's security group opens 80 and 443 (the module's `http_machines`). A Deployment
//! whose pod holds host ports cannot roll out with a surge on a single node, so the play
//! switches autohttps to the `Recreate` strategy (Helm leaves a field its manifests never set).

use serde_json::{json, Map, Value};

use crate::profile::apps::{AuthenticatorKind, JupyterHub};
use crate::profile::machines::first_control_plane;
use crate::profile::{LoadedProfile, Profile};

/// Where the apps' files go, relative to the output directory.
pub const DIR: &str = "apps";
/// The play's file name in [`DIR`].
pub const PLAYBOOK: &str = "install.yml";
/// JupyterHub's values, relative to [`DIR`].
pub const JUPYTERHUB_VALUES: &str = "jupyterhub/values.yaml";

/// The Helm release and its namespace.
pub const RELEASE: &str = "jupyterhub";
pub const NAMESPACE: &str = "jupyterhub";
/// The chart and its repository.
const CHART: &str = "jupyterhub";
const CHART_REPOSITORY: &str = "https://hub.jupyter.org/helm-chart/";

/// Labels every user server pod of the release carries, as the chart's own NetworkPolicy for
/// them selects them (zero-to-jupyterhub-k8s 4.4.0, `jupyterhub/templates/singleuser/netpol.yaml`:
/// `jupyterhub.matchLabels` with `componentLabel: singleuser-server`, i.e. the legacy labels
/// `component`, `app` (the chart name) and `release`; KubeSpawner sets them on the pods,
/// `files/hub/jupyterhub_config.py` "common labels"). The user placeholders (`component:
/// user-placeholder`), the hub and the proxies do not match.
pub const SINGLEUSER_SELECTOR: &str =
    "app=jupyterhub,component=singleuser-server,release=jupyterhub";

/// Kubespray's helm, kubectl and admin kubeconfig on the control plane (`bin_dir` on Flatcar).
const HELM: &str = "/opt/bin/helm";
const KUBECTL: &str = "/opt/bin/kubectl";
const KUBECONFIG: &str = "/etc/kubernetes/admin.conf";
/// Where the play puts the values on that machine.
const REMOTE_DIR: &str = "/etc/kubernetes/flatcar-kube/apps";
/// The Python of Kubespray's Flatcar bootstrap.
const PYTHON: &str = "/opt/bin/python";
/// How long `helm upgrade --wait` may take: images of hub, proxy and the image puller.
const HELM_TIMEOUT: &str = "15m";

/// The command that removes the release, for the first control plane machine at `address`.
pub fn uninstall_command(address: &str) -> String {
    format!("ssh core@{address} sudo {HELM} uninstall {RELEASE} --namespace {NAMESPACE} --kubeconfig {KUBECONFIG}")
}

/// Whether the profile installs any app (and so whether [`DIR`] is generated and Kubespray's
/// helm is enabled).
pub fn enabled(profile: &Profile) -> bool {
    profile.apps.jupyterhub.is_some()
}

/// The name of the machine that serves 80/443: the first control plane machine.
pub fn ingress_machine(profile: &Profile) -> Option<String> {
    first_control_plane(profile)
}

/// The generated values for `hub`, before the profile's own values are merged in.
fn generated_values(profile: &Profile, hub: &JupyterHub) -> Value {
    // The profile was checked: there is a host.
    let host = hub.host_in(profile.dns.as_ref()).unwrap_or_default();
    let a = &hub.authenticator;
    let mut authenticator = Map::new();
    if !hub.admin_users.is_empty() {
        authenticator.insert("admin_users".into(), json!(hub.admin_users));
    }
    if !a.allowed_users.is_empty() {
        authenticator.insert("allowed_users".into(), json!(a.allowed_users));
    }
    let mut config = Map::new();
    match a.kind {
        AuthenticatorKind::Dummy => {
            // Any user name with the shared password (the password comes at deploy time).
            authenticator.insert("allow_all".into(), json!(true));
            config.insert("JupyterHub".into(), json!({"authenticator_class": "dummy"}));
        }
        AuthenticatorKind::Github => {
            config.insert(
                "JupyterHub".into(),
                json!({"authenticator_class": "github"}),
            );
            let mut github = Map::new();
            github.insert(
                "client_id".into(),
                json!(a.client_id.clone().unwrap_or_default()),
            );
            github.insert(
                "oauth_callback_url".into(),
                json!(format!("https://{host}/hub/oauth_callback")),
            );
            if !a.allowed_organizations.is_empty() {
                github.insert(
                    "allowed_organizations".into(),
                    json!(a.allowed_organizations),
                );
                // Membership of an organization is visible with this scope only.
                github.insert("scope".into(), json!(["read:org"]));
            }
            config.insert("GitHubOAuthenticator".into(), Value::Object(github));
        }
    }
    if !authenticator.is_empty() {
        config.insert("Authenticator".into(), Value::Object(authenticator));
    }
    let storage = if hub.storage == "none" {
        json!({"type": "none"})
    } else {
        // The cluster's default StorageClass: Cinder CSI's (group_vars/all/openstack.yml).
        json!({"capacity": hub.storage})
    };
    let ingress = ingress_machine(profile).unwrap_or_default();
    json!({
        "hub": {"config": Value::Object(config)},
        "proxy": {
            "service": {"type": "ClusterIP"},
            "https": {
                "enabled": true,
                "type": "letsencrypt",
                "hosts": [host],
                "letsencrypt": {
                    "contactEmail": hub.contact_email,
                    "acmeServer": hub.letsencrypt.acme_server(),
                },
            },
            "traefik": {
                "nodeSelector": {"kubernetes.io/hostname": ingress},
                "tolerations": [{
                    "key": "node-role.kubernetes.io/control-plane",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                }],
                "extraPorts": [
                    {"name": "http-node", "containerPort": 8080, "hostPort": 80, "protocol": "TCP"},
                    {"name": "https-node", "containerPort": 8443, "hostPort": 443, "protocol": "TCP"},
                ],
            },
        },
        "singleuser": {
            "startTimeout": hub.start_timeout,
            "storage": storage,
        },
    })
}

/// `over` merged into `base` as Helm merges values: maps key by key, anything else replaced,
/// `null` removing the key.
pub fn merge_values(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(k);
                } else if let Some(existing) = b.get_mut(k) {
                    merge_values(existing, v);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// JupyterHub's values as deployed (without the authenticator's secret, which the play adds
/// on the machine), or `None` without `apps.jupyterhub`.
pub fn jupyterhub_values(profile: &Profile) -> Option<Value> {
    let hub = profile.apps.jupyterhub.as_ref()?;
    let mut values = generated_values(profile, hub);
    let own: Map<String, Value> = hub
        .values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    merge_values(&mut values, &Value::Object(own));
    Some(values)
}

/// What the play says when the authenticator's secret is missing.
fn secret_message(hub: &JupyterHub) -> String {
    let what = match hub.authenticator.kind {
        AuthenticatorKind::Dummy => "the hub's shared password (dummy authenticator)",
        AuthenticatorKind::Github => "the GitHub OAuth app's client secret",
    };
    format!(
        "{} is empty or not set: export it ({what}) and run `flatcar-kube up --deploy` again",
        hub.authenticator.secret_env()
    )
}

/// The templates' `apps` value.
pub fn context(loaded: &LoadedProfile) -> Value {
    let p = &loaded.profile;
    let Some(hub) = &p.apps.jupyterhub else {
        return json!({"enabled": false});
    };
    let secret_key = match hub.authenticator.kind {
        AuthenticatorKind::Dummy => ["DummyAuthenticator", "password"],
        AuthenticatorKind::Github => ["GitHubOAuthenticator", "client_secret"],
    };
    let jinja = |var: &str| format!("{{{{ {var} }}}}");
    let values = jupyterhub_values(p).unwrap_or(Value::Null);
    json!({
        "enabled": true,
        "jupyterhub": {
            "host": hub.host_in(p.dns.as_ref()),
            "chart": CHART,
            "chart_repository": CHART_REPOSITORY,
            "chart_version": hub.chart_version,
            "release": RELEASE,
            "namespace": NAMESPACE,
            "values_file": JUPYTERHUB_VALUES,
            "values": values,
            "secret_env": hub.authenticator.secret_env(),
            "secret_message": secret_message(hub),
            "secret_class": secret_key[0],
            "secret_key": secret_key[1],
            "acme_server": hub.letsencrypt.acme_server(),
            "ingress_machine": ingress_machine(p),
        },
        "python": PYTHON,
        "helm": HELM,
        "kubectl": KUBECTL,
        "kubeconfig": KUBECONFIG,
        "remote_dir": REMOTE_DIR,
        "helm_timeout": HELM_TIMEOUT,
        "jinja": {
            "helm": jinja("apps_helm"),
            "kubectl": jinja("apps_kubectl"),
            "kubeconfig": jinja("apps_kubeconfig"),
            "remote_dir": jinja("apps_dir"),
            "remote_values": format!("{}/jupyterhub-values.yaml", jinja("apps_dir")),
            "remote_secret": format!("{}/jupyterhub-secret.yaml", jinja("apps_dir")),
            // The name was checked to be letters, digits and `_`: a plain Jinja string.
            "secret_env_lookup": format!(
                "{{{{ lookup('ansible.builtin.env', '{}') }}}}",
                hub.authenticator.secret_env()
            ),
            "secret_values": format!(
                "{{{{ {{'hub': {{'config': {{'{}': {{'{}': jupyterhub_secret}}}}}}}} | to_nice_yaml }}}}",
                secret_key[0], secret_key[1]
            ),
        },
    })
}

/// The kured flags that keep a node with running user servers from being drained.
pub fn blocking_pod_selectors(profile: &Profile) -> Vec<String> {
    if profile.apps.jupyterhub.is_some() {
        vec![SINGLEUSER_SELECTOR.to_string()]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_merge_replaces_lists_merges_maps_and_null_removes() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        merge_values(&mut base, &json!({"a": {"c": [3], "e": true}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": true}}));
    }
}
