//! Turns a checked profile into the files of a Kubespray deployment, through the handlebars
//! templates in `generator/templates/` (values are escaped by the helpers of [`escape`]), and
//! writes them (never over a hand edit: [`written`]) or compares them with what is on disk
//! (`--check`). It owns file names, modes and the mapping from profile to Kubespray variables;
//! it does not read profiles.

pub mod apps;
pub mod coordinator;
pub mod escape;
pub mod written;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde_json::{json, Value};

use crate::flavors::{FlavorIds, FlavorValue};
use crate::profile::kubespray::{ansible_core_range, kube_version_for};
use crate::profile::machines::{first_control_plane, image_name, machines, Release};
use crate::profile::state::{StateBackend, StateObjects};
use crate::profile::{cidr, Access, AuthKind, LoadedProfile, Pool};

pub use coordinator::playbook as coordinator_playbook;

/// The play that installs the profile's apps into the cluster generated into `output_dir`
/// (run like the coordinator's); `None` when the profile has no apps.
pub fn apps_playbook(loaded: &LoadedProfile, output_dir: &Path) -> Option<PathBuf> {
    apps::enabled(&loaded.profile).then(|| output_dir.join(apps::DIR).join(apps::PLAYBOOK))
}

/// Mode of files that may hold secrets (group_vars carry `extra_vars`, which may be tokens).
pub const SECRET_MODE: u32 = 0o600;
/// Mode of plain generated files.
pub const PLAIN_MODE: u32 = 0o644;
/// Mode of generated scripts.
pub const SCRIPT_MODE: u32 = 0o755;

/// One generated file, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub contents: String,
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("internal error: template {0} does not render: {1}")]
    Template(&'static str, String),
    #[error("{path}: {source}; check that the directory is writable")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    HandEdited(#[from] written::HandEdited),
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "cluster.tfvars",
        include_str!("../../templates/cluster.tfvars.hbs"),
    ),
    ("all.yml", include_str!("../../templates/all.yml.hbs")),
    (
        "openstack.yml",
        include_str!("../../templates/openstack.yml.hbs"),
    ),
    (
        "k8s-cluster.yml",
        include_str!("../../templates/k8s-cluster.yml.hbs"),
    ),
    ("extra.yml", include_str!("../../templates/extra.yml.hbs")),
    (
        "ansible.cfg",
        include_str!("../../templates/ansible.cfg.hbs"),
    ),
    ("deploy.sh", include_str!("../../templates/deploy.sh.hbs")),
    ("hosts.yaml", include_str!("../../templates/hosts.yaml.hbs")),
    (
        "terraform-main.tf",
        include_str!("../../templates/terraform-main.tf.hbs"),
    ),
    (
        "terraform-outputs.tf",
        include_str!("../../templates/terraform-outputs.tf.hbs"),
    ),
    (
        "terraform-backend.tf",
        include_str!("../../templates/terraform-backend.tf.hbs"),
    ),
    (
        "coordinator-kured.yaml",
        include_str!("../../templates/coordinator-kured.yaml.hbs"),
    ),
    (
        "coordinator-install.yml",
        include_str!("../../templates/coordinator-install.yml.hbs"),
    ),
    (
        "apps-install.yml",
        include_str!("../../templates/apps-install.yml.hbs"),
    ),
    (
        "apps-jupyterhub-values.yaml",
        include_str!("../../templates/apps-jupyterhub-values.yaml.hbs"),
    ),
];

/// The reusable module, built into the binary so `generate` writes a self-contained
/// `terraform/`. Its source is `generator/terraform/modules/cluster`, in this crate at the path
/// where `generate` writes it ([`CLUSTER_MODULE_DIR`]); a test keeps this list equal to the
/// directory's files.
pub const CLUSTER_MODULE: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../terraform/modules/cluster/README.md"),
    ),
    (
        "main.tf",
        include_str!("../../terraform/modules/cluster/main.tf"),
    ),
    (
        "outputs.tf",
        include_str!("../../terraform/modules/cluster/outputs.tf"),
    ),
    (
        "variables.tf",
        include_str!("../../terraform/modules/cluster/variables.tf"),
    ),
    (
        "versions.tf",
        include_str!("../../terraform/modules/cluster/versions.tf"),
    ),
];

/// The `s3` backend's configuration, relative to the output directory (object store state only).
pub const BACKEND_FILE: &str = "terraform/backend.tf";

