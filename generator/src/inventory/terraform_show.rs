//! Reads `terraform show -json` of a Kubespray `contrib/terraform/openstack` deployment:
//! every `openstack_compute_instance_v2` anywhere in the module tree, with its
//! `metadata.kubespray_groups` (a comma list that may hold empty items), `metadata.ssh_user`,
//! `metadata.use_access_ip`, `access_ip_v4` and `network[0].fixed_ip_v4`, and the floating IPs
//! that `openstack_networking_floatingip_associate_v2` (by port) or
//! `openstack_compute_floatingip_associate_v2` (by instance) attach to them.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::{Host, InventoryError, KubesprayInventory};

/// Whether `value` is `terraform show -json` of a state.
pub fn looks_like(value: &Value) -> bool {
    value.get("format_version").is_some()
        && value
            .get("values")
            .is_some_and(|v| v.get("root_module").is_some())
}

/// Every resource of the module tree, depth first.
fn resources<'a>(module: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(list) = module.get("resources").and_then(Value::as_array) {
        out.extend(list.iter());
    }
    if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
        for child in children {
            resources(child, out);
        }
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub fn read(value: &Value, source_name: &str) -> Result<KubesprayInventory, InventoryError> {
    let mut all = Vec::new();
    if let Some(root) = value.get("values").and_then(|v| v.get("root_module")) {
        resources(root, &mut all);
    }
    let managed =
        |r: &&Value| r.get("mode").and_then(Value::as_str).unwrap_or("managed") == "managed";
    let of_type = |t: &'static str| {
        all.iter()
            .filter(|r| managed(r))
            .filter(move |r| r.get("type").and_then(Value::as_str) == Some(t))
            .filter_map(|r| r.get("values"))
            .collect::<Vec<&Value>>()
    };

    let mut fip_by_port: HashMap<&str, &str> = HashMap::new();
    for a in of_type("openstack_networking_floatingip_associate_v2") {
        if let (Some(port), Some(fip)) = (str_at(a, "port_id"), str_at(a, "floating_ip")) {
            fip_by_port.insert(port, fip);
        }
    }
    let mut fip_by_instance: HashMap<&str, &str> = HashMap::new();
    for a in of_type("openstack_compute_floatingip_associate_v2") {
        if let (Some(id), Some(fip)) = (str_at(a, "instance_id"), str_at(a, "floating_ip")) {
            fip_by_instance.insert(id, fip);
        }
    }

    let mut inv = KubesprayInventory::default();
    for server in of_type("openstack_compute_instance_v2") {
        let Some(name) = str_at(server, "name") else {
            continue;
        };
        let metadata = server.get("metadata").cloned().unwrap_or(Value::Null);
        let Some(groups_text) = str_at(&metadata, "kubespray_groups") else {
            // Not a machine Kubespray's module made for the cluster.
            continue;
        };
        let groups: BTreeSet<String> = groups_text
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect();
        let network0 = server.get("network").and_then(|n| n.get(0));
        let fixed_ip = network0.and_then(|n| str_at(n, "fixed_ip_v4"));
        let port = network0.and_then(|n| str_at(n, "port"));
        let id = str_at(server, "id");
        let floating = port
            .and_then(|p| fip_by_port.get(p))
            .or_else(|| id.and_then(|i| fip_by_instance.get(i)))
            .copied();
        let access_ip_v4 = str_at(server, "access_ip_v4");
        let Some(ip) = fixed_ip.or(access_ip_v4) else {
            return Err(InventoryError::Invalid {
                source_name: source_name.to_string(),
                what: format!(
                    "instance `{name}` has neither network[0].fixed_ip_v4 nor access_ip_v4"
                ),
                todo: "run `terraform refresh` once the instance is ACTIVE and try again"
                    .to_string(),
            });
        };
        let reach = floating.or(access_ip_v4).unwrap_or(ip);
        let use_access_ip = metadata
            .get("use_access_ip")
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .is_none_or(|v| v != "0");
        let access_ip = if use_access_ip && reach != ip {
            Some(reach.to_string())
        } else {
            None
        };
        inv.hosts.insert(
            name.to_string(),
            Host {
                ansible_host: reach.to_string(),
                ip: ip.to_string(),
                access_ip,
                ansible_user: str_at(&metadata, "ssh_user").unwrap_or("core").to_string(),
                groups,
            },
        );
    }
    super::validate(&inv, source_name)?;
    Ok(inv)
}
