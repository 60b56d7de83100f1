//! The profile: one versioned YAML file that describes a whole cluster (cloud, network, Flatcar,
//! SSH, node pools, Kubernetes, Kubespray, updates, apps, state, DNS). This module owns the profile's types (which
//! are also its JSON Schema), reading a profile from YAML with positions ([`yaml`]), the semantic
//! checks that YAML types cannot express ([`validate`]) and what they know of Kubespray's
//! releases ([`kubespray`]). It knows nothing of output files.

pub mod apps;
pub mod cidr;
pub mod kubespray;
pub mod machines;
pub mod state;
pub mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

pub use yaml::Pos;

/// The only profile format version this generator reads.
pub const PROFILE_VERSION: u32 = 1;

/// A whole cluster, from cloud to Kubespray.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "flatcar-kube profile")]
pub struct Profile {
    /// Profile format version; must be 1.
    pub version: u32,
    /// Cluster name: a DNS label (lowercase letters, digits, `-`), prefix of every machine name.
    pub name: String,
    pub cloud: Cloud,
    pub network: Network,
    #[serde(default)]
    pub access: Access,
    #[serde(default)]
    pub flatcar: Flatcar,
    pub ssh: Ssh,
    pub pools: Pools,
    #[serde(default)]
    pub kubernetes: Kubernetes,
    #[serde(default)]
    pub kubespray: Kubespray,
    #[serde(default)]
    pub updates: Updates,
    #[serde(default)]
    pub apps: apps::Apps,
    #[serde(default)]
    pub state: state::State,
    #[serde(default)]
    pub dns: Option<Dns>,
}

/// The OpenStack cloud.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    /// Entry of clouds.yaml to use (`OS_CLOUD`); leave out to use the `OS_*` variables of an openrc.
    #[serde(default)]
    pub clouds_yaml_entry: Option<String>,
    /// Region name (`OS_REGION_NAME`), e.g. `IU` on Jetstream2.
    #[serde(default)]
    pub region: Option<String>,
    /// How the cloud provider authenticates: `application_credential` (Jetstream2) or `password`.
    #[serde(default)]
    pub auth: AuthKind,
    /// Availability zone for every machine.
    #[serde(default = "default_az")]
    pub availability_zone: String,
    /// Service type to endpoint URL, replacing the catalog's entry in the provider of the
    /// generated `terraform/` (e.g. `image: http://127.0.0.1:9292`); for private or test clouds.
    #[serde(default)]
    pub endpoint_overrides: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    #[default]
    ApplicationCredential,
    Password,
}

fn default_az() -> String {
    "nova".to_string()
}

/// The private network the machines sit on and the external network for floating IPs.
#[derive(Debug, Clone, Deserialize, serde::Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Name of the private network (created unless `reuse` is true).
    pub name: String,
    /// Use an existing network of that name (e.g. Jetstream2's `auto_allocated_network`) instead of creating one.
    #[serde(default)]
    pub reuse: bool,
    /// CIDR of the subnet created with the network (ignored when `reuse` is true).
    #[serde(default = "default_subnet_cidr")]
    pub subnet_cidr: String,
    /// Name of the external network floating IPs come from (`public` on Jetstream2).
    pub external_network: String,
    /// ID of that external network; Kubespray's Terraform needs it for the router it creates.
    #[serde(default)]
    pub external_network_id: Option<String>,
    /// DNS servers for the created subnet.
    #[serde(default)]
    pub dns_nameservers: Vec<String>,
    /// Further existing security groups for every machine of the generated `terraform/`,
    /// besides the cluster's own group (see `access`), e.g. `[monitoring]`.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

fn default_subnet_cidr() -> String {
    "10.0.0.0/24".to_string()
}

