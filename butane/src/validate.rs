//! The rules a config must follow, checked on the Butane config so that each problem names its
//! YAML path: Ignition's own validation for spec 3.3/3.4 (absolute clean paths, modes, hashes,
//! URL schemes, unit names, duplicates, ...) and Butane's checks (one source per resource,
//! octal modes, mount units).
//!
//! Where Ignition or Butane only warn, a config would install something other than what it
//! says (a mode with setuid bits Ignition ignores, an enabled unit without `[Install]`, a mode
//! that only makes sense in octal), so those are errors here too, as with `butane --strict`.
//! Kept as warnings by Ignition and not checked here: an `http://` URL for `https_proxy`, and
//! filesystems on disks whose partitions are also configured.

use std::collections::HashMap;

use crate::data_url;
use crate::error::{child, item, Problem, Result};
use crate::schema::{
    Config, Directory, Disk, File, Filesystem, Group, Ignition, KernelArguments, Link, Luks, Owner,
    Partition, Raid, Resource, Storage, Systemd, User,
};
use crate::systemd;

pub fn check(config: &Config) -> Result<()> {
    ignition(&config.ignition)?;
    kernel_arguments(&config.kernel_arguments)?;
    passwd(&config.passwd.users, &config.passwd.groups)?;
    storage(&config.storage)?;
    units(&config.systemd)?;
    unit_paths(config)?;
    Ok(())
}

/// Remembers keys that must be unique within a list (or a group of lists) and where each was.
struct Unique<'a> {
    seen: HashMap<&'a str, String>,
    what: &'a str,
}

impl<'a> Unique<'a> {
    fn new(what: &'a str) -> Unique<'a> {
        Unique {
            seen: HashMap::new(),
            what,
        }
    }

    fn add(&mut self, key: &'a str, path: String) -> Result<()> {
        if let Some(first) = self.seen.get(key) {
            return Err(Problem::new(
                &path,
                format!("the {} `{key}` is already used at {first}", self.what),
                "each one must be unique; remove or rename one of them",
            ));
        }
        self.seen.insert(key, path);
        Ok(())
    }
}

fn ignition(ign: &Ignition) -> Result<()> {
    let mut merges = Unique::new("config source");
    for (i, r) in ign.merge.iter().enumerate() {
        let path = item("ignition.config.merge", i);
        resource(r, &path, true)?;
        config_inline(r, &path)?;
        if let Some(s) = &r.source {
            merges.add(s, path)?;
        }
    }
    if let Some(r) = &ign.replace {
        resource(r, "ignition.config.replace", false)?;
        config_inline(r, "ignition.config.replace")?;
    }
    let cas_path = "ignition.security.tls.certificate_authorities";
    let mut cas = Unique::new("certificate authority source");
    for (i, r) in ign.certificate_authorities.iter().enumerate() {
        let path = item(cas_path, i);
        resource(r, &path, true)?;
        if let Some(s) = &r.source {
            cas.add(s, path)?;
        }
    }
    for (key, value) in [
        ("http_proxy", &ign.proxy.http_proxy),
        ("https_proxy", &ign.proxy.https_proxy),
    ] {
        if let Some(url) = value {
            if !matches!(scheme(url).as_deref(), Some("http" | "https")) {
                return Err(Problem::new(
                    &child("ignition.proxy", key),
                    format!("the proxy `{url}` is not an http:// or https:// URL"),
                    "write the proxy as a URL such as `http://proxy.example.com:3128`",
                ));
            }
        }
    }
    let mut no_proxy = Unique::new("no_proxy entry");
    for (i, host) in ign.proxy.no_proxy.iter().enumerate() {
        no_proxy.add(host, item("ignition.proxy.no_proxy", i))?;
    }
    Ok(())
}

/// An inline config to merge or replace with must itself be an Ignition config.
fn config_inline(r: &Resource, path: &str) -> Result<()> {
    let Some(text) = &r.inline else {
        return Ok(());
    };
    let parsed: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Problem::new(
            &child(path, "inline"),
            format!("the inline config is not JSON ({e})"),
            "inline configs are Ignition JSON; translate a Butane config first, or give its URL in `source`",
        )
    })?;
    if !parsed["ignition"]["version"].is_string() {
        return Err(Problem::new(
            &child(path, "inline"),
            "the inline config has no `ignition.version`",
            "inline configs are Ignition JSON starting with {\"ignition\":{\"version\":\"3.3.0\"}}",
        ));
    }
    Ok(())
}

