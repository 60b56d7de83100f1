//! Semantic checks of a profile that parsed: what YAML types cannot say (a zero-sized control
//! plane, an even number of etcd members, names that are not DNS labels, a pool without a
//! flavor, a public key file that is missing, ...). Each finding points at the value at fault.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::apps::{self, AuthenticatorKind};
use super::kubespray::{
    ansible_core_range, is_release_tag, kube_minor, removed, GENERATED_VARS, NEWEST_RELEASE,
    UPSTREAM_REPOSITORY,
};
use super::state::{self, StateBackend};
use super::yaml::{Node, Pos};
use super::{Coordinator, Diagnostic, Pool, Profile};

/// Longest cluster name: machine names such as `<name>-k8s-master-ne-3` must stay DNS labels.
pub const MAX_NAME_LEN: usize = 40;

/// Whether `s` is a DNS label: 1-63 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dotted_numbers(s: &str, parts: usize) -> bool {
    let split: Vec<&str> = s.split('.').collect();
    split.len() == parts
        && split
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_ipv4_cidr(s: &str) -> bool {
    match s.split_once('/') {
        Some((addr, len)) => {
            addr.parse::<Ipv4Addr>().is_ok() && len.parse::<u8>().map(|l| l <= 32).unwrap_or(false)
        }
        None => false,
    }
}

/// Largest public key file (an OpenSSH public key is under 1 KiB; certificates a few).
pub const PUBLIC_KEY_LIMIT: u64 = 16 * 1024;
/// Largest signing key or Butane file: Nova takes at most 64 KiB of user data anyway.
pub const CONFIG_FILE_LIMIT: u64 = 1024 * 1024;

/// Reads a file the profile names: a regular file (not a device, FIFO or directory such as
/// `/dev/zero`, which would never end) of at most `limit` bytes, checked before and while
/// reading.
pub fn read_named_file(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".to_string());
    }
    if meta.len() > limit {
        return Err(format!(
            "it is {} bytes, more than the {limit} allowed",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "it grew past the {limit} bytes allowed while being read"
        ));
    }
    Ok(bytes)
}

/// Expands a leading `~/` with `home`.
pub fn expand_home(path: &str, home: Option<&Path>) -> Option<PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => home.map(|h| h.join(rest)),
        None => Some(PathBuf::from(path)),
    }
}

struct Checker<'a> {
    root: &'a Node,
    file: &'a str,
    found: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn at(&mut self, path: &[&str], message: impl Into<String>, hint: impl Into<String>) {
        let pos = self.root.pos_of(path);
        self.push(pos, message, hint);
    }

    fn push(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.found.push(Diagnostic {
            file: self.file.to_string(),
            pos,
            message: message.into(),
            hint: hint.into(),
        });
    }
}

/// Every semantic problem of `profile`, in document order; empty when it is fine.
pub fn check(profile: &Profile, root: &Node, file: &str, home: Option<&Path>) -> Vec<Diagnostic> {
    let mut c = Checker {
        root,
        file,
        found: Vec::new(),
    };

    if !is_dns_label(&profile.name) {
        c.at(
            &["name"],
            format!("cluster name `{}` is not a DNS label", profile.name),
            "use lowercase letters, digits and `-`, starting and ending with a letter or digit",
        );
    } else if profile.name.len() > MAX_NAME_LEN {
        c.at(
            &["name"],
            format!(
                "cluster name `{}` is {} characters long; machine names built from it would exceed 63",
                profile.name,
                profile.name.len()
            ),
            format!("use at most {MAX_NAME_LEN} characters"),
        );
    }

    if let Some(region) = &profile.cloud.region {
        if region.trim().is_empty() {
            c.at(
                &["cloud", "region"],
                "cloud.region is empty",
                "write the region name (e.g. `IU`) or remove the key",
            );
        }
    }

    for (service, url) in &profile.cloud.endpoint_overrides {
        if service.trim().is_empty() || !is_http_url(url) {
            c.at(
                &["cloud", "endpoint_overrides", service],
                format!(
                    "endpoint override `{service}: {url}` is not a service type and an http(s) URL"
                ),
                "write it like `image: http://127.0.0.1:9292`",
            );
        }
    }

    check_network(&mut c, profile);
    check_access(&mut c, profile);
    check_flatcar(&mut c, profile, home);
    check_ssh(&mut c, profile, home);
    check_pools(&mut c, profile);
    check_kubernetes(&mut c, profile);
    check_kubespray(&mut c, profile);
    check_updates(&mut c, profile);
    check_apps(&mut c, profile);
    check_state(&mut c, profile);
    check_dns(&mut c, profile);

    c.found.sort_by_key(|d| (d.pos.line, d.pos.col));
    c.found
}