/// Who reaches the machines from outside the cluster. The cluster's security group admits all
/// traffic between its members and, from outside, only what is listed here.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// CIDRs (IPv4 or IPv6) allowed to reach SSH (22) and the Kubernetes API (6443), e.g.
    /// `[203.0.113.7/32]` for one address (`curl -s https://ifconfig.me` shows yours) or
    /// `[0.0.0.0/0]` for everyone. Ansible and kubectl must be inside one of them.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    /// Also admit HTTP (80) and HTTPS (443) from everyone, for an ingress controller.
    #[serde(default)]
    pub open_http: bool,
    /// A reserved floating IP for the first control plane machine, which survives its
    /// replacement (and `up --destroy` of everything else): the kubeconfig, the API
    /// certificate and DNS records stay right. Set it when the cluster is made.
    #[serde(default)]
    pub reserved_address: bool,
}

/// DNS names for the cluster in a Designate zone of the project (on Jetstream2 each allocation
/// has `<allocation>.projects.jetstream-cloud.org.`), each an A record to the first control
/// plane machine's address.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// The zone, e.g. `myalloc.projects.jetstream-cloud.org.` (`openstack zone list`).
    pub zone: String,
    /// The Kubernetes API's name in the zone (a label such as `k8s`, or several); default: the
    /// cluster's name. It goes into the API certificate.
    #[serde(default)]
    pub api_name: Option<String>,
    /// The name where 80/443 are served (JupyterHub's host by default), e.g. `hub`.
    #[serde(default)]
    pub ingress_name: Option<String>,
}

impl Dns {
    /// The zone without its trailing dot.
    pub fn zone_name(&self) -> &str {
        self.zone.trim_end_matches('.')
    }

    /// The API's full name (no trailing dot).
    pub fn api_fqdn(&self, cluster: &str) -> String {
        format!(
            "{}.{}",
            self.api_name.as_deref().unwrap_or(cluster),
            self.zone_name()
        )
    }

    /// The ingress's full name (no trailing dot), if any.
    pub fn ingress_fqdn(&self) -> Option<String> {
        self.ingress_name
            .as_deref()
            .map(|n| format!("{n}.{}", self.zone_name()))
    }
}

/// Which Flatcar Container Linux image the machines boot.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flatcar {
    #[serde(default)]
    pub channel: Channel,
    /// An exact version such as `4230.2.1`, or `current`.
    #[serde(default = "default_version")]
    pub version: String,
    #[serde(default)]
    pub arch: Arch,
    /// A mirror of the Flatcar release server for the generated `terraform/` (the provider's
    /// `release_base_url`; `{channel}` is replaced by the channel name), e.g.
    /// `https://mirror.example.org/flatcar/{channel}`. Default: the official release servers.
    #[serde(default)]
    pub mirror_url: Option<String>,
    /// ASCII-armored OpenPGP public key trusted to sign the releases (absolute or `~/`), for a
    /// mirror signing with its own key. Default: the Flatcar image signing key.
    #[serde(default)]
    pub signing_key_file: Option<String>,
    /// Extra Glance properties of the uploaded image, e.g. Jetstream2's `hw_disk_bus: scsi`,
    /// `hw_scsi_model: virtio-scsi`, `os_require_quiesce: "yes"`.
    #[serde(default)]
    pub image_properties: BTreeMap<String, String>,
    /// A Butane config (variant `flatcar`, absolute or `~/`) merged into the Ignition of every
    /// machine created from now on (files, units, users); running machines keep theirs.
    #[serde(default)]
    pub butane_file: Option<String>,
}

impl Default for Flatcar {
    fn default() -> Flatcar {
        Flatcar {
            channel: Channel::default(),
            version: default_version(),
            arch: Arch::default(),
            mirror_url: None,
            signing_key_file: None,
            image_properties: BTreeMap::new(),
            butane_file: None,
        }
    }
}

fn default_version() -> String {
    "current".to_string()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Stable,
    Beta,
    Alpha,
    Lts,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 4] = [Channel::Stable, Channel::Beta, Channel::Alpha, Channel::Lts];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stable => "stable",
            Channel::Beta => "beta",
            Channel::Alpha => "alpha",
            Channel::Lts => "lts",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    #[default]
    Amd64,
    Arm64,
}

