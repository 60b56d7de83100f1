//! `flatcar_instance`: create, read, update, delete and import of a Flatcar server on Nova.
//! The choreography (flavor and network look-ups, launch, wait, floating IP,
//! destroy-and-wait) is `flatcar_cloud::openstack::compute`; the schema and model are in
//! `model`, where plan behaviour is declared.

mod model;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::create_marker;
use flatcar_cloud::openstack::compute::{Compute, FlavorCache};
use tfplugin::framework::{timeouts, Attr, TypedResource};
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Schema};

use crate::errors;
use crate::state::ProviderState;

use model::{effective_groups, launch_request, with_server, DELETE};
pub use model::{schema, InstanceModel, NetworkModel};

pub struct InstanceResource {
    pub state: Arc<ProviderState>,
    flavors: FlavorCache,
}

impl InstanceResource {
    pub fn new(state: Arc<ProviderState>) -> InstanceResource {
        InstanceResource {
            state,
            flavors: FlavorCache::default(),
        }
    }

    fn compute<'a>(&'a self, cloud: &'a flatcar_cloud::openstack::CloudSession) -> Compute<'a> {
        Compute::new(cloud, &self.flavors, &self.state.stop)
    }
}

#[async_trait]
impl TypedResource for InstanceResource {
    type Model = InstanceModel;

