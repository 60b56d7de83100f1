//! Reads `terraform show -json <saved plan>` into what `up` shows and checks before it acts:
//! one line per machine (`flatcar_instance`: create, update in place, replace, destroy,
//! unchanged) with its Kubespray groups, the other resources' changes, and which changes
//! disrupt the control plane or etcd.

use std::fmt;

use serde_json::Value;

/// What Terraform will do to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Replace,
    Destroy,
    Unchanged,
}

impl Action {
    /// From a resource change's `actions` list.
    fn from_actions(actions: &[&str]) -> Action {
        match actions {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Destroy,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            _ => Action::Unchanged,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update in place",
            Action::Replace => "REPLACE",
            Action::Destroy => "DESTROY",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One machine of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineChange {
    pub name: String,
    /// Its Kubespray groups, from the state (or the plan for a new machine).
    pub groups: Vec<String>,
    pub action: Action,
}

impl MachineChange {
    /// A control-plane or etcd machine: replacing or destroying it risks the cluster.
    pub fn holds_cluster_state(&self) -> bool {
        self.groups
            .iter()
            .any(|g| g == "kube_control_plane" || g == "etcd")
    }

    pub fn disrupts(&self) -> bool {
        matches!(self.action, Action::Replace | Action::Destroy) && self.holds_cluster_state()
    }

    /// The machine leaves the cluster (its server goes away).
    pub fn leaves(&self) -> bool {
        matches!(self.action, Action::Replace | Action::Destroy)
    }

    /// A new server joins under this name.
    pub fn joins(&self) -> bool {
        matches!(self.action, Action::Replace | Action::Create)
    }
}

/// Another resource of the plan (image, security group, ...), when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherChange {
    pub address: String,
    pub action: Action,
}

/// What a saved plan does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub machines: Vec<MachineChange>,
    pub others: Vec<OtherChange>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("`terraform show -json` of the saved plan is not JSON ({0}); is this Terraform >= 1.9 or OpenTofu?")]
    Json(#[from] serde_json::Error),
    #[error("`terraform show -json` of the saved plan has no `resource_changes` list")]
    Shape,
}

impl PlanSummary {
    pub fn parse(json: &str) -> Result<PlanSummary, PlanError> {
        let value: Value = serde_json::from_str(json)?;
        let changes = match value.get("resource_changes") {
            Some(Value::Array(list)) => list.as_slice(),
            // A plan without any resource (an empty configuration) has no list.
            None => &[],
            Some(_) => return Err(PlanError::Shape),
        };
        let mut summary = PlanSummary::default();
        for change in changes {
            if change.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            let actions: Vec<&str> = change
                .pointer("/change/actions")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let action = Action::from_actions(&actions);
            let address = change
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            if change.get("type").and_then(Value::as_str) == Some("flatcar_instance") {
                summary.machines.push(machine(change, &address, action));
            } else if action != Action::Unchanged {
                summary.others.push(OtherChange { address, action });
            }
        }
        summary
            .machines
            .sort_by(|a, b| crate::natural::cmp(&a.name, &b.name));
        Ok(summary)
    }

    /// Whether applying the plan changes anything.
    pub fn changes_anything(&self) -> bool {
        !self.others.is_empty() || self.machines.iter().any(|m| m.action != Action::Unchanged)
    }

    /// Control-plane or etcd machines the plan would replace or destroy.
    pub fn disruptions(&self) -> Vec<&MachineChange> {
        self.machines.iter().filter(|m| m.disrupts()).collect()
    }