/// Where `generate` writes the module, relative to the output directory.
pub const CLUSTER_MODULE_DIR: &str = "terraform/modules/cluster";

/// Where Kubespray writes `admin.conf` (`artifacts_dir`), relative to the output directory.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// `artifacts_dir` as Kubespray reads it: relative to the inventory (`DIR/inventory`), so it
/// is `DIR/artifacts` wherever DIR is.
pub const ARTIFACTS_DIR_VAR: &str = "{{ inventory_dir }}/../artifacts";

/// The template engine with every template and escaping helper registered.
pub fn engine() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    // Escaping is the helpers' job; the engine's HTML escaping would be wrong for every target.
    hb.register_escape_fn(handlebars::no_escape);
    escape::register(&mut hb);
    for (name, text) in TEMPLATES {
        // The templates are part of the binary and covered by tests; a broken one is a bug.
        if let Err(e) = hb.register_template_string(name, *text) {
            panic!("template {name} does not parse: {e}");
        }
    }
    hb
}

/// Renders the template `name` with `data`.
pub fn render(
    hb: &Handlebars<'_>,
    name: &'static str,
    data: &Value,
) -> Result<String, RenderError> {
    hb.render(name, data)
        .map_err(|e| RenderError::Template(name, e.to_string()))
}

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
fn context(loaded: &LoadedProfile, ids: &FlavorIds) -> Value {
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

/// Every file `generate` writes for a profile, in a fixed order. Same profile and flavor IDs,
/// same bytes (`ids` from [`crate::flavors::resolve`]; only `cluster.tfvars` uses them).
pub fn generate(loaded: &LoadedProfile, ids: &FlavorIds) -> Result<Vec<OutputFile>, RenderError> {
    let hb = engine();
    let data = context(loaded, ids);
    let mut files = vec![
        OutputFile {
            path: PathBuf::from("kubespray/cluster.tfvars"),
            contents: render(&hb, "cluster.tfvars", &data)?,
            mode: PLAIN_MODE,
        },
        OutputFile {
            path: PathBuf::from("inventory/group_vars/all/all.yml"),
            contents: render(&hb, "all.yml", &data)?,
            mode: SECRET_MODE,
        },
        OutputFile {
            path: PathBuf::from("inventory/group_vars/k8s_cluster/k8s-cluster.yml"),
            contents: render(&hb, "k8s-cluster.yml", &data)?,
            mode: SECRET_MODE,
        },
    ];
    let k = &loaded.profile.kubernetes;
    if k.openstack_cloud_provider || k.cinder_csi {
        files.insert(
            2,
            OutputFile {
                path: PathBuf::from("inventory/group_vars/all/openstack.yml"),
                contents: render(&hb, "openstack.yml", &data)?,
                mode: SECRET_MODE,
            },
        );
    }
    if !loaded.profile.kubespray.extra_vars.is_empty() {
        files.push(OutputFile {
            path: PathBuf::from("inventory/group_vars/k8s_cluster/extra.yml"),
            contents: render(&hb, "extra.yml", &data)?,
            mode: SECRET_MODE,
        });
    }
    files.push(OutputFile {
        path: PathBuf::from("ansible.cfg"),
        contents: render(&hb, "ansible.cfg", &data)?,
        mode: PLAIN_MODE,
    });
    files.push(OutputFile {
        path: PathBuf::from("deploy.sh"),
        contents: render(&hb, "deploy.sh", &data)?,
        mode: SCRIPT_MODE,
    });
    files.push(OutputFile {
        path: PathBuf::from("terraform/main.tf"),
        contents: render(&hb, "terraform-main.tf", &data)?,
        mode: PLAIN_MODE,
    });
    files.push(OutputFile {
        path: PathBuf::from("terraform/outputs.tf"),
        contents: render(&hb, "terraform-outputs.tf", &data)?,
        mode: PLAIN_MODE,
    });
    if loaded.profile.state.backend == StateBackend::ObjectStore {
        files.push(OutputFile {
            path: PathBuf::from(BACKEND_FILE),
            contents: render(&hb, "terraform-backend.tf", &data)?,
            mode: PLAIN_MODE,
        });
    }
    for (name, text) in CLUSTER_MODULE {
        files.push(OutputFile {
            path: Path::new(CLUSTER_MODULE_DIR).join(name),
            contents: (*text).to_string(),
            mode: PLAIN_MODE,
        });
    }
    if coordinator::enabled(loaded) {
        let dir = Path::new(coordinator::DIR);
        files.push(OutputFile {
            path: dir.join(coordinator::MANIFEST),
            contents: render(&hb, "coordinator-kured.yaml", &data)?,
            mode: PLAIN_MODE,
        });
        files.push(OutputFile {
            path: dir.join(coordinator::PLAYBOOK),
            contents: render(&hb, "coordinator-install.yml", &data)?,
            mode: PLAIN_MODE,
        });
    }
    if apps::enabled(&loaded.profile) {
        let dir = Path::new(apps::DIR);
        files.push(OutputFile {
            path: dir.join(apps::JUPYTERHUB_VALUES),
            contents: render(&hb, "apps-jupyterhub-values.yaml", &data)?,
            mode: PLAIN_MODE,
        });
        files.push(OutputFile {
            path: dir.join(apps::PLAYBOOK),
            contents: render(&hb, "apps-install.yml", &data)?,
            mode: PLAIN_MODE,
        });
    }
    Ok(files)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `files` under `dir` with their modes (replacing existing files atomically), and
/// records their digests ([`written`]). A file changed by hand since the last write stops it,
/// before anything is written, unless `force`.
pub fn write_files(dir: &Path, files: &[OutputFile], force: bool) -> Result<(), RenderError> {
    if let (Some(previous), false) = (written::load(dir), force) {
        let edited = written::hand_edited(dir, files, &previous);
        if !edited.is_empty() {
            return Err(written::HandEdited {
                dir: dir.to_path_buf(),
                files: edited,
            }
            .into());
        }
    }
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        write_file(&path, f.contents.as_bytes(), f.mode)?;
    }
    let record = serde_json::to_string_pretty(&written::record(files)).unwrap_or_default() + "\n";
    write_file(
        &dir.join(written::WRITTEN_FILE),
        record.as_bytes(),
        PLAIN_MODE,
    )
}

/// Writes one file with `mode`, via a temporary file so a secret never exists with a wider mode.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), RenderError> {
    use std::io::Write as _;
    let tmp = path.with_extension(format!(
        "{}.tmp-flatcar-kube",
        path.extension()
            .map(|e| e.to_string_lossy())
            .unwrap_or_default()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // The umask may have narrowed the mode; set it exactly.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io_err(&tmp))?;
    }
    file.write_all(contents).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Unified diffs between `files` and what is under `dir` (a missing file diffs against empty);
/// empty when everything matches.
pub fn check_files(dir: &Path, files: &[OutputFile]) -> Result<String, RenderError> {
    let mut out = String::new();
    for f in files {
        let path = dir.join(&f.path);
        let on_disk = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(RenderError::Io { path, source: e }),
        };
        if on_disk != f.contents {
            let shown = f.path.display().to_string();
            let diff = similar::TextDiff::from_lines(&on_disk, &f.contents);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{CLUSTER_MODULE, CLUSTER_MODULE_DIR, TEMPLATES};

    /// The module built into the binary is the crate's module directory, file for file.
    #[test]
    fn embedded_module_holds_every_file_of_the_module() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CLUSTER_MODULE_DIR);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("generator/terraform/modules/cluster")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = CLUSTER_MODULE.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            embedded, on_disk,
            "add every file of generator/terraform/modules/cluster to CLUSTER_MODULE"
        );
        for (name, text) in CLUSTER_MODULE {
            let disk = std::fs::read(dir.join(name)).expect("module file");
            assert_eq!(
                text.as_bytes(),
                &disk[..],
                "{name} differs from the embedded copy"
            );
        }
    }

    /// Every `{{...}}` in a template is a block keyword or an escaping helper, never a bare value.
    #[test]
    fn templates_escape_every_value() {
        let allowed = [
            "yaml ",
            "yamlblock ",
            "hcl ",
            "sh ",
            "ini ",
            "num ",
            "comment ",
            "#if ",
            "#unless ",
            "#each ",
            "/if",
            "/unless",
            "/each",
            "else",
            "!",
        ];
        for (name, text) in TEMPLATES {
            let mut rest = *text;
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let end = after.find("}}").unwrap_or(after.len());
                let expr = after[..end].trim_start_matches('~').trim();
                assert!(
                    allowed.iter().any(|a| expr.starts_with(a)),
                    "template {name}: `{{{{{expr}}}}}` is not escaped by a helper"
                );
                rest = &after[end..];
            }
        }
    }
}