    fn type_name(&self) -> &'static str {
        "flatcar_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, c: InstanceModel) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let mut fail = |path: AttributePath, summary: &str, detail: &str| {
            diags.push(Diagnostic::error(summary, detail).at(path))
        };
        let (name, id) = (&c.flavor_name, &c.flavor_id);
        if name.is_null() && id.is_null() {
            fail(
                AttributePath::root("flavor_name"),
                "Missing flavor",
                "Set `flavor_name` (e.g. \"m3.medium\") or `flavor_id`.",
            );
        }
        if name.known().is_some() && id.known().is_some() {
            fail(
                AttributePath::root("flavor_id"),
                "Conflicting flavor",
                "Set only one of `flavor_name` and `flavor_id`.",
            );
        }
        // Unknown values (e.g. a conditional on a variable) are judged at plan time.
        if c.user_data.known().is_some() && c.user_data_wo.known().is_some() {
            fail(
                AttributePath::root("user_data_wo"),
                "Conflicting user data",
                "Set `user_data` or `user_data_wo`, not both.",
            );
        }
        for (i, n) in c.network.items().iter().enumerate() {
            let given = [&n.uuid, &n.name, &n.port];
            let wholly_known = !given
                .iter()
                .chain([&&n.fixed_ip_v4])
                .any(|a| a.is_unknown());
            if wholly_known && given.iter().filter(|a| !a.is_null()).count() != 1 {
                fail(
                    AttributePath::root("network").index(i as i64),
                    "Invalid network block",
                    "Give exactly one of `uuid`, `name` or `port`.",
                );
            }
        }
        if c.floating_ip_pool.known().is_some() && c.floating_ip_id.known().is_some() {
            fail(
                AttributePath::root("floating_ip_id"),
                "Conflicting floating IP",
                "Set `floating_ip_pool` (a new address for this server) or `floating_ip_id` (an existing one), not both.",
            );
        }
        diags
    }

    async fn create(&self, planned: InstanceModel) -> Result<InstanceModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let launched = self
            .compute(&cloud)
            .launch(&launch_request(&planned, &self.state.owner))
            .await
            .map_err(errors::launch)?;
        let mut floating = launched.floating_ip;
        if let Some(fip) = planned.floating_ip_id.as_str() {
            let compute = self.compute(&cloud);
            match compute.attach_floating_ip(&launched.server.id, fip).await {
                Ok(address) => floating = Some(address),
                Err(e) => {
                    // Nothing may be left behind: the new server goes again.
                    let limit = timeouts::limit(&planned.timeouts, DELETE);
                    let _ = compute
                        .destroy(&launched.server.id, false, None, limit)
                        .await;
                    let mut diag = errors::compute(&e);
                    diag.detail = format!(
                        "{} Server {} has been deleted again.",
                        diag.detail, launched.server.id
                    );
                    return Err(diag.at(AttributePath::root("floating_ip_id")).into());
                }
            }
        }
        let mut state = planned;
        state.flavor_name = launched.flavor.name.into();
        state.flavor_id = launched.flavor.id.into();
        for (block, attached) in state.network.items_mut().iter_mut().zip(launched.networks) {
            if let Some(uuid) = attached.uuid {
                block.uuid = uuid.into();
                if block.name.known().is_none() {
                    block.name = attached.name.into();
                }
            }
        }
        Ok(with_server(state, &launched.server, floating))
    }

    async fn read(&self, state: InstanceModel) -> Result<Option<InstanceModel>, Diagnostics> {
        let Some(id) = state.id.known().cloned() else {
            return Ok(None);
        };
        let cloud = self.state.cloud().await?;
        let Some(server) = self
            .compute(&cloud)
            .get(&id)
            .await
            .map_err(|e| Diagnostics::from(errors::compute(&e)))?
        else {
            tracing::warn!(%id, "server is gone; removing it from state");
            return Ok(None);
        };
        let mut next = state;
        let metadata = user_metadata(&server.metadata);
        if !(next.metadata.is_null() && metadata.is_empty()) {
            next.metadata = Attr::Known(metadata);
        }
        if let Some(key) = &server.key_name {
            next.key_pair = key.clone().into();
        }
        if let Some(image) = server.image_id().filter(|i| !i.is_empty()) {
            next.image_id = image.into();
        }
        let mut floating = next.floating_ip.known().cloned();
        if let Some(fip) = next.floating_ip_id.known().cloned() {
            // Detached or moved by hand: drift, put back by the next apply.
            let attached = self
                .compute(&cloud)
                .has_floating_ip(&id, &fip)
                .await
                .map_err(|e| Diagnostics::from(errors::compute(&e)))?;
            if !attached {
                tracing::warn!(%id, %fip, "the floating IP is no longer on the server");
                next.floating_ip_id = Attr::Null;
                floating = None;
            }
        }
        Ok(Some(with_server(next, &server, floating)))
    }

    async fn update(
        &self,
        prior: InstanceModel,
        planned: InstanceModel,
    ) -> Result<InstanceModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let id = prior.id.str_or("");
        let rename = planned.name.as_str().filter(|_| prior.name != planned.name);
        let empty = BTreeMap::new();
        let metadata = (prior.metadata != planned.metadata)
            .then(|| planned.metadata.known().unwrap_or(&empty));
        let (before, after) = (
            effective_groups(&prior.security_groups),
            effective_groups(&planned.security_groups),
        );
        let add: Vec<String> = after
            .iter()
            .filter(|g| !before.contains(g))
            .cloned()
            .collect();
        let remove: Vec<String> = before
            .iter()
            .filter(|g| !after.contains(g))
            .cloned()
            .collect();
        let compute = self.compute(&cloud);
        compute
            .change_security_groups(id, &add, &remove)
            .await
            .map_err(|e| Diagnostics::from(errors::compute(&e)))?;
        let server = compute
            .update(id, rename, metadata)
            .await
            .map_err(|e| Diagnostics::from(errors::compute(&e)))?;
        let mut floating = prior.floating_ip.known().cloned();
        if prior.floating_ip_id != planned.floating_ip_id {
            if let Some(old) = prior.floating_ip_id.as_str() {
                compute
                    .detach_floating_ip(id, old)
                    .await
                    .map_err(|e| Diagnostics::from(errors::compute(&e)))?;
                floating = None;
            }
            if let Some(new) = planned.floating_ip_id.as_str() {
                floating = Some(compute.attach_floating_ip(id, new).await.map_err(|e| {
                    Diagnostics::from(errors::compute(&e).at(AttributePath::root("floating_ip_id")))
                })?);
            }
        }
        Ok(with_server(planned, &server, floating))
    }

    async fn delete(&self, prior: InstanceModel) -> Result<(), Diagnostics> {
        let Some(id) = prior.id.as_str() else {
            return Ok(());
        };
        let cloud = self.state.cloud().await?;
        let limit = timeouts::limit(&prior.timeouts, DELETE);
        let owns_floating_ip = !prior.floating_ip_pool.is_null();
        let result = self
            .compute(&cloud)
            .destroy(id, owns_floating_ip, prior.floating_ip.as_str(), limit)
            .await;
        result.map_err(|e| errors::compute(&e).into())
    }

    async fn import(&self, id: &str) -> Result<InstanceModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let found = self
            .compute(&cloud)
            .describe(id)
            .await
            .map_err(|e| Diagnostics::from(errors::compute(&e)))?;
        let d = found.ok_or_else(|| {
            Diagnostic::error(
                "No such server",
                format!(
                    "Nova has no server with ID {id:?}. Check it with `openstack server list`."
                ),
            )
        })?;
        let networks = d
            .networks
            .into_iter()
            .map(|(name, uuid, fixed)| NetworkModel {
                uuid: uuid.into(),
                name: name.into(),
                port: Attr::Null,
                fixed_ip_v4: fixed.into(),
            });
        let model = InstanceModel {
            image_id: d.server.image_id().into(),
            flavor_name: d.flavor_name.into(),
            key_pair: d.server.key_name.clone().into(),
            user_data: d.server.user_data().into(),
            metadata: Some(user_metadata(&d.server.metadata))
                .filter(|m| !m.is_empty())
                .into(),
            floating_ip_pool: d.floating_ip_pool.into(),
            network: Attr::Known(networks.collect()),
            ..InstanceModel::default()
        };
        Ok(with_server(model, &d.server, d.floating_ip))
    }
}

/// The server's metadata without the provider's create marks.
fn user_metadata(metadata: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    metadata
        .iter()
        .filter(|(k, _)| !create_marker::is_mark(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_has_exactly_the_schema_attributes() {
        tfplugin::framework::check_model::<InstanceModel>(&schema()).unwrap();
    }
}
