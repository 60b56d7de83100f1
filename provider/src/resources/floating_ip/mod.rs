//! `flatcar_floating_ip`: a floating IP reserved from an external network, attached to
//! nothing by itself: a `flatcar_instance` takes it with `floating_ip_id` (and a replacement
//! server takes it over), so the address (and a DNS record for it) outlives servers. Create,
//! read (drift of description and tags is put back), update in place, release on delete,
//! import by ID.

use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::openstack::neutron::{FloatingIp, Neutron};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Attr, TypedResource};
use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Validator};

use crate::errors;
use crate::state::ProviderState;

/// The schema's default description, and the code's fallback.
const DESCRIPTION: &str = "";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatingIpModel {
    pub pool: Attr<String>,
    pub description: Attr<String>,
    pub tags: Attr<Vec<String>>,
    pub id: Attr<String>,
    pub address: Attr<String>,
    pub port_id: Attr<String>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    let block = Block {
        description: "A floating IP reserved from an external network, attached to nothing by itself: give its `id` to `flatcar_instance.floating_ip_id`, and the server (and any server that replaces it) gets this address. It is released when the resource is destroyed, not when a server goes. Description and tags change in place (changed by hand, the next apply puts them back). Import by ID.".into(),
        attributes: vec![
            Attribute::required("pool", s.clone(), "External network (name or ID) to take the address from, e.g. Jetstream2's `public`.").requires_replace().validate(Validator::NonEmpty),
            Attribute::optional("description", s.clone(), "Free text Neutron shows beside the address. Changes in place.").default(DESCRIPTION),
            Attribute::optional("tags", Type::set(s.clone()), "Neutron tags. Change in place."),
            Attribute::computed("id", s.clone(), "Floating IP ID; give it to `flatcar_instance.floating_ip_id`.").use_state_for_unknown(),
            Attribute::computed("address", s.clone(), "The IP address, e.g. for a DNS record.").use_state_for_unknown(),
            Attribute::computed("port_id", s, "The port it is associated with when last read (a server's), or null."),
        ],
        ..Block::default()
    };
    Schema::new(0, block)
}

fn with_fip(mut m: FloatingIpModel, fip: &FloatingIp) -> FloatingIpModel {
    m.id = fip.id.clone().into();
    m.address = fip.floating_ip_address.clone().into();
    m.description = fip.description.clone().unwrap_or_default().into();
    let mut tags = fip.tags.clone();
    tags.sort();
    // An unset `tags` stays null while Neutron has none.
    if !(m.tags.is_null() && tags.is_empty()) {
        m.tags = Attr::Known(tags);
    }
    m.port_id = fip.port_id.clone().into();
    m
}

fn sorted(tags: &Attr<Vec<String>>) -> Vec<String> {
    let mut t = tags.items().to_vec();
    t.sort();
    t
}

pub struct FloatingIpResource {
    pub state: Arc<ProviderState>,
}

#[async_trait]
impl TypedResource for FloatingIpResource {
    type Model = FloatingIpModel;

    fn type_name(&self) -> &'static str {
        "flatcar_floating_ip"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn create(&self, planned: FloatingIpModel) -> Result<FloatingIpModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let neutron = Neutron::new(&cloud);
        let pool = planned.pool.str_or("");
        let network = neutron
            .external_network(pool)
            .await
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot look up the pool")))?
            .ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "No such external network",
                        format!("The project sees no network {pool:?}. `openstack network list --external` lists the pools."),
                    )
                    .at(AttributePath::root("pool")),
                )
            })?;
        let fip = neutron
            .reserve_floating_ip(
                &network.id,
                planned.description.str_or(DESCRIPTION),
                &sorted(&planned.tags),
            )
            .await
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot allocate the floating IP")))?;
        Ok(with_fip(planned, &fip))
    }

    async fn read(&self, state: FloatingIpModel) -> Result<Option<FloatingIpModel>, Diagnostics> {
        let Some(id) = state.id.known().cloned() else {
            return Ok(None);
        };
        let cloud = self.state.cloud().await?;
        match Neutron::new(&cloud)
            .floating_ip(&id)
            .await
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot read the floating IP")))?
        {
            Some(fip) => Ok(Some(with_fip(state, &fip))),
            None => {
                tracing::warn!(%id, "floating IP is gone; removing it from state");
                Ok(None)
            }
        }
    }

    async fn update(
        &self,
        prior: FloatingIpModel,
        planned: FloatingIpModel,
    ) -> Result<FloatingIpModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let neutron = Neutron::new(&cloud);
        let id = prior.id.str_or("").to_string();
        if prior.description != planned.description {
            neutron
                .describe_floating_ip(&id, planned.description.str_or(DESCRIPTION))
                .await
                .map_err(|e| {
                    Diagnostics::from(errors::cloud(&e, "Cannot change the description"))
                })?;
        }
        if sorted(&prior.tags) != sorted(&planned.tags) {
            neutron
                .set_floating_ip_tags(&id, &sorted(&planned.tags))
                .await
                .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot change the tags")))?;
        }
        let fip = neutron
            .floating_ip(&id)
            .await
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot read the floating IP")))?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "The floating IP is gone",
                    format!("Floating IP {id} no longer exists; run `terraform apply` again to reserve a new one (a new address)."),
                ))
            })?;
        Ok(with_fip(planned, &fip))
    }

    async fn delete(&self, prior: FloatingIpModel) -> Result<(), Diagnostics> {
        let Some(id) = prior.id.as_str() else {
            return Ok(());
        };
        let cloud = self.state.cloud().await?;
        Neutron::new(&cloud)
            .release_floating_ip(id)
            .await
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot release the floating IP")))
    }

    async fn import(&self, id: &str) -> Result<FloatingIpModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let neutron = Neutron::new(&cloud);
        let fip = neutron
            .floating_ip(id)
            .await
            .map_err(|e| Diagnostics::from(errors::cloud(&e, "Cannot read the floating IP")))?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "No such floating IP",
                    format!("Neutron has no floating IP with ID {id:?}. `openstack floating ip list` shows the IDs."),
                ))
            })?;
        let pool = neutron
            .network(&fip.floating_network_id)
            .await
            .map(|n| n.name)
            .unwrap_or_else(|_| fip.floating_network_id.clone());
        let model = FloatingIpModel {
            pool: pool.into(),
            ..FloatingIpModel::default()
        };
        Ok(with_fip(model, &fip))
    }
}