impl Arch {
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

/// SSH access to the machines (user `core` on Flatcar).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    /// Public key file, absolute or starting with `~/` (Terraform reads it from another directory).
    pub public_key_file: String,
    /// More public key files for user `core` (absolute or `~/`), e.g. a colleague's; new
    /// machines get them, running machines keep the keys they were built with.
    #[serde(default)]
    pub extra_public_key_files: Vec<String>,
    /// Name of the OpenStack key pair to create from that key (default: `<name>-key`).
    #[serde(default)]
    pub key_pair: Option<String>,
}

/// The machines, by role.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pools {
    /// Kubernetes control plane; also the etcd members unless an `etcd` pool is given.
    pub control_plane: Pool,
    /// Kubernetes worker nodes.
    pub workers: Pool,
    /// Separate etcd members (no floating IPs).
    #[serde(default)]
    pub etcd: Option<Pool>,
    /// An SSH bastion (0 or 1, always with a floating IP).
    #[serde(default)]
    pub bastion: Option<Pool>,
}

/// A group of identical machines.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// How many machines.
    pub count: u32,
    /// Flavor name, e.g. `m3.medium`.
    #[serde(default)]
    pub flavor: Option<String>,
    /// Flavor ID, when it differs from the name (Kubespray's Terraform passes its flavor as an ID).
    #[serde(default)]
    pub flavor_id: Option<String>,
    /// Whether each machine gets a floating IP (default: true for control plane and workers).
    #[serde(default)]
    pub floating_ip: Option<bool>,
    /// Boot from a volume of this many GB; 0 boots from the flavor's disk.
    #[serde(default)]
    pub root_volume_gb: u32,
}

/// What Kubespray installs.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kubernetes {
    /// Kubernetes version such as `1.32.5`; leave out for Kubespray's default.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub network_plugin: NetworkPlugin,
    #[serde(default)]
    pub container_manager: ContainerManager,
    /// Run the external OpenStack cloud controller manager.
    #[serde(default = "yes")]
    pub openstack_cloud_provider: bool,
    /// Let the cloud controller create Octavia load balancers for `LoadBalancer` services.
    #[serde(default)]
    pub openstack_lbaas: bool,
    /// Install the Cinder CSI driver (persistent volumes from Cinder).
    #[serde(default = "yes")]
    pub cinder_csi: bool,
}