/// Checks a resource; `source_required` for configs to merge and certificate authorities.
fn resource(r: &Resource, path: &str, source_required: bool) -> Result<()> {
    let has_source = r.source.as_deref().is_some_and(|s| !s.is_empty());
    if let Some(c) = &r.compression {
        if !matches!(c.as_str(), "" | "gzip") {
            return Err(Problem::new(
                &child(path, "compression"),
                format!("the compression `{c}` is not supported"),
                "write `compression: gzip` for gzip-compressed contents, or remove it",
            ));
        }
        if c == "gzip" && r.inline.is_some() {
            return Err(Problem::new(
                &child(path, "compression"),
                "`compression: gzip` says the contents are already compressed, but `inline` holds text",
                "remove `compression`",
            ));
        }
    }
    if let Some(url) = r.source.as_deref().filter(|s| !s.is_empty()) {
        source_url(url, &child(path, "source"))?;
    }
    if source_required && !has_source && r.inline.is_none() {
        return Err(Problem::new(
            path,
            "`source` is missing",
            "give the URL in `source:`, or the contents in `inline:`",
        ));
    }
    if let Some(hash) = &r.hash {
        let hash_path = child(path, "verification.hash");
        if !has_source && r.inline.is_none() {
            return Err(Problem::new(
                &hash_path,
                "`verification` needs contents to verify",
                "give the contents in `source:` or `inline:`, or remove `verification`",
            ));
        }
        verification(hash, &hash_path)?;
    }
    let headers_path = child(path, "http_headers");
    let mut names = Unique::new("HTTP header");
    for (i, h) in r.http_headers.iter().enumerate() {
        let p = item(&headers_path, i);
        if h.name.is_empty() {
            return Err(Problem::new(
                &child(&p, "name"),
                "the HTTP header has no `name`",
                "give the header's name, e.g. `name: Authorization`",
            ));
        }
        if h.value.as_deref() == Some("") {
            return Err(Problem::new(
                &child(&p, "value"),
                "the HTTP header's `value` is empty",
                "give a value or remove the header",
            ));
        }
        names.add(&h.name, p)?;
    }
    if !r.http_headers.is_empty()
        && !matches!(
            r.source.as_deref().and_then(scheme).as_deref(),
            Some("http" | "https")
        )
    {
        return Err(Problem::new(
            &headers_path,
            "HTTP headers only go with an http:// or https:// `source`",
            "remove `http_headers`, or fetch the contents from an http(s) URL",
        ));
    }
    Ok(())
}

/// The scheme of a URL, lowercased, if it has one.
fn scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    (first_ok && rest_ok).then(|| scheme.to_ascii_lowercase())
}

const SCHEMES: &str = "http, https, tftp, s3, gs or data";

fn source_url(url: &str, path: &str) -> Result<()> {
    if url.chars().any(|c| c.is_control()) {
        return Err(Problem::new(
            path,
            "the URL contains a control character (a line break?)",
            "write the URL on one line",
        ));
    }
    match scheme(url).as_deref() {
        Some("http" | "https" | "tftp" | "s3" | "gs") => Ok(()),
        Some("data") => data_url::check(url).map_err(|why| {
            Problem::new(
                path,
                format!("the data URL does not decode: {why}"),
                "let `inline:` build the data URL from the text",
            )
        }),
        Some(other) => Err(Problem::new(
            path,
            format!("the URL scheme `{other}` is not supported"),
            format!("use a URL with scheme {SCHEMES}; for text, use `inline:`"),
        )),
        None => Err(Problem::new(
            path,
            format!("`{url}` is not a URL"),
            format!("use a URL with scheme {SCHEMES}; for text, use `inline:`"),
        )),
    }
}

