//! The choreography of a server's life on Nova and Neutron: resolve the flavor (listed once
//! per process) and the networks, launch, wait for ACTIVE with capped backoff, allocate and
//! associate a floating IP, and destroy-and-wait (floating IPs released first). A server that
//! fails to build, times out or is cancelled is deleted before the error is returned. A server
//! carries the [`create_marker`] marks in its metadata until its launch finished; a launch
//! first deletes what a killed launch of the same name left (the server and its floating IPs).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::backoff::{poll, Backoff};
use crate::create_marker;
use crate::http::StopSignal;
use crate::openstack::neutron::{FloatingIp, Neutron};
use crate::openstack::nova::{Flavor, NetworkAttachment, NewServer, Nova, Server};
use crate::openstack::{CloudError, CloudSession, DeleteError};

/// The start of the description of every floating IP a launch allocates (then the server's
/// name and ID).
pub const FLOATING_IP_DESCRIPTION: &str = "flatcar_instance";

/// Which flavor: by ID or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlavorChoice {
    Id(String),
    Name(String),
}

/// One network of a new server: a network by ID or unique name, or an existing port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkChoice {
    Uuid {
        uuid: String,
        fixed_ip_v4: Option<String>,
    },
    Name {
        name: String,
        fixed_ip_v4: Option<String>,
    },
    Port(String),
}

/// Everything a launch needs.
#[derive(Debug, Clone)]
pub struct LaunchRequest {
    pub name: String,
    pub image_id: String,
    pub flavor: FlavorChoice,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub networks: Vec<NetworkChoice>,
    pub security_groups: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub availability_zone: Option<String>,
    pub config_drive: bool,
    pub root_volume_size: Option<i64>,
    /// External network to allocate a floating IP from.
    pub floating_ip_pool: Option<String>,
    /// ACTIVE (and the floating IP) within this, else the server is deleted.
    pub create_limit: Duration,
    /// How long the clean-up of a failed launch may wait for the delete.
    pub delete_limit: Duration,
    /// Whose server it is (the caller's workspace identity): part of the create key, so a
    /// launch never adopts or deletes another owner's server of the same name.
    pub owner: String,
}

/// A network as attached: what the request named, filled in from Neutron.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttachedNetwork {
    pub uuid: Option<String>,
    pub name: Option<String>,
}

/// A server that is ACTIVE.
#[derive(Debug, Clone)]
pub struct Launched {
    pub server: Server,
    pub flavor: Flavor,
    /// One per requested network, in order.
    pub networks: Vec<AttachedNetwork>,
    pub floating_ip: Option<String>,
}

