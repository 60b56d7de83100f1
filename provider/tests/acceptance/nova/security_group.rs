//! Acceptance tests of `flatcar_security_group` through the real terraform CLI against the
//! real Neutron of the local cloud: create, an empty second plan, drift (a rule deleted and a
//! rule added through the Neutron API) put back by the next apply, a rule changed in place,
//! import, destroy.

use crate::support;

use flatcar_cloud::openstack::neutron::{Neutron, SecurityGroupRule};
use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::terraform::Workspace;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud];

struct Env {
    name: String,
    cloud: LocalCloud,
    ws: Workspace,
}

fn env() -> Env {
    let cloud = LocalCloud::get();
    assert_eq!(cloud.values.get("FK_COMPUTE").map(String::as_str), Some("1"), "the local cloud runs without Neutron: start it with `bash scripts/local-cloud.sh start --compute`");
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    Env {
        name: unique_name("fk-sg"),
        cloud,
        ws,
    }
}

impl Env {
    fn configure(&self, api_cidr: &str) {
        self.ws.write_config(&format!(
            r#"provider "flatcar" {{}}

resource "flatcar_security_group" "cluster" {{
  name        = "{name}"
  description = "test cluster"
  rule {{
    self = true
  }}
  rule {{
    protocol         = "tcp"
    port_range_min   = 22
    port_range_max   = 22
    remote_ip_prefix = "198.51.100.0/24"
  }}
  rule {{
    protocol         = "tcp"
    port_range_min   = 6443
    port_range_max   = 6443
    remote_ip_prefix = "{api_cidr}"
  }}
  rule {{
    protocol = "icmp"
  }}
}}

output "id" {{ value = flatcar_security_group.cluster.id }}
"#,
            name = self.name,
        ));
    }

    /// The group's rules in Neutron as (direction, ethertype, protocol, min port, remote).
    fn rules(&self, id: &str) -> Vec<(String, String, String, Option<u16>, String)> {
        let session = self.cloud.session(false);
        let group = self
            .cloud
            .block_on(Neutron::new(&session).security_group(id))
            .expect("read the group")
            .expect("the group exists");
        let mut rules: Vec<_> = group
            .security_group_rules
            .iter()
            .map(|r| {
                let remote = match (&r.remote_group_id, &r.remote_ip_prefix) {
                    (Some(g), _) if g == id => "self".to_string(),
                    (Some(g), _) => g.clone(),
                    (None, Some(c)) => c.clone(),
                    (None, None) => "any".to_string(),
                };
                let protocol = r.protocol.clone().unwrap_or_else(|| "any".into());
                (
                    r.direction.clone(),
                    r.ethertype.clone(),
                    protocol,
                    r.port_range_min,
                    remote,
                )
            })
            .collect();
        rules.sort();
        rules
    }

    fn rule_ids(&self, id: &str) -> Vec<SecurityGroupRule> {
        let session = self.cloud.session(false);
        self.cloud
            .block_on(Neutron::new(&session).security_group(id))
            .expect("read the group")
            .map(|g| g.security_group_rules)
            .unwrap_or_default()
    }
}

fn expected(api_cidr: &str) -> Vec<(String, String, String, Option<u16>, String)> {
    let r = |d: &str, e: &str, p: &str, port: Option<u16>, remote: &str| {
        (
            d.to_string(),
            e.to_string(),
            p.to_string(),
            port,
            remote.to_string(),
        )
    };
    let mut rules = vec![
        r("egress", "IPv4", "any", None, "any"),
        r("egress", "IPv6", "any", None, "any"),
        r("ingress", "IPv4", "any", None, "self"),
        r("ingress", "IPv4", "tcp", Some(22), "198.51.100.0/24"),
        r("ingress", "IPv4", "tcp", Some(6443), api_cidr),
        r("ingress", "IPv4", "icmp", None, "any"),
    ];
    rules.sort();
    rules
}