fn verification(hash: &str, path: &str) -> Result<()> {
    let Some((function, sum)) = hash.split_once('-') else {
        return Err(Problem::new(
            path,
            format!("`{hash}` is not a hash specifier"),
            "write `sha512-<hex digits>` or `sha256-<hex digits>`",
        ));
    };
    let digits = match function {
        "sha512" => 128,
        "sha256" => 64,
        other => {
            return Err(Problem::new(
                path,
                format!("the hash function `{other}` is not supported"),
                "use `sha512-<hex digits>` or `sha256-<hex digits>`",
            ))
        }
    };
    if sum.len() != digits || !sum.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Problem::new(
            path,
            format!(
                "a {function} sum is {digits} hex digits; this one is {} characters",
                sum.len()
            ),
            format!("write the output of `{function}sum FILE` after `{function}-`"),
        ));
    }
    Ok(())
}

fn kernel_arguments(k: &KernelArguments) -> Result<()> {
    // One list in Ignition's eyes: an argument may appear once across both.
    let mut args = Unique::new("kernel argument");
    for (key, list) in [
        ("should_exist", &k.should_exist),
        ("should_not_exist", &k.should_not_exist),
    ] {
        for (i, arg) in list.iter().enumerate() {
            args.add(arg, item(&child("kernel_arguments", key), i))?;
        }
    }
    Ok(())
}

fn passwd(users: &[User], groups: &[Group]) -> Result<()> {
    let mut names = Unique::new("user name");
    for (i, u) in users.iter().enumerate() {
        let path = item("passwd.users", i);
        if u.name.is_empty() {
            return Err(Problem::new(
                &child(&path, "name"),
                "the user has no `name`",
                "add `name:`, e.g. `name: core`",
            ));
        }
        names.add(&u.name, path.clone())?;
        let mut keys = Unique::new("SSH key");
        for (j, key) in u.ssh_authorized_keys.iter().enumerate() {
            keys.add(key, item(&child(&path, "ssh_authorized_keys"), j))?;
        }
        let mut member_of = Unique::new("group");
        for (j, g) in u.groups.iter().enumerate() {
            member_of.add(g, item(&child(&path, "groups"), j))?;
        }
    }
    let mut group_names = Unique::new("group name");
    for (i, g) in groups.iter().enumerate() {
        let path = item("passwd.groups", i);
        if g.name.is_empty() {
            return Err(Problem::new(
                &child(&path, "name"),
                "the group has no `name`",
                "add `name:`",
            ));
        }
        group_names.add(&g.name, path)?;
    }
    Ok(())
}

fn storage(s: &Storage) -> Result<()> {
    // Files, directories and links share one namespace of paths.
    let mut nodes = Unique::new("path");
    for (i, d) in s.directories.iter().enumerate() {
        let path = item("storage.directories", i);
        directory(d, &path)?;
        nodes.add(&d.path, path)?;
    }
    for (i, f) in s.files.iter().enumerate() {
        let path = item("storage.files", i);
        file(f, &path)?;
        nodes.add(&f.path, path)?;
    }
    for (i, l) in s.links.iter().enumerate() {
        let path = item("storage.links", i);
        link(l, &path, &s.directories)?;
        nodes.add(&l.path, path)?;
    }
    // Nothing can be written through a link Ignition creates.
    let under_link = |p: &str| {
        s.links
            .iter()
            .find(|l| p.starts_with(&format!("{}/", l.path)))
    };
    let nodes_in_order = s
        .directories
        .iter()
        .enumerate()
        .map(|(i, d)| (item("storage.directories", i), &d.path))
        .chain(
            s.files
                .iter()
                .enumerate()
                .map(|(i, f)| (item("storage.files", i), &f.path)),
        )
        .chain(
            s.links
                .iter()
                .enumerate()
                .map(|(i, l)| (item("storage.links", i), &l.path)),
        );
    for (path, node_path) in nodes_in_order {
        if let Some(l) = under_link(node_path) {
            return Err(Problem::new(
                &child(&path, "path"),
                format!("`{node_path}` lies under the link `{}`", l.path),
                "Ignition does not write through links it creates; use the link's target path instead",
            ));
        }
    }

    let mut devices = Unique::new("disk device");
    for (i, d) in s.disks.iter().enumerate() {
        let path = item("storage.disks", i);
        disk(d, &path)?;
        devices.add(&d.device, path)?;
    }
    let mut arrays = Unique::new("RAID name");
    for (i, r) in s.raid.iter().enumerate() {
        let path = item("storage.raid", i);
        raid(r, &path)?;
        arrays.add(&r.name, path)?;
    }
    let mut filesystems = Unique::new("filesystem device");
    for (i, f) in s.filesystems.iter().enumerate() {
        let path = item("storage.filesystems", i);
        filesystem(f, &path)?;
        filesystems.add(&f.device, path)?;
    }
    let mut volumes = Unique::new("LUKS name");
    for (i, l) in s.luks.iter().enumerate() {
        let path = item("storage.luks", i);
        luks(l, &path)?;
        volumes.add(&l.name, path)?;
    }
    Ok(())
}