impl Default for Kubernetes {
    fn default() -> Kubernetes {
        Kubernetes {
            version: None,
            network_plugin: NetworkPlugin::default(),
            container_manager: ContainerManager::default(),
            openstack_cloud_provider: true,
            openstack_lbaas: false,
            cinder_csi: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPlugin {
    #[default]
    Calico,
    Cilium,
    Flannel,
    KubeOvn,
    KubeRouter,
    Macvlan,
    #[serde(rename = "custom_cni")]
    CustomCni,
}

impl NetworkPlugin {
    /// Kubespray's `kube_network_plugin` value.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkPlugin::Calico => "calico",
            NetworkPlugin::Cilium => "cilium",
            NetworkPlugin::Flannel => "flannel",
            NetworkPlugin::KubeOvn => "kube-ovn",
            NetworkPlugin::KubeRouter => "kube-router",
            NetworkPlugin::Macvlan => "macvlan",
            NetworkPlugin::CustomCni => "custom_cni",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ContainerManager {
    #[default]
    Containerd,
    Crio,
}

impl ContainerManager {
    /// Kubespray's `container_manager` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerManager::Containerd => "containerd",
            ContainerManager::Crio => "crio",
        }
    }
}

/// Which Kubespray runs the deployment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kubespray {
    /// Kubespray release tag (`v2.31.0`), or `master` with `path`. It decides the ansible-core
    /// range deploy.sh checks; without `path`, `flatcar-kube up --deploy` fetches this tag into
    /// its cache and makes a virtualenv from the tag's own `requirements.txt`.
    #[serde(default = "default_kubespray_version")]
    pub version: String,
    /// A Kubespray checkout of your own, absolute or relative to the generated directory
    /// (deploy.sh's default for `KUBESPRAY_DIR`). Absent: the release `version`, fetched by `up`.
    #[serde(default)]
    pub path: Option<String>,
    /// Where `up` clones the release from (a mirror of Kubespray's git repository).
    #[serde(default = "default_kubespray_repository")]
    pub repository: String,
    /// More Kubespray variables for `group_vars/k8s_cluster/extra.yml`; they cannot override the generated ones.
    #[serde(default)]
    pub extra_vars: BTreeMap<String, serde_json::Value>,
}

impl Default for Kubespray {
    fn default() -> Kubespray {
        Kubespray {
            version: default_kubespray_version(),
            path: None,
            repository: default_kubespray_repository(),
            extra_vars: BTreeMap::new(),
        }
    }
}

fn default_kubespray_version() -> String {
    kubespray::NEWEST_RELEASE.to_string()
}

fn default_kubespray_repository() -> String {
    kubespray::UPSTREAM_REPOSITORY.to_string()
}

/// How running machines take Flatcar's updates. Flatcar downloads them by itself; the reboot
/// that applies one is left to a coordinator in the cluster, which drains the node first and
/// reboots one node at a time inside the reboot window (the machines' own reboot manager is off).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Updates {
    #[serde(default)]
    pub coordinator: Coordinator,
    #[serde(default)]
    pub reboot_window: RebootWindow,
}

/// Who reboots a node that has an update waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Coordinator {
    /// kured (kubereboot/kured): installed after the first deploy (`coordinator/` of the
    /// generated directory); drains a node, then reboots it, one node at a time.
    #[default]
    Kured,
    /// No coordinator: updates wait until someone reboots the machines.
    None,
}

/// When the coordinator may start a reboot. A drain started just before `end` may finish, and
/// the node reboot, a little after it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RebootWindow {
    /// Earliest time of day, `HH:MM` (24-hour clock) in `time_zone`, e.g. `"02:00"`.
    #[serde(default = "default_window_start")]
    pub start: String,
    /// Latest time of day, `HH:MM` in `time_zone`, e.g. `"05:00"`; earlier than `start` for a
    /// window across midnight (`22:00` to `04:00`).
    #[serde(default = "default_window_end")]
    pub end: String,
    /// Days on which a reboot may start. The day is that of the moment itself: with a window
    /// across midnight, `sat` opens Saturday's early hours and Saturday evening.
    #[serde(default = "default_window_days")]
    pub days: Vec<Weekday>,
    /// IANA time zone of `start` and `end`, e.g. `UTC`, `America/Indiana/Indianapolis`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
}

impl Default for RebootWindow {
    fn default() -> RebootWindow {
        RebootWindow {
            start: default_window_start(),
            end: default_window_end(),
            days: default_window_days(),
            time_zone: default_time_zone(),
        }
    }
}

fn default_window_start() -> String {
    "02:00".to_string()
}

fn default_window_end() -> String {
    "05:00".to_string()
}

/// Weekday nights: someone is around the next morning should a node not come back.
fn default_window_days() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

fn default_time_zone() -> String {
    "UTC".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// The day as kured's `--reboot-days` reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }
}

/// One problem in a profile, where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub pos: Pos,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: what is wrong; what to do`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}; {}",
            self.file, self.pos.line, self.pos.col, self.message, self.hint
        )
    }
}

/// Every problem found in a profile (at least one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProfileErrors(pub Vec<Diagnostic>);

impl fmt::Display for ProfileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// A profile that parsed and passed every check.
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub profile: Profile,
    /// The YAML tree, for positions in later messages (e.g. a flavor Nova does not know).
    pub root: yaml::Node,
    /// The file name as given, used in messages and generated headers.
    pub file: String,
}

