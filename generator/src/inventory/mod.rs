//! Kubespray inventories from Terraform, with any backend: this module reads what `terraform
//! output -json` or `terraform show -json` prints (never a state file), detects which it is,
//! and writes Kubespray's `hosts.yaml`. Readers live in [`terraform_output`] and
//! [`terraform_show`]; both produce a [`KubesprayInventory`].

pub mod terraform_output;
pub mod terraform_show;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

/// The groups Kubespray's playbooks know, in the order `hosts.yaml` lists them.
pub const KUBESPRAY_GROUPS: &[&str] = &["kube_control_plane", "kube_node", "etcd", "bastion"];

/// One host of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Address Ansible connects to: the floating IP when there is one, else the private IP.
    pub ansible_host: String,
    /// Private (fixed) IP; Kubernetes components bind to it.
    pub ip: String,
    /// Address other hosts use to reach this one (Kubespray's `access_ip`), when known.
    pub access_ip: Option<String>,
    pub ansible_user: String,
    /// Groups this host is in (`k8s_cluster` is implied by `kube_control_plane`/`kube_node`).
    pub groups: BTreeSet<String>,
}

/// Hosts by name; the whole of what a `hosts.yaml` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubesprayInventory {
    pub hosts: BTreeMap<String, Host>,
    /// DNS names of the Kubernetes API, which go into its certificate too.
    pub api_names: Vec<String>,
}

impl KubesprayInventory {
    /// Hosts in natural order of their names (`cp-2` before `cp-10`): the order of every group
    /// in `hosts.yaml`, so the first control plane is the one Kubespray treats as first.
    pub fn ordered(&self) -> Vec<(&String, &Host)> {
        let mut hosts: Vec<(&String, &Host)> = self.hosts.iter().collect();
        hosts.sort_by(|a, b| crate::natural::cmp(a.0, b.0));
        hosts
    }

    /// Members of `group`, in natural order.
    pub fn members(&self, group: &str) -> Vec<&String> {
        self.ordered()
            .into_iter()
            .filter(|(_, h)| h.groups.contains(group))
            .map(|(n, _)| n)
            .collect()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InventoryError {
    #[error("{source_name}: the input is not JSON ({detail}); pipe `terraform output -json` or `terraform show -json` into `flatcar-kube inventory`")]
    NotJson { source_name: String, detail: String },
    #[error("{source_name}: neither `terraform output -json` with a `kubespray_inventory` output nor `terraform show -json` of a state; run one of those two commands in the Terraform directory and pass its output")]
    UnknownShape { source_name: String },
    #[error("{source_name}: {what}; {todo}")]
    Invalid {
        source_name: String,
        what: String,
        todo: String,
    },
}

/// Which Terraform command's JSON was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    TerraformOutput,
    TerraformShow,
}

/// Detects the input's shape and reads it.
pub fn read(
    text: &str,
    source_name: &str,
) -> Result<(KubesprayInventory, InputKind), InventoryError> {
    let value: Value = serde_json::from_str(text).map_err(|e| InventoryError::NotJson {
        source_name: source_name.to_string(),
        detail: e.to_string(),
    })?;
    if terraform_show::looks_like(&value) {
        let inv = terraform_show::read(&value, source_name)?;
        return Ok((inv, InputKind::TerraformShow));
    }
    if let Some(inventory) = terraform_output::find(&value) {
        let inv = terraform_output::read(inventory, source_name)?;
        return Ok((inv, InputKind::TerraformOutput));
    }
    Err(InventoryError::UnknownShape {
        source_name: source_name.to_string(),
    })
}

/// Hosts without an address of their own reach Ansible through the bastion, or else through
/// the first host (in natural order of names) that has a floating IP, like Kubespray's `no_floating.yml`.
fn jump_host(inv: &KubesprayInventory) -> Option<(&String, &Host)> {
    let reachable = |h: &&Host| h.access_ip.is_some() || h.ansible_host != h.ip;
    let ordered = inv.ordered();
    ordered
        .iter()
        .filter(|(_, h)| h.groups.contains("bastion"))
        .find(|(_, h)| reachable(h))
        .or_else(|| ordered.iter().find(|(_, h)| reachable(h)))
        .copied()
}

/// The addresses by which the control plane is reached from outside (floating IPs: a host's
/// `ansible_host` when it is not its private `ip`), in host order. They go into the API
/// server's certificate (Kubespray's `supplementary_addresses_in_ssl_keys`), so the kubeconfig
/// that points at the first of them works; only Terraform's output knows them, which is why
/// `hosts.yaml` carries them and the generated group_vars do not.
pub fn control_plane_public_addresses(inv: &KubesprayInventory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, h) in inv.ordered() {
        if h.groups.contains("kube_control_plane")
            && h.ansible_host != h.ip
            && !out.contains(&h.ansible_host)
        {
            out.push(h.ansible_host.clone());
        }
    }
    out
}