/// An absolute path in its simplest form, as Ignition wants every path.
fn absolute_path(p: &str, path: &str, what: &str) -> Result<()> {
    if p.is_empty() {
        return Err(Problem::new(
            path,
            format!("the {what} has no path"),
            "give an absolute path such as `/etc/hostname`",
        ));
    }
    if !p.starts_with('/') {
        return Err(Problem::new(
            path,
            format!("the path `{p}` is not absolute"),
            format!("start it with `/`: `/{p}`"),
        ));
    }
    let clean = clean_path(p);
    if clean != p {
        return Err(Problem::new(
            path,
            format!("the path `{p}` is not in its simplest form"),
            format!("write `{clean}`"),
        ));
    }
    Ok(())
}

/// Go's `path.Clean` for an absolute path.
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

fn owners(user: &Owner, group: &Owner, path: &str) -> Result<()> {
    for (key, owner) in [("user", user), ("group", group)] {
        if owner.id.is_some() && owner.name.as_deref().is_some_and(|n| !n.is_empty()) {
            return Err(Problem::new(
                &child(path, key),
                format!("both `id` and `name` of the {key} are set"),
                "set one of them",
            ));
        }
    }
    Ok(())
}

fn directory(d: &Directory, path: &str) -> Result<()> {
    absolute_path(&d.path, &child(path, "path"), "directory")?;
    owners(&d.user, &d.group, path)?;
    if let Some(m) = d.mode {
        mode(m, &child(path, "mode"), true)?;
    }
    Ok(())
}

fn file(f: &File, path: &str) -> Result<()> {
    absolute_path(&f.path, &child(path, "path"), "file")?;
    owners(&f.user, &f.group, path)?;
    if let Some(m) = f.mode {
        mode(m, &child(path, "mode"), false)?;
    }
    let has_contents = f
        .contents
        .as_ref()
        .is_some_and(|c| c.inline.is_some() || c.source.is_some());
    if f.overwrite == Some(true) && !has_contents {
        return Err(Problem::new(
            &child(path, "overwrite"),
            "`overwrite: true` needs `contents` to write",
            "give `contents.inline` or `contents.source`, or remove `overwrite`",
        ));
    }
    if let Some(c) = &f.contents {
        resource(c, &child(path, "contents"), false)?;
    }
    for (i, a) in f.append.iter().enumerate() {
        resource(a, &item(&child(path, "append"), i), false)?;
    }
    Ok(())
}

fn link(l: &Link, path: &str, directories: &[Directory]) -> Result<()> {
    absolute_path(&l.path, &child(path, "path"), "link")?;
    owners(&l.user, &l.group, path)?;
    let Some(target) = l.target.as_deref().filter(|t| !t.is_empty()) else {
        return Err(Problem::new(
            &child(path, "target"),
            "the link has no `target`",
            "add `target:` with the path the link points to",
        ));
    };
    if l.hard == Some(true) {
        let resolved = if target.starts_with('/') {
            clean_path(target)
        } else {
            clean_path(&format!("{}/{target}", l.path))
        };
        if directories.iter().any(|d| d.path == resolved) {
            return Err(Problem::new(
                &child(path, "target"),
                format!("the hard link's target `{resolved}` is a directory"),
                "hard links cannot point to directories; remove `hard: true` for a symbolic link",
            ));
        }
        if l.user != Owner::default() || l.group != Owner::default() {
            let key = if l.user != Owner::default() {
                "user"
            } else {
                "group"
            };
            return Err(Problem::new(
                &child(path, key),
                "a hard link has no owner of its own",
                format!("remove `{key}`; set the owner on the target file instead"),
            ));
        }
    }
    Ok(())
}

