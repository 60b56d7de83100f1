//! The mapping from a checked profile to the variables the templates see: Kubespray's
//! `cluster.tfvars` and group_vars, the generated root module's provider settings and module
//! inputs, the `s3` backend, the coordinator and the apps. It owns which profile setting becomes
//! which variable; it does not know file names ([`super::outputs`]) or the disk
//! ([`super::written`]).

use std::path::Path;

use serde_json::{json, Value};

use super::{apps, coordinator, ARTIFACTS_DIR, ARTIFACTS_DIR_VAR};
use crate::flavors::{FlavorIds, FlavorValue};
use crate::profile::kubespray::{ansible_core_range, kube_version_for};
use crate::profile::machines::{first_control_plane, image_name, machines, Release};
use crate::profile::state::{StateBackend, StateObjects};
use crate::profile::{cidr, Access, AuthKind, LoadedProfile, Pool};

/// `ansible.cfg` forks: one per machine, between 5 (Ansible's default) and 50.
pub fn forks_for(machine_count: usize) -> usize {
    machine_count.clamp(5, 50)
}

/// One flavor variable of `cluster.tfvars`: the ID, or a name flagged as such.
fn flavor_var(name: &str, pool: &Pool, ids: &FlavorIds) -> Value {
    match ids.for_pool(pool) {
        FlavorValue::Id(id) => json!({"name": name, "value": id, "is_name": false}),
        FlavorValue::Name(flavor) => json!({"name": name, "value": flavor, "is_name": true}),
    }
}

/// A security-group rule of Kubespray's `*_allowed_ports` variables.
fn port_rule(protocol: &str, port: u16, remote: &str) -> Value {
    json!({
        "protocol": protocol,
        "port_range_min": port,
        "port_range_max": port,
        "remote_ip_prefix": remote,
    })
}

/// Who reaches the machines, in Kubespray's variables: SSH to every machine
/// (`k8s_allowed_remote_ips`) and to the bastion, the API of the control plane
/// (`master_allowed_remote_ips`) from the profile's CIDRs, split by family as the module's
/// rules are; workers admit 80/443 from everyone only with `open_http` (instead of the
/// module's default, NodePorts from everyone), as our own module's group does.
/// With apps, the control plane admits 80/443 from everyone (Kubespray's variables cannot name
/// one machine; our own module opens them on the first control plane machine only).
fn access_vars(access: &Access, apps: bool) -> Value {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for text in &access.allowed_cidrs {
        // The profile was checked; an entry that does not parse cannot reach this point.
        if let Ok(cidr) = cidr::parse(text) {
            if cidr.is_ipv4() {
                v4.push(cidr.to_string());
            } else {
                v6.push(cidr.to_string());
            }
        }
    }
    let http = |remote: &str| -> Vec<Value> {
        if access.open_http {
            vec![port_rule("tcp", 80, remote), port_rule("tcp", 443, remote)]
        } else {
            Vec::new()
        }
    };
    // The module's default for IPv6 workers also admits ICMPv6 (neighbour discovery, path MTU).
    let mut worker_v6 = vec![json!({
        "protocol": "ipv6-icmp",
        "port_range_min": 0,
        "port_range_max": 0,
        "remote_ip_prefix": "::/0",
    })];
    worker_v6.extend(http("::/0"));
    json!({
        "cidr_vars": [
            {"name": "k8s_allowed_remote_ips", "value": v4},
            {"name": "k8s_allowed_remote_ips_ipv6", "value": v6},
            {"name": "master_allowed_remote_ips", "value": v4},
            {"name": "master_allowed_remote_ipv6_ips", "value": v6},
            {"name": "bastion_allowed_remote_ips", "value": v4},
            {"name": "bastion_allowed_remote_ipv6_ips", "value": v6},
        ],
        "port_vars": [
            {"name": "master_allowed_ports", "value": if apps { vec![port_rule("tcp", 80, "0.0.0.0/0"), port_rule("tcp", 443, "0.0.0.0/0")] } else { Vec::new() }},
            {"name": "master_allowed_ports_ipv6", "value": if apps { vec![port_rule("tcp", 80, "::/0"), port_rule("tcp", 443, "::/0")] } else { Vec::new() }},
            {"name": "worker_allowed_ports", "value": http("0.0.0.0/0")},
            {"name": "worker_allowed_ports_ipv6", "value": worker_v6},
        ],
    })
}

