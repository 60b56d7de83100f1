//! Reads `terraform output -json` of our own module (`generator/terraform/modules/cluster`), whose output
//! `kubespray_inventory` has this shape (also accepted alone, as printed by
//! `terraform output -json kubespray_inventory`):
//!
//! ```json
//! {"hosts": {"demo-control-plane-1": {"groups": ["kube_control_plane", "etcd"],
//!                                      "ip": "10.0.0.11",
//!                                      "ansible_host": "149.165.150.1",
//!                                      "access_ip": null,
//!                                      "ansible_user": "core"}}}
//! ```
//!
//! `groups` holds any of `kube_control_plane`, `kube_node`, `etcd`, `bastion` (others are kept as
//! extra groups); `ip` is the private address; `ansible_host` the floating IP or `null`;
//! `access_ip` what other machines should use (our module leaves it `null`: private addresses);
//! outputs without `ansible_host` connect to `access_ip`; `ansible_user` defaults to `core`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::{Host, InventoryError, KubesprayInventory};

/// The name of our module's output.
pub const OUTPUT_NAME: &str = "kubespray_inventory";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputInventory {
    hosts: std::collections::BTreeMap<String, OutputHost>,
    /// DNS names of the Kubernetes API (our module with a DNS zone), for its certificate.
    #[serde(default)]
    api_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputHost {
    groups: Vec<String>,
    ip: String,
    /// Where Ansible connects (the floating IP); older outputs give only `access_ip`.
    #[serde(default)]
    ansible_host: Option<String>,
    #[serde(default)]
    access_ip: Option<String>,
    #[serde(default)]
    ansible_user: Option<String>,
}

/// The inventory value inside `terraform output -json` (or the value itself), if present.
pub fn find(value: &Value) -> Option<&Value> {
    if let Some(out) = value.get(OUTPUT_NAME) {
        return Some(out.get("value").unwrap_or(out));
    }
    value.get("hosts").is_some().then_some(value)
}

pub fn read(value: &Value, source_name: &str) -> Result<KubesprayInventory, InventoryError> {
    let parsed = OutputInventory::deserialize(value).map_err(|e| InventoryError::Invalid {
        source_name: source_name.to_string(),
        what: format!("output `{OUTPUT_NAME}` does not have the expected shape ({e})"),
        todo: "it must be {\"hosts\": {NAME: {\"groups\": [...], \"ip\": ..., \"ansible_host\": ..., \"access_ip\": ..., \"ansible_user\": ...}}}; see the README".to_string(),
    })?;
    let mut inv = KubesprayInventory {
        api_names: parsed
            .api_names
            .into_iter()
            .map(|n| n.trim_end_matches('.').to_string())
            .filter(|n| !n.is_empty())
            .collect(),
        ..KubesprayInventory::default()
    };
    for (name, h) in parsed.hosts {
        let access_ip = h.access_ip.filter(|a| !a.is_empty());
        let ansible_host = h.ansible_host.filter(|a| !a.is_empty());
        inv.hosts.insert(
            name,
            Host {
                ansible_host: ansible_host
                    .or_else(|| access_ip.clone())
                    .unwrap_or_else(|| h.ip.clone()),
                ip: h.ip,
                access_ip,
                ansible_user: h.ansible_user.unwrap_or_else(|| "core".to_string()),
                groups: h
                    .groups
                    .into_iter()
                    .filter(|g| !g.is_empty())
                    .collect::<BTreeSet<_>>(),
            },
        );
    }
    super::validate(&inv, source_name)?;
    Ok(inv)
}
