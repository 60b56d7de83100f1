//! What the generator knows of Kubespray's releases: the ansible-core range each requires, the
//! format of `kube_version`, the Kubernetes minor each installs by default, the variables it
//! removed (so `extra_vars` naming them is an error, not silence), and the variables the
//! generator writes itself. Facts come from Kubespray's sources at the tags named; nothing here
//! reads files or renders output.

/// The newest Kubespray release this generator knows (`init` writes it; the profile's default).
pub const NEWEST_RELEASE: &str = "v2.31.0";

/// Kubespray's own git repository (`kubespray.repository` names a mirror).
pub const UPSTREAM_REPOSITORY: &str = "https://github.com/kubernetes-sigs/kubespray";

/// Whether `version` names a release tag (`v2.31.0`), which a fetch can pin.
pub fn is_release_tag(version: &str) -> bool {
    version
        .strip_prefix('v')
        .map(|v| {
            v.split('.').count() == 3
                && v.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or(false)
}

/// Kubespray variables the generator writes itself (group_vars, or `hosts.yaml` for
/// `supplementary_addresses_in_ssl_keys`); `extra_vars` may not override them.
pub const GENERATED_VARS: &[&str] = &[
    "bin_dir",
    "coreos_locksmithd_disable",
    "cloud_provider",
    "external_cloud_provider",
    "external_openstack_lbaas_enabled",
    "external_openstack_lbaas_floating_network_id",
    "resolvconf_mode",
    "kube_network_plugin",
    "container_manager",
    "kube_version",
    "cinder_csi_enabled",
    "cinder_csi_ignore_volume_az",
    "storage_classes",
    "persistent_volumes_enabled",
    "expand_persistent_volumes",
    "kubeconfig_localhost",
    "kubeconfig_localhost_ansible_host",
    "artifacts_dir",
    "auto_renew_certificates",
    "supplementary_addresses_in_ssl_keys",
    "cluster_name",
];

/// Variables (or families of them, by prefix) that a Kubespray release stopped reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedVar {
    /// The name, or the prefix when `prefix` is true.
    pub name: &'static str,
    pub prefix: bool,
    /// The first release without it, e.g. `v2.31.0`.
    pub release: &'static str,
    /// Minor version of that release (Kubespray 2.x).
    pub minor: u32,
    /// What happened and what to do instead.
    pub instead: &'static str,
}

/// Removals read from Kubespray's history (v2.30.0..v2.31.0): the roles, defaults and sample
/// inventory entries are gone at v2.31.0, and master follows.
pub const REMOVED_VARS: &[RemovedVar] = &[
    RemovedVar {
        name: "dashboard_",
        prefix: true,
        release: "v2.31.0",
        minor: 31,
        instead: "Kubespray no longer installs the Kubernetes Dashboard (kubespray#12858): remove it and install the Dashboard (or Headlamp) with Helm after the deploy",
    },
    RemovedVar {
        name: "ingress_nginx_",
        prefix: true,
        release: "v2.31.0",
        minor: 31,
        instead: "Kubespray no longer installs ingress-nginx (kubespray#12767): remove it and install an ingress controller with Helm after the deploy (`access.open_http: true` opens 80/443)",
    },
    RemovedVar {
        name: "kubelet_static_pod_path",
        prefix: false,
        release: "v2.31.0",
        minor: 31,
        instead: "Kubespray refuses it (\"Removed variables present\"): remove it",
    },
    RemovedVar {
        name: "deploy_netchecker",
        prefix: false,
        release: "v2.31.0",
        minor: 31,
        instead: "Kubespray no longer has netchecker (kubespray#13058): remove it",
    },
    RemovedVar {
        name: "netcheck_",
        prefix: true,
        release: "v2.31.0",
        minor: 31,
        instead: "Kubespray no longer has netchecker (kubespray#13058): remove it",
    },
    RemovedVar {
        name: "netchecker_",
        prefix: true,
        release: "v2.31.0",
        minor: 31,
        instead: "Kubespray no longer has netchecker (kubespray#13058): remove it",
    },
];

/// The minor version of a Kubespray 2.x release tag (`v2.31.0` -> 31); `None` for `master`
/// or anything else.
pub fn minor_of(kubespray_version: &str) -> Option<u32> {
    let rest = kubespray_version.strip_prefix("v2.")?;
    rest.split('.').next()?.parse().ok()
}

/// The removal of `var` that applies to `kubespray_version` (master counts as newest).
pub fn removed(var: &str, kubespray_version: &str) -> Option<&'static RemovedVar> {
    let minor = minor_of(kubespray_version);
    REMOVED_VARS.iter().find(|r| {
        let matches = if r.prefix {
            var.starts_with(r.name)
        } else {
            var == r.name
        };
        matches && minor.is_none_or(|m| m >= r.minor)
    })
}