#[test]
fn lifecycle_drift_in_place_change_import_destroy() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    e.configure("198.51.100.0/24");
    e.ws.init().ok();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    assert_eq!(
        e.rules(&id),
        expected("198.51.100.0/24"),
        "Neutron holds exactly the declared rules"
    );
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    // Drift: someone deletes the SSH rule and opens 8080 to the world through the API.
    let session = e.cloud.session(false);
    let neutron = Neutron::new(&session);
    let ssh = e
        .rule_ids(&id)
        .into_iter()
        .find(|r| r.port_range_min == Some(22))
        .expect("the SSH rule");
    e.cloud
        .block_on(neutron.delete_security_group_rule(&ssh.id))
        .expect("delete a rule");
    let foreign = SecurityGroupRule {
        id: String::new(),
        direction: "ingress".into(),
        ethertype: "IPv4".into(),
        protocol: Some("tcp".into()),
        port_range_min: Some(8080),
        port_range_max: Some(8080),
        remote_ip_prefix: Some("0.0.0.0/0".into()),
        remote_group_id: None,
    };
    e.cloud
        .block_on(neutron.create_security_group_rule(&id, &foreign))
        .expect("add a rule");
    let drift = e.ws.plan_exit_code();
    assert_eq!(drift.code, 2, "drift not seen:\n{}", drift.all());
    assert!(
        drift.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        drift.stdout
    );
    e.ws.apply().ok();
    assert_eq!(
        e.rules(&id),
        expected("198.51.100.0/24"),
        "the next apply puts the rules back"
    );

    // A rule changes in place: same group ID.
    e.configure("203.0.113.0/24");
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    e.ws.apply().ok();
    assert_eq!(e.ws.output("id"), id.as_str());
    assert_eq!(e.rules(&id), expected("203.0.113.0/24"));

    // Import, then an empty plan.
    e.ws.run(&["state", "rm", "flatcar_security_group.cluster"])
        .ok();
    e.ws.run(&[
        "import",
        "-input=false",
        "flatcar_security_group.cluster",
        &id,
    ])
    .ok();
    let after_import = e.ws.plan_exit_code();
    assert_eq!(
        after_import.code,
        0,
        "plan after import not empty:\n{}",
        after_import.all()
    );

    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    let gone = e.cloud.block_on(neutron.security_group(&id)).expect("read");
    assert!(gone.is_none(), "the group is left in Neutron");
}

#[test]
fn a_bad_cidr_is_an_error_at_plan_time_and_nothing_is_created() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    e.configure("198.51.100.7/24");
    e.ws.init().ok();
    let plan = e.ws.run(&["plan", "-input=false"]);
    assert_ne!(plan.code, 0);
    let text = plan.all().split_whitespace().collect::<Vec<_>>().join(" ");
    // A declared validator of the rule's attribute: named in the summary, pointed at by path.
    assert!(text.contains("Invalid rule.remote_ip_prefix"), "{text}");
    assert!(
        text.contains("198.51.100.0/24"),
        "suggests the network address: {text}"
    );
}

/// A port with a fraction is the configuration's mistake: an error on the rule, never
/// "Provider bug ... Please report this".
#[test]
fn a_port_with_a_fraction_is_a_user_error() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let ws = Workspace::new();
    ws.write_config(
        "resource \"flatcar_security_group\" \"g\" {\n  name = \"g\"\n  rule {\n    protocol         = \"tcp\"\n    port_range_min   = 22.5\n    port_range_max   = 23\n    remote_ip_prefix = \"198.51.100.0/24\"\n  }\n}\n",
    );
    ws.init();
    let run = ws.run(&["validate"]);
    assert_ne!(run.code, 0);
    let text = run.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("Invalid rule.port_range_min") && text.contains("22.5 is not a whole number"),
        "{text}"
    );
    assert!(
        !text.contains("Provider bug") && !text.contains("report"),
        "{text}"
    );
    assert!(
        text.contains("`rule[0].port_range_min`"),
        "the attribute is not named: {text}"
    );
}
