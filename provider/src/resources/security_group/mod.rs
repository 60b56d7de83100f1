//! `flatcar_security_group`: create, read, update, delete and import of a Neutron security
//! group with exclusively managed rules. The reconciliation itself is
//! `flatcar_cloud::openstack::security_group`; the schema and model are in `model`.

mod model;

use std::sync::Arc;

use async_trait::async_trait;
use flatcar_cloud::openstack::security_group::{SecurityGroupError, SecurityGroups};
use tfplugin::framework::{timeouts, to_value, Element, TypedResource};
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Nesting, Schema};

use crate::errors;
use crate::state::ProviderState;

use model::{check_rule, group_spec, with_group};
pub use model::{schema, RuleModel, SecurityGroupModel};

pub struct SecurityGroupResource {
    pub state: Arc<ProviderState>,
}

fn diagnostics(e: SecurityGroupError) -> Diagnostics {
    errors::security_group(&e).into()
}

#[async_trait]
impl TypedResource for SecurityGroupResource {
    type Model = SecurityGroupModel;

    fn type_name(&self) -> &'static str {
        "flatcar_security_group"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: SecurityGroupModel) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let egress = config.allow_all_egress.known_or(model::ALLOW_ALL_EGRESS);
        let rules = config.rule.items();
        for (index, rule) in rules.iter().enumerate() {
            if let Err(problem) = check_rule(rule, egress) {
                let value = to_value(rule).unwrap_or_default();
                let element = Element {
                    block: "rule",
                    nesting: Nesting::Set,
                    index,
                    count: rules.len(),
                    value: &value,
                };
                diags.push(element.point(
                    &AttributePath::default(),
                    problem.attribute,
                    Diagnostic::error("Invalid security group rule", problem.reason),
                ));
            }
        }
        diags
    }

    async fn create(&self, planned: SecurityGroupModel) -> Result<SecurityGroupModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let group = SecurityGroups::new(&cloud)
            .create(&group_spec(&planned))
            .await
            .map_err(diagnostics)?;
        Ok(with_group(planned, &group))
    }

    async fn read(
        &self,
        state: SecurityGroupModel,
    ) -> Result<Option<SecurityGroupModel>, Diagnostics> {
        let Some(id) = state.id.known().cloned() else {
            return Ok(None);
        };
        let cloud = self.state.cloud().await?;
        match SecurityGroups::new(&cloud)
            .read(&id)
            .await
            .map_err(diagnostics)?
        {
            Some(group) => Ok(Some(with_group(state, &group))),
            None => {
                tracing::warn!(%id, "security group is gone; removing it from state");
                Ok(None)
            }
        }
    }

    async fn update(
        &self,
        prior: SecurityGroupModel,
        planned: SecurityGroupModel,
    ) -> Result<SecurityGroupModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let id = prior.id.str_or("");
        let group = SecurityGroups::new(&cloud)
            .update(id, &group_spec(&planned))
            .await
            .map_err(diagnostics)?;
        Ok(with_group(planned, &group))
    }

    async fn delete(&self, prior: SecurityGroupModel) -> Result<(), Diagnostics> {
        let Some(id) = prior.id.as_str() else {
            return Ok(());
        };
        let cloud = self.state.cloud().await?;
        let limit = timeouts::limit(&prior.timeouts, model::DELETE);
        SecurityGroups::new(&cloud)
            .delete(id, limit)
            .await
            .map_err(diagnostics)
    }

    async fn import(&self, id: &str) -> Result<SecurityGroupModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let group = SecurityGroups::new(&cloud).read(id).await.map_err(diagnostics)?.ok_or_else(|| {
            Diagnostic::error("No such security group", format!("Neutron has no security group with ID {id:?}. Check it with `openstack security group list`."))
        })?;
        Ok(with_group(SecurityGroupModel::default(), &group))
    }
}
