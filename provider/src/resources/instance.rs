//! `flatcar_instance`: a Flatcar server on Nova (user `core` via the key pair, Ignition
//! user data, networks, security groups, optional floating IP, metadata), created and
//! waited for properly: ACTIVE with capped backoff, ERROR reported with Nova's fault message
//! and the failed server deleted, deletes waited for until Nova answers 404.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostic, Diagnostics,
    NestedBlock, Nesting, PlanRequest, PlanResponse, Resource, Schema, Type, Value,
};

use crate::openstack::neutron::Neutron;
use crate::openstack::nova::{Flavor, NetworkAttachment, NewServer, Nova, Server};
use crate::openstack::CloudSession;
use crate::provider::ProviderState;
use crate::resources::polling::{poll, Backoff};
use crate::resources::{cloud_diag, ignition, timeouts};

pub struct InstanceResource {
    pub state: Arc<ProviderState>,
    /// The cloud's flavors, listed once per provider process: an apply of 30 instances asks
    /// Nova once instead of 30 times (a flavor missing from it is looked up again).
    flavors: tokio::sync::OnceCell<Vec<Flavor>>,
}

impl InstanceResource {
    pub fn new(state: Arc<ProviderState>) -> InstanceResource {
        InstanceResource {
            state,
            flavors: tokio::sync::OnceCell::new(),
        }
    }
}

const REPLACING: &[&str] = &[
    "image_id",
    "flavor_name",
    "flavor_id",
    "key_pair",
    "user_data",
    "security_groups",
    "availability_zone",
    "config_drive",
    "root_volume_size",
    "floating_ip_pool",
    "network",
];
const COMPUTED: &[&str] = &[
    "id",
    "access_ip_v4",
    "access_ip_v6",
    "floating_ip",
    "addresses",
    "status",
];
const CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

pub fn schema() -> Schema {
    let s = Type::String;
    let network = NestedBlock {
        type_name: "network".into(),
        block: Block {
            description: "A network to attach, by `uuid`, `name` or existing `port`; repeat the block for several networks.".into(),
            attributes: vec![
                Attribute::optional_computed("uuid", s.clone(), "Network ID."),
                Attribute::optional_computed("name", s.clone(), "Network name (must be unique in the project), e.g. Jetstream2's `auto_allocated_network`."),
                Attribute::optional("port", s.clone(), "An existing port to attach instead of a network."),
                Attribute::optional_computed("fixed_ip_v4", s.clone(), "Fixed IPv4 address to request; the one assigned after creation."),
            ],
            ..Block::default()
        },
        nesting: Nesting::List,
        min_items: 1,
        max_items: 0,
    };
    let mut block = Block {
        description: "A Flatcar Container Linux server on OpenStack Nova. Log in as `core` with the key pair; configure the machine with Ignition `user_data` (checked at plan time). Creation waits for `ACTIVE`; a server that ends in `ERROR` is reported with Nova's fault message and deleted. Name and metadata change in place; everything else replaces the server.".into(),
        attributes: vec![
            Attribute::required("name", s.clone(), "Server name. Changes in place."),
            Attribute::required("image_id", s.clone(), "Glance image ID, e.g. `flatcar_image.this.id`."),
            Attribute::optional_computed("flavor_name", s.clone(), "Flavor by name, e.g. Jetstream2's `m3.medium`. Set this or `flavor_id`."),
            Attribute::optional_computed("flavor_id", s.clone(), "Flavor by ID. Set this or `flavor_name`."),
            Attribute::optional("key_pair", s.clone(), "Nova key pair whose public key is installed for user `core`."),
            Attribute::optional("user_data", s.clone(), "Ignition config (JSON, version 2.x or 3.x), e.g. from `butane`. A cloud-config or broken JSON is an error at plan time."),
            Attribute::optional("security_groups", Type::set(s.clone()), "Security group names. Default: the project's `default` group."),
            Attribute::optional("metadata", Type::map(s.clone()), "Server metadata (key/value strings). Changes in place."),
            Attribute::optional_computed("availability_zone", s.clone(), "Availability zone."),
            Attribute::optional("config_drive", Type::Bool, "Attach a config drive (Ignition and metadata without the metadata service)."),
            Attribute::optional("root_volume_size", Type::Number, "Boot from a new volume of this many GB made from the image (needs Cinder); deleted with the server."),
            Attribute::optional("floating_ip_pool", s.clone(), "External network to allocate a floating IP from (Jetstream2: `public`); it is associated with the first port and released on delete."),
            Attribute::computed("id", s.clone(), "Server ID."),
            Attribute::computed("status", s.clone(), "Nova status (`ACTIVE`)."),
            Attribute::computed("access_ip_v4", s.clone(), "The floating IP when there is one, else the first fixed IPv4 address."),
            Attribute::computed("access_ip_v6", s.clone(), "The first fixed IPv6 address, if any."),
            Attribute::computed("floating_ip", s.clone(), "The allocated floating IP address, if any."),
            Attribute::computed("addresses", Type::map(Type::list(s)), "Addresses per network name, as Nova reports them."),
        ],
        ..Block::default()
    };
    block.blocks.push(network);
    block
        .blocks
        .push(timeouts::block(&[("create", "30m"), ("delete", "10m")]));
    Schema::new(0, block)
}

