//! The Butane config (already validated) to Ignition: snake_case keys become Ignition's
//! camelCase objects, `inline` contents become `data:` URLs, and filesystems with
//! `with_mount_unit` get the mount or swap unit Butane generates for them.

use crate::data_url;
use crate::ignition::{self as ign, non_empty};
use crate::schema::{self as b, Version};
use crate::systemd;

pub fn translate(config: &b::Config, version: Version, compress: bool) -> ign::Config {
    let res = |r: &b::Resource| resource(r, compress);
    let i = &config.ignition;
    let ignition = ign::Ignition {
        config: non_empty(ign::IgnitionConfig {
            merge: i.merge.iter().map(res).collect(),
            replace: i.replace.as_ref().map(res).and_then(non_empty),
        }),
        proxy: non_empty(ign::Proxy {
            http_proxy: i.proxy.http_proxy.clone(),
            https_proxy: i.proxy.https_proxy.clone(),
            no_proxy: i.proxy.no_proxy.clone(),
        }),
        security: non_empty(ign::Security {
            tls: ign::Tls {
                certificate_authorities: i.certificate_authorities.iter().map(res).collect(),
            },
        }),
        timeouts: non_empty(ign::Timeouts {
            http_response_headers: i.timeouts.http_response_headers,
            http_total: i.timeouts.http_total,
        }),
        version: version.ignition_version().to_string(),
    };
    let k = &config.kernel_arguments;
    let p = &config.passwd;
    ign::Config {
        ignition,
        kernel_arguments: non_empty(ign::KernelArguments {
            should_exist: k.should_exist.clone(),
            should_not_exist: k.should_not_exist.clone(),
        }),
        passwd: non_empty(ign::Passwd {
            groups: p.groups.iter().map(group).collect(),
            users: p.users.iter().map(user).collect(),
        }),
        storage: non_empty(storage(&config.storage, compress)),
        systemd: non_empty(ign::Systemd {
            units: units(config),
        }),
    }
}