/// The Kubespray `contrib/terraform/openstack` variables a profile sets, in file order.
/// Every `number_of_*` is explicit: that module's defaults create machines.
fn tfvars(loaded: &LoadedProfile, ids: &FlavorIds) -> Value {
    let p = &loaded.profile;
    let pools = &p.pools;
    let cp = &pools.control_plane;
    let cp_fip = cp.floating_ip.unwrap_or(true);
    let separate_etcd = pools.etcd.as_ref().is_some_and(|e| e.count > 0);
    let (mut m, mut m_nf, mut m_ne, mut m_nf_ne) = (0, 0, 0, 0);
    match (cp_fip, separate_etcd) {
        (true, false) => m = cp.count,
        (false, false) => m_nf = cp.count,
        (true, true) => m_ne = cp.count,
        (false, true) => m_nf_ne = cp.count,
    }
    let w = &pools.workers;
    let w_fip = w.floating_ip.unwrap_or(true);
    let (n, n_nf) = if w_fip { (w.count, 0) } else { (0, w.count) };
    let etcd_count = pools.etcd.as_ref().map_or(0, |e| e.count);
    let bastion_count = pools.bastion.as_ref().map_or(0, |b| b.count);

    let mut flavors = vec![
        flavor_var("flavor_k8s_master", cp, ids),
        flavor_var("flavor_k8s_node", w, ids),
    ];
    let mut volumes = vec![
        json!({"name": "master_root_volume_size_in_gb", "value": cp.root_volume_gb}),
        json!({"name": "node_root_volume_size_in_gb", "value": w.root_volume_gb}),
    ];
    if let Some(etcd) = pools.etcd.as_ref().filter(|e| e.count > 0) {
        flavors.push(flavor_var("flavor_etcd", etcd, ids));
        volumes.push(json!({"name": "etcd_root_volume_size_in_gb", "value": etcd.root_volume_gb}));
    }
    if let Some(b) = pools.bastion.as_ref().filter(|b| b.count > 0) {
        flavors.push(flavor_var("flavor_bastion", b, ids));
        volumes.push(json!({"name": "bastion_root_volume_size_in_gb", "value": b.root_volume_gb}));
    }
    let uses_flavor_names = flavors.iter().any(|f| f["is_name"] == json!(true));

    let counts = vec![
        json!({"name": "number_of_bastions", "value": bastion_count}),
        json!({"name": "number_of_etcd", "value": etcd_count}),
        json!({"name": "number_of_k8s_masters", "value": m}),
        json!({"name": "number_of_k8s_masters_no_etcd", "value": m_ne}),
        json!({"name": "number_of_k8s_masters_no_floating_ip", "value": m_nf}),
        json!({"name": "number_of_k8s_masters_no_floating_ip_no_etcd", "value": m_nf_ne}),
        json!({"name": "number_of_k8s_nodes", "value": n}),
        json!({"name": "number_of_k8s_nodes_no_floating_ip", "value": n_nf}),
        json!({"name": "number_of_gfs_nodes_no_floating_ip", "value": 0}),
    ];
    let net = &p.network;
    json!({
        "az_list": [p.cloud.availability_zone],
        "counts": counts,
        "flavors": flavors,
        "volumes": volumes,
        "uses_flavor_names": uses_flavor_names,
        "use_existing_network": net.reuse,
        // With an existing network Kubespray must create neither network, subnet nor router.
        "use_neutron": if net.reuse { 0 } else { 1 },
        "external_net": net.external_network_id.clone().unwrap_or_default(),
        "access": access_vars(&p.access, apps::enabled(p)),
    })
}

/// The values of the generated root module (`terraform/main.tf`): provider settings and the
/// module's inputs. A value left out is `null`, so the provider falls back to `OS_*`.
fn terraform_values(loaded: &LoadedProfile) -> (Value, Value) {
    let p = &loaded.profile;
    let provider = json!({
        "cloud": p.cloud.clouds_yaml_entry,
        "region": p.cloud.region,
        "endpoint_overrides": if p.cloud.endpoint_overrides.is_empty() {
            Value::Null
        } else {
            json!(p.cloud.endpoint_overrides)
        },
        "release_base_url": p.flatcar.mirror_url,
        "signing_key_file": p.flatcar.signing_key_file,
    });
    let module_machines: Vec<Value> = machines(p)
        .into_iter()
        .map(|machine| {
            // Like cluster.tfvars: the ID when the profile has one, else the name.
            let (flavor_name, flavor_id) = match &machine.pool.flavor_id {
                Some(id) => (None, Some(id.clone())),
                None => (machine.pool.flavor.clone(), None),
            };
            let root = machine.pool.root_volume_gb;
            json!({
                "name": machine.name,
                "groups": machine.groups,
                "flavor_name": flavor_name,
                "flavor_id": flavor_id,
                "floating_ip": machine.floating_ip,
                "root_volume_size": if root == 0 { Value::Null } else { json!(root) },
            })
        })
        .collect();
    let release = Release::of(p);
    let module = json!({
        "machines": module_machines,
        "api_machine": first_control_plane(p),
        "image": {
            "key": release.key(),
            "name": release.image_name(p.flatcar.arch),
            "channel": release.channel,
            "version": release.version,
        },
        "allowed_cidrs": p.access.allowed_cidrs,
        "open_http": p.access.open_http,
        "http_machines": apps::ingress_machine(p)
            .filter(|_| apps::enabled(p))
            .into_iter()
            .collect::<Vec<_>>(),
        "extra_security_groups": p.network.security_groups,
        "reserved_address": p.access.reserved_address,
        "dns_zone": p.dns.as_ref().map(|d| d.zone.clone()),
        "api_name": p.dns.as_ref().map(|d| d.api_fqdn(&p.name)),
        "ingress_name": p.dns.as_ref().and_then(|d| d.ingress_fqdn()),
        "availability_zone": p.cloud.availability_zone,
        "public_key_files": std::iter::once(&p.ssh.public_key_file)
            .chain(&p.ssh.extra_public_key_files)
            .collect::<Vec<_>>(),
        "butane_file": p.flatcar.butane_file,
    });
    (provider, module)
}