/// Ignition 3.3/3.4 modes: 0 to 07777, without setuid/setgid/sticky (ignored), and not a
/// decimal number that only makes sense as octal.
fn mode(m: i64, path: &str, directory: bool) -> Result<()> {
    if !(0..=0o7777).contains(&m) {
        return Err(Problem::new(
            path,
            format!("the mode {m} (octal {m:o}) is out of range"),
            "write the mode in octal with a leading 0, e.g. `mode: 0644`",
        ));
    }
    if let Some(octal) = decimal_as_octal(m) {
        if !typical_mode(m, directory) && typical_mode(octal, directory) {
            return Err(Problem::new(
                path,
                format!("`mode: {m}` is decimal, which is octal {m:o}"),
                format!("write it in octal with a leading 0: `mode: 0{octal:o}`"),
            ));
        }
    }
    if m & 0o7000 != 0 {
        return Err(Problem::new(
            path,
            format!("the mode 0{m:o} has setuid, setgid or sticky bits, which Ignition 3.3 and 3.4 ignore"),
            format!("write `mode: 0{:o}`", m & 0o777),
        ));
    }
    Ok(())
}

/// The value the decimal digits of `m` would have in octal, when all of them are octal digits.
fn decimal_as_octal(m: i64) -> Option<i64> {
    if !(0..=7777).contains(&m) {
        return None;
    }
    let digits = format!("{m}");
    if digits.chars().any(|c| c > '7') {
        return None;
    }
    i64::from_str_radix(&digits, 8).ok()
}

/// Whether a mode is one people mean (Butane's heuristic): each wider class (group, then user)
/// has at least the rights of the narrower one, write or execute come with read, someone can
/// read, directories are searchable, and special bits only where they make sense.
fn typical_mode(m: i64, directory: bool) -> bool {
    if m == 0 {
        return true;
    }
    let (mut any_r, mut any_w, mut any_x) = (false, false, false);
    for class in [m & 0o7, (m >> 3) & 0o7, (m >> 6) & 0o7] {
        let (r, w, x) = (class & 4 != 0, class & 2 != 0, class & 1 != 0);
        let loses_a_right = (any_r && !r) || (any_w && !w) || (any_x && !x);
        let x_after_read_only = x && any_r && !any_x;
        if loses_a_right || x_after_read_only || ((w || x) && !r) {
            return false;
        }
        any_r |= r;
        any_w |= w;
        any_x |= x;
    }
    if !any_r {
        return false;
    }
    if directory {
        any_x && m & 0o4000 == 0 && (m & 0o3000 == 0 || any_w)
    } else {
        let setid_ok = m & 0o6000 == 0 || (any_x && m & 0o2 == 0);
        setid_ok && m & 0o1000 == 0
    }
}

fn disk(d: &Disk, path: &str) -> Result<()> {
    absolute_path(&d.device, &child(path, "device"), "disk")?;
    let parts = child(path, "partitions");
    let mut numbers = Unique::new("partition number");
    let mut labels = Unique::new("partition label");
    let numbers_text: Vec<String> = d.partitions.iter().map(|p| p.number.to_string()).collect();
    for (i, p) in d.partitions.iter().enumerate() {
        let ppath = item(&parts, i);
        partition(p, &ppath)?;
        if p.number != 0 {
            numbers.add(&numbers_text[i], ppath.clone())?;
        }
        if let Some(label) = &p.label {
            labels.add(label, ppath)?;
        }
    }
    let any_zero = d.partitions.iter().any(|p| p.number == 0);
    if any_zero && d.partitions.iter().any(|p| p.should_exist == Some(false)) {
        return Err(Problem::new(
            &parts,
            "a partition with `should_exist: false` is mixed with partitions without a `number`",
            "give every partition of this disk a `number`",
        ));
    }
    // Only partitions placed explicitly can be checked for overlap (no disk geometry here).
    let placed: Vec<(usize, i64, i64)> = d
        .partitions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match (p.start_mib, p.size_mib) {
            (Some(start), Some(size)) if start != 0 => {
                Some((i, start, if size == 0 { start } else { start + size - 1 }))
            }
            _ => None,
        })
        .collect();
    for (i, a_start, a_end) in &placed {
        for (j, b_start, b_end) in &placed {
            if i < j && a_start <= b_end && b_start <= a_end {
                return Err(Problem::new(
                    &item(&parts, *j),
                    format!("the partition overlaps partition {i} of this disk"),
                    "change `start_mib` or `size_mib` so they do not overlap",
                ));
            }
        }
    }
    Ok(())
}

