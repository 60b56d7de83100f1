//! The attributes of `flatcar_instance`: its schema (with plan behaviours declared), the typed
//! model that mirrors it, and the conversions between the model and Nova's objects.

use std::collections::BTreeMap;
use std::time::Duration;

use flatcar_cloud::openstack::compute::{FlavorChoice, LaunchRequest, NetworkChoice};
use flatcar_cloud::openstack::nova::Server;
use serde::{Deserialize, Serialize};
use tfplugin::framework::timeouts::{self, Operation};
use tfplugin::framework::{Attr, Timeouts};
use tfplugin::{Attribute, Block, NestedBlock, Schema, Type, Validator};

use crate::resources::ignition;

pub const CREATE: Operation = Operation::new("create", Duration::from_secs(30 * 60));
pub const DELETE: Operation = Operation::new("delete", Duration::from_secs(10 * 60));

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkModel {
    pub uuid: Attr<String>,
    pub name: Attr<String>,
    pub port: Attr<String>,
    pub fixed_ip_v4: Attr<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceModel {
    pub name: Attr<String>,
    pub image_id: Attr<String>,
    pub flavor_name: Attr<String>,
    pub flavor_id: Attr<String>,
    pub key_pair: Attr<String>,
    pub user_data: Attr<String>,
    pub user_data_wo: Attr<String>,
    pub user_data_wo_version: Attr<i64>,
    pub security_groups: Attr<Vec<String>>,
    pub metadata: Attr<BTreeMap<String, String>>,
    pub availability_zone: Attr<String>,
    pub config_drive: Attr<bool>,
    pub root_volume_size: Attr<i64>,
    pub floating_ip_pool: Attr<String>,
    pub floating_ip_id: Attr<String>,
    pub id: Attr<String>,
    pub status: Attr<String>,
    pub access_ip_v4: Attr<String>,
    pub access_ip_v6: Attr<String>,
    pub floating_ip: Attr<String>,
    pub addresses: Attr<BTreeMap<String, Vec<String>>>,
    pub network: Attr<Vec<NetworkModel>>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    let filled = |name: &str, description: &str| {
        Attribute::optional_computed(name, Type::String, description).use_state_for_unknown()
    };
    let computed = |name: &str, ty: Type, description: &str| {
        Attribute::computed(name, ty, description).use_state_for_unknown()
    };
    let network = Block {
        description: "A network to attach, by `uuid`, `name` or existing `port`; repeat the block for several networks.".into(),
        attributes: vec![
            filled("uuid", "Network ID."),
            filled("name", "Network name (must be unique in the project), e.g. Jetstream2's `auto_allocated_network`."),
            Attribute::optional("port", s.clone(), "An existing port to attach instead of a network."),
            filled("fixed_ip_v4", "Fixed IPv4 address to request; the one assigned after creation."),
        ],
        ..Block::default()
    };
    let block = Block {
        description: "A Flatcar Container Linux server on OpenStack Nova. Log in as `core` with the key pair; configure the machine with Ignition `user_data` (checked at plan time). Creation waits for `ACTIVE`; a server that ends in `ERROR` is reported with Nova's fault message and deleted. Name and metadata change in place; everything else replaces the server.".into(),
        attributes: vec![
            Attribute::required("name", s.clone(), "Server name. Changes in place."),
            Attribute::required("image_id", s.clone(), "Glance image ID, e.g. `flatcar_image.this.id`.").requires_replace(),
            filled("flavor_name", "Flavor by name, e.g. Jetstream2's `m3.medium`. Set this or `flavor_id`.").requires_replace(),
            filled("flavor_id", "Flavor by ID. Set this or `flavor_name`.").requires_replace(),
            Attribute::optional("key_pair", s.clone(), "Nova key pair whose public key is installed for user `core`.").requires_replace(),
            Attribute::optional("user_data", s.clone(), "Ignition config (JSON, spec 3.0.0 to 3.5.0, or a 2.x spec, which Flatcar translates), e.g. from `butane`. A cloud-config, broken JSON, another spec version, or more than Nova's 65,535 bytes after base64 is an error at plan time. Sensitive; stored in state (see `user_data_wo` to keep it out). Changing it replaces the server.").sensitive().requires_replace().validate(ignition::VALID).validate(ignition::FITS_NOVA),
            Attribute::optional("user_data_wo", s.clone(), "Ignition config like `user_data`, but write-only: sent to Nova at creation and never stored in plan or state (Terraform/OpenTofu 1.11+). Use it when Ignition holds secrets (join tokens, keys). Terraform cannot see a change of it: bump `user_data_wo_version` to replace the server with the new config.").write_only().validate(ignition::VALID).validate(ignition::FITS_NOVA),
            Attribute::optional("user_data_wo_version", Type::Number, "Any number; changing it replaces the server, which then boots with the current `user_data_wo`.").requires_replace(),
            Attribute::optional("security_groups", Type::set(s.clone()), "Security groups by name or ID, e.g. `flatcar_security_group.cluster.id`. Default: the project's `default` group. Changes in place: Nova adds and removes groups on the running server."),
            Attribute::optional("metadata", Type::map(s.clone()), "Server metadata (key/value strings). Changes in place."),
            filled("availability_zone", "Availability zone.").requires_replace(),
            Attribute::optional("config_drive", Type::Bool, "Attach a config drive (Ignition and metadata without the metadata service).").requires_replace(),
            Attribute::optional("root_volume_size", Type::Number, "Boot from a new volume of this many GB made from the image (needs Cinder); deleted with the server.").requires_replace().validate(Validator::at_least(1)),
            Attribute::optional("floating_ip_pool", s.clone(), "External network to allocate a floating IP from (Jetstream2: `public`); it is associated with the first port and released on delete.").requires_replace(),
            Attribute::optional("floating_ip_id", s.clone(), "An existing floating IP to use instead of allocating one, by ID or address, e.g. `flatcar_floating_ip.api.id`: it is associated with the first port (moved from wherever it is) and stays allocated when the server goes, so a replacement server takes over the same address. Changes in place; detached by hand, the next apply puts it back. Conflicts with `floating_ip_pool`."),
            computed("id", s.clone(), "Server ID."),
            computed("status", s.clone(), "Nova status (`ACTIVE`)."),
            // Not kept from the prior state on an update: `floating_ip_id` moves the address.
            Attribute::computed("access_ip_v4", s.clone(), "The floating IP when there is one, else the first fixed IPv4 address."),
            computed("access_ip_v6", s.clone(), "The first fixed IPv6 address, if any."),
            Attribute::computed("floating_ip", s.clone(), "The floating IP address (allocated, or the one `floating_ip_id` names), if any."),
            computed("addresses", Type::map(Type::list(s)), "Addresses per network name, as Nova reports them."),
        ],
        blocks: vec![
            NestedBlock::list("network", network, 1).requires_replace(),
            timeouts::block(&[CREATE, DELETE]),
        ],
        ..Block::default()
    };
    Schema::new(0, block)
}

/// The computed attributes from what Nova reports; nothing stays unknown.
pub fn with_server(
    mut m: InstanceModel,
    server: &Server,
    floating_ip: Option<String>,
) -> InstanceModel {
    let floating = floating_ip.or_else(|| {
        let mut all = server.addresses.values().flatten();
        all.find(|a| a.kind.as_deref() == Some("floating"))
            .map(|a| a.addr.clone())
    });
    let access_v4 = floating
        .clone()
        .or_else(|| server.fixed_ipv4())
        .or_else(|| (!server.access_ipv4.is_empty()).then(|| server.access_ipv4.clone()));
    m.id = server.id.clone().into();
    m.name = server.name.clone().into();
    m.status = server.status.clone().into();
    m.access_ip_v4 = access_v4.into();
    m.access_ip_v6 = server.fixed_ipv6().into();
    m.floating_ip = floating.into();
    let addresses = server
        .addresses
        .iter()
        .map(|(net, addrs)| (net.clone(), addrs.iter().map(|a| a.addr.clone()).collect()));
    m.addresses = Attr::Known(addresses.collect());
    if let Some(az) = &server.availability_zone {
        m.availability_zone = az.clone().into();
    }
    if let Some(flavor) = server.flavor_id() {
        m.flavor_id = flavor.into();
    }
    for block in m.network.items_mut() {
        if let (Some(name), false) = (block.name.as_str(), block.fixed_ip_v4.known().is_some()) {
            let fixed = server.addresses.get(name).and_then(|addrs| {
                addrs
                    .iter()
                    .find(|a| a.version == 4 && a.kind.as_deref() != Some("floating"))
            });
            block.fixed_ip_v4 = fixed.map(|a| a.addr.clone()).into();
        }
        for attr in [&mut block.uuid, &mut block.name, &mut block.fixed_ip_v4] {
            if attr.is_unknown() {
                *attr = Attr::Null;
            }
        }
    }
    m
}

/// The groups a server is in when `security_groups` is `groups` (null: Nova's default).
pub fn effective_groups(groups: &Attr<Vec<String>>) -> Vec<String> {
    match groups.known() {
        Some(list) => list.clone(),
        None => vec!["default".to_string()],
    }
}

/// The launch of `m` on behalf of the workspace `owner`.
pub fn launch_request(m: &InstanceModel, owner: &str) -> LaunchRequest {
    let text = |a: &Attr<String>| a.as_str().map(str::to_string);
    let networks =
        m.network
            .items()
            .iter()
            .map(|n| match (text(&n.port), text(&n.uuid), text(&n.name)) {
                (Some(port), _, _) => NetworkChoice::Port(port),
                (None, Some(uuid), _) => NetworkChoice::Uuid {
                    uuid,
                    fixed_ip_v4: text(&n.fixed_ip_v4),
                },
                (None, None, name) => NetworkChoice::Name {
                    name: name.unwrap_or_default(),
                    fixed_ip_v4: text(&n.fixed_ip_v4),
                },
            });
    LaunchRequest {
        name: m.name.str_or("").to_string(),
        image_id: m.image_id.str_or("").to_string(),
        flavor: match text(&m.flavor_id) {
            Some(id) => FlavorChoice::Id(id),
            None => FlavorChoice::Name(m.flavor_name.str_or("").to_string()),
        },
        key_name: text(&m.key_pair),
        user_data: text(&m.user_data_wo).or_else(|| text(&m.user_data)),
        networks: networks.collect(),
        security_groups: m.security_groups.items().to_vec(),
        metadata: m.metadata.known().cloned().unwrap_or_default(),
        availability_zone: text(&m.availability_zone),
        config_drive: m.config_drive.known_or(false),
        root_volume_size: m.root_volume_size.known().copied(),
        floating_ip_pool: text(&m.floating_ip_pool),
        create_limit: timeouts::limit(&m.timeouts, CREATE),
        delete_limit: timeouts::limit(&m.timeouts, DELETE),
        owner: owner.to_string(),
    }
}