/// The `s3` backend's settings for `state.backend: object_store` (null otherwise).
fn state_values(loaded: &LoadedProfile) -> Value {
    let p = &loaded.profile;
    if p.state.backend != StateBackend::ObjectStore {
        return Value::Null;
    }
    let objects = StateObjects::for_cluster(&p.name);
    json!({
        "container": p.state.container,
        "key": objects.tfstate,
        "up_lock": objects.up_lock,
        "region": p.state.s3_region,
        "s3_endpoint": p.state.s3_endpoint,
    })
}

/// Everything the templates see.
pub fn context(loaded: &LoadedProfile, ids: &FlavorIds) -> Value {
    let p = &loaded.profile;
    let file_name = Path::new(&loaded.file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| loaded.file.clone());
    let all_machines = machines(p);
    let (ansible_min, ansible_max) =
        ansible_core_range(&p.kubespray.version).unwrap_or(("2.18.0", "2.19.0"));
    let k = &p.kubernetes;
    let (provider, module) = terraform_values(loaded);
    let extra: Vec<Value> = p
        .kubespray
        .extra_vars
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({
        "header": format!("Generated by flatcar-kube from {file_name}. Do not edit: change the profile and run `flatcar-kube generate` again."),
        "profile_file": file_name,
        "name": p.name,
        "image": image_name(p),
        "ssh_user": "core",
        "public_key_file": p.ssh.public_key_file,
        "network": p.network,
        "network_reuse": p.network.reuse,
        "tf": tfvars(loaded, ids),
        "provider": provider,
        "provider_source": flatcar_cloud::PROVIDER_SOURCE,
        "module": module,
        "flatcar": {
            "channel": p.flatcar.channel.as_str(),
            "version": p.flatcar.version,
            "arch": p.flatcar.arch.as_str(),
            "image_properties": p.flatcar.image_properties,
        },
        "region": p.cloud.region,
        "clouds_yaml_entry": p.cloud.clouds_yaml_entry,
        "application_credential": p.cloud.auth == AuthKind::ApplicationCredential,
        "kubernetes": {
            "version": k.version.as_deref().map(|v| kube_version_for(&p.kubespray.version, v)),
            "network_plugin": k.network_plugin.as_str(),
            "container_manager": k.container_manager.as_str(),
            "openstack_cloud_provider": k.openstack_cloud_provider,
            "openstack_lbaas": k.openstack_lbaas,
            "cinder_csi": k.cinder_csi,
            "needs_cloud_credentials": k.openstack_cloud_provider || k.cinder_csi,
        },
        "external_network_id": p.network.external_network_id,
        "storage": {"availability_zone": p.cloud.availability_zone},
        // Whether the kubeconfig's server (the first control plane's ansible_host) is public.
        "control_plane_floating_ip": p.pools.control_plane.floating_ip.unwrap_or(true),
        "kubeconfig": {
            "artifacts_dir": ARTIFACTS_DIR_VAR,
            "path": format!("{ARTIFACTS_DIR}/admin.conf"),
        },
        "extra_vars": extra,
        "forks": forks_for(all_machines.len()),
        "machine_count": all_machines.len(),
        "kubespray": {
            "version": p.kubespray.version,
            "path": p.kubespray.path,
            "repository": p.kubespray.repository,
            "ansible_min": ansible_min,
            "ansible_max": ansible_max,
        },
        "coordinator": coordinator::context(loaded),
        "apps": apps::context(loaded),
        "state": state_values(loaded),
    })
}