/// The ansible-core range `[min, max)` that a Kubespray version requires, from its
/// `playbooks/ansible_version.yml`; `None` for a version this generator does not know.
pub fn ansible_core_range(kubespray_version: &str) -> Option<(&'static str, &'static str)> {
    if kubespray_version == "master" {
        return Some(("2.18.0", "2.19.0"));
    }
    let rest = kubespray_version.strip_prefix('v')?;
    let mut parts = rest.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    let _patch: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || major != 2 {
        return None;
    }
    match minor {
        26..=28 => Some(("2.16.4", "2.17.0")),
        29 | 30 => Some(("2.17.3", "2.18.0")),
        31 => Some(("2.18.0", "2.19.0")),
        _ => None,
    }
}

/// `kube_version` as the Kubespray release expects it: `v1.31.4` up to v2.27, `1.32.5` from
/// v2.28 on (and on master), whichever way the profile writes it.
pub fn kube_version_for(kubespray_version: &str, kubernetes_version: &str) -> String {
    let bare = kubernetes_version
        .strip_prefix('v')
        .unwrap_or(kubernetes_version);
    match minor_of(kubespray_version) {
        Some(m) if m < 28 => format!("v{bare}"),
        _ => bare.to_string(),
    }
}

/// The Kubernetes minor (`1.36`) a Kubespray version installs when the profile names no
/// version: `kube_version` in `roles/kubespray-defaults` up to v2.27, from v2.28 on the first
/// entry of `kubelet_checksums.amd64` (the same minor across each release's patches); master as
/// of 2026-08 (1.36.4). `None` for a version this generator does not know.
pub fn default_kube_minor(kubespray_version: &str) -> Option<&'static str> {
    if kubespray_version == "master" {
        return Some("1.36");
    }
    ansible_core_range(kubespray_version)?;
    match minor_of(kubespray_version)? {
        26 => Some("1.30"),
        27 => Some("1.31"),
        28 => Some("1.32"),
        29 => Some("1.33"),
        30 => Some("1.34"),
        31 => Some("1.35"),
        _ => None,
    }
}

/// The Kubernetes minor a profile deploys: its own `kubernetes.version`, else Kubespray's
/// default ([`default_kube_minor`]).
pub fn kube_minor(kubespray_version: &str, kubernetes_version: Option<&str>) -> Option<String> {
    match kubernetes_version {
        Some(v) => {
            let bare = v.strip_prefix('v').unwrap_or(v);
            let mut parts = bare.split('.');
            let (major, minor) = (parts.next()?, parts.next()?);
            Some(format!("{major}.{minor}"))
        }
        None => default_kube_minor(kubespray_version).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_follows_the_kubespray_release() {
        assert_eq!(kube_version_for("master", "v1.32.5"), "1.32.5");
        assert_eq!(kube_version_for("v2.31.0", "1.32.5"), "1.32.5");
        assert_eq!(kube_version_for("v2.27.1", "1.31.4"), "v1.31.4");
        assert_eq!(kube_version_for("v2.26.0", "v1.30.4"), "v1.30.4");
    }

    #[test]
    fn kubernetes_minor_from_the_profile_or_kubespray() {
        assert_eq!(default_kube_minor("master"), Some("1.36"));
        assert_eq!(default_kube_minor("v2.31.0"), Some("1.35"));
        assert_eq!(default_kube_minor("v2.28.1"), Some("1.32"));
        assert_eq!(default_kube_minor("v2.26.0"), Some("1.30"));
        assert_eq!(default_kube_minor("v2.25.0"), None);
        assert_eq!(kube_minor("master", None).as_deref(), Some("1.36"));
        assert_eq!(
            kube_minor("master", Some("v1.33.2")).as_deref(),
            Some("1.33")
        );
        assert_eq!(
            kube_minor("v2.27.0", Some("1.31.4")).as_deref(),
            Some("1.31")
        );
    }

    #[test]
    fn ansible_ranges_come_from_kubespray_releases() {
        assert_eq!(ansible_core_range("master"), Some(("2.18.0", "2.19.0")));
        assert_eq!(ansible_core_range("v2.29.1"), Some(("2.17.3", "2.18.0")));
        assert_eq!(ansible_core_range("v2.27.0"), Some(("2.16.4", "2.17.0")));
        assert_eq!(ansible_core_range("v2.20.0"), None);
        assert_eq!(ansible_core_range("v2.31"), None);
    }

    #[test]
    fn removed_variables_count_from_their_release_on() {
        let r = removed("dashboard_enabled", "master").expect("gone on master");
        assert_eq!(r.release, "v2.31.0");
        assert!(removed("ingress_nginx_enabled", "v2.31.0").is_some());
        assert!(removed("ingress_nginx_host_network", "v2.31.2").is_some());
        assert!(removed("kubelet_static_pod_path", "master").is_some());
        // Still there before v2.31.
        assert!(removed("dashboard_enabled", "v2.30.0").is_none());
        assert!(removed("ingress_nginx_enabled", "v2.29.1").is_none());
        // Prefixes are prefixes, names are exact.
        assert!(removed("my_dashboard_enabled", "master").is_none());
        assert!(removed("kubelet_static_pod_path_x", "master").is_none());
        assert!(removed("helm_enabled", "master").is_none());
    }
}
