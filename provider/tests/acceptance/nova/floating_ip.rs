//! Issue 23: `flatcar_floating_ip` and `flatcar_instance.floating_ip_id` through the real
//! terraform CLI against the local cloud's real Neutron and Nova: a reserved address (create,
//! empty second plan, description and tags changed by hand put back, import, released on
//! destroy); a server that takes it, keeps it through `apply -replace` (same address, new
//! server), gets it back after it was detached by hand, and leaves it allocated when it goes;
//! a floating IP that does not exist is an error naming the attribute, with no server left.

use crate::support;

use flatcar_cloud::openstack::neutron::Neutron;
use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::http_server::StaticServer;
use support::release_tree::{Release, ReleaseTree, SigningKey};
use support::terraform::Workspace;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud];

struct Env {
    name: String,
    _tree: ReleaseTree,
    server: StaticServer,
    cloud: LocalCloud,
    ws: Workspace,
    armored: String,
}

fn env() -> Env {
    let tree = ReleaseTree::build(
        SigningKey::generate("Floating IP Test"),
        &[Release {
            channel: "stable",
            version: "4593.2.5",
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let cloud = LocalCloud::get();
    assert_eq!(
        cloud.values.get("FK_COMPUTE").map(String::as_str),
        Some("1"),
        "the local cloud runs without Neutron: start it with `bash scripts/local-cloud.sh start --compute`"
    );
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    let armored = tree.key.armored_public.clone();
    Env {
        name: unique_name("fk-fip"),
        _tree: tree,
        server,
        cloud,
        ws,
        armored,
    }
}

impl Env {
    /// A reserved address; with `instance`, a server that takes it (`floating_ip_id = EXPR`).
    fn configure(&self, description: &str, instance: Option<&str>) {
        let server = instance
            .map(|fip| {
                format!(
                    r#"
resource "flatcar_image" "img" {{
  name    = "{n}-img"
  version = "4593.2.5"
}}

resource "flatcar_instance" "node" {{
  name           = "{n}-node"
  image_id       = flatcar_image.img.id
  flavor_name    = "{flavor}"
  floating_ip_id = {fip}
  network {{
    name = "{network}"
  }}
  timeouts {{
    create = "3m"
    delete = "3m"
  }}
}}

output "server_id" {{ value = flatcar_instance.node.id }}
output "server_ip" {{ value = flatcar_instance.node.floating_ip }}
"#,
                    n = self.name,
                    flavor = self.cloud.value("FK_FLAVOR_SMALL"),
                    network = self.cloud.value("FK_NETWORK_NAME"),
                )
            })
            .unwrap_or_default();
        self.ws.write_config(&format!(
            r#"provider "flatcar" {{
  release_base_url = "{base}/{{channel}}"
  signing_key      = <<-EOT
{armored}  EOT
}}

resource "flatcar_floating_ip" "api" {{
  pool        = "{pool}"
  description = "{description}"
  tags        = ["{n}", "api"]
}}

output "id" {{ value = flatcar_floating_ip.api.id }}
output "address" {{ value = flatcar_floating_ip.api.address }}
{server}"#,
            base = self.server.base_url,
            armored = self.armored,
            pool = self.cloud.value("FK_EXTERNAL_NETWORK"),
            n = self.name,
        ));
    }

    fn neutron_fip(&self, id: &str) -> Option<flatcar_cloud::openstack::neutron::FloatingIp> {
        let session = self.cloud.session(false);
        self.cloud
            .block_on(Neutron::new(&session).floating_ip(id))
            .expect("read the floating IP")
    }
}

#[test]
fn reserved_address_lifecycle_drift_import_destroy() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    e.configure("API of the test", None);
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    let address =
        e.ws.output("address")
            .as_str()
            .expect("address")
            .to_string();
    let fip = e.neutron_fip(&id).expect("Neutron has it");
    assert_eq!(fip.floating_ip_address, address);
    assert_eq!(fip.port_id, None, "reserved: attached to nothing");
    let mut tags = fip.tags.clone();
    tags.sort();
    assert_eq!(tags, ["api".to_string(), e.name.clone()]);
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    // Drift: description and tags changed through the API are put back, same address.
    let session = e.cloud.session(false);
    let neutron = Neutron::new(&session);
    e.cloud
        .block_on(neutron.describe_floating_ip(&id, "changed by hand"))
        .expect("describe");
    e.cloud
        .block_on(neutron.set_floating_ip_tags(&id, &["other".to_string()]))
        .expect("tags");
    let drift = e.ws.plan_exit_code();
    assert_eq!(drift.code, 2, "drift not seen:\n{}", drift.all());
    assert!(
        drift.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        drift.stdout
    );
    e.ws.apply().ok();
    let fip = e.neutron_fip(&id).expect("still there");
    assert_eq!(fip.description.as_deref(), Some("API of the test"));
    assert_eq!(fip.floating_ip_address, address);

    // Import, then an empty plan.
    e.ws.run(&["state", "rm", "flatcar_floating_ip.api"]).ok();
    e.ws.run(&["import", "-input=false", "flatcar_floating_ip.api", &id])
        .ok();
    let after_import = e.ws.plan_exit_code();
    assert_eq!(
        after_import.code,
        0,
        "plan after import not empty:\n{}",
        after_import.all()
    );

    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.neutron_fip(&id).is_none(), "the address is not released");
}

#[test]
fn a_replaced_server_keeps_the_reserved_address() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    e.configure("API", Some("flatcar_floating_ip.api.id"));
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    let address =
        e.ws.output("address")
            .as_str()
            .expect("address")
            .to_string();
    let first =
        e.ws.output("server_id")
            .as_str()
            .expect("server")
            .to_string();
    assert_eq!(e.ws.output("server_ip"), address.as_str());
    assert!(e.neutron_fip(&id).and_then(|f| f.port_id).is_some());
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    // A new server, the same address.
    e.ws.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-replace=flatcar_instance.node",
    ])
    .ok();
    let replacement =
        e.ws.output("server_id")
            .as_str()
            .expect("server")
            .to_string();
    assert_ne!(replacement, first);
    assert_eq!(e.ws.output("server_ip"), address.as_str());
    assert_eq!(e.ws.output("address"), address.as_str());
    assert!(e.cloud.servers(&format!("{}-node", e.name)).len() == 1);

    // Detached by hand: the next apply puts it back on the server.
    let session = e.cloud.session(false);
    e.cloud
        .block_on(Neutron::new(&session).associate_floating_ip(&id, None))
        .expect("detach");
    let drift = e.ws.plan_exit_code();
    assert_eq!(drift.code, 2, "drift not seen:\n{}", drift.all());
    e.ws.apply().ok();
    let port = e
        .neutron_fip(&id)
        .and_then(|f| f.port_id)
        .expect("attached again");
    let ports = e
        .cloud
        .block_on(Neutron::new(&session).ports_of_device(&replacement))
        .expect("ports");
    assert!(ports.iter().any(|p| p.id == port));

    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.neutron_fip(&id).is_none());
    assert!(e.cloud.servers(&format!("{}-node", e.name)).is_empty());
}

#[test]
fn an_unknown_floating_ip_fails_at_its_attribute_and_leaves_no_server() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    e.configure("API", Some("\"203.0.113.254\""));
    e.ws.init();
    let failed = e.ws.apply();
    assert_ne!(failed.code, 0, "{}", failed.all());
    let text = failed
        .all()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("No such floating IP"), "{text}");
    assert!(text.contains("floating_ip_id"), "{text}");
    assert!(
        e.cloud.servers(&format!("{}-node", e.name)).is_empty(),
        "the server was left behind"
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
}
