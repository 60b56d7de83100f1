//! The attributes of `flatcar_image`: its schema (with plan behaviours declared), the typed
//! model that mirrors it, and the conversions between the model and Glance's objects.

use std::collections::BTreeMap;
use std::time::Duration;

use flatcar_cloud::flatcar::publish::{self, ImportMethod};
use flatcar_cloud::flatcar::release::{
    Arch, Channel, Compression, DEFAULT_ARCH, DEFAULT_CHANNEL, DEFAULT_VERSION,
};
use flatcar_cloud::openstack::glance::{Image, ImageChange};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tfplugin::framework::timeouts::{self, Operation};
use tfplugin::framework::{Attr, Timeouts};
use tfplugin::{Attribute, Block, Schema, Type, Validator, Value};

use crate::release_attributes;

/// Defaults the schema declares and the code falls back to.
pub const COMPRESSION: Compression = Compression::None;
pub const VISIBILITY: &str = "private";
const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];

/// How long the upload may take (a release image is ~500 MB).
pub const CREATE: Operation = Operation::new("create", Duration::from_secs(60 * 60));
pub const DELETE: Operation = Operation::new("delete", Duration::from_secs(10 * 60));

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageModel {
    pub name: Attr<String>,
    pub channel: Attr<Channel>,
    pub arch: Attr<Arch>,
    pub version: Attr<String>,
    pub compression: Attr<Compression>,
    pub base_url: Attr<String>,
    pub visibility: Attr<String>,
    pub properties: Attr<BTreeMap<String, String>>,
    pub tags: Attr<Vec<String>>,
    pub id: Attr<String>,
    pub status: Attr<String>,
    pub size: Attr<i64>,
    pub checksum: Attr<String>,
    pub os_hash_algo: Attr<String>,
    pub os_hash_value: Attr<String>,
    pub resolved_version: Attr<String>,
    pub verified_fingerprint: Attr<String>,
    pub source_url: Attr<String>,
    pub import_method: Attr<ImportMethod>,
    pub imported_by: Attr<ImportMethod>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    let computed = |name: &str, ty: Type, description: &str| {
        Attribute::computed(name, ty, description).use_state_for_unknown()
    };
    let block = Block {
        description: "The Flatcar Container Linux OpenStack image in Glance. The release's signed DIGESTS are verified with the trusted OpenPGP key before any cloud call. Then either Glance downloads the release file itself (`web-download`: the image stays hidden until Glance's `os_hash_value` equals the signed SHA-512, so no byte crosses your uplink), or the image is streamed from the release server through this machine into Glance in one pass (never on disk), its SHA-512 checked against the signed digest and against Glance's `os_hash_value`; where the cloud offers `glance-direct` import, a streamed image becomes active only after the digest matched. On any failure the half-made image is deleted.".into(),
        attributes: vec![
            Attribute::required("name", s.clone(), "Image name in Glance. Changes in place.").validate(Validator::NonEmpty),
            Attribute::optional("channel", s.clone(), &format!("Release channel. Default `{DEFAULT_CHANNEL}`. Changing it replaces the image.")).default(DEFAULT_CHANNEL).requires_replace().validate(release_attributes::CHANNEL),
            Attribute::optional("arch", s.clone(), &format!("CPU architecture. Default `{DEFAULT_ARCH}`. Changing it replaces the image.")).default(DEFAULT_ARCH).requires_replace().validate(release_attributes::ARCH),
            Attribute::optional("version", s.clone(), &format!("Default `{DEFAULT_VERSION}`: the current release at creation time; or an exact version, e.g. from `flatcar_release.version`. Changing it replaces the image.")).default(DEFAULT_VERSION).requires_replace().validate(release_attributes::VERSION),
            Attribute::optional("compression", s.clone(), &format!("Which release file to download. Default `{COMPRESSION}`: the `.img` is a qcow2 with internal compression, so outer compression saves little. Either way Glance receives the uncompressed qcow2. Changing it replaces the image.")).default(COMPRESSION.as_str()).requires_replace().validate(Validator::OneOf(Compression::ALL)),
            Attribute::optional("base_url", s.clone(), "Overrides the provider's `release_base_url` for this image (same `{channel}` rule).").validate(release_attributes::BASE_URL),
            Attribute::optional("visibility", s.clone(), &format!("Who sees the image in Glance. Default `{VISIBILITY}`. Changes in place.")).default(VISIBILITY).validate(Validator::OneOf(VISIBILITIES)),
            Attribute::optional("properties", Type::map(Type::String), "Extra image properties, e.g. Jetstream2's `hw_disk_bus = \"scsi\"`, `hw_scsi_model = \"virtio-scsi\"`, `os_require_quiesce = \"yes\"`. `hw_qemu_guest_agent = \"yes\"`, `os_distro = \"flatcar\"` and `os_version` are always set unless overridden here. Changes in place.").validate(Validator::KeysParseAs("names Glance and this provider do not manage themselves", check_property)),
            Attribute::optional("tags", Type::set(s.clone()), "Image tags. Changes in place.").default(Value::List(Vec::new())),
            computed("id", s.clone(), "Glance image ID."),
            computed("status", s.clone(), "Glance status (`active` once created)."),
            computed("size", Type::Number, "Size in bytes as stored by Glance."),
            computed("checksum", s.clone(), "Glance's MD5 checksum of the data."),
            computed("os_hash_algo", s.clone(), "Glance's hash algorithm (`sha512`)."),
            computed("os_hash_value", s.clone(), "Glance's SHA-512 of the stored data: equal to the signed digest of the `.img`."),
            computed("resolved_version", s.clone(), "The exact Flatcar version uploaded."),
            computed("verified_fingerprint", s.clone(), "Fingerprint of the key or subkey whose signature was verified."),
            computed("source_url", s.clone(), "The release file that was downloaded."),
            Attribute::optional("import_method", s.clone(), "How the bytes reach Glance: `auto` (default: `web-download` when the cloud offers it and `compression` is `none`, falling back to `stream` when Glance cannot fetch the release server, e.g. a private mirror), `stream` (through this machine) or `web-download` (Glance fetches the file; an error if the cloud does not offer it). Only affects the upload: changing it later changes nothing.").default(ImportMethod::default().as_str()).validate(Validator::OneOf(ImportMethod::ALL)),
            computed("imported_by", s, "How the image's bytes reached Glance: `stream` or `web-download`."),
        ],
        blocks: vec![timeouts::block(&[CREATE, DELETE])],
        ..Block::default()
    };
    Schema::new(0, block)
}