/// Reads YAML text into a [`Profile`] (types only, no semantic checks).
pub fn parse(src: &str, file: &str) -> Result<(Profile, yaml::Node), ProfileErrors> {
    let to_diag = |e: yaml::YamlError| {
        let message = if e.path.is_empty() || e.message.starts_with("unknown key") {
            e.message.clone()
        } else {
            format!("{}: {}", e.location_name(), e.message)
        };
        Diagnostic {
            file: file.to_string(),
            pos: e.pos.unwrap_or(Pos { line: 1, col: 1 }),
            message,
            hint: e.hint.clone().unwrap_or_else(|| {
                "see `flatcar-kube schema` for the profile's format".to_string()
            }),
        }
    };
    let root = yaml::parse(src).map_err(|e| ProfileErrors(vec![to_diag(e)]))?;
    if !matches!(root.value, flatcar_yaml::Value::Map(_)) {
        return Err(ProfileErrors(vec![Diagnostic {
            file: file.to_string(),
            pos: root.pos,
            message: "a profile must be a YAML mapping".to_string(),
            hint: "start from `flatcar-kube init`".to_string(),
        }]));
    }
    // Check the format version first: a future profile should say so, not list unknown keys.
    if let Some(v) = root.get(&["version"]) {
        if v.scalar() != Some("1") {
            return Err(ProfileErrors(vec![Diagnostic {
                file: file.to_string(),
                pos: v.pos,
                message: format!(
                    "profile version {} is not supported",
                    v.scalar().unwrap_or("(not a number)")
                ),
                hint: format!(
                    "write `version: {PROFILE_VERSION}` (the only version this flatcar-kube reads)"
                ),
            }]));
        }
    }
    let profile = Profile::deserialize(yaml::NodeDeserializer(&root))
        .map_err(|e| ProfileErrors(vec![to_diag(e)]))?;
    Ok((profile, root))
}

/// Parses and checks a profile's text; `file` names it in messages and `home` expands `~/` in
/// the public key path.
pub fn load_str(
    src: &str,
    file: &str,
    home: Option<&Path>,
) -> Result<LoadedProfile, ProfileErrors> {
    let (profile, root) = parse(src, file)?;
    let diags = validate::check(&profile, &root, file, home);
    if diags.is_empty() {
        Ok(LoadedProfile {
            profile,
            root,
            file: file.to_string(),
        })
    } else {
        Err(ProfileErrors(diags))
    }
}

/// Reads and checks the profile at `path`.
pub fn load(path: &Path) -> Result<LoadedProfile, ProfileErrors> {
    let file = path.display().to_string();
    let unreadable = |message: String, hint: &str| {
        ProfileErrors(vec![Diagnostic {
            file: file.clone(),
            pos: Pos { line: 1, col: 1 },
            message,
            hint: hint.to_string(),
        }])
    };
    // Any readable file (also `<(...)`), but never more than a profile can be.
    let limit = validate::CONFIG_FILE_LIMIT;
    let mut src = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, limit + 1), &mut src))
        .map_err(|e| e.to_string())
        .and_then(|_| {
            if src.len() as u64 > limit {
                Err(format!("it is larger than {limit} bytes"))
            } else {
                Ok(())
            }
        })
        .map_err(|e| {
            unreadable(
                format!("cannot read the profile: {e}"),
                "check the path, or create one with `flatcar-kube init -o FILE`",
            )
        })?;
    let src = String::from_utf8(src).map_err(|e| {
        unreadable(
            format!("the profile is not UTF-8 text ({e})"),
            "save the file as UTF-8",
        )
    })?;
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    load_str(&src, &file, home.as_deref())
}

/// The profile's JSON Schema, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Profile);
    // Serializing a schema built from our own types cannot fail; fall back to `{}` regardless.
    serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string()) + "\n"
}
