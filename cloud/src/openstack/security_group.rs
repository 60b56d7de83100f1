//! A Neutron security group whose rules are managed exclusively: the group holds exactly the
//! declared rules (plus, when asked, Neutron's usual allow-all egress), so a rule added or
//! removed by someone else is found on read and put back on the next reconcile.

use std::time::Duration;

use crate::backoff::{poll, Backoff};
use crate::openstack::neutron::{Neutron, SecurityGroup, SecurityGroupRule};
use crate::openstack::{CloudError, CloudSession, DeleteError};

pub const INGRESS: &str = "ingress";
pub const EGRESS: &str = "egress";
pub const IPV4: &str = "IPv4";
pub const IPV6: &str = "IPv6";

/// Where a rule's traffic comes from (ingress) or goes to (egress).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Remote {
    Any,
    Cidr(String),
    Group(String),
    /// The members of the group itself.
    Members,
}

/// One rule in the form users declare it; `None` is "any".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleSpec {
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote: Remote,
}

impl RuleSpec {
    /// Neutron's default egress rule for `ethertype`: anything to anywhere.
    pub fn all_egress(ethertype: &str) -> RuleSpec {
        RuleSpec {
            direction: EGRESS.into(),
            ethertype: ethertype.into(),
            protocol: None,
            port_range_min: None,
            port_range_max: None,
            remote: Remote::Any,
        }
    }

    fn of(rule: &SecurityGroupRule, group_id: &str) -> RuleSpec {
        let remote = match (&rule.remote_group_id, &rule.remote_ip_prefix) {
            (Some(g), _) if g == group_id => Remote::Members,
            (Some(g), _) => Remote::Group(g.clone()),
            (None, Some(cidr)) => Remote::Cidr(cidr.clone()),
            (None, None) => Remote::Any,
        };
        RuleSpec {
            direction: rule.direction.clone(),
            ethertype: rule.ethertype.clone(),
            protocol: rule.protocol.clone(),
            port_range_min: rule.port_range_min,
            port_range_max: rule.port_range_max,
            remote,
        }
    }

    fn to_neutron(&self, group_id: &str) -> SecurityGroupRule {
        let (remote_ip_prefix, remote_group_id) = match &self.remote {
            Remote::Any => (None, None),
            Remote::Cidr(cidr) => (Some(cidr.clone()), None),
            Remote::Group(g) => (None, Some(g.clone())),
            Remote::Members => (None, Some(group_id.to_string())),
        };
        SecurityGroupRule {
            id: String::new(),
            direction: self.direction.clone(),
            ethertype: self.ethertype.clone(),
            protocol: self.protocol.clone(),
            port_range_min: self.port_range_min,
            port_range_max: self.port_range_max,
            remote_ip_prefix,
            remote_group_id,
        }
    }
}

/// What the group should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    pub name: String,
    pub description: String,
    pub rules: Vec<RuleSpec>,
    /// Also allow all egress (IPv4 and IPv6), as Neutron does for a new group.
    pub allow_all_egress: bool,
}

impl GroupSpec {
    fn desired(&self) -> Vec<RuleSpec> {
        let mut rules = self.rules.clone();
        if self.allow_all_egress {
            rules.extend([RuleSpec::all_egress(IPV4), RuleSpec::all_egress(IPV6)]);
        }
        rules.sort();
        rules.dedup();
        rules
    }
}

/// A group as found: the declared form of its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Sorted; without the allow-all egress pair when `allow_all_egress`.
    pub rules: Vec<RuleSpec>,
    pub allow_all_egress: bool,
}