fn check_network(c: &mut Checker<'_>, p: &Profile) {
    let n = &p.network;
    if n.name.trim().is_empty() {
        c.at(
            &["network", "name"],
            "network.name is empty",
            "name the private network, e.g. `auto_allocated_network`",
        );
    }
    if n.external_network.trim().is_empty() {
        c.at(
            &["network", "external_network"],
            "network.external_network is empty",
            "name the external network floating IPs come from (`public` on Jetstream2)",
        );
    }
    if !is_ipv4_cidr(&n.subnet_cidr) {
        c.at(
            &["network", "subnet_cidr"],
            format!("`{}` is not an IPv4 CIDR", n.subnet_cidr),
            "write it like `10.0.0.0/24`",
        );
    }
    for (i, server) in n.dns_nameservers.iter().enumerate() {
        if server.parse::<std::net::IpAddr>().is_err() {
            let index = i.to_string();
            c.at(
                &["network", "dns_nameservers", &index],
                format!("`{server}` is not an IP address"),
                "list DNS servers by address, e.g. `8.8.8.8`",
            );
        }
    }
    if !n.reuse && n.external_network_id.is_none() {
        c.at(
            &["network", "reuse"],
            "a new network needs a router, and Kubespray's Terraform creates it from the external network's ID",
            "set `network.external_network_id` (see `openstack network show public -f value -c id`), or reuse an existing network with `reuse: true`",
        );
    }
    for (i, group) in n.security_groups.iter().enumerate() {
        if group.trim().is_empty() {
            let index = i.to_string();
            c.at(
                &["network", "security_groups", &index],
                "a security group name is empty",
                "name the group, e.g. `default`",
            );
        }
    }
    if let Some(id) = &n.external_network_id {
        if id.trim().is_empty() || id.contains(char::is_whitespace) {
            c.at(
                &["network", "external_network_id"],
                format!("`{id}` is not a network ID"),
                "write the UUID of the external network, or remove the key",
            );
        }
    }
}