fn text(v: &Value, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_string)
}

fn networks(v: &Value) -> Vec<Value> {
    match v.get("network") {
        Value::List(items) => items.clone(),
        _ => Vec::new(),
    }
}

fn validate_config(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let (name, id) = (config.get("flavor_name"), config.get("flavor_id"));
    if name.is_null() && id.is_null() {
        diags.push(
            Diagnostic::error(
                "Missing flavor",
                "Set `flavor_name` (e.g. \"m3.medium\") or `flavor_id`.",
            )
            .at(AttributePath::root("flavor_name")),
        );
    }
    if !name.is_null() && !id.is_null() && !name.is_unknown() && !id.is_unknown() {
        diags.push(
            Diagnostic::error(
                "Conflicting flavor",
                "Set only one of `flavor_name` and `flavor_id`.",
            )
            .at(AttributePath::root("flavor_id")),
        );
    }
    if let Some(user_data) = config.get("user_data").as_str() {
        if let Err(reason) = ignition::check(user_data) {
            diags.push(
                Diagnostic::error("user_data is not an Ignition config", reason)
                    .at(AttributePath::root("user_data")),
            );
        }
    }
    for (i, network) in networks(config).iter().enumerate() {
        let set = ["uuid", "name", "port"]
            .iter()
            .filter(|k| !network.get(k).is_null())
            .count();
        if set != 1 && network.is_wholly_known() {
            diags.push(
                Diagnostic::error(
                    "Invalid network block",
                    "Give exactly one of `uuid`, `name` or `port`.",
                )
                .at(AttributePath::root("network").index(i as i64)),
            );
        }
    }
    if let Some(size) = config
        .get("root_volume_size")
        .as_number()
        .and_then(|n| n.as_i64())
    {
        if size <= 0 {
            diags.push(
                Diagnostic::error(
                    "Invalid root_volume_size",
                    "Give the volume size in GB, at least 1.",
                )
                .at(AttributePath::root("root_volume_size")),
            );
        }
    }
    timeouts::validate(config, &mut diags);
    diags
}