fn partition(p: &Partition, path: &str) -> Result<()> {
    if p.should_exist == Some(false)
        && (p.label.is_some()
            || p.type_guid.as_deref().is_some_and(|g| !g.is_empty())
            || p.guid.as_deref().is_some_and(|g| !g.is_empty())
            || p.start_mib.is_some()
            || p.size_mib.is_some())
    {
        return Err(Problem::new(
            path,
            "a partition with `should_exist: false` has other settings",
            "keep only `number` (and `wipe_partition_entry`) for a partition to delete",
        ));
    }
    if p.number == 0 && p.label.is_none() {
        return Err(Problem::new(
            path,
            "the partition has neither a `number` nor a `label`",
            "give it a `number` or a `label`",
        ));
    }
    if let Some(label) = &p.label {
        if label.len() > 36 {
            return Err(Problem::new(
                &child(path, "label"),
                format!("the label is {} bytes; GPT labels hold 36", label.len()),
                "shorten the label",
            ));
        }
        if label.contains(':') {
            return Err(Problem::new(
                &child(path, "label"),
                "the label contains `:`",
                "remove the `:` (sgdisk cannot take it)",
            ));
        }
    }
    for (key, guid) in [("guid", &p.guid), ("type_guid", &p.type_guid)] {
        if let Some(g) = guid {
            if !g.is_empty() && !is_guid(g) {
                return Err(Problem::new(
                    &child(path, key),
                    format!("`{g}` is not a GUID"),
                    "write it as 8-4-4-4-12 hex digits, e.g. 0FC63DAF-8483-4772-8E79-3D69D8477DE4",
                ));
            }
        }
    }
    Ok(())
}