/// A server as found, with what import needs besides Nova's answer.
#[derive(Debug, Clone)]
pub struct ServerDescription {
    pub server: Server,
    pub flavor_name: Option<String>,
    /// (network name, network ID if unique, fixed IPv4) per network of the server.
    pub networks: Vec<(String, Option<String>, Option<String>)>,
    pub floating_ip: Option<String>,
    /// Name of the external network the floating IP came from.
    pub floating_ip_pool: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// A Nova or Neutron call failed; `context` says which.
    #[error("{context}: {source}")]
    Cloud {
        context: &'static str,
        source: CloudError,
    },
    #[error("the cloud has no flavor named {wanted:?}; available: {}", available.join(", "))]
    UnknownFlavor {
        wanted: String,
        available: Vec<String>,
    },
    #[error("no network named {name:?} is visible to the project")]
    UnknownNetwork { index: usize, name: String },
    #[error("several networks are named {name:?}")]
    AmbiguousNetwork { index: usize, name: String },
    #[error("no external network named {0:?}")]
    UnknownPool(String),
    #[error("server {0} has no port to associate a floating IP with")]
    NoPort(String),
    #[error("the project has no floating IP {0:?} (by ID or address)")]
    NoFloatingIp(String),
    #[error("Nova put server {id} in ERROR: {fault}")]
    BuildFailed { id: String, fault: String },
    #[error("server {0} was deleted while it was being built")]
    Disappeared(String),
    #[error("the connection to Nova was lost while creating server {name:?} ({reason}), and Nova has no server of this create (looked up by name and create marks): nothing was made; run the apply again")]
    AnswerLost { name: String, reason: String },
    #[error("server {id} was not ACTIVE within {limit:?}")]
    TimedOut { id: String, limit: Duration },
    #[error("cancelled because a stop was requested")]
    Cancelled,
    #[error("server {0} no longer exists")]
    Gone(String),
    #[error(transparent)]
    Delete(#[from] DeleteError),
}

/// A failed launch: why, and what went wrong deleting the half-made server, if anything.
#[derive(Debug)]
pub struct LaunchFailure {
    pub error: ComputeError,
    /// The server the launch made, when it got that far.
    pub server_id: Option<String>,
    /// Why deleting that server failed; None: it is gone (Nova answered 404).
    pub cleanup: Option<ComputeError>,
}

impl From<ComputeError> for LaunchFailure {
    fn from(error: ComputeError) -> LaunchFailure {
        LaunchFailure {
            error,
            server_id: None,
            cleanup: None,
        }
    }
}

fn cloud(context: &'static str) -> impl FnOnce(CloudError) -> ComputeError {
    move |source| ComputeError::Cloud { context, source }
}

/// The cloud's flavors, listed once per process: an apply of 30 servers asks Nova once
/// instead of 30 times (a flavor missing from it is looked up again).
#[derive(Debug, Default)]
pub struct FlavorCache(OnceCell<Vec<Flavor>>);

/// Server operations against one session.
pub struct Compute<'a> {
    session: &'a CloudSession,
    flavors: &'a FlavorCache,
    stop: &'a StopSignal,
}

impl<'a> Compute<'a> {
    pub fn new(session: &'a CloudSession, flavors: &'a FlavorCache, stop: &'a StopSignal) -> Self {
        Compute {
            session,
            flavors,
            stop,
        }
    }