/// Computed attributes of the state from what Nova reports.
fn apply_server(state: &mut Value, server: &Server, floating_ip: Option<String>) {
    state.set("id", Value::string(&server.id));
    state.set("name", Value::string(&server.name));
    state.set("status", Value::string(&server.status));
    let floating = floating_ip.or_else(|| {
        server
            .addresses
            .values()
            .flatten()
            .find(|a| a.kind.as_deref() == Some("floating"))
            .map(|a| a.addr.clone())
    });
    let access_v4 = floating
        .clone()
        .or_else(|| server.fixed_ipv4())
        .or_else(|| (!server.access_ipv4.is_empty()).then(|| server.access_ipv4.clone()));
    let opt = |v: Option<String>| v.map(Value::String).unwrap_or(Value::Null);
    state.set("access_ip_v4", opt(access_v4));
    state.set("access_ip_v6", opt(server.fixed_ipv6()));
    state.set("floating_ip", opt(floating));
    state.set(
        "addresses",
        Value::Map(
            server
                .addresses
                .iter()
                .map(|(net, addrs)| {
                    (
                        net.clone(),
                        Value::List(addrs.iter().map(|a| Value::string(&a.addr)).collect()),
                    )
                })
                .collect(),
        ),
    );
    if let Some(az) = &server.availability_zone {
        state.set("availability_zone", Value::string(az));
    }
    if let Some(flavor) = server.flavor_id() {
        state.set("flavor_id", Value::string(flavor));
    }
    // Fixed addresses of the network blocks, by network name; nothing stays unknown.
    if let Value::List(blocks) = state.get("network").clone() {
        let filled = blocks
            .into_iter()
            .map(|mut block| {
                if let Some(name) = block.get("name").as_str().map(str::to_string) {
                    let missing =
                        block.get("fixed_ip_v4").is_null() || block.get("fixed_ip_v4").is_unknown();
                    if missing {
                        let ip = server.addresses.get(&name).and_then(|addrs| {
                            addrs
                                .iter()
                                .find(|a| a.version == 4 && a.kind.as_deref() != Some("floating"))
                        });
                        block.set("fixed_ip_v4", opt(ip.map(|a| a.addr.clone())));
                    }
                }
                for key in ["uuid", "name", "fixed_ip_v4"] {
                    if block.get(key).is_unknown() {
                        block.set(key, Value::Null);
                    }
                }
                block
            })
            .collect();
        state.set("network", Value::List(filled));
    }
}

impl InstanceResource {
    async fn flavor_id(
        &self,
        cloud: &CloudSession,
        planned: &Value,
    ) -> Result<(String, String), Diagnostics> {
        let list = || async {
            Nova::new(cloud)
                .flavors()
                .await
                .map_err(|e| cloud_diag(&e, "Cannot list flavors"))
        };
        let cached = self.flavors.get_or_try_init(list).await?;
        let wanted_known = |f: &Flavor| match text(planned, "flavor_id") {
            Some(id) => f.id == id,
            None => Some(&f.name) == text(planned, "flavor_name").as_ref(),
        };
        let fresh;
        let flavors = if cached.iter().any(wanted_known) {
            cached
        } else {
            fresh = list().await?;
            &fresh
        };
        if let Some(id) = text(planned, "flavor_id") {
            let name = flavors
                .iter()
                .find(|f| f.id == id)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            return Ok((id, name));
        }
        let wanted = text(planned, "flavor_name").unwrap_or_default();
        flavors
            .iter()
            .find(|f| f.name == wanted)
            .map(|f| (f.id.clone(), f.name.clone()))
            .ok_or_else(|| {
                let names: Vec<&str> = flavors.iter().map(|f| f.name.as_str()).collect();
                Diagnostic::error(
                    "Unknown flavor",
                    format!(
                        "The cloud has no flavor named {wanted:?}. Available: {}.",
                        names.join(", ")
                    ),
                )
                .at(AttributePath::root("flavor_name"))
                .into()
            })
    }

    async fn attachments(
        &self,
        cloud: &CloudSession,
        planned: &Value,
    ) -> Result<Vec<NetworkAttachment>, Diagnostics> {
        let neutron = Neutron::new(cloud);
        let mut out = Vec::new();
        for (i, block) in networks(planned).iter().enumerate() {
            let at = || AttributePath::root("network").index(i as i64);
            if let Some(port) = text(block, "port") {
                out.push(NetworkAttachment::Port(port));
                continue;
            }
            let uuid = match (text(block, "uuid"), text(block, "name")) {
                (Some(uuid), _) => uuid,
                (None, Some(name)) => {
                    let found = neutron
                        .networks_named(&name)
                        .await
                        .map_err(|e| cloud_diag(&e, "Cannot look up the network"))?;
                    match found.as_slice() {
                        [one] => one.id.clone(),
                        [] => {
                            return Err(Diagnostic::error(
                                "Unknown network",
                                format!("No network named {name:?} is visible to the project."),
                            )
                            .at(at().attribute("name"))
                            .into())
                        }
                        _ => {
                            return Err(Diagnostic::error(
                                "Ambiguous network",
                                format!("Several networks are named {name:?}; use `uuid`."),
                            )
                            .at(at().attribute("name"))
                            .into())
                        }
                    }
                }
                (None, None) => {
                    return Err(Diagnostic::error(
                        "Invalid network block",
                        "Give `uuid`, `name` or `port`.",
                    )
                    .at(at())
                    .into())
                }
            };
            out.push(NetworkAttachment::Network {
                uuid,
                fixed_ip_v4: text(block, "fixed_ip_v4"),
            });
        }
        Ok(out)
    }