fn is_guid(g: &str) -> bool {
    let groups: Vec<&str> = g.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

fn raid(r: &Raid, path: &str) -> Result<()> {
    let level = r.level.as_deref().unwrap_or("");
    match level {
        "" => {
            return Err(Problem::new(
                &child(path, "level"),
                "the RAID array has no `level`",
                "add `level:`, e.g. `level: raid1`",
            ))
        }
        "linear" | "raid0" | "0" | "stripe" if r.spares.is_some_and(|s| s != 0) => {
            return Err(Problem::new(
                &child(path, "spares"),
                format!("RAID level `{level}` has no spares"),
                "remove `spares`",
            ))
        }
        "linear" | "raid0" | "0" | "stripe" | "raid1" | "1" | "mirror" | "raid4" | "4"
        | "raid5" | "5" | "raid6" | "6" | "raid10" | "10" => {}
        other => {
            return Err(Problem::new(
                &child(path, "level"),
                format!("the RAID level `{other}` is not known"),
                "use linear, raid0, raid1, raid4, raid5, raid6 or raid10",
            ))
        }
    }
    if r.devices.is_empty() {
        return Err(Problem::new(
            &child(path, "devices"),
            "the RAID array has no `devices`",
            "list the member devices under `devices:`",
        ));
    }
    for (i, d) in r.devices.iter().enumerate() {
        absolute_path(d, &item(&child(path, "devices"), i), "device")?;
    }
    Ok(())
}

fn filesystem(f: &Filesystem, path: &str) -> Result<()> {
    absolute_path(&f.device, &child(path, "device"), "filesystem device")?;
    if let Some(p) = f.path.as_deref().filter(|p| !p.is_empty()) {
        absolute_path(p, &child(path, "path"), "filesystem")?;
    }
    let format = f.format.as_deref().unwrap_or("");
    if format.is_empty() {
        let others = f.path.as_deref().is_some_and(|p| !p.is_empty())
            || f.label.as_deref().is_some_and(|l| !l.is_empty())
            || f.uuid.as_deref().is_some_and(|u| !u.is_empty())
            || f.wipe_filesystem == Some(true)
            || !f.options.is_empty()
            || !f.mount_options.is_empty()
            || f.with_mount_unit == Some(true);
        if others {
            return Err(Problem::new(
                &child(path, "format"),
                "the filesystem has settings but no `format`",
                "add `format:` (ext4, btrfs, xfs, vfat, swap or none)",
            ));
        }
        return Ok(());
    }
    let max_label = match format {
        "ext4" => 16,
        "btrfs" => 256,
        "xfs" => 12,
        "swap" => 15,
        "vfat" => 11,
        "none" => usize::MAX,
        other => {
            return Err(Problem::new(
                &child(path, "format"),
                format!("the filesystem format `{other}` is not supported"),
                "use ext4, btrfs, xfs, vfat, swap or none",
            ))
        }
    };
    if let Some(label) = &f.label {
        if label.len() > max_label {
            return Err(Problem::new(
                &child(path, "label"),
                format!(
                    "{format} labels hold {max_label} bytes; this one is {}",
                    label.len()
                ),
                "shorten the label",
            ));
        }
    }
    if f.with_mount_unit == Some(true)
        && format != "swap"
        && f.path.as_deref().is_none_or(str::is_empty)
    {
        return Err(Problem::new(
            &child(path, "path"),
            "`with_mount_unit: true` needs the mount point in `path`",
            "add `path:`, e.g. `path: /var/lib/data`",
        ));
    }
    Ok(())
}

fn luks(l: &Luks, path: &str) -> Result<()> {
    if l.name.is_empty() || l.name.contains('/') {
        return Err(Problem::new(
            &child(path, "name"),
            "the LUKS device needs a `name` without `/`",
            "name it like `data`; it opens as /dev/mapper/NAME",
        ));
    }
    if l.label.as_deref().is_some_and(|label| label.len() > 47) {
        return Err(Problem::new(
            &child(path, "label"),
            "LUKS labels hold 47 bytes",
            "shorten the label",
        ));
    }
    absolute_path(
        l.device.as_deref().unwrap_or(""),
        &child(path, "device"),
        "LUKS device",
    )?;
    if let Some(key) = &l.key_file {
        resource(key, &child(path, "key_file"), false)?;
    }
    Ok(())
}

fn units(s: &Systemd) -> Result<()> {
    let mut names = Unique::new("unit name");
    for (i, u) in s.units.iter().enumerate() {
        let path = item("systemd.units", i);
        if !systemd::has_unit_type(&u.name) {
            return Err(Problem::new(
                &child(&path, "name"),
                if u.name.is_empty() {
                    "the unit has no `name`".to_string()
                } else {
                    format!("the unit name `{}` has no unit type", u.name)
                },
                format!(
                    "name it like `example.service`; types are {}",
                    systemd::UNIT_TYPES.join(", ")
                ),
            ));
        }
        names.add(&u.name, path.clone())?;
        let options = match &u.contents {
            None => None,
            Some(text) => Some(unit_text(text, &child(&path, "contents"))?),
        };
        let has_contents = u.contents.as_deref().is_some_and(|c| !c.is_empty());
        if u.enabled == Some(true) && has_contents {
            if let Some(options) = &options {
                if !systemd::has_install_section(options) {
                    return Err(no_install(&child(&path, "contents"), &u.name));
                }
            }
        }
        let mut dropins = Unique::new("drop-in name");
        for (j, d) in u.dropins.iter().enumerate() {
            let dpath = item(&child(&path, "dropins"), j);
            if !d.name.ends_with(".conf") || d.name.len() <= ".conf".len() {
                return Err(Problem::new(
                    &child(&dpath, "name"),
                    format!("the drop-in name `{}` does not end in `.conf`", d.name),
                    "name it like `10-override.conf`",
                ));
            }
            dropins.add(&d.name, dpath.clone())?;
            if let Some(text) = &d.contents {
                unit_text(text, &child(&dpath, "contents"))?;
            }
        }
    }
    // Enabling an instance (`foo@bar.service`) of a template defined here needs the template's
    // `[Install]` section.
    for (i, u) in s.units.iter().enumerate() {
        let Some((prefix, _)) = u.name.split_once('@') else {
            continue;
        };
        if u.enabled != Some(true) || !u.name.ends_with(".service") || u.name.ends_with("@.service")
        {
            continue;
        }
        let template = format!("{prefix}@.service");
        let Some(t) = s.units.iter().find(|t| t.name == template) else {
            continue;
        };
        if let Some(text) = t.contents.as_deref().filter(|c| !c.is_empty()) {
            let options = systemd::parse_unit(text).unwrap_or_default();
            if !systemd::has_install_section(&options) {
                return Err(Problem::new(
                    &child(&item("systemd.units", i), "enabled"),
                    format!("`{}` is enabled, but its template `{template}` has no `[Install]` section, so enabling does nothing", u.name),
                    format!("add an `[Install]` section (e.g. `WantedBy=multi-user.target`) to `{template}`"),
                ));
            }
        }
    }
    Ok(())
}

fn unit_text(text: &str, path: &str) -> Result<systemd::Options> {
    systemd::parse_unit(text).map_err(|e| {
        Problem::new(
            path,
            format!("line {} of the unit text: {}", e.line, e.message),
            "write `[Section]` lines, `Key=value` lines and `#` comments; indent the text under `contents: |`",
        )
    })
}

fn no_install(path: &str, name: &str) -> Problem {
    Problem::new(
        path,
        format!("`{name}` is enabled, but has no `[Install]` section, so enabling does nothing"),
        "add an `[Install]` section such as `WantedBy=multi-user.target`, or remove `enabled: true`",
    )
}

/// Ignition writes units with contents to /etc/systemd/system; a file, directory or link may
/// not take their place.
fn unit_paths(config: &Config) -> Result<()> {
    let mut unit_files: HashMap<String, String> = HashMap::new();
    for (i, u) in config.systemd.units.iter().enumerate() {
        let path = item("systemd.units", i);
        if u.contents.as_deref().is_some_and(|c| !c.is_empty()) {
            unit_files.insert(format!("/etc/systemd/system/{}", u.name), path.clone());
        }
        for (j, d) in u.dropins.iter().enumerate() {
            if d.contents.as_deref().is_some_and(|c| !c.is_empty()) {
                unit_files.insert(
                    format!("/etc/systemd/system/{}.d/{}", u.name, d.name),
                    item(&child(&path, "dropins"), j),
                );
            }
        }
    }
    let s = &config.storage;
    let nodes = s
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (item("storage.files", i), &f.path))
        .chain(
            s.directories
                .iter()
                .enumerate()
                .map(|(i, d)| (item("storage.directories", i), &d.path)),
        )
        .chain(
            s.links
                .iter()
                .enumerate()
                .map(|(i, l)| (item("storage.links", i), &l.path)),
        );
    for (path, node_path) in nodes {
        if let Some(unit) = unit_files.get(node_path.as_str()) {
            return Err(Problem::new(
                &child(&path, "path"),
                format!("`{node_path}` is where Ignition writes {unit}"),
                "configure the unit under `systemd.units` only, or drop its `contents` there",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert!(mode(0o644, "m", false).is_ok());
        assert!(mode(0o755, "m", true).is_ok());
        assert!(mode(420, "m", false).is_ok());
        assert_eq!(
            mode(644, "m", false).unwrap_err().hint,
            "write it in octal with a leading 0: `mode: 0644`"
        );
        assert!(mode(0o4755, "m", false)
            .unwrap_err()
            .message
            .contains("setuid"));
        assert!(mode(0o10000, "m", false).is_err());
    }

    #[test]
    fn paths_and_hashes() {
        assert_eq!(clean_path("/a//b/./c/../d/"), "/a/b/d");
        assert!(absolute_path("/etc/x", "p", "file").is_ok());
        assert!(absolute_path("/etc/x/", "p", "file").is_err());
        assert!(verification(&format!("sha256-{}", "a".repeat(64)), "h").is_ok());
        assert!(verification(&format!("sha512-{}", "a".repeat(64)), "h").is_err());
        assert!(verification("md5-abc", "h").is_err());
        assert!(is_guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4"));
        assert!(!is_guid("0FC63DAF-8483-4772-8E79"));
    }
}
