//! The Butane `flatcar` variant, versions 1.0.0 and 1.1.0 (Butane's docs
//! config-flatcar-v1_0.md and config-flatcar-v1_1.md): its objects as Rust types, read from the
//! YAML tree with every key checked against the spec.
//!
//! Fields that need Butane's `--files-dir` (`local`, `trees`, `contents_local`,
//! `ssh_authorized_keys_local`) and `luks.clevis` (which the flatcar variant forbids) are
//! refused here with a message saying what to write instead. Rules on values (absolute paths,
//! modes, duplicates, ...) are `validate`'s business.

use crate::decode::Object;
use crate::error::{Problem, Result};
use crate::yaml::{Locate, Node};

/// A supported spec version of the flatcar variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// 1.0.0, translated to Ignition 3.3.0.
    V1_0,
    /// 1.1.0, translated to Ignition 3.4.0.
    V1_1,
}

impl Version {
    pub fn ignition_version(self) -> &'static str {
        match self {
            Version::V1_0 => "3.3.0",
            Version::V1_1 => "3.4.0",
        }
    }
}

const SUPPORTED: &str = "`1.0.0` (Ignition 3.3.0) or `1.1.0` (Ignition 3.4.0)";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub ignition: Ignition,
    pub kernel_arguments: KernelArguments,
    pub passwd: Passwd,
    pub storage: Storage,
    pub systemd: Systemd,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ignition {
    pub merge: Vec<Resource>,
    pub replace: Option<Resource>,
    pub timeouts: Timeouts,
    pub certificate_authorities: Vec<Resource>,
    pub proxy: Proxy,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeouts {
    pub http_response_headers: Option<i64>,
    pub http_total: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proxy {
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Vec<String>,
}

/// Contents from somewhere: file contents, an appended fragment, a config to merge, a CA bundle,
/// a LUKS key file. `local` is refused while reading, so only `source` or `inline` remain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resource {
    pub source: Option<String>,
    pub inline: Option<String>,
    pub compression: Option<String>,
    pub http_headers: Vec<HttpHeader>,
    pub hash: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpHeader {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct KernelArguments {
    pub should_exist: Vec<String>,
    pub should_not_exist: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Passwd {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub name: String,
    pub password_hash: Option<String>,
    pub ssh_authorized_keys: Vec<String>,
    pub uid: Option<i64>,
    pub gecos: Option<String>,
    pub home_dir: Option<String>,
    pub no_create_home: Option<bool>,
    pub primary_group: Option<String>,
    pub groups: Vec<String>,
    pub no_user_group: Option<bool>,
    pub no_log_init: Option<bool>,
    pub shell: Option<String>,
    pub should_exist: Option<bool>,
    pub system: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub gid: Option<i64>,
    pub password_hash: Option<String>,
    pub should_exist: Option<bool>,
    pub system: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Storage {
    pub disks: Vec<Disk>,
    pub raid: Vec<Raid>,
    pub filesystems: Vec<Filesystem>,
    pub files: Vec<File>,
    pub directories: Vec<Directory>,
    pub links: Vec<Link>,
    pub luks: Vec<Luks>,
}

/// The owner of a file, directory or link: by id or by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Owner {
    pub id: Option<i64>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    pub path: String,
    pub overwrite: Option<bool>,
    pub contents: Option<Resource>,
    pub append: Vec<Resource>,
    pub mode: Option<i64>,
    pub user: Owner,
    pub group: Owner,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directory {
    pub path: String,
    pub overwrite: Option<bool>,
    pub mode: Option<i64>,
    pub user: Owner,
    pub group: Owner,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link {
    pub path: String,
    pub overwrite: Option<bool>,
    pub user: Owner,
    pub group: Owner,
    pub target: Option<String>,
    pub hard: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Disk {
    pub device: String,
    pub wipe_table: Option<bool>,
    pub partitions: Vec<Partition>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partition {
    pub label: Option<String>,
    pub number: i64,
    pub size_mib: Option<i64>,
    pub start_mib: Option<i64>,
    pub type_guid: Option<String>,
    pub guid: Option<String>,
    pub wipe_partition_entry: Option<bool>,
    pub should_exist: Option<bool>,
    pub resize: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Raid {
    pub name: String,
    pub level: Option<String>,
    pub devices: Vec<String>,
    pub spares: Option<i64>,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filesystem {
    pub device: String,
    pub format: Option<String>,
    pub path: Option<String>,
    pub wipe_filesystem: Option<bool>,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub options: Vec<String>,
    pub mount_options: Vec<String>,
    pub with_mount_unit: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Luks {
    pub name: String,
    pub device: Option<String>,
    pub key_file: Option<Resource>,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub options: Vec<String>,
    pub wipe_volume: Option<bool>,
    /// 1.1.0 and later.
    pub discard: Option<bool>,
    /// 1.1.0 and later.
    pub open_options: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Systemd {
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unit {
    pub name: String,
    pub enabled: Option<bool>,
    pub mask: Option<bool>,
    pub contents: Option<String>,
    pub dropins: Vec<Dropin>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dropin {
    pub name: String,
    pub contents: Option<String>,
}

const TOP: &[&str] = &[
    "variant",
    "version",
    "ignition",
    "storage",
    "systemd",
    "passwd",
    "kernel_arguments",
];

/// Reads `variant` and `version` and, when they name a supported spec, the rest of the document.
pub fn read(root: &Node) -> Result<(Version, Config)> {
    let empty = || {
        Problem::new(
            "",
            "the document is empty",
            "start it with `variant: flatcar` and `version: 1.0.0`",
        )
        .at(root.pos)
    };
    // Variant and version first: for another variant or a Container Linux Config, "unknown
    // key" would be the wrong thing to say.
    let all_keys: Vec<&str> = match &root.value {
        crate::yaml::Value::Map(entries) => entries.iter().map(|e| e.key.as_str()).collect(),
        _ => TOP.to_vec(),
    };
    let version = read_version(&Object::read(root, "", &all_keys)?.ok_or_else(empty)?)?;
    let top = Object::read(root, "", TOP)?.ok_or_else(empty)?;
    let config = Config {
        ignition: read_ignition(&top, version)?,
        kernel_arguments: match top
            .object("kernel_arguments", &["should_exist", "should_not_exist"])?
        {
            None => KernelArguments::default(),
            Some(k) => KernelArguments {
                should_exist: k.strings("should_exist")?,
                should_not_exist: k.strings("should_not_exist")?,
            },
        },
        passwd: read_passwd(&top, version)?,
        storage: read_storage(&top, version)?,
        systemd: read_systemd(&top, version)?,
    };
    Ok((version, config))
}

fn read_version(top: &Object<'_>) -> Result<Version> {
    let variant = top.string("variant")?;
    match variant.as_deref() {
        Some("flatcar") => {}
        None => {
            return Err(Problem::new(
                "variant",
                "`variant` is missing",
                format!(
                    "add `variant: flatcar` and `version:` {SUPPORTED} at the top (Container Linux Configs for `ct` must first be rewritten as Butane)"
                ),
            ))
        }
        Some(other) => {
            return Err(Problem::new(
                "variant",
                format!("the variant `{other}` is not supported"),
                format!("only `variant: flatcar` is translated here, with `version:` {SUPPORTED}"),
            ))
        }
    }
    match top.string("version")?.as_deref() {
        Some("1.0.0") => Ok(Version::V1_0),
        Some("1.1.0") => Ok(Version::V1_1),
        None => Err(Problem::new(
            "version",
            "`version` is missing",
            format!("add `version:` {SUPPORTED}"),
        )),
        Some(other) => Err(Problem::new(
            "version",
            format!("version `{other}` of the flatcar variant is not supported"),
            format!("use {SUPPORTED}"),
        )),
    }
}

/// Refuses a key that exists in a later version than the document's.
fn since(obj: &Object<'_>, key: &str, needed: Version, version: Version) -> Result<()> {
    if version < needed && obj.has(key) {
        return Err(Problem::new(
            &obj.path_of(key),
            format!("`{key}` is new in version 1.1.0 of the flatcar variant"),
            "set `version: 1.1.0` (Ignition 3.4.0) or remove it",
        ));
    }
    Ok(())
}

/// Refuses a key that reads Butane's `--files-dir`.
fn no_local(obj: &Object<'_>, key: &str, hint: &str) -> Result<()> {
    if obj.has(key) {
        return Err(Problem::new(
            &obj.path_of(key),
            format!("`{key}` reads a file from Butane's files directory, and there is none here"),
            hint,
        ));
    }
    Ok(())
}

const RESOURCE: &[&str] = &[
    "source",
    "inline",
    "local",
    "compression",
    "http_headers",
    "verification",
];

fn read_resource(node: &Node, path: &str) -> Result<Resource> {
    if matches!(node.value, crate::yaml::Value::Scalar(_)) && !node.is_null() {
        return Err(Problem::new(
            path,
            format!(
                "expected a mapping with `inline` or `source`, found {}",
                node.describe()
            ),
            "write `inline: |` followed by the text on indented lines, or `source:` with a URL",
        )
        .at(node.pos));
    }
    let r = Object::item(node, path, RESOURCE)?;
    let given: Vec<&str> = ["source", "inline", "local"]
        .into_iter()
        .filter(|k| r.get(k).is_some())
        .collect();
    if given.len() > 1 {
        return Err(Problem::new(
            &r.path_of(given[1]),
            format!("both `{}` and `{}` are set", given[0], given[1]),
            "set only one of `inline`, `source` and `local`",
        ));
    }
    no_local(
        &r,
        "local",
        "put the text in `inline:` (with Terraform, file() or templatefile() can read it) or give a `source:` URL",
    )?;
    Ok(Resource {
        source: r.string("source")?,
        inline: r.string("inline")?,
        compression: r.string("compression")?,
        http_headers: r.list("http_headers", "HTTP headers", |n, p| {
            let h = Object::item(n, p, &["name", "value"])?;
            Ok(HttpHeader {
                name: h.required_string("name")?,
                value: h.string("value")?,
            })
        })?,
        hash: match r.object("verification", &["hash"])? {
            None => None,
            Some(v) => v.string("hash")?,
        },
    })
}

fn read_ignition(top: &Object<'_>, _version: Version) -> Result<Ignition> {
    let Some(ign) = top.object("ignition", &["config", "timeouts", "security", "proxy"])? else {
        return Ok(Ignition::default());
    };
    let mut out = Ignition::default();
    if let Some(config) = ign.object("config", &["merge", "replace"])? {
        out.merge = config.list("merge", "configs", read_resource)?;
        out.replace = config
            .get("replace")
            .map(|n| read_resource(n, &config.path_of("replace")))
            .transpose()?;
    }
    if let Some(t) = ign.object("timeouts", &["http_response_headers", "http_total"])? {
        out.timeouts = Timeouts {
            http_response_headers: t.int("http_response_headers")?,
            http_total: t.int("http_total")?,
        };
    }
    if let Some(security) = ign.object("security", &["tls"])? {
        if let Some(tls) = security.object("tls", &["certificate_authorities"])? {
            out.certificate_authorities = tls.list(
                "certificate_authorities",
                "certificate authorities",
                read_resource,
            )?;
        }
    }
    if let Some(p) = ign.object("proxy", &["http_proxy", "https_proxy", "no_proxy"])? {
        out.proxy = Proxy {
            http_proxy: p.string("http_proxy")?,
            https_proxy: p.string("https_proxy")?,
            no_proxy: p.strings("no_proxy")?,
        };
    }
    Ok(out)
}

const USER: &[&str] = &[
    "name",
    "password_hash",
    "ssh_authorized_keys",
    "ssh_authorized_keys_local",
    "uid",
    "gecos",
    "home_dir",
    "no_create_home",
    "primary_group",
    "groups",
    "no_user_group",
    "no_log_init",
    "shell",
    "should_exist",
    "system",
];

const GROUP: &[&str] = &["name", "gid", "password_hash", "should_exist", "system"];

fn read_passwd(top: &Object<'_>, version: Version) -> Result<Passwd> {
    let Some(passwd) = top.object("passwd", &["users", "groups"])? else {
        return Ok(Passwd::default());
    };
    let users = passwd.list("users", "users", |n, p| {
        let u = Object::item(n, p, USER)?;
        since(&u, "ssh_authorized_keys_local", Version::V1_1, version)?;
        no_local(
            &u,
            "ssh_authorized_keys_local",
            "list the keys themselves under `ssh_authorized_keys`",
        )?;
        Ok(User {
            name: u.required_string("name")?,
            password_hash: u.string("password_hash")?,
            ssh_authorized_keys: u.strings("ssh_authorized_keys")?,
            uid: u.int("uid")?,
            gecos: u.string("gecos")?,
            home_dir: u.string("home_dir")?,
            no_create_home: u.bool("no_create_home")?,
            primary_group: u.string("primary_group")?,
            groups: u.strings("groups")?,
            no_user_group: u.bool("no_user_group")?,
            no_log_init: u.bool("no_log_init")?,
            shell: u.string("shell")?,
            should_exist: u.bool("should_exist")?,
            system: u.bool("system")?,
        })
    })?;
    let groups = passwd.list("groups", "groups", |n, p| {
        let g = Object::item(n, p, GROUP)?;
        Ok(Group {
            name: g.required_string("name")?,
            gid: g.int("gid")?,
            password_hash: g.string("password_hash")?,
            should_exist: g.bool("should_exist")?,
            system: g.bool("system")?,
        })
    })?;
    Ok(Passwd { users, groups })
}

const STORAGE: &[&str] = &[
    "disks",
    "raid",
    "filesystems",
    "files",
    "directories",
    "links",
    "luks",
    "trees",
];

fn read_owner(obj: &Object<'_>, key: &str) -> Result<Owner> {
    Ok(match obj.object(key, &["id", "name"])? {
        None => Owner::default(),
        Some(o) => Owner {
            id: o.int("id")?,
            name: o.string("name")?,
        },
    })
}

fn read_storage(top: &Object<'_>, version: Version) -> Result<Storage> {
    let Some(storage) = top.object("storage", STORAGE)? else {
        return Ok(Storage::default());
    };
    no_local(
        &storage,
        "trees",
        "list each file under `storage.files` with its text in `contents.inline`",
    )?;
    let files = storage.list("files", "files", |n, p| {
        let f = Object::item(
            n,
            p,
            &[
                "path",
                "overwrite",
                "contents",
                "append",
                "mode",
                "user",
                "group",
            ],
        )?;
        Ok(File {
            path: f.required_string("path")?,
            overwrite: f.bool("overwrite")?,
            contents: f
                .get("contents")
                .map(|n| read_resource(n, &f.path_of("contents")))
                .transpose()?,
            append: f.list("append", "contents to append", read_resource)?,
            mode: f.int("mode")?,
            user: read_owner(&f, "user")?,
            group: read_owner(&f, "group")?,
        })
    })?;
    let directories = storage.list("directories", "directories", |n, p| {
        let d = Object::item(n, p, &["path", "overwrite", "mode", "user", "group"])?;
        Ok(Directory {
            path: d.required_string("path")?,
            overwrite: d.bool("overwrite")?,
            mode: d.int("mode")?,
            user: read_owner(&d, "user")?,
            group: read_owner(&d, "group")?,
        })
    })?;
    let links = storage.list("links", "links", |n, p| {
        let l = Object::item(
            n,
            p,
            &["path", "overwrite", "user", "group", "target", "hard"],
        )?;
        Ok(Link {
            path: l.required_string("path")?,
            overwrite: l.bool("overwrite")?,
            user: read_owner(&l, "user")?,
            group: read_owner(&l, "group")?,
            target: l.string("target")?,
            hard: l.bool("hard")?,
        })
    })?;
    let disks = storage.list("disks", "disks", |n, p| {
        let d = Object::item(n, p, &["device", "wipe_table", "partitions"])?;
        Ok(Disk {
            device: d.required_string("device")?,
            wipe_table: d.bool("wipe_table")?,
            partitions: d.list("partitions", "partitions", read_partition)?,
        })
    })?;
    let raid = storage.list("raid", "RAID arrays", |n, p| {
        let r = Object::item(n, p, &["name", "level", "devices", "spares", "options"])?;
        Ok(Raid {
            name: r.required_string("name")?,
            level: r.string("level")?,
            devices: r.strings("devices")?,
            spares: r.int("spares")?,
            options: r.strings("options")?,
        })
    })?;
    let filesystems = storage.list("filesystems", "filesystems", |n, p| {
        let f = Object::item(
            n,
            p,
            &[
                "device",
                "format",
                "path",
                "wipe_filesystem",
                "label",
                "uuid",
                "options",
                "mount_options",
                "with_mount_unit",
            ],
        )?;
        Ok(Filesystem {
            device: f.required_string("device")?,
            format: f.string("format")?,
            path: f.string("path")?,
            wipe_filesystem: f.bool("wipe_filesystem")?,
            label: f.string("label")?,
            uuid: f.string("uuid")?,
            options: f.strings("options")?,
            mount_options: f.strings("mount_options")?,
            with_mount_unit: f.bool("with_mount_unit")?,
        })
    })?;
    let luks = storage.list("luks", "LUKS devices", |n, p| {
        let l = Object::item(
            n,
            p,
            &[
                "name",
                "device",
                "key_file",
                "label",
                "uuid",
                "options",
                "wipe_volume",
                "clevis",
                "discard",
                "open_options",
            ],
        )?;
        if l.has("clevis") {
            return Err(Problem::new(
                &l.path_of("clevis"),
                "`clevis` (TPM2 or Tang bound LUKS) is not supported by the flatcar variant",
                "remove `clevis` and give the key in `key_file`",
            ));
        }
        since(&l, "discard", Version::V1_1, version)?;
        since(&l, "open_options", Version::V1_1, version)?;
        Ok(Luks {
            name: l.required_string("name")?,
            device: l.string("device")?,
            key_file: l
                .get("key_file")
                .map(|n| read_resource(n, &l.path_of("key_file")))
                .transpose()?,
            label: l.string("label")?,
            uuid: l.string("uuid")?,
            options: l.strings("options")?,
            wipe_volume: l.bool("wipe_volume")?,
            discard: l.bool("discard")?,
            open_options: l.strings("open_options")?,
        })
    })?;
    Ok(Storage {
        disks,
        raid,
        filesystems,
        files,
        directories,
        links,
        luks,
    })
}

fn read_partition(node: &Node, path: &str) -> Result<Partition> {
    let p = Object::item(
        node,
        path,
        &[
            "label",
            "number",
            "size_mib",
            "start_mib",
            "type_guid",
            "guid",
            "wipe_partition_entry",
            "should_exist",
            "resize",
        ],
    )?;
    Ok(Partition {
        label: p.string("label")?,
        number: p.int("number")?.unwrap_or(0),
        size_mib: p.int("size_mib")?,
        start_mib: p.int("start_mib")?,
        type_guid: p.string("type_guid")?,
        guid: p.string("guid")?,
        wipe_partition_entry: p.bool("wipe_partition_entry")?,
        should_exist: p.bool("should_exist")?,
        resize: p.bool("resize")?,
    })
}

fn read_systemd(top: &Object<'_>, version: Version) -> Result<Systemd> {
    let Some(systemd) = top.object("systemd", &["units"])? else {
        return Ok(Systemd::default());
    };
    let units = systemd.list("units", "units", |n, p| {
        let u = Object::item(
            n,
            p,
            &[
                "name",
                "enabled",
                "mask",
                "contents",
                "contents_local",
                "dropins",
            ],
        )?;
        since(&u, "contents_local", Version::V1_1, version)?;
        no_local(&u, "contents_local", "put the unit text in `contents: |`")?;
        Ok(Unit {
            name: u.required_string("name")?,
            enabled: u.bool("enabled")?,
            mask: u.bool("mask")?,
            contents: u.string("contents")?,
            dropins: u.list("dropins", "drop-ins", |n, p| {
                let d = Object::item(n, p, &["name", "contents", "contents_local"])?;
                since(&d, "contents_local", Version::V1_1, version)?;
                no_local(
                    &d,
                    "contents_local",
                    "put the drop-in text in `contents: |`",
                )?;
                Ok(Dropin {
                    name: d.required_string("name")?,
                    contents: d.string("contents")?,
                })
            })?,
        })
    })?;
    Ok(Systemd { units })
}