    async fn create(&self, planned: &Value) -> ApplyResponse {
        let result = async {
            let cloud = self.state.cloud().await?;
            let (flavor_id, flavor_name) = self.flavor_id(&cloud, planned).await?;
            let networks = self.attachments(&cloud, planned).await?;
            let attached = networks.clone();
            let pool_network = match text(planned, "floating_ip_pool") {
                Some(pool) => {
                    let found = Neutron::new(&cloud).networks_named(&pool).await.map_err(|e| cloud_diag(&e, "Cannot look up the floating IP pool"))?;
                    Some(found.first().map(|n| n.id.clone()).ok_or_else(|| {
                        Diagnostic::error("Unknown floating IP pool", format!("No external network named {pool:?}.")).at(AttributePath::root("floating_ip_pool"))
                    })?)
                }
                None => None,
            };
            let new = NewServer {
                name: text(planned, "name").unwrap_or_default(),
                image_id: text(planned, "image_id").unwrap_or_default(),
                flavor_id: flavor_id.clone(),
                key_name: text(planned, "key_pair"),
                user_data: text(planned, "user_data"),
                networks,
                security_groups: match planned.get("security_groups") {
                    Value::List(groups) => groups.iter().filter_map(|g| g.as_str().map(str::to_string)).collect(),
                    _ => Vec::new(),
                },
                metadata: planned.get("metadata").as_string_map().unwrap_or_default(),
                availability_zone: text(planned, "availability_zone"),
                config_drive: planned.get("config_drive").as_bool().unwrap_or(false),
                root_volume_size: planned.get("root_volume_size").as_number().and_then(|n| n.as_i64()),
            };
            let nova = Nova::new(&cloud);
            let id = nova.create(&new).await.map_err(|e| cloud_diag(&e, "Nova refused to create the server"))?;
            tracing::info!(%id, name = %new.name, "server created; waiting for ACTIVE");
            let limit = timeouts::get(planned, "create", CREATE_TIMEOUT);
            let outcome = tokio::select! {
                r = tokio::time::timeout(limit, self.finish_create(&cloud, &id, pool_network.as_deref())) => match r {
                    Ok(result) => result,
                    Err(_) => Err(Diagnostic::error("Server creation timed out", format!("Server {id} was not ACTIVE within {limit:?} (timeouts.create). It has been deleted.")).into()),
                },
                _ = self.state.stop.stopped() => Err(Diagnostic::error("Server creation cancelled", "Terraform asked the provider to stop. The server has been deleted.").into()),
            };
            match outcome {
                Ok((server, floating)) => {
                    let mut state = planned.clone();
                    state.set("flavor_name", Value::string(flavor_name));
                    state.set("flavor_id", Value::string(flavor_id));
                    self.name_networks(&cloud, &mut state, &attached).await;
                    apply_server(&mut state, &server, floating);
                    Ok(state)
                }
                Err(mut diags) => {
                    if let Err(cleanup) = self.destroy(&cloud, &id, pool_network.is_some(), None, timeouts::get(planned, "delete", DELETE_TIMEOUT)).await {
                        diags.extend(cleanup);
                    }
                    Err(diags)
                }
            }
        }
        .await;
        ApplyResponse::from_result(result, Value::Null)
    }

    /// Fills `uuid` and `name` of the network blocks from what was attached.
    async fn name_networks(
        &self,
        cloud: &CloudSession,
        state: &mut Value,
        attached: &[NetworkAttachment],
    ) {
        let Value::List(blocks) = state.get("network").clone() else {
            return;
        };
        let neutron = Neutron::new(cloud);
        let mut filled = Vec::with_capacity(blocks.len());
        for (mut block, attachment) in blocks.into_iter().zip(attached) {
            if let NetworkAttachment::Network { uuid, .. } = attachment {
                block.set("uuid", Value::string(uuid));
                if block.get("name").is_unknown() || block.get("name").is_null() {
                    let name = neutron
                        .network(uuid)
                        .await
                        .ok()
                        .map(|n| Value::String(n.name))
                        .unwrap_or(Value::Null);
                    block.set("name", name);
                }
            }
            filled.push(block);
        }
        state.set("network", Value::List(filled));
    }