/// Renders `hosts.yaml`. `source` says where the data came from (for the header).
pub fn to_hosts_yaml(
    inv: &KubesprayInventory,
    source: &str,
) -> Result<String, crate::render::RenderError> {
    let jump = jump_host(inv)
        .map(|(name, h)| (name.clone(), h.ansible_host.clone(), h.ansible_user.clone()));
    let hosts: Vec<Value> = inv
        .ordered()
        .into_iter()
        .map(|(name, h)| {
            let has_own_address = h.ansible_host != h.ip || h.access_ip.is_some();
            let proxy_jump = match &jump {
                Some((jump_name, addr, user)) if !has_own_address && jump_name != name => {
                    Some(format!("-o ProxyJump={user}@{addr}"))
                }
                _ => None,
            };
            json!({
                "name": name,
                "ansible_host": h.ansible_host,
                "ip": h.ip,
                "access_ip": h.access_ip,
                "ansible_user": h.ansible_user,
                "proxy_jump": proxy_jump,
            })
        })
        .collect();
    let mut group_names: Vec<String> = KUBESPRAY_GROUPS.iter().map(|g| g.to_string()).collect();
    let extra: BTreeSet<&String> = inv
        .hosts
        .values()
        .flat_map(|h| h.groups.iter())
        .filter(|g| !KUBESPRAY_GROUPS.contains(&g.as_str()) && g.as_str() != "k8s_cluster")
        .collect();
    group_names.extend(extra.into_iter().cloned());
    let mut api_addresses = control_plane_public_addresses(inv);
    api_addresses.extend(inv.api_names.iter().cloned());
    let groups: Vec<Value> = group_names
        .iter()
        .map(|g| {
            let members = inv.members(g);
            let api_sans =
                (g == "kube_control_plane" && !api_addresses.is_empty()).then_some(&api_addresses);
            json!({"name": g, "members": members, "api_sans": api_sans})
        })
        .collect();
    let hb = crate::render::engine();
    crate::render::render(
        &hb,
        "hosts.yaml",
        &json!({"source": source, "hosts": hosts, "groups": groups}),
    )
}

/// Checks names and groups common to both readers.
fn validate(inv: &KubesprayInventory, source_name: &str) -> Result<(), InventoryError> {
    let invalid = |what: String, todo: &str| InventoryError::Invalid {
        source_name: source_name.to_string(),
        what,
        todo: todo.to_string(),
    };
    if inv.hosts.is_empty() {
        return Err(invalid(
            "no hosts found".to_string(),
            "run `terraform apply` first, then pass `terraform output -json` or `terraform show -json`",
        ));
    }
    for (name, h) in &inv.hosts {
        if name.is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(
                format!("host name `{name}` is not usable in an inventory"),
                "name the machines with DNS labels",
            ));
        }
        if h.ip.is_empty() {
            return Err(invalid(
                format!("host `{name}` has no IP address"),
                "wait until the machine has an address and run `terraform refresh`",
            ));
        }
        for g in &h.groups {
            let ok = !g.is_empty() && g.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(invalid(
                    format!("host `{name}` is in group `{g}`, which is not an Ansible group name"),
                    "use letters, digits and `_` in group names",
                ));
            }
        }
    }
    Ok(())
}