fn check_access(c: &mut Checker<'_>, p: &Profile) {
    let cidrs = &p.access.allowed_cidrs;
    for (i, text) in cidrs.iter().enumerate() {
        if let Err(e) = super::cidr::parse(text) {
            let index = i.to_string();
            c.at(
                &["access", "allowed_cidrs", &index],
                e.to_string(),
                e.hint(),
            );
        }
    }
    if cidrs.is_empty() && p.network.security_groups.is_empty() {
        let path: &[&str] = if c.root.get(&["access"]).is_some() {
            &["access", "allowed_cidrs"]
        } else {
            &[]
        };
        c.at(
            path,
            "nothing outside the cluster may reach SSH (22) or the Kubernetes API (6443): the cluster's security group admits only its members",
            "add `access: {allowed_cidrs: [YOUR.ADDRESS/32]}` (`curl -s https://ifconfig.me` shows it; `0.0.0.0/0` admits everyone), or list a group that admits SSH in `network.security_groups`",
        );
    }
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

fn check_flatcar(c: &mut Checker<'_>, p: &Profile, home: Option<&Path>) {
    if let Some(url) = &p.flatcar.mirror_url {
        if !is_http_url(url) {
            c.at(
                &["flatcar", "mirror_url"],
                format!("`{url}` is not an http(s) URL"),
                "write the mirror's base URL, e.g. `https://mirror.example.org/flatcar/{channel}`",
            );
        }
    }
    if let Some(key) = &p.flatcar.signing_key_file {
        let path = ["flatcar", "signing_key_file"];
        if !(key.starts_with('/') || key.starts_with("~/")) {
            c.at(
                &path,
                format!("signing key path `{key}` is relative"),
                "write an absolute path or one starting with `~/`: Terraform reads it from the generated directory",
            );
        } else if let Some(expanded) = expand_home(key, home) {
            match read_named_file(&expanded, CONFIG_FILE_LIMIT) {
                Err(e) => c.at(
                    &path,
                    format!(
                        "signing key file `{}` cannot be read ({e})",
                        expanded.display()
                    ),
                    "export the key with `gpg --armor --export KEYID > FILE` or remove the key",
                ),
                Ok(bytes)
                    if !String::from_utf8_lossy(&bytes)
                        .contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") =>
                {
                    c.at(
                        &path,
                        format!(
                            "`{}` is not an ASCII-armored OpenPGP public key",
                            expanded.display()
                        ),
                        "export it with `gpg --armor --export KEYID`",
                    )
                }
                Ok(_) => {}
            }
        }
    }
    for name in p.flatcar.image_properties.keys() {
        if name.trim().is_empty() {
            c.at(
                &["flatcar", "image_properties"],
                "an image property has an empty name",
                "name every property, e.g. `hw_disk_bus: scsi`",
            );
        }
    }
    if let Some(file) = &p.flatcar.butane_file {
        let path = ["flatcar", "butane_file"];
        if !(file.starts_with('/') || file.starts_with("~/")) {
            c.at(
                &path,
                format!("Butane path `{file}` is relative"),
                "write an absolute path or one starting with `~/`: Terraform reads it from the generated directory",
            );
        } else if let Some(expanded) = expand_home(file, home) {
            let text = read_named_file(&expanded, CONFIG_FILE_LIMIT).and_then(|bytes| {
                String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
            });
            if let Err(e) = text {
                c.at(
                    &path,
                    format!("Butane file `{}` cannot be read ({e})", expanded.display()),
                    "point to a Butane config (variant: flatcar, version: 1.0.0) or remove the key",
                );
            }
        }
    }
    let v = &p.flatcar.version;
    if v != "current" && !is_dotted_numbers(v, 3) {
        c.at(
            &["flatcar", "version"],
            format!("Flatcar version `{v}` is neither `current` nor a version like `4230.2.1`"),
            "write `current` or an exact release from the channel's release list",
        );
    }
}

fn check_ssh(c: &mut Checker<'_>, p: &Profile, home: Option<&Path>) {
    check_public_key_file(c, &p.ssh.public_key_file, &["ssh", "public_key_file"], home);
    for (i, key) in p.ssh.extra_public_key_files.iter().enumerate() {
        let index = i.to_string();
        check_public_key_file(c, key, &["ssh", "extra_public_key_files", &index], home);
    }
    if let Some(kp) = &p.ssh.key_pair {
        if kp.trim().is_empty() {
            c.at(
                &["ssh", "key_pair"],
                "ssh.key_pair is empty",
                "name the key pair or remove the key",
            );
        }
    }
}

/// A public key file: absolute or `~/`, readable, an OpenSSH public key (not a private key).
fn check_public_key_file(c: &mut Checker<'_>, key: &str, path: &[&str], home: Option<&Path>) {
    if !(key.starts_with('/') || key.starts_with("~/")) {
        c.at(
            path,
            format!("public key path `{key}` is relative"),
            "write an absolute path or one starting with `~/`: Terraform and Ansible read it from other directories",
        );
        return;
    }
    let Some(expanded) = expand_home(key, home) else {
        c.at(
            path,
            format!("cannot expand `{key}`: HOME is not set"),
            "set HOME or write an absolute path",
        );
        return;
    };
    match read_named_file(&expanded, PUBLIC_KEY_LIMIT) {
        Err(e) => c.at(
            path,
            format!(
                "public key file `{}` cannot be read ({e})",
                expanded.display()
            ),
            "create a key with `ssh-keygen -t ed25519` or point to an existing `.pub` file",
        ),
        Ok(bytes) if bytes.starts_with(b"-----BEGIN") => c.at(
            path,
            format!("`{}` is a private key", expanded.display()),
            "point to the public half (the `.pub` file); never hand a private key to the cloud",
        ),
        Ok(bytes) if !bytes.starts_with(b"ssh-") && !bytes.starts_with(b"ecdsa-") => c.at(
            path,
            format!(
                "`{}` does not look like an OpenSSH public key",
                expanded.display()
            ),
            "point to a `.pub` file that starts with `ssh-ed25519`, `ssh-rsa` or `ecdsa-`",
        ),
        Ok(_) => {}
    }
}

fn check_pool(c: &mut Checker<'_>, name: &str, pool: &Pool) {
    if pool.count > 0 && pool.flavor.as_deref().is_none_or(|f| f.trim().is_empty()) {
        c.at(
            &["pools", name],
            format!("pool `{name}` has {} machine(s) but no flavor", pool.count),
            format!("add `flavor:` under `pools.{name}` (e.g. `m3.medium`; `openstack flavor list` shows them)"),
        );
    }
    if pool.root_volume_gb != 0 && pool.root_volume_gb < 10 {
        c.at(
            &["pools", name, "root_volume_gb"],
            format!(
                "a root volume of {} GB is too small for Flatcar",
                pool.root_volume_gb
            ),
            "use at least 10 GB, or 0 to boot from the flavor's disk",
        );
    }
    if pool.count > 200 {
        c.at(
            &["pools", name, "count"],
            format!(
                "{} machines in pool `{name}` is more than this generator supports (200)",
                pool.count
            ),
            "split the cluster or lower the count",
        );
    }
}

fn check_pools(c: &mut Checker<'_>, p: &Profile) {
    let pools = &p.pools;
    check_pool(c, "control_plane", &pools.control_plane);
    check_pool(c, "workers", &pools.workers);
    if pools.control_plane.count == 0 {
        c.at(
            &["pools", "control_plane", "count"],
            "the control plane has no machines",
            "set `count` to 1, or 3 for high availability",
        );
    }
    match &pools.etcd {
        Some(etcd) => {
            check_pool(c, "etcd", etcd);
            if etcd.count == 0 {
                c.at(
                    &["pools", "etcd", "count"],
                    "the etcd pool has no machines",
                    "set `count` to 3, or remove `pools.etcd` to run etcd on the control plane",
                );
            } else if etcd.count.is_multiple_of(2) {
                c.at(
                    &["pools", "etcd", "count"],
                    format!("an even number of etcd members ({}) tolerates no more failures than one fewer", etcd.count),
                    "use an odd count: 1, 3 or 5",
                );
            }
            if etcd.floating_ip == Some(true) {
                c.at(
                    &["pools", "etcd", "floating_ip"],
                    "Kubespray's Terraform never gives etcd machines a floating IP",
                    "remove `floating_ip` from `pools.etcd`",
                );
            }
        }
        None => {
            let n = pools.control_plane.count;
            if n > 0 && n.is_multiple_of(2) {
                c.at(
                    &["pools", "control_plane", "count"],
                    format!("{n} control plane machines would be an even number of etcd members"),
                    "use an odd count (1, 3, 5), or add a `pools.etcd` pool with an odd count",
                );
            }
        }
    }
    if let Some(bastion) = &pools.bastion {
        check_pool(c, "bastion", bastion);
        if bastion.count > 1 {
            c.at(
                &["pools", "bastion", "count"],
                format!(
                    "{} bastions: Kubespray's Terraform and inventory use at most one",
                    bastion.count
                ),
                "set `count: 1`",
            );
        }
        if bastion.floating_ip == Some(false) {
            c.at(
                &["pools", "bastion", "floating_ip"],
                "a bastion without a floating IP cannot be reached",
                "remove `floating_ip: false` from `pools.bastion`",
            );
        }
    }
    let bastion = pools.bastion.as_ref().is_some_and(|b| b.count > 0);
    let cp_fip = pools.control_plane.count > 0 && pools.control_plane.floating_ip != Some(false);
    let w_fip = pools.workers.count > 0 && pools.workers.floating_ip != Some(false);
    if !bastion && !cp_fip && !w_fip {
        c.at(
            &["pools"],
            "no machine has a floating IP, so Ansible cannot reach any of them",
            "add a `bastion` pool with `count: 1`, or give the control plane floating IPs",
        );
    }
}

fn check_kubernetes(c: &mut Checker<'_>, p: &Profile) {
    let k = &p.kubernetes;
    if let Some(v) = &k.version {
        if !is_dotted_numbers(v.strip_prefix('v').unwrap_or(v), 3) {
            c.at(
                &["kubernetes", "version"],
                format!("Kubernetes version `{v}` is not like `1.32.5`"),
                "write a full version that your Kubespray release supports, or remove the key",
            );
        }
    }
    if k.openstack_lbaas && !k.openstack_cloud_provider {
        c.at(
            &["kubernetes", "openstack_lbaas"],
            "load balancers are made by the OpenStack cloud controller, which is turned off",
            "set `openstack_cloud_provider: true` or `openstack_lbaas: false`",
        );
    }
    if k.openstack_lbaas && p.network.external_network_id.is_none() {
        c.at(
            &["kubernetes", "openstack_lbaas"],
            "load balancers need the external network's ID for their floating IPs",
            "set `network.external_network_id`",
        );
    }
}

fn check_kubespray(c: &mut Checker<'_>, p: &Profile) {
    let k = &p.kubespray;
    if ansible_core_range(&k.version).is_none() {
        c.at(
            &["kubespray", "version"],
            format!(
                "Kubespray version `{}` is not one this generator knows",
                k.version
            ),
            "use `master` or a release from v2.26.0 to v2.31.x",
        );
    }
    match &k.path {
        Some(path) if path.trim().is_empty() => c.at(
            &["kubespray", "path"],
            "kubespray.path is empty",
            "write where the Kubespray checkout is, or remove the key to let `up` fetch the release",
        ),
        None if !is_release_tag(&k.version) && ansible_core_range(&k.version).is_some() => c.at(
            &["kubespray", "version"],
            format!(
                "Kubespray `{}` is not a release, so `up` cannot fetch it and no deploy is reproducible",
                k.version
            ),
            format!(
                "pin a release (`version: {NEWEST_RELEASE}`), or set `kubespray.path` to a checkout of your own"
            ),
        ),
        _ => {}
    }
    if !k.repository.starts_with("https://")
        && !k.repository.starts_with("http://")
        && !k.repository.starts_with("file://")
        && !k.repository.starts_with("ssh://")
        && !k.repository.starts_with("git@")
        && !k.repository.starts_with('/')
    {
        c.at(
            &["kubespray", "repository"],
            format!("`{}` is not a git repository URL", k.repository),
            format!("write an https://, ssh:// or file:// URL, or remove the key for {UPSTREAM_REPOSITORY}"),
        );
    }
    for key in k.extra_vars.keys() {
        let path = ["kubespray", "extra_vars", key.as_str()];
        let valid = key.starts_with(|ch: char| ch.is_ascii_lowercase() || ch == '_')
            && key
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !valid {
            let pos = c.root.key_pos_of(&path);
            c.push(
                pos,
                format!("`{key}` is not an Ansible variable name"),
                "use lowercase letters, digits and `_`",
            );
        } else if GENERATED_VARS.contains(&key.as_str()) {
            let pos = c.root.key_pos_of(&path);
            c.push(
                pos,
                format!("`{key}` is written by the generator"),
                "remove it from `extra_vars`; where a profile key decides it (e.g. `kubernetes.network_plugin` for `kube_network_plugin`), set that key instead",
            );
        } else if let Some(gone) = removed(key, &k.version) {
            let pos = c.root.key_pos_of(&path);
            c.push(
                pos,
                format!(
                    "`{key}` was removed from Kubespray in {} (this profile deploys Kubespray {})",
                    gone.release, k.version
                ),
                gone.instead,
            );
        }
    }
}

/// Whether `s` is a time of day as `HH:MM` on a 24-hour clock (`00:00` to `23:59`).
pub fn is_hh_mm(s: &str) -> bool {
    let b = s.as_bytes();
    let two_digits = |hi: u8, lo: u8| -> Option<u8> {
        (hi.is_ascii_digit() && lo.is_ascii_digit()).then(|| (hi - b'0') * 10 + (lo - b'0'))
    };
    b.len() == 5
        && b[2] == b':'
        && two_digits(b[0], b[1]).is_some_and(|h| h < 24)
        && two_digits(b[3], b[4]).is_some_and(|m| m < 60)
}

/// Whether `s` looks like an IANA time zone name (`UTC`, `Europe/Berlin`,
/// `America/Argentina/Buenos_Aires`, `Etc/GMT+5`): `/`-separated parts of ASCII letters,
/// digits, `_`, `-` and `+`, the first starting with a capital letter. Whether the zone exists
/// is up to the tz database of the coordinator's image.
pub fn is_iana_time_zone(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

fn check_updates(c: &mut Checker<'_>, p: &Profile) {
    let u = &p.updates;
    if u.coordinator == Coordinator::None {
        // The window means nothing without a coordinator; leave it alone.
        return;
    }
    let w = &u.reboot_window;
    for (key, value) in [("start", &w.start), ("end", &w.end)] {
        if !is_hh_mm(value) {
            c.at(
                &["updates", "reboot_window", key],
                format!("reboot window {key} `{value}` is not a time like `02:00`"),
                "write HH:MM on a 24-hour clock, from `00:00` to `23:59`, in quotes",
            );
        }
    }
    if is_hh_mm(&w.start) && w.start == w.end {
        c.at(
            &["updates", "reboot_window", "end"],
            format!("the reboot window starts and ends at {}", w.start),
            "give it room for a drain and a reboot, e.g. `start: \"02:00\"`, `end: \"05:00\"`",
        );
    }
    if w.days.is_empty() {
        c.at(
            &["updates", "reboot_window", "days"],
            "the reboot window has no days, so updates would never be applied",
            "list days such as `[mon, tue, wed, thu, fri]`, or set `updates.coordinator: none`",
        );
    }
    for (i, day) in w.days.iter().enumerate() {
        if w.days[..i].contains(day) {
            let index = i.to_string();
            c.at(
                &["updates", "reboot_window", "days", &index],
                format!("`{}` is listed twice", day.as_str()),
                "list each day once",
            );
        }
    }
    if !is_iana_time_zone(&w.time_zone) {
        c.at(
            &["updates", "reboot_window", "time_zone"],
            format!("`{}` is not an IANA time zone name", w.time_zone),
            "write a name like `UTC`, `Europe/Berlin` or `America/Indiana/Indianapolis`",
        );
    }
}

fn check_state(c: &mut Checker<'_>, p: &Profile) {
    let s = &p.state;
    match s.backend {
        StateBackend::Local => {
            for (key, set) in [
                ("container", s.container.is_some()),
                ("s3_endpoint", s.s3_endpoint.is_some()),
            ] {
                if set {
                    c.at(
                        &["state", key],
                        format!("`{key}` belongs to the object store backend"),
                        "set `backend: object_store`, or remove the key",
                    );
                }
            }
        }
        StateBackend::ObjectStore => {
            match &s.container {
                None => c.at(
                    &["state"],
                    "the object store backend needs a `container`",
                    "name one, e.g. `container: demo-tfstate` (`up` creates it when missing)",
                ),
                Some(name) if !state::is_bucket_name(name) => c.at(
                    &["state", "container"],
                    format!("`{name}` cannot be reached through the S3 API"),
                    "use 3 to 63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit",
                ),
                Some(_) => {}
            }
            if let Some(url) = &s.s3_endpoint {
                if !is_http_url(url) {
                    c.at(
                        &["state", "s3_endpoint"],
                        format!("`{url}` is not an http(s) URL"),
                        "write the S3 API's root, e.g. `https://js2.jetstream-cloud.org:8001`",
                    );
                }
            }
        }
    }
}

/// The longest common name a certificate may carry (RFC 5280 `ub-common-name`): Let's Encrypt
/// refuses longer names as the first of a certificate.
pub const CERTIFICATE_CN_LIMIT: usize = 64;
/// The longest DNS name (RFC 1035), without the trailing dot.
pub const DNS_NAME_LIMIT: usize = 253;

/// A shorter name to propose for `fqdn`: its first label cut down so the name fits in a
/// certificate's common name, or `hub` in the same zone.
fn shorter_name_hint(fqdn: &str) -> String {
    let Some((label, zone)) = fqdn.split_once('.') else {
        return "use a shorter name".into();
    };
    let room = CERTIFICATE_CN_LIMIT.saturating_sub(zone.len() + 1);
    if room == 0 {
        return format!("the zone `{zone}` leaves no room for a name: use `apps.jupyterhub.host` with a name in a shorter zone");
    }
    let cut: String = label.chars().take(room).collect();
    let short = if room >= 3 && label != "hub" {
        "hub"
    } else {
        cut.trim_end_matches('-')
    };
    format!(
        "use a shorter first label, e.g. `{short}.{zone}` ({} characters)",
        short.len() + zone.len() + 1
    )
}

/// A name an HTTPS certificate is made for must fit its common name.
fn check_certificate_name(c: &mut Checker<'_>, path: &[&str], host: &str) {
    if host.len() > CERTIFICATE_CN_LIMIT {
        c.at(
            path,
            format!(
                "`{host}` is {} characters long; a certificate's common name (Let's Encrypt's) holds at most {CERTIFICATE_CN_LIMIT}",
                host.len()
            ),
            shorter_name_hint(host),
        );
    }
}

fn check_dns(c: &mut Checker<'_>, p: &Profile) {
    if p.access.reserved_address && p.pools.control_plane.floating_ip == Some(false) {
        c.at(
            &["access", "reserved_address"],
            "the reserved address is the first control plane machine's floating IP, and the control plane has none",
            "remove `floating_ip: false` from `pools.control_plane`",
        );
    }
    let Some(dns) = &p.dns else {
        return;
    };
    if p.pools.control_plane.floating_ip == Some(false) {
        c.at(
            &["dns"],
            "the DNS records point at the first control plane machine's floating IP, and the control plane has none",
            "remove `floating_ip: false` from `pools.control_plane`",
        );
    }
    let zone = dns.zone_name();
    if zone.is_empty() || !zone.split('.').all(is_dns_label) {
        c.at(
            &["dns", "zone"],
            format!("`{}` is not a DNS zone name", dns.zone),
            "write the zone as `openstack zone list` shows it, e.g. `myalloc.projects.jetstream-cloud.org.`",
        );
        return;
    }
    let names = [
        (
            "api_name",
            dns.api_name.as_deref().unwrap_or(&p.name),
            Some(dns.api_fqdn(&p.name)),
        ),
        (
            "ingress_name",
            dns.ingress_name.as_deref().unwrap_or_default(),
            dns.ingress_fqdn(),
        ),
    ];
    for (key, relative, full) in names {
        let Some(full) = full else { continue };
        let path: &[&str] = if key == "api_name" && dns.api_name.is_none() {
            &["dns", "zone"]
        } else {
            &["dns", key]
        };
        if let Some(bad) = relative.split('.').find(|l| !is_dns_label(l)) {
            let cut: String = bad.chars().take(63).collect();
            c.at(
                path,
                if bad.len() > 63 {
                    format!(
                        "`{bad}` in {key} is {} characters long; a DNS label holds at most 63",
                        bad.len()
                    )
                } else {
                    format!("`{relative}` is not a name in the zone ({key})")
                },
                if bad.len() > 63 {
                    format!("shorten it, e.g. to `{}`", cut.trim_end_matches('-'))
                } else {
                    "use lowercase letters, digits and `-`, e.g. `hub`".to_string()
                },
            );
        } else if full.len() > DNS_NAME_LIMIT {
            c.at(
                path,
                format!(
                    "`{full}` is {} characters long; a DNS name holds at most {DNS_NAME_LIMIT}",
                    full.len()
                ),
                "use a shorter name",
            );
        }
    }
    if dns.api_name.is_some() && dns.api_name == dns.ingress_name {
        c.at(
            &["dns", "ingress_name"],
            "api_name and ingress_name are the same name",
            "give the hub its own name, e.g. `hub`",
        );
    }
    // The ingress name is the HTTPS certificate's name unless JupyterHub has a host of its own.
    let own_host = p.apps.jupyterhub.as_ref().and_then(|h| h.host.as_ref());
    if let (Some(host), None) = (dns.ingress_fqdn(), own_host) {
        check_certificate_name(c, &["dns", "ingress_name"], &host);
    }
}

fn check_apps(c: &mut Checker<'_>, p: &Profile) {
    let Some(hub) = &p.apps.jupyterhub else {
        return;
    };
    let at = |key: &'static str| ["apps", "jupyterhub", key];
    match (&hub.host, hub.host_in(p.dns.as_ref())) {
        (_, None) => c.at(
            &["apps", "jupyterhub"],
            "JupyterHub needs a host name",
            "set `host:` here, or `dns.ingress_name` (e.g. `hub`) for a record in `dns.zone`",
        ),
        (Some(own), _) if !apps::is_host_name(own) => c.at(
            &at("host"),
            format!("`{own}` is not a DNS name"),
            "write the hub's full name without a trailing dot, e.g. `hub.myalloc.projects.jetstream-cloud.org`",
        ),
        // The ingress name (no own host) is checked with the other DNS names.
        (Some(own), _) => check_certificate_name(c, &at("host"), own),
        (None, Some(_)) => {}
    }
    let email = hub.contact_email.split_once('@');
    if !email.is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.')) {
        c.at(
            &at("contact_email"),
            format!("`{}` is not an email address", hub.contact_email),
            "Let's Encrypt writes to it about the certificate: write a real address",
        );
    }
    match apps::min_kubernetes(&hub.chart_version) {
        None => c.at(
            &at("chart_version"),
            format!(
                "jupyterhub chart `{}` is not one this generator knows",
                hub.chart_version
            ),
            format!(
                "use {} (the generated values are written and tested for it)",
                apps::KNOWN_CHARTS
                    .iter()
                    .map(|(v, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some((major, min_minor)) => {
            let deployed = kube_minor(&p.kubespray.version, p.kubernetes.version.as_deref());
            let minor = deployed.as_deref().and_then(|m| {
                let (ma, mi) = m.split_once('.')?;
                Some((ma.parse::<u32>().ok()?, mi.parse::<u32>().ok()?))
            });
            if let Some((ma, mi)) = minor.filter(|&(ma, mi)| (ma, mi) < (major, min_minor)) {
                // At the version the profile pins, else at the chart (Kubespray's default).
                let path: &[&str] = if p.kubernetes.version.is_some() {
                    &["kubernetes", "version"]
                } else {
                    &at("chart_version")
                };
                c.at(
                    path,
                    format!(
                        "jupyterhub chart {} needs Kubernetes >= {major}.{min_minor} (its kubeVersion), the profile deploys {ma}.{mi}",
                        hub.chart_version
                    ),
                    "set `kubernetes.version` to a newer release, or remove it for Kubespray's default",
                );
            }
        }
    }
    if !apps::is_storage_size(&hub.storage) {
        c.at(
            &at("storage"),
            format!("`{}` is not a volume size", hub.storage),
            "write a size like `10Gi` or `512Mi`, or `none` for no persistent home",
        );
    } else if hub.storage != "none" && !p.kubernetes.cinder_csi {
        c.at(
            &at("storage"),
            "user volumes are Cinder volumes, and the Cinder CSI driver is off",
            "set `kubernetes.cinder_csi: true` (and `openstack_cloud_provider: true`), or `storage: none`",
        );
    }
    if hub.start_timeout < 60 {
        c.at(
            &at("start_timeout"),
            format!(
                "{} seconds is too short for a server to start",
                hub.start_timeout
            ),
            "allow at least 60; 600 (the default) covers a new volume and an image pull",
        );
    }
    if p.pools.control_plane.floating_ip == Some(false) {
        c.at(
            &["apps", "jupyterhub"],
            "JupyterHub is served on the first control plane machine's floating IP, and the control plane has none",
            "remove `floating_ip: false` from `pools.control_plane`",
        );
    }
    let a = &hub.authenticator;
    let auth = |key: &'static str| ["apps", "jupyterhub", "authenticator", key];
    for (key, env) in [
        ("password_env", &a.password_env),
        ("client_secret_env", &a.client_secret_env),
    ] {
        if let Some(name) = env {
            let valid = name
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            if !valid {
                c.at(
                    &auth(key),
                    format!("`{name}` is not an environment variable name"),
                    "name the variable (letters, digits, `_`), e.g. `JUPYTERHUB_PASSWORD`; never the secret itself",
                );
            }
        }
    }
    match a.kind {
        AuthenticatorKind::Dummy => {
            for (key, set) in [
                ("client_id", a.client_id.is_some()),
                ("client_secret_env", a.client_secret_env.is_some()),
                ("allowed_organizations", !a.allowed_organizations.is_empty()),
            ] {
                if set {
                    c.at(
                        &auth(key),
                        format!("`{key}` belongs to the github authenticator"),
                        "remove it, or set `type: github`",
                    );
                }
            }
        }
        AuthenticatorKind::Github => {
            if a.client_id.as_deref().is_none_or(|id| id.trim().is_empty()) {
                c.at(
                    &["apps", "jupyterhub", "authenticator"],
                    "the github authenticator needs the OAuth app's `client_id`",
                    "create an OAuth app on GitHub (callback https://HOST/hub/oauth_callback) and write its client ID",
                );
            }
            if a.password_env.is_some() {
                c.at(
                    &auth("password_env"),
                    "`password_env` belongs to the dummy authenticator",
                    "remove it, or set `type: dummy`",
                );
            }
            if a.allowed_organizations.is_empty() && a.allowed_users.is_empty() {
                c.at(
                    &["apps", "jupyterhub", "authenticator"],
                    "with neither `allowed_organizations` nor `allowed_users`, nobody may log in",
                    "list the GitHub organizations or users of the class or lab",
                );
            }
        }
    }
    if p.kubespray.extra_vars.get("helm_enabled") == Some(&serde_json::Value::Bool(false)) {
        c.at(
            &["kubespray", "extra_vars", "helm_enabled"],
            "apps are installed with Kubespray's helm, and this turns it off",
            "remove `helm_enabled` from `extra_vars`",
        );
    }
    if let Some(path) = apps::secret_like_key(&hub.values) {
        let mut full = vec!["apps", "jupyterhub", "values"];
        full.extend(path.iter().map(String::as_str));
        c.at(
            &full,
            format!(
                "`{}` looks like a secret, and values are written under the output directory",
                path.join(".")
            ),
            "leave secrets out of the profile; the authenticator's secret comes from the environment of `up --deploy`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("demo-1"));
        assert!(!is_dns_label("Demo"));
        assert!(!is_dns_label("-demo"));
        assert!(!is_dns_label(""));
    }

    #[test]
    fn times_of_day() {
        assert!(is_hh_mm("00:00") && is_hh_mm("02:30") && is_hh_mm("23:59"));
        for bad in [
            "24:00", "2:00", "02:60", "02-00", "0200", "02:00:00", "", "+1:00", "a2:00",
        ] {
            assert!(!is_hh_mm(bad), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        for good in [
            "UTC",
            "Europe/Berlin",
            "America/Indiana/Indianapolis",
            "America/Port-au-Prince",
            "Etc/GMT+5",
            "EST5EDT",
        ] {
            assert!(is_iana_time_zone(good), "{good}");
        }
        for bad in [
            "",
            "utc",
            "Europe/",
            "/Berlin",
            "Europe//Berlin",
            "CET CEST",
            "../etc/passwd",
            "UTC+1:00",
        ] {
            assert!(!is_iana_time_zone(bad), "{bad}");
        }
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("key.pub");
        std::fs::write(&file, "ssh-ed25519 AAAA x\n").expect("write");
        assert_eq!(
            super::read_named_file(&file, 100).expect("small"),
            b"ssh-ed25519 AAAA x\n"
        );
        let err = super::read_named_file(&file, 5).unwrap_err();
        assert!(err.contains("19 bytes, more than the 5 allowed"), "{err}");
        for special in ["/dev/zero", "/dev/null"] {
            let err = super::read_named_file(std::path::Path::new(special), 100).unwrap_err();
            assert!(err.contains("not a regular file"), "{special}: {err}");
        }
    }
}