    /// Waits for ACTIVE (capped backoff), then allocates and associates the floating IP.
    async fn finish_create(
        &self,
        cloud: &CloudSession,
        id: &str,
        pool: Option<&str>,
    ) -> Result<(Server, Option<String>), Diagnostics> {
        let nova = Nova::new(cloud);
        // Short first polls (a small server on a quiet cloud is ACTIVE in seconds), then at
        // most every 5 s: a boot is seen at most 5 s late, at 0.2 GET/s per server.
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let server = poll(backoff, || async {
            match nova
                .get(id)
                .await
                .map_err(|e| cloud_diag(&e, "Cannot read the server"))?
            {
                Some(server) if server.status == "ACTIVE" => Ok::<_, Diagnostics>(Some(server)),
                Some(server) if server.status == "ERROR" => {
                    let fault = server
                        .fault
                        .map(|f| f.message)
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "Nova gave no fault message".into());
                    Err(Diagnostic::error(
                        "The server failed to build",
                        format!(
                            "Nova put server {id} in ERROR: {fault}. The server has been deleted."
                        ),
                    )
                    .into())
                }
                Some(_) => Ok(None),
                None => Err(Diagnostic::error(
                    "The server disappeared",
                    format!("Server {id} was deleted while it was being built."),
                )
                .into()),
            }
        })
        .await?;
        let Some(pool) = pool else {
            return Ok((server, None));
        };
        let neutron = Neutron::new(cloud);
        let port = neutron
            .ports_of_device(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot find the server's port"))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Diagnostic::error(
                    "No port for the floating IP",
                    format!("Server {id} has no port to associate a floating IP with."),
                )
            })?;
        let fip = neutron
            .allocate_floating_ip(
                pool,
                &port.id,
                &format!("flatcar_instance {} ({id})", server.name),
            )
            .await
            .map_err(|e| cloud_diag(&e, "Cannot allocate a floating IP"))?;
        tracing::info!(%id, ip = %fip.floating_ip_address, "floating IP associated");
        let server = nova
            .get(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot read the server"))?
            .unwrap_or(server);
        Ok((server, Some(fip.floating_ip_address)))
    }

    /// Releases the floating IPs this resource allocated (when `owns_floating_ip`), deletes
    /// the server and waits for 404.
    async fn destroy(
        &self,
        cloud: &CloudSession,
        id: &str,
        owns_floating_ip: bool,
        floating_ip: Option<&str>,
        limit: Duration,
    ) -> Result<(), Diagnostics> {
        let neutron = Neutron::new(cloud);
        // Floating IPs on the server's ports (Nova may not list a fresh one yet), and the
        // one recorded in state (it may already be detached).
        let mut fips = Vec::new();
        let ports = if owns_floating_ip {
            neutron
                .ports_of_device(id)
                .await
                .map_err(|e| cloud_diag(&e, "Cannot list the server's ports"))?
        } else {
            Vec::new()
        };
        for port in ports {
            fips.extend(
                neutron
                    .floating_ips_on_port(&port.id)
                    .await
                    .map_err(|e| cloud_diag(&e, "Cannot look up floating IPs"))?,
            );
        }
        if let Some(address) = floating_ip.filter(|_| owns_floating_ip) {
            fips.extend(
                neutron
                    .floating_ips_at(address)
                    .await
                    .map_err(|e| cloud_diag(&e, "Cannot look up the floating IP"))?,
            );
        }
        let mut released = std::collections::BTreeSet::new();
        for fip in fips {
            if released.insert(fip.id.clone()) {
                neutron
                    .release_floating_ip(&fip.id)
                    .await
                    .map_err(|e| cloud_diag(&e, "Cannot release the floating IP"))?;
            }
        }
        let nova = Nova::new(cloud);
        nova.delete(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot delete the server"))?;
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let gone = tokio::time::timeout(
            limit,
            poll(backoff, || async {
                let server = nova
                    .get(id)
                    .await
                    .map_err(|e| cloud_diag(&e, "Cannot read the server being deleted"))?;
                Ok::<_, Diagnostics>(server.is_none().then_some(()))
            }),
        )
        .await;
        gone.map_err(|_| Diagnostics::from(Diagnostic::error("Server deletion timed out", format!("Server {id} still exists after {limit:?} (timeouts.delete); delete it by hand (openstack server delete {id})."))))?
    }
}