    pub fn count(&self, action: Action) -> usize {
        self.machines.iter().filter(|m| m.action == action).count()
    }
}

fn machine(change: &Value, address: &str, action: Action) -> MachineChange {
    // The state's view first: it is what runs now.
    let sides = [
        change.pointer("/change/before"),
        change.pointer("/change/after"),
    ];
    let field = |pointer: &str| {
        sides
            .iter()
            .flatten()
            .find_map(|side| side.pointer(pointer).and_then(Value::as_str))
    };
    let name = field("/name")
        .or_else(|| change.get("index").and_then(Value::as_str))
        .unwrap_or(address)
        .to_string();
    let groups = field("/metadata/kubespray_groups")
        .map(|g| {
            g.split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    MachineChange {
        name,
        groups,
        action,
    }
}

impl fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Machines:")?;
        if self.machines.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for m in &self.machines {
            writeln!(
                f,
                "  {:<16} {} ({})",
                m.action.word(),
                m.name,
                if m.groups.is_empty() {
                    "no groups".to_string()
                } else {
                    m.groups.join(", ")
                }
            )?;
        }
        if !self.others.is_empty() {
            writeln!(f, "Other resources:")?;
            for o in &self.others {
                writeln!(f, "  {:<16} {}", o.action.word(), o.address)?;
            }
        }
        write!(
            f,
            "Plan: {} to create, {} to update in place, {} to replace, {} to destroy, {} unchanged.",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Replace),
            self.count(Action::Destroy),
            self.count(Action::Unchanged)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, groups: &str, actions: &[&str], before: bool) -> Value {
        let side = serde_json::json!({"name": name, "metadata": {"kubespray_groups": groups}});
        serde_json::json!({
            "address": format!("module.cluster.flatcar_instance.node[\"{name}\"]"),
            "mode": "managed",
            "type": "flatcar_instance",
            "index": name,
            "change": {
                "actions": actions,
                "before": if before { side.clone() } else { Value::Null },
                "after": if actions == ["delete"] { Value::Null } else { side },
            }
        })
    }

    fn plan(changes: Vec<Value>) -> PlanSummary {
        let json = serde_json::json!({"format_version": "1.2", "resource_changes": changes});
        PlanSummary::parse(&json.to_string()).expect("plan")
    }

    #[test]
    fn actions_become_per_machine_lines() {
        let p = plan(vec![
            change("demo-worker-3", "kube_node", &["create"], false),
            change(
                "demo-control-plane-1",
                "kube_control_plane,etcd",
                &["no-op"],
                true,
            ),
            change("demo-worker-1", "kube_node", &["delete"], true),
            change("demo-worker-2", "kube_node", &["update"], true),
        ]);
        let text = p.to_string();
        assert!(
            text.contains("create           demo-worker-3 (kube_node)"),
            "{text}"
        );
        assert!(text.contains("DESTROY          demo-worker-1"), "{text}");
        assert!(text.contains("update in place  demo-worker-2"), "{text}");
        assert!(
            text.contains(
                "1 to create, 1 to update in place, 0 to replace, 1 to destroy, 1 unchanged"
            ),
            "{text}"
        );
        assert!(p.changes_anything());
        assert!(p.disruptions().is_empty());
    }

    #[test]
    fn replacing_or_destroying_the_control_plane_or_etcd_is_a_disruption() {
        let p = plan(vec![
            change(
                "demo-control-plane-1",
                "kube_control_plane,etcd",
                &["delete", "create"],
                true,
            ),
            change("demo-etcd-1", "etcd", &["delete"], true),
            change("demo-worker-1", "kube_node", &["create", "delete"], true),
        ]);
        let names: Vec<&str> = p.disruptions().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["demo-control-plane-1", "demo-etcd-1"]);
    }

    #[test]
    fn an_all_no_op_plan_changes_nothing() {
        let mut image = change("x", "", &["no-op"], true);
        image["type"] = "flatcar_image".into();
        let p = plan(vec![
            change("demo-worker-1", "kube_node", &["no-op"], true),
            image,
        ]);
        assert!(!p.changes_anything());
        assert!(p.others.is_empty());
    }

    #[test]
    fn not_json_is_an_error() {
        assert!(PlanSummary::parse("Error: no plan").is_err());
    }
}