fn check_property(key: &str) -> Result<(), String> {
    if publish::is_reserved_property(key) {
        return Err(format!("{key:?} is managed by Glance or by this provider; set it through its own attribute or choose another name."));
    }
    Ok(())
}

/// `model` with what Glance says of `image`; only the properties the model manages are kept.
pub fn with_image(mut model: ImageModel, image: &Image) -> ImageModel {
    model.id = image.id.clone().into();
    model.name = image.name.clone().into();
    model.status = image.status.clone().into();
    model.visibility = image.visibility.clone().into();
    model.checksum = image.checksum.clone().into();
    model.os_hash_algo = image.os_hash_algo.clone().into();
    model.os_hash_value = image.os_hash_value.clone().into();
    model.size = image.size.into();
    let mut tags = image.tags.clone();
    tags.sort();
    model.tags = Attr::Known(tags);
    if let Some(managed) = model.properties.known() {
        let current = managed
            .keys()
            .filter_map(|k| image.properties.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        model.properties = Attr::Known(current);
    }
    model
}

/// The JSON-patch changes that take `current` from `prior` to `planned`.
pub fn changes(prior: &ImageModel, planned: &ImageModel, current: &Image) -> Vec<ImageChange> {
    let mut out = Vec::new();
    let text = |a: &Attr<String>| Json::String(a.str_or("").to_string());
    if prior.name != planned.name {
        out.push(ImageChange::Set("name".into(), text(&planned.name)));
    }
    if prior.visibility != planned.visibility {
        out.push(ImageChange::Set(
            "visibility".into(),
            text(&planned.visibility),
        ));
    }
    if prior.tags != planned.tags {
        out.push(ImageChange::Set(
            "tags".into(),
            serde_json::json!(planned.tags.items()),
        ));
    }
    let before = prior.properties.known().cloned().unwrap_or_default();
    let after = planned.properties.known().cloned().unwrap_or_default();
    for (k, v) in &after {
        if before.get(k) != Some(v) || current.properties.get(k) != Some(v) {
            let value = Json::String(v.clone());
            out.push(if current.properties.contains_key(k) {
                ImageChange::Set(k.clone(), value)
            } else {
                ImageChange::Add(k.clone(), value)
            });
        }
    }
    for k in before.keys().filter(|k| !after.contains_key(*k)) {
        match publish::DEFAULT_PROPERTIES.iter().find(|(dk, _)| dk == k) {
            Some((_, default)) => out.push(ImageChange::Set(
                k.clone(),
                Json::String(default.to_string()),
            )),
            None if current.properties.contains_key(k) => out.push(ImageChange::Remove(k.clone())),
            None => {}
        }
    }
    out
}