#[async_trait]
impl Resource for InstanceResource {
    fn type_name(&self) -> &'static str {
        "flatcar_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(config)
    }

    async fn plan(&self, request: PlanRequest<'_>) -> PlanResponse {
        let mut planned = request.proposed_new_state;
        let create = request.prior_state.is_null();
        let mut response = PlanResponse::default();
        let replace: Vec<&str> = if create {
            Vec::new()
        } else {
            REPLACING
                .iter()
                .copied()
                .filter(|k| request.prior_state.get(k) != planned.get(k))
                .collect()
        };
        if create || !replace.is_empty() {
            for key in COMPUTED {
                planned.set(key, Value::Unknown);
            }
            for key in ["flavor_name", "flavor_id", "availability_zone"] {
                if request.config.get(key).is_null() {
                    planned.set(key, Value::Unknown);
                }
            }
            if let Value::List(blocks) = planned.get("network").clone() {
                let blocks = blocks
                    .into_iter()
                    .zip(
                        networks(request.config)
                            .into_iter()
                            .map(Some)
                            .chain(std::iter::repeat(None)),
                    )
                    .map(|(mut block, config)| {
                        for key in ["uuid", "name", "fixed_ip_v4"] {
                            let configured = config
                                .as_ref()
                                .map(|c| !c.get(key).is_null())
                                .unwrap_or(false);
                            if !configured {
                                block.set(key, Value::Unknown);
                            }
                        }
                        block
                    })
                    .collect();
                planned.set("network", Value::List(blocks));
            }
        }
        response.requires_replace = replace.into_iter().map(AttributePath::root).collect();
        response.planned_state = planned;
        response
    }

    async fn apply(&self, request: ApplyRequest<'_>) -> ApplyResponse {
        if request.planned_state.is_null() {
            let result = async {
                let Some(id) = text(request.prior_state, "id") else {
                    return Ok(());
                };
                let cloud = self.state.cloud().await?;
                self.destroy(
                    &cloud,
                    &id,
                    !request.prior_state.get("floating_ip_pool").is_null(),
                    request.prior_state.get("floating_ip").as_str(),
                    timeouts::get(request.prior_state, "delete", DELETE_TIMEOUT),
                )
                .await
            }
            .await;
            return ApplyResponse::from_result(
                result.map(|()| Value::Null),
                request.prior_state.clone(),
            );
        }
        if request.prior_state.is_null() {
            return self.create(request.planned_state).await;
        }
        let (prior, planned) = (request.prior_state, request.planned_state);
        let result = async {
            let id = text(prior, "id").unwrap_or_default();
            let cloud = self.state.cloud().await?;
            let nova = Nova::new(&cloud);
            if prior.get("name") != planned.get("name") {
                nova.rename(&id, &text(planned, "name").unwrap_or_default()).await.map_err(|e| cloud_diag(&e, "Cannot rename the server"))?;
            }
            if prior.get("metadata") != planned.get("metadata") {
                let metadata = planned.get("metadata").as_string_map().unwrap_or_default();
                nova.set_metadata(&id, &metadata).await.map_err(|e| cloud_diag(&e, "Cannot update the server metadata"))?;
            }
            let server = nova.get(&id).await.map_err(|e| cloud_diag(&e, "Cannot read the server"))?.ok_or_else(|| {
                Diagnostic::error("The server is gone", format!("Server {id} no longer exists; run `terraform apply` again to recreate it."))
            })?;
            let mut state = planned.clone();
            apply_server(&mut state, &server, text(prior, "floating_ip"));
            Ok::<_, Diagnostics>(state)
        }
        .await;
        ApplyResponse::from_result(result, prior.clone())
    }

    async fn read(&self, state: &Value) -> Result<Value, Diagnostics> {
        let Some(id) = text(state, "id") else {
            return Ok(Value::Null);
        };
        let cloud = self.state.cloud().await?;
        match Nova::new(&cloud).get(&id).await {
            Ok(Some(server)) => {
                let mut next = state.clone();
                let metadata: BTreeMap<String, Value> = server
                    .metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::string(v)))
                    .collect();
                if !(state.get("metadata").is_null() && metadata.is_empty()) {
                    next.set("metadata", Value::Map(metadata));
                }
                if let Some(key) = &server.key_name {
                    next.set("key_pair", Value::string(key));
                }
                if let Some(image) = server.image_id().filter(|i| !i.is_empty()) {
                    next.set("image_id", Value::string(image));
                }
                apply_server(&mut next, &server, text(state, "floating_ip"));
                Ok(next)
            }
            Ok(None) => {
                tracing::warn!(%id, "server is gone; removing it from state");
                Ok(Value::Null)
            }
            Err(e) => Err(cloud_diag(&e, "Cannot read the server")),
        }
    }

    async fn import(&self, id: &str) -> Result<Value, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let server = Nova::new(&cloud)
            .get(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot read the server"))?
            .ok_or_else(|| {
                Diagnostic::error(
                    "No such server",
                    format!(
                        "Nova has no server with ID {id:?}. Check it with `openstack server list`."
                    ),
                )
            })?;
        let flavors = Nova::new(&cloud)
            .flavors()
            .await
            .map_err(|e| cloud_diag(&e, "Cannot list flavors"))?;
        let flavor_name = server
            .flavor_id()
            .and_then(|fid| flavors.iter().find(|f| f.id == fid).map(|f| f.name.clone()));
        let neutron = Neutron::new(&cloud);
        let mut blocks = Vec::new();
        for (name, addrs) in &server.addresses {
            let uuid = neutron
                .networks_named(name)
                .await
                .ok()
                .and_then(|n| n.first().map(|n| n.id.clone()));
            let fixed = addrs
                .iter()
                .find(|a| a.version == 4 && a.kind.as_deref() != Some("floating"))
                .map(|a| a.addr.clone());
            blocks.push(Value::object([
                ("uuid", uuid.map(Value::String).unwrap_or(Value::Null)),
                ("name", Value::string(name)),
                ("port", Value::Null),
                (
                    "fixed_ip_v4",
                    fixed.map(Value::String).unwrap_or(Value::Null),
                ),
            ]));
        }
        // A floating IP on the server's ports (Nova may not list it): its pool is the
        // external network it came from.
        let (mut pool, mut floating) = (None, None);
        for port in neutron
            .ports_of_device(id)
            .await
            .map_err(|e| cloud_diag(&e, "Cannot list the server's ports"))?
        {
            if let Some(fip) = neutron
                .floating_ips_on_port(&port.id)
                .await
                .ok()
                .and_then(|f| f.into_iter().next())
            {
                pool = neutron
                    .network(&fip.floating_network_id)
                    .await
                    .ok()
                    .map(|n| n.name);
                floating = Some(fip.floating_ip_address);
            }
        }
        let opt = |v: Option<String>| v.map(Value::String).unwrap_or(Value::Null);
        let mut state = Value::object([
            ("image_id", opt(server.image_id())),
            ("flavor_name", opt(flavor_name)),
            ("key_pair", opt(server.key_name.clone())),
            ("user_data", opt(server.user_data())),
            ("security_groups", Value::Null),
            (
                "metadata",
                if server.metadata.is_empty() {
                    Value::Null
                } else {
                    Value::Map(
                        server
                            .metadata
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::string(v)))
                            .collect(),
                    )
                },
            ),
            ("config_drive", Value::Null),
            ("root_volume_size", Value::Null),
            ("floating_ip_pool", opt(pool)),
            ("network", Value::List(blocks)),
            ("timeouts", Value::Null),
        ]);
        apply_server(&mut state, &server, floating);
        Ok(state)
    }
}