impl GroupState {
    fn of(group: &SecurityGroup) -> GroupState {
        let mut rules: Vec<RuleSpec> = group
            .security_group_rules
            .iter()
            .map(|r| RuleSpec::of(r, &group.id))
            .collect();
        let egress = [RuleSpec::all_egress(IPV4), RuleSpec::all_egress(IPV6)];
        let allow_all_egress = egress.iter().all(|e| rules.contains(e));
        if allow_all_egress {
            rules.retain(|r| !egress.contains(r));
        }
        rules.sort();
        GroupState {
            id: group.id.clone(),
            name: group.name.clone(),
            description: group.description.clone(),
            rules,
            allow_all_egress,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecurityGroupError {
    /// A Neutron call failed; `context` says which.
    #[error("{context}: {source}")]
    Cloud {
        context: &'static str,
        source: CloudError,
    },
    #[error("security group {0} no longer exists")]
    Gone(String),
    #[error(transparent)]
    Delete(DeleteError),
}

fn cloud(context: &'static str) -> impl FnOnce(CloudError) -> SecurityGroupError {
    move |source| SecurityGroupError::Cloud { context, source }
}

/// Security group operations against one session.
pub struct SecurityGroups<'a> {
    neutron: Neutron<'a>,
}

impl<'a> SecurityGroups<'a> {
    pub fn new(session: &'a CloudSession) -> SecurityGroups<'a> {
        SecurityGroups {
            neutron: Neutron::new(session),
        }
    }

    /// Creates the group with exactly the desired rules; on failure the group is deleted.
    pub async fn create(&self, spec: &GroupSpec) -> Result<GroupState, SecurityGroupError> {
        let group = self
            .neutron
            .create_security_group(&spec.name, &spec.description)
            .await
            .map_err(cloud("Cannot create the security group"))?;
        tracing::info!(id = %group.id, name = %group.name, "security group created; adding rules");
        match self.reconcile(&group, spec).await {
            Ok(state) => Ok(state),
            Err(e) => {
                if let Err(cleanup) = self.neutron.delete_security_group(&group.id).await {
                    tracing::warn!(id = %group.id, error = %cleanup, "could not delete the half-made security group");
                }
                Err(e)
            }
        }
    }

    /// The group, or `None` when it is gone.
    pub async fn read(&self, id: &str) -> Result<Option<GroupState>, SecurityGroupError> {
        let group = self
            .neutron
            .security_group(id)
            .await
            .map_err(cloud("Cannot read the security group"))?;
        Ok(group.as_ref().map(GroupState::of))
    }

    /// Renames / redescribes the group and puts its rules back to exactly the desired ones.
    pub async fn update(
        &self,
        id: &str,
        spec: &GroupSpec,
    ) -> Result<GroupState, SecurityGroupError> {
        let mut group = self
            .neutron
            .security_group(id)
            .await
            .map_err(cloud("Cannot read the security group"))?
            .ok_or_else(|| SecurityGroupError::Gone(id.to_string()))?;
        if group.name != spec.name || group.description != spec.description {
            let rules = std::mem::take(&mut group.security_group_rules);
            group = self
                .neutron
                .update_security_group(id, &spec.name, &spec.description)
                .await
                .map_err(cloud("Cannot update the security group"))?;
            group.security_group_rules = rules;
        }
        self.reconcile(&group, spec).await
    }

    /// Deletes rules that are not desired, adds the desired ones that are missing.
    async fn reconcile(
        &self,
        group: &SecurityGroup,
        spec: &GroupSpec,
    ) -> Result<GroupState, SecurityGroupError> {
        let desired = spec.desired();
        let mut present = Vec::new();
        for rule in &group.security_group_rules {
            let declared = RuleSpec::of(rule, &group.id);
            if desired.contains(&declared) && !present.contains(&declared) {
                present.push(declared);
            } else {
                self.neutron
                    .delete_security_group_rule(&rule.id)
                    .await
                    .map_err(cloud("Cannot delete a security group rule"))?;
            }
        }
        for rule in desired.iter().filter(|r| !present.contains(r)) {
            self.neutron
                .create_security_group_rule(&group.id, &rule.to_neutron(&group.id))
                .await
                .map_err(cloud("Neutron refused a security group rule"))?;
        }
        let mut state = GroupState::of(group);
        state.rules = spec.rules.clone();
        state.rules.sort();
        state.rules.dedup();
        state.allow_all_egress = spec.allow_all_egress;
        Ok(state)
    }

    /// Deletes the group; while ports still use it (a server being deleted in the same
    /// apply) Neutron answers 409, which is retried until `limit`.
    pub async fn delete(&self, id: &str, limit: Duration) -> Result<(), SecurityGroupError> {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let attempt = poll(backoff, || async {
            match self.neutron.delete_security_group(id).await {
                Ok(()) => Ok(Some(())),
                Err(e) if e.status() == Some(409) => Ok(None),
                Err(e) => Err(SecurityGroupError::Delete(DeleteError::Cloud(e))),
            }
        });
        tokio::time::timeout(limit, attempt).await.map_err(|_| {
            SecurityGroupError::Delete(DeleteError::TimedOut {
                id: id.to_string(),
                limit,
            })
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neutron_rule(
        id: &str,
        direction: &str,
        ethertype: &str,
        remote_group: Option<&str>,
    ) -> SecurityGroupRule {
        SecurityGroupRule {
            id: id.into(),
            direction: direction.into(),
            ethertype: ethertype.into(),
            protocol: None,
            port_range_min: None,
            port_range_max: None,
            remote_ip_prefix: None,
            remote_group_id: remote_group.map(str::to_string),
        }
    }

    #[test]
    fn the_default_egress_pair_is_folded_into_allow_all_egress_and_self_is_members() {
        let group = SecurityGroup {
            id: "g1".into(),
            name: "k8s".into(),
            description: String::new(),
            security_group_rules: vec![
                neutron_rule("r1", EGRESS, IPV4, None),
                neutron_rule("r2", EGRESS, IPV6, None),
                neutron_rule("r3", INGRESS, IPV4, Some("g1")),
            ],
        };
        let state = GroupState::of(&group);
        assert!(state.allow_all_egress);
        assert_eq!(state.rules.len(), 1);
        assert_eq!(state.rules[0].remote, Remote::Members);

        let mut half = group.clone();
        half.security_group_rules.remove(1);
        let state = GroupState::of(&half);
        assert!(!state.allow_all_egress, "one of the pair missing is drift");
        assert_eq!(state.rules.len(), 2);
    }
}