fn resource(r: &b::Resource, compress: bool) -> ign::Resource {
    let mut out = ign::Resource {
        compression: r.compression.clone(),
        http_headers: r
            .http_headers
            .iter()
            .map(|h| ign::HttpHeader {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
        source: r.source.clone(),
        verification: r.hash.clone().map(|hash| ign::Verification { hash }),
    };
    if let Some(text) = &r.inline {
        let encoded = data_url::encode(text.as_bytes(), compress);
        out.source = Some(encoded.url);
        // Always set, as Butane does, so a merged child config cannot inherit a parent's
        // compression for these contents.
        out.compression = Some(if encoded.gzipped { "gzip" } else { "" }.to_string());
    }
    out
}

fn owner(o: &b::Owner) -> Option<ign::Owner> {
    non_empty(ign::Owner {
        id: o.id,
        name: o.name.clone(),
    })
}

fn node(path: &str, overwrite: Option<bool>, user: &b::Owner, group: &b::Owner) -> ign::Node {
    ign::Node {
        group: owner(group),
        overwrite,
        path: path.to_string(),
        user: owner(user),
    }
}

fn user(u: &b::User) -> ign::PasswdUser {
    ign::PasswdUser {
        gecos: u.gecos.clone(),
        groups: u.groups.clone(),
        home_dir: u.home_dir.clone(),
        name: u.name.clone(),
        no_create_home: u.no_create_home,
        no_log_init: u.no_log_init,
        no_user_group: u.no_user_group,
        password_hash: u.password_hash.clone(),
        primary_group: u.primary_group.clone(),
        ssh_authorized_keys: u.ssh_authorized_keys.clone(),
        shell: u.shell.clone(),
        should_exist: u.should_exist,
        system: u.system,
        uid: u.uid,
    }
}

fn group(g: &b::Group) -> ign::PasswdGroup {
    ign::PasswdGroup {
        gid: g.gid,
        name: g.name.clone(),
        password_hash: g.password_hash.clone(),
        should_exist: g.should_exist,
        system: g.system,
    }
}

fn storage(s: &b::Storage, compress: bool) -> ign::Storage {
    let res = |r: &b::Resource| resource(r, compress);
    ign::Storage {
        directories: s
            .directories
            .iter()
            .map(|d| ign::Directory {
                node: node(&d.path, d.overwrite, &d.user, &d.group),
                mode: d.mode,
            })
            .collect(),
        disks: s
            .disks
            .iter()
            .map(|d| ign::Disk {
                device: d.device.clone(),
                partitions: d.partitions.iter().map(partition).collect(),
                wipe_table: d.wipe_table,
            })
            .collect(),
        files: s
            .files
            .iter()
            .map(|f| ign::File {
                node: node(&f.path, f.overwrite, &f.user, &f.group),
                append: f.append.iter().map(res).collect(),
                contents: f.contents.as_ref().map(res).and_then(non_empty),
                mode: f.mode,
            })
            .collect(),
        filesystems: s
            .filesystems
            .iter()
            .map(|f| ign::Filesystem {
                device: f.device.clone(),
                format: f.format.clone(),
                label: f.label.clone(),
                mount_options: f.mount_options.clone(),
                options: f.options.clone(),
                path: f.path.clone(),
                uuid: f.uuid.clone(),
                wipe_filesystem: f.wipe_filesystem,
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| ign::Link {
                node: node(&l.path, l.overwrite, &l.user, &l.group),
                hard: l.hard,
                target: l.target.clone(),
            })
            .collect(),
        luks: s
            .luks
            .iter()
            .map(|l| ign::Luks {
                device: l.device.clone(),
                discard: l.discard,
                key_file: l.key_file.as_ref().map(res).and_then(non_empty),
                label: l.label.clone(),
                name: l.name.clone(),
                open_options: l.open_options.clone(),
                options: l.options.clone(),
                uuid: l.uuid.clone(),
                wipe_volume: l.wipe_volume,
            })
            .collect(),
        raid: s
            .raid
            .iter()
            .map(|r| ign::Raid {
                devices: r.devices.clone(),
                level: r.level.clone(),
                name: r.name.clone(),
                options: r.options.clone(),
                spares: r.spares,
            })
            .collect(),
    }
}

fn partition(p: &b::Partition) -> ign::Partition {
    ign::Partition {
        guid: p.guid.clone(),
        label: p.label.clone(),
        number: p.number,
        resize: p.resize,
        should_exist: p.should_exist,
        size_mib: p.size_mib,
        start_mib: p.start_mib,
        type_guid: p.type_guid.clone(),
        wipe_partition_entry: p.wipe_partition_entry,
    }
}

/// The generated mount units first, then the units of the config; a unit of the config with
/// the name of a generated one is merged into it (its settings win), as Butane merges them.
fn units(config: &b::Config) -> Vec<ign::Unit> {
    let mut out: Vec<ign::Unit> = config
        .storage
        .filesystems
        .iter()
        .filter(|f| f.with_mount_unit == Some(true))
        .map(|f| {
            let (name, contents) = systemd::mount_unit(
                &f.device,
                f.format.as_deref().unwrap_or_default(),
                f.path.as_deref().unwrap_or_default(),
                &f.mount_options,
            );
            ign::Unit {
                contents: Some(contents),
                dropins: Vec::new(),
                enabled: Some(true),
                mask: None,
                name,
            }
        })
        .collect();
    for u in &config.systemd.units {
        let dropins: Vec<ign::Dropin> = u
            .dropins
            .iter()
            .map(|d| ign::Dropin {
                contents: d.contents.clone(),
                name: d.name.clone(),
            })
            .collect();
        match out.iter_mut().find(|g| g.name == u.name) {
            Some(generated) => {
                if u.contents.is_some() {
                    generated.contents = u.contents.clone();
                }
                if u.enabled.is_some() {
                    generated.enabled = u.enabled;
                }
                if u.mask.is_some() {
                    generated.mask = u.mask;
                }
                generated.dropins.extend(dropins);
            }
            None => out.push(ign::Unit {
                contents: u.contents.clone(),
                dropins,
                enabled: u.enabled,
                mask: u.mask,
                name: u.name.clone(),
            }),
        }
    }
    out
}