    fn nova(&self) -> Nova<'a> {
        Nova::new(self.session)
    }

    fn neutron(&self) -> Neutron<'a> {
        Neutron::new(self.session)
    }

    /// The flavor to boot; a name is looked up, an ID is taken as given.
    pub async fn flavor(&self, choice: &FlavorChoice) -> Result<Flavor, ComputeError> {
        let list = || async {
            self.nova()
                .flavors()
                .await
                .map_err(cloud("Cannot list flavors"))
        };
        let cached = self.flavors.0.get_or_try_init(list).await?;
        let matches = |f: &Flavor| match choice {
            FlavorChoice::Id(id) => &f.id == id,
            FlavorChoice::Name(name) => &f.name == name,
        };
        let fresh;
        let flavors = if cached.iter().any(matches) {
            cached
        } else {
            fresh = list().await?;
            &fresh
        };
        match (choice, flavors.iter().find(|f| matches(f))) {
            (_, Some(found)) => Ok(found.clone()),
            (FlavorChoice::Id(id), None) => Ok(Flavor {
                id: id.clone(),
                name: String::new(),
            }),
            (FlavorChoice::Name(wanted), None) => Err(ComputeError::UnknownFlavor {
                wanted: wanted.clone(),
                available: flavors.iter().map(|f| f.name.clone()).collect(),
            }),
        }
    }

    async fn network_named(&self, index: usize, name: &str) -> Result<String, ComputeError> {
        let found = self
            .neutron()
            .networks_named(name)
            .await
            .map_err(cloud("Cannot look up the network"))?;
        match found.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(ComputeError::UnknownNetwork {
                index,
                name: name.to_string(),
            }),
            _ => Err(ComputeError::AmbiguousNetwork {
                index,
                name: name.to_string(),
            }),
        }
    }

    async fn attachments(
        &self,
        networks: &[NetworkChoice],
    ) -> Result<Vec<NetworkAttachment>, ComputeError> {
        let mut out = Vec::with_capacity(networks.len());
        for (index, choice) in networks.iter().enumerate() {
            out.push(match choice {
                NetworkChoice::Port(port) => NetworkAttachment::Port(port.clone()),
                NetworkChoice::Uuid { uuid, fixed_ip_v4 } => NetworkAttachment::Network {
                    uuid: uuid.clone(),
                    fixed_ip_v4: fixed_ip_v4.clone(),
                },
                NetworkChoice::Name { name, fixed_ip_v4 } => NetworkAttachment::Network {
                    uuid: self.network_named(index, name).await?,
                    fixed_ip_v4: fixed_ip_v4.clone(),
                },
            });
        }
        Ok(out)
    }

    /// Boots a server and waits for it; on any failure the server is deleted.
    pub async fn launch(&self, request: &LaunchRequest) -> Result<Launched, LaunchFailure> {
        let flavor = self.flavor(&request.flavor).await?;
        let attachments = self.attachments(&request.networks).await?;
        let pool_network = match &request.floating_ip_pool {
            Some(pool) => Some(
                self.neutron()
                    .networks_named(pool)
                    .await
                    .map_err(cloud("Cannot look up the floating IP pool"))?
                    .first()
                    .map(|n| n.id.clone())
                    .ok_or_else(|| ComputeError::UnknownPool(pool.clone()))?,
            ),
            None => None,
        };
        let key = create_marker::key(&["flatcar_instance", &request.owner, &request.name]);
        let mut new = NewServer {
            name: request.name.clone(),
            image_id: request.image_id.clone(),
            flavor_id: flavor.id.clone(),
            key_name: request.key_name.clone(),
            user_data: request.user_data.clone(),
            networks: attachments.clone(),
            security_groups: request.security_groups.clone(),
            metadata: request.metadata.clone(),
            availability_zone: request.availability_zone.clone(),
            config_drive: request.config_drive,
            root_volume_size: request.root_volume_size,
        };
        // What the server is built from, marks aside: an interrupted create's server that
        // is ACTIVE and was built from the same request is adopted, not built again.
        let body = new
            .body()
            .map_err(cloud("Cannot write the server request"))?;
        let digest = create_marker::key(&[
            &body.to_string(),
            request.floating_ip_pool.as_deref().unwrap_or(""),
        ]);
        let adoptable = self
            .clear_leftovers(&request.name, &key, &digest, request.delete_limit)
            .await?;
        new.metadata.extend(create_marker::marks(&key));
        new.metadata
            .insert(create_marker::CREATE_REQUEST.into(), digest);
        let adopted = adoptable.is_some();
        let id = match adoptable {
            Some(id) => {
                tracing::warn!(%id, name = %new.name, "adopting the server an interrupted create built from the same request");
                id
            }
            None => {
                let id = match self.nova().create(&new).await {
                    Ok(id) => id,
                    Err(CloudError::Transport { reason, .. }) => {
                        // The request may have reached Nova: a server with this attempt's
                        // marks is ours, and the launch goes on with it.
                        let attempt = new
                            .metadata
                            .get(create_marker::CREATE_ATTEMPT)
                            .cloned()
                            .unwrap_or_default();
                        self.find_after_lost_answer(&new.name, &attempt, &reason)
                            .await?
                    }
                    Err(e) => return Err(cloud("Nova refused to create the server")(e).into()),
                };
                tracing::info!(%id, name = %new.name, "server created; waiting for ACTIVE");
                id
            }
        };
        let limit = request.create_limit;
        let outcome = tokio::select! {
            r = tokio::time::timeout(limit, self.finish_launch(&id, pool_network.as_deref(), adopted)) => {
                r.unwrap_or_else(|_| Err(ComputeError::TimedOut { id: id.clone(), limit }))
            }
            _ = self.stop.stopped() => Err(ComputeError::Cancelled),
        };
        let outcome = match outcome {
            Ok(launched) => self
                .nova()
                .set_metadata_item(&id, create_marker::CREATE_STATE, create_marker::CREATED)
                .await
                .map(|()| launched)
                .map_err(cloud("Cannot mark the server as created")),
            Err(e) => Err(e),
        };
        match outcome {
            Ok((server, floating_ip)) => Ok(Launched {
                networks: self
                    .describe_attachments(&request.networks, &attachments)
                    .await,
                server,
                flavor,
                floating_ip,
            }),
            Err(error) => {
                // Clean-up runs to the end even after a stop: only then is "deleted" true.
                let session = self.session.for_cleanup().await;
                let cleaner = Compute::new(&session, self.flavors, self.stop);
                let cleanup = cleaner
                    .destroy(&id, pool_network.is_some(), None, request.delete_limit)
                    .await
                    .err();
                Err(LaunchFailure {
                    error,
                    server_id: Some(id),
                    cleanup,
                })
            }
        }
    }

    /// Every server named `name`, read in full (metadata included); `context` names the look-up
    /// in errors.
    async fn servers_named(
        &self,
        name: &str,
        context: &'static str,
    ) -> Result<Vec<Server>, ComputeError> {
        let mut servers = Vec::new();
        for id in self.nova().ids_named(name).await.map_err(cloud(context))? {
            if let Some(server) = self.get(&id).await? {
                servers.push(server);
            }
        }
        Ok(servers)
    }

    /// After the connection was lost during the server POST: the server this attempt made, if
    /// Nova made one (found by name and this attempt's mark), else an error that says so.
    async fn find_after_lost_answer(
        &self,
        name: &str,
        attempt: &str,
        reason: &str,
    ) -> Result<String, ComputeError> {
        tracing::warn!(%name, %reason, "the connection was lost during the server create; asking Nova whether it made the server");
        let servers = self
            .servers_named(
                name,
                "Cannot look for the server after the connection was lost",
            )
            .await?;
        let ours = servers.into_iter().find(|server| {
            server
                .metadata
                .get(create_marker::CREATE_ATTEMPT)
                .is_some_and(|a| !attempt.is_empty() && a == attempt)
        });
        if let Some(server) = ours {
            tracing::info!(id = %server.id, %name, "Nova made the server although its answer was lost; going on with it");
            return Ok(server.id);
        }
        Err(ComputeError::AnswerLost {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    }

    /// Clears what a killed launch of `name` left (servers still marked `creating`): the first
    /// one that is ACTIVE and was built from `request` (its digest) is returned for adoption,
    /// with its floating IP; the others are deleted with theirs, and so are the floating IPs
    /// such a launch allocated for `name` that are attached to nothing.
    async fn clear_leftovers(
        &self,
        name: &str,
        key: &str,
        request: &str,
        limit: Duration,
    ) -> Result<Option<String>, ComputeError> {
        let servers = self
            .servers_named(name, "Cannot look for servers of an interrupted create")
            .await?;
        let mut adoptable = None;
        for server in servers
            .iter()
            .filter(|s| create_marker::is_leftover(&s.metadata, key))
        {
            let built_from_request = server.status == "ACTIVE"
                && server
                    .metadata
                    .get(create_marker::CREATE_REQUEST)
                    .map(String::as_str)
                    == Some(request);
            if adoptable.is_none() && built_from_request {
                adoptable = Some(server.id.clone());
                continue;
            }
            tracing::warn!(id = %server.id, status = %server.status, "deleting a server an interrupted create left behind");
            self.destroy(&server.id, true, None, limit).await?;
        }
        let neutron = self.neutron();
        let ours = format!("{} {name} (", FLOATING_IP_DESCRIPTION);
        for fip in neutron
            .all_floating_ips()
            .await
            .map_err(cloud(
                "Cannot look for floating IPs of an interrupted create",
            ))?
            .iter()
            .filter(|f| f.port_id.is_none())
            .filter(|f| {
                f.description
                    .as_deref()
                    .is_some_and(|d| d.starts_with(&ours))
            })
        {
            tracing::warn!(ip = %fip.floating_ip_address, "releasing a floating IP an interrupted create left behind");
            neutron.release_floating_ip(&fip.id).await.map_err(cloud(
                "Cannot release a floating IP an interrupted create left",
            ))?;
        }
        Ok(adoptable)
    }

    /// The uuid and name of each requested network, as attached.
    async fn describe_attachments(
        &self,
        requested: &[NetworkChoice],
        attached: &[NetworkAttachment],
    ) -> Vec<AttachedNetwork> {
        let mut out = Vec::with_capacity(requested.len());
        for (choice, attachment) in requested.iter().zip(attached) {
            out.push(match (choice, attachment) {
                (NetworkChoice::Name { name, .. }, NetworkAttachment::Network { uuid, .. }) => {
                    AttachedNetwork {
                        uuid: Some(uuid.clone()),
                        name: Some(name.clone()),
                    }
                }
                (_, NetworkAttachment::Network { uuid, .. }) => AttachedNetwork {
                    uuid: Some(uuid.clone()),
                    name: self.neutron().network(uuid).await.ok().map(|n| n.name),
                },
                (_, NetworkAttachment::Port(_)) => AttachedNetwork::default(),
            });
        }
        out
    }

    /// Waits for ACTIVE (capped backoff), then allocates and associates the floating IP. An
    /// `adopted` server may already have the floating IP its first launch associated: only
    /// then is it looked up (a fresh server has none).
    async fn finish_launch(
        &self,
        id: &str,
        pool: Option<&str>,
        adopted: bool,
    ) -> Result<(Server, Option<String>), ComputeError> {
        let nova = self.nova();
        // Short first polls (a small server on a quiet cloud is ACTIVE in seconds), then at
        // most every 5 s: a boot is seen at most 5 s late, at 0.2 GET/s per server.
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let server = poll(backoff, || async {
            match nova
                .get(id)
                .await
                .map_err(cloud("Cannot read the server"))?
            {
                Some(server) if server.status == "ACTIVE" => Ok(Some(server)),
                Some(server) if server.status == "ERROR" => Err(ComputeError::BuildFailed {
                    id: id.to_string(),
                    fault: server
                        .fault
                        .map(|f| f.message)
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "Nova gave no fault message".into()),
                }),
                Some(_) => Ok(None),
                None => Err(ComputeError::Disappeared(id.to_string())),
            }
        })
        .await?;
        let Some(pool) = pool else {
            return Ok((server, None));
        };
        let neutron = self.neutron();
        let port = neutron
            .ports_of_device(id)
            .await
            .map_err(cloud("Cannot find the server's port"))?
            .into_iter()
            .next()
            .ok_or_else(|| ComputeError::NoPort(id.to_string()))?;
        let associated = if adopted {
            neutron
                .floating_ips_on_port(&port.id)
                .await
                .map_err(cloud("Cannot look up the server's floating IP"))?
                .into_iter()
                .next()
        } else {
            None
        };
        let fip = match associated {
            Some(fip) => fip,
            None => neutron
                .allocate_floating_ip(
                    pool,
                    &port.id,
                    &format!("{FLOATING_IP_DESCRIPTION} {} ({id})", server.name),
                )
                .await
                .map_err(cloud("Cannot allocate a floating IP"))?,
        };
        tracing::info!(%id, ip = %fip.floating_ip_address, "floating IP associated");
        let server = nova
            .get(id)
            .await
            .map_err(cloud("Cannot read the server"))?
            .unwrap_or(server);
        Ok((server, Some(fip.floating_ip_address)))
    }

    /// The floating IP `id_or_address` names (an ID, or an address of the project's).
    pub async fn floating_ip(&self, id_or_address: &str) -> Result<FloatingIp, ComputeError> {
        let neutron = self.neutron();
        let found = if id_or_address.parse::<std::net::IpAddr>().is_ok() {
            neutron
                .floating_ips_at(id_or_address)
                .await
                .map_err(cloud("Cannot look up the floating IP"))?
                .into_iter()
                .next()
        } else {
            neutron
                .floating_ip(id_or_address)
                .await
                .map_err(cloud("Cannot look up the floating IP"))?
        };
        found.ok_or_else(|| ComputeError::NoFloatingIp(id_or_address.to_string()))
    }

    /// Associates an existing floating IP (`id_or_address`) with the server's first port,
    /// moving it from wherever it is; its address.
    pub async fn attach_floating_ip(
        &self,
        server_id: &str,
        id_or_address: &str,
    ) -> Result<String, ComputeError> {
        let fip = self.floating_ip(id_or_address).await?;
        let neutron = self.neutron();
        let port = neutron
            .ports_of_device(server_id)
            .await
            .map_err(cloud("Cannot find the server's port"))?
            .into_iter()
            .next()
            .ok_or_else(|| ComputeError::NoPort(server_id.to_string()))?;
        let fip = neutron
            .associate_floating_ip(&fip.id, Some(&port.id))
            .await
            .map_err(cloud("Cannot associate the floating IP"))?;
        tracing::info!(server = %server_id, ip = %fip.floating_ip_address, "floating IP moved to the server");
        Ok(fip.floating_ip_address)
    }

    /// The floating IP `id_or_address`, if it exists, and whether it is on one of the server's
    /// ports now.
    async fn floating_ip_on(
        &self,
        server_id: &str,
        id_or_address: &str,
    ) -> Result<Option<(FloatingIp, bool)>, ComputeError> {
        let fip = match self.floating_ip(id_or_address).await {
            Ok(fip) => fip,
            Err(ComputeError::NoFloatingIp(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let ports = self
            .neutron()
            .ports_of_device(server_id)
            .await
            .map_err(cloud("Cannot find the server's port"))?;
        let on_server = fip
            .port_id
            .as_ref()
            .is_some_and(|p| ports.iter().any(|port| &port.id == p));
        Ok(Some((fip, on_server)))
    }

    /// Detaches a floating IP from the server, if it is on one of its ports (it stays
    /// allocated).
    pub async fn detach_floating_ip(
        &self,
        server_id: &str,
        id_or_address: &str,
    ) -> Result<(), ComputeError> {
        if let Some((fip, true)) = self.floating_ip_on(server_id, id_or_address).await? {
            self.neutron()
                .associate_floating_ip(&fip.id, None)
                .await
                .map_err(cloud("Cannot detach the floating IP"))?;
        }
        Ok(())
    }

    /// Whether the floating IP `id_or_address` is on one of the server's ports now.
    pub async fn has_floating_ip(
        &self,
        server_id: &str,
        id_or_address: &str,
    ) -> Result<bool, ComputeError> {
        Ok(self
            .floating_ip_on(server_id, id_or_address)
            .await?
            .is_some_and(|(_, on_server)| on_server))
    }

    /// The server, or `None` when Nova no longer has it.
    pub async fn get(&self, id: &str) -> Result<Option<Server>, ComputeError> {
        self.nova()
            .get(id)
            .await
            .map_err(cloud("Cannot read the server"))
    }

    /// Renames and/or replaces the metadata of a server, then reads it.
    pub async fn update(
        &self,
        id: &str,
        rename: Option<&str>,
        metadata: Option<&BTreeMap<String, String>>,
    ) -> Result<Server, ComputeError> {
        let nova = self.nova();
        if let Some(name) = rename {
            nova.rename(id, name)
                .await
                .map_err(cloud("Cannot rename the server"))?;
        }
        if let Some(metadata) = metadata {
            nova.set_metadata(id, metadata)
                .await
                .map_err(cloud("Cannot update the server metadata"))?;
        }
        self.get(id)
            .await?
            .ok_or_else(|| ComputeError::Gone(id.to_string()))
    }

    /// Adds the server to the groups in `add`, then removes it from those in `remove`, so it
    /// is never left without a group; the server keeps running and keeps its ID.
    pub async fn change_security_groups(
        &self,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ComputeError> {
        let nova = self.nova();
        for group in add {
            nova.add_security_group(id, group)
                .await
                .map_err(cloud("Cannot add the server to a security group"))?;
        }
        for group in remove {
            nova.remove_security_group(id, group)
                .await
                .map_err(cloud("Cannot remove the server from a security group"))?;
        }
        Ok(())
    }

    /// Releases the floating IPs the server was given (when `owns_floating_ip`), deletes the
    /// server and waits until Nova answers 404, within `limit`.
    pub async fn destroy(
        &self,
        id: &str,
        owns_floating_ip: bool,
        floating_ip: Option<&str>,
        limit: Duration,
    ) -> Result<(), ComputeError> {
        let neutron = self.neutron();
        // Floating IPs on the server's ports (Nova may not list a fresh one yet), and the
        // one recorded in state (it may already be detached).
        let mut fips = Vec::new();
        if owns_floating_ip {
            let ports = neutron
                .ports_of_device(id)
                .await
                .map_err(cloud("Cannot list the server's ports"))?;
            for port in ports {
                fips.extend(
                    neutron
                        .floating_ips_on_port(&port.id)
                        .await
                        .map_err(cloud("Cannot look up floating IPs"))?,
                );
            }
            if let Some(address) = floating_ip {
                fips.extend(
                    neutron
                        .floating_ips_at(address)
                        .await
                        .map_err(cloud("Cannot look up the floating IP"))?,
                );
            }
        }
        let mut released = BTreeSet::new();
        for fip in fips {
            if released.insert(fip.id.clone()) {
                neutron
                    .release_floating_ip(&fip.id)
                    .await
                    .map_err(cloud("Cannot release the floating IP"))?;
            }
        }
        let nova = self.nova();
        nova.delete(id)
            .await
            .map_err(cloud("Cannot delete the server"))?;
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let gone = poll(backoff, || async {
            let server = nova
                .get(id)
                .await
                .map_err(cloud("Cannot read the server being deleted"))?;
            Ok::<_, ComputeError>(server.is_none().then_some(()))
        });
        tokio::time::timeout(limit, gone).await.map_err(|_| {
            ComputeError::Delete(DeleteError::TimedOut {
                id: id.to_string(),
                limit,
            })
        })?
    }

    /// The server and what import needs: flavor name, networks, floating IP and its pool.
    pub async fn describe(&self, id: &str) -> Result<Option<ServerDescription>, ComputeError> {
        let Some(server) = self.get(id).await? else {
            return Ok(None);
        };
        let flavors = self
            .nova()
            .flavors()
            .await
            .map_err(cloud("Cannot list flavors"))?;
        let flavor_name = server
            .flavor_id()
            .and_then(|fid| flavors.iter().find(|f| f.id == fid).map(|f| f.name.clone()));
        let neutron = self.neutron();
        let mut networks = Vec::new();
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
            networks.push((name.clone(), uuid, fixed));
        }
        // A floating IP on the server's ports (Nova may not list it): its pool is the
        // external network it came from.
        let (mut floating_ip_pool, mut floating_ip) = (None, None);
        let ports = neutron
            .ports_of_device(id)
            .await
            .map_err(cloud("Cannot list the server's ports"))?;
        for port in ports {
            let found = neutron.floating_ips_on_port(&port.id).await.ok();
            if let Some(fip) = found.and_then(|f| f.into_iter().next()) {
                floating_ip_pool = neutron
                    .network(&fip.floating_network_id)
                    .await
                    .ok()
                    .map(|n| n.name);
                floating_ip = Some(fip.floating_ip_address);
            }
        }
        Ok(Some(ServerDescription {
            server,
            flavor_name,
            networks,
            floating_ip,
            floating_ip_pool,
        }))
    }
}
