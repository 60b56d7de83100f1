//! Acceptance tests of `flatcar_instance` through the real terraform CLI against real
//! Keystone, Glance, Nova (fake virt driver) and Neutron on 127.0.0.1
//! (`scripts/local-cloud.sh start --compute`), plus faults Nova cannot produce on demand
//! (429, 403 overLimit, a build stuck in BUILD) injected by the proxy.

use crate::support;

use flatcar_cloud::openstack::neutron::Neutron;
use flatcar_cloud::openstack::nova::Nova;
use flatcar_cloud::openstack::session::ApiRequest;
use reqwest::Method;
use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::fault_proxy::{Fault, FaultProxy};
use support::http_server::StaticServer;
use support::release_tree::{Release, ReleaseTree, SigningKey};
use support::reliability::record;
use support::terraform::{sigkill, wait_until, Run, Victim, Workspace};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud];

/// What the fault proxy answers for a server stuck in BUILD: the shape of Nova's
/// GET /v2.1/servers/{id} (the lifecycle test checks it against the real answer).
const STUCK_SERVER: &str = r#"{"server": {"id": "stuck", "name": "stuck", "status": "BUILD", "addresses": {}, "metadata": {}}}"#;

const IGNITION: &str = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"source":"data:,node"}}]}}"#;

struct Env {
    name: String,
    _tree: ReleaseTree,
    server: StaticServer,
    key: String,
    cloud: LocalCloud,
    ws: Workspace,
    armored: String,
}

fn env() -> Env {
    let tree = ReleaseTree::build(
        SigningKey::generate("Instance Test"),
        &[
            Release {
                channel: "stable",
                version: "4593.2.5",
                current: true,
            },
            Release {
                channel: "stable",
                version: "4459.2.4",
                current: false,
            },
        ],
    );
    let server = StaticServer::start(tree.root.path());
    let cloud = LocalCloud::get();
    assert_eq!(cloud.values.get("FK_COMPUTE").map(String::as_str), Some("1"), "the local cloud runs without Nova: start it with `bash scripts/local-cloud.sh start --compute`");
    let name = unique_name("fk-vm");
    let key = cloud.key_pair(&name);
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    let armored = tree.key.armored_public.clone();
    Env {
        name,
        _tree: tree,
        server,
        key,
        cloud,
        ws,
        armored,
    }
}

impl Env {
    /// Two images (two releases) and one instance using `image`; `extra` goes into the instance.
    fn configure(&self, provider_extra: &str, instance_name: &str, image: &str, extra: &str) {
        // A build that never leaves BUILD fails the test in minutes instead of hanging it.
        let bounded;
        let extra = if extra.contains("timeouts") {
            extra
        } else {
            bounded =
                format!("{extra}\n  timeouts {{\n    create = \"3m\"\n    delete = \"3m\"\n  }}");
            &bounded
        };
        self.ws.write_config(&format!(
            r#"provider "flatcar" {{
  release_base_url = "{base}/{{channel}}"
  signing_key      = <<-EOT
{armored}  EOT
{provider_extra}
}}

resource "flatcar_image" "new" {{
  name    = "{n}-img-new"
  version = "4593.2.5"
}}

resource "flatcar_image" "old" {{
  name    = "{n}-img-old"
  version = "4459.2.4"
}}

resource "flatcar_instance" "node" {{
  name        = "{instance_name}"
  image_id    = flatcar_image.{image}.id
  flavor_name = "{flavor}"
  key_pair    = "{key}"
  user_data   = <<-EOT
{ignition}
EOT
  network {{
    name = "{network}"
  }}
  metadata = {{
    kubespray_groups = "kube_control_plane,etcd"
  }}
  floating_ip_pool = "{pool}"
{extra}
}}

output "id" {{ value = flatcar_instance.node.id }}
output "floating_ip" {{ value = flatcar_instance.node.floating_ip }}
output "access_ip_v4" {{ value = flatcar_instance.node.access_ip_v4 }}
"#,
            base = self.server.base_url,
            armored = self.armored,
            n = self.name,
            flavor = self.cloud.value("FK_FLAVOR_SMALL"),
            key = self.key,
            ignition = IGNITION,
            network = self.cloud.value("FK_NETWORK_NAME"),
            pool = self.cloud.value("FK_EXTERNAL_NETWORK"),
        ));
    }

    /// True when Neutron holds no floating IP allocated for one of this test's servers (the
    /// provider writes the server's name into the address's description).
    fn no_fips_left(&self) -> bool {
        !self.cloud.floating_ips().iter().any(|f| {
            f.description
                .as_deref()
                .is_some_and(|d| d.contains(&self.name))
        })
    }

    /// `configure` with the new image and Nova reached through `proxy`; then `terraform init`.
    fn configure_through(&self, proxy: &FaultProxy, suffix: &str, extra: &str) {
        let over = format!("  endpoint_overrides = {{ compute = \"{}\" }}", proxy.url);
        self.configure(&over, &format!("{}-{suffix}", self.name), "new", extra);
        self.ws.init();
    }

    /// GET /v2.1/servers/{id} as the admin sees it, as JSON.
    fn server_json(&self, id: &str) -> serde_json::Value {
        let admin = self.cloud.session(true);
        self.cloud
            .block_on(async {
                let path = format!("/v2.1/servers/{id}");
                let response = admin
                    .send(ApiRequest::new(Method::GET, "compute", &path).microversion("2.3"))
                    .await?;
                admin.json::<serde_json::Value>(response).await
            })
            .expect("the server as JSON")
    }

    /// `configure` with the new image, then `edit` applied to the written main.tf.
    fn configure_edited(&self, node: &str, extra: &str, edit: impl Fn(String) -> String) {
        self.configure("", node, "new", extra);
        let path = self.ws.path().join("main.tf");
        let text = std::fs::read_to_string(&path).expect("main.tf");
        std::fs::write(&path, edit(text)).expect("write main.tf");
    }

    /// The server as the admin sees it (with user_data).
    fn server_as_admin(&self, id: &str) -> flatcar_cloud::openstack::nova::Server {
        let admin = self.cloud.session(true);
        self.cloud
            .block_on(Nova::new(&admin).get(id))
            .expect("get")
            .expect("the server exists")
    }

    /// `terraform destroy`, then Nova lists no server named `node`.
    fn destroy_and_check_gone(&self, node: &str) {
        self.ws
            .run(&["destroy", "-auto-approve", "-input=false"])
            .ok();
        assert!(self.cloud.servers(node).is_empty(), "the server is left");
    }

    fn fips_of(&self, address: &str) -> usize {
        self.cloud
            .floating_ips()
            .iter()
            .filter(|f| f.floating_ip_address == address)
            .count()
    }
}

/// Every key of `injected` exists in `real` with a value of the same JSON kind (an injected
/// answer must look like the real service's).
fn assert_same_shape(injected: &serde_json::Value, real: &serde_json::Value, at: &str) {
    use serde_json::Value as J;
    let kind = |v: &J| match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    };
    let (J::Object(injected), J::Object(real)) = (injected, real) else {
        panic!("{at}: expected objects, got {injected} and {real}");
    };
    for (key, value) in injected {
        let Some(real_value) = real.get(key) else {
            panic!("{at}.{key}: not in the real answer {real:?}");
        };
        assert_eq!(kind(value), kind(real_value), "{at}.{key}");
        if key == "server" {
            assert_same_shape(value, real_value, &format!("{at}.{key}"));
        }
    }
}

fn flat(run: &Run) -> String {
    run.all().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn lifecycle_create_rename_replace_import_destroy() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let node = format!("{}-node", e.name);
    e.configure("", &node, "new", "");
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    let fip =
        e.ws.output("floating_ip")
            .as_str()
            .expect("floating ip")
            .to_string();
    assert_eq!(
        e.ws.output("access_ip_v4"),
        fip.as_str(),
        "the floating IP is the access address"
    );

    // What Nova holds: ACTIVE, key pair, metadata; user_data as the admin sees it.
    let admin = e.cloud.session(true);
    let server = e
        .cloud
        .block_on(Nova::new(&admin).get(&id))
        .expect("get")
        .expect("exists");
    assert_eq!(server.status, "ACTIVE");
    assert_eq!(server.key_name.as_deref(), Some(e.key.as_str()));
    assert_eq!(
        server.metadata.get("kubespray_groups").map(String::as_str),
        Some("kube_control_plane,etcd")
    );
    assert_eq!(server.user_data().as_deref().map(str::trim), Some(IGNITION));
    assert_same_shape(
        &serde_json::from_str(STUCK_SERVER).expect("stuck body"),
        &e.server_json(&id),
        "GET /v2.1/servers/{id}",
    );
    assert_eq!(e.fips_of(&fip), 1);
    assert!(
        !e.no_fips_left(),
        "the floating IP's description does not name the server"
    );

    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    // Rename: in place, same ID.
    let renamed = format!("{}-renamed", e.name);
    e.configure("", &renamed, "new", "");
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    e.ws.apply().ok();
    assert_eq!(e.ws.output("id"), id.as_str());
    assert_eq!(e.cloud.servers(&renamed).len(), 1);

    // Another image forces replacement.
    e.configure("", &renamed, "old", "");
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    e.ws.apply().ok();
    let new_id = e.ws.output("id").as_str().expect("id").to_string();
    assert_ne!(new_id, id);
    assert_eq!(
        e.cloud.servers(&e.name).len(),
        1,
        "the replaced server is gone"
    );
    assert_eq!(e.fips_of(&fip), 0, "the old floating IP was released");

    // Import by ID: the cloud hides user_data from non-admins, so it is ignored after import.
    e.ws.run(&["state", "rm", "flatcar_instance.node"]).ok();
    e.configure(
        "",
        &renamed,
        "old",
        "  lifecycle {\n    ignore_changes = [user_data, timeouts]\n  }",
    );
    e.ws.run(&["import", "-input=false", "flatcar_instance.node", &new_id])
        .ok();
    let after = e.ws.plan_exit_code();
    assert_eq!(
        after.code,
        0,
        "plan after import not empty:\n{}",
        after.all()
    );

    let new_fip =
        e.ws.output("floating_ip")
            .as_str()
            .unwrap_or_default()
            .to_string();
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(
        e.cloud.servers(&e.name).is_empty(),
        "Nova still lists a server"
    );
    assert_eq!(
        e.fips_of(&new_fip),
        0,
        "Neutron still holds the floating IP"
    );
    assert!(e.no_fips_left(), "a floating IP was left behind");
}

#[test]
fn a_flavor_too_large_reports_novas_fault_and_leaves_no_server() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    e.configure("", &format!("{}-huge", e.name), "new", "");
    let text = std::fs::read_to_string(e.ws.path().join("main.tf")).expect("main.tf");
    std::fs::write(
        e.ws.path().join("main.tf"),
        text.replace(
            &format!("flavor_name = \"{}\"", e.cloud.value("FK_FLAVOR_SMALL")),
            &format!("flavor_name = \"{}\"", e.cloud.value("FK_FLAVOR_HUGE")),
        ),
    )
    .expect("write");
    e.ws.init();
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    let out = flat(&run);
    assert!(out.contains("The server failed to build"), "{out}");
    assert!(
        out.contains("Nova put server") && out.contains("in ERROR:"),
        "{out}"
    );
    assert!(
        !out.contains("Nova gave no fault message"),
        "Nova's fault message is missing: {out}"
    );
    assert!(
        e.cloud.servers(&e.name).is_empty(),
        "the failed server was not deleted"
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.no_fips_left(), "a floating IP was left behind");
    record(
        "flavor too large for the host: Nova puts the server in ERROR",
        1,
        "clear error with Nova's fault message, server deleted",
        "no server, no floating IP",
    );
}

/// The next `times` reads of a server answer BUILD.
fn stuck_in_build(times: u32) -> Fault {
    Fault::Status {
        method: "GET".into(),
        path_contains: "/v2.1/servers/".into(),
        status: 200,
        headers: vec![],
        body: STUCK_SERVER.into(),
        times,
    }
}

fn with_nova_proxy(e: &Env, fault: Fault) -> FaultProxy {
    let proxy = FaultProxy::start(&e.cloud.value("FK_NOVA_URL"));
    proxy.add(fault);
    proxy
}

/// The connection drops after Nova took the server POST, before its answer arrived: the
/// provider finds the server by this attempt's mark and goes on with it (not "Nova refused to
/// create the server", with the server left behind); exactly one server, and a clean destroy.
#[test]
fn a_lost_answer_to_the_server_post_goes_on_with_the_server_nova_made() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let proxy = with_nova_proxy(
        &e,
        Fault::LoseAnswer {
            method: "POST".into(),
            path_contains: "/v2.1/servers".into(),
            times: 1,
        },
    );
    e.configure_through(&proxy, "lost", "");
    let run = e.ws.apply();
    assert_eq!(proxy.injected(), 1);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        e.cloud.servers(&e.name).len(),
        1,
        "exactly the server Nova made"
    );
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.cloud.servers(&e.name).is_empty());
    assert!(e.no_fips_left(), "a floating IP was left behind");
    record(
        "answer to the server POST lost after Nova took it (Nova)",
        proxy.injected(),
        "the server Nova made found by its attempt mark; apply succeeds, second plan empty",
        "exactly one server; none after destroy",
    );
}

#[test]
fn rate_limits_and_quota_errors_on_server_create() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    // 429 with Retry-After: retried, then created.
    let proxy = with_nova_proxy(&e, Fault::Status {
        method: "POST".into(),
        path_contains: "/v2.1/servers".into(),
        status: 429,
        headers: vec![("Retry-After".into(), "1".into())],
        body: r#"{"overLimit": {"code": 429, "message": "This request was rate-limited.", "retryAfter": "1"}}"#.into(),
        times: 1,
    });
    e.configure_through(&proxy, "limited", "");
    e.ws.apply().ok();
    assert_eq!(proxy.injected(), 1);
    assert_eq!(
        e.cloud.servers(&e.name).len(),
        1,
        "exactly one server despite the retry"
    );
    let retried = proxy.injected();
    e.ws.run(&[
        "destroy",
        "-target=flatcar_instance.node",
        "-auto-approve",
        "-input=false",
    ])
    .ok();

    // 403 overLimit (quota): a clear error, nothing created.
    proxy.add(Fault::Status {
        method: "POST".into(),
        path_contains: "/v2.1/servers".into(),
        status: 403,
        headers: vec![],
        body: r#"{"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"}}"#.into(),
        times: 1,
    });
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    let out = flat(&run);
    assert!(out.contains("Quota exceeded for instances"), "{out}");
    assert!(out.contains("lacks permission or quota"), "{out}");
    assert!(e.cloud.servers(&e.name).is_empty());
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.no_fips_left(), "a floating IP was left behind");
    record(
        "429 + Retry-After on server create (Nova)",
        retried,
        "success after one retry, exactly one server",
        "no server, no floating IP (after destroy)",
    );
    record(
        "403 overLimit (quota) on server create (Nova)",
        proxy.injected() - retried,
        "clear error naming the quota, nothing created",
        "no server, no floating IP",
    );
}

#[test]
fn a_build_stuck_in_build_times_out_and_the_server_is_deleted() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let proxy = with_nova_proxy(&e, stuck_in_build(5));
    e.configure_through(
        &proxy,
        "stuck",
        "  timeouts {\n    create = \"3s\"\n    delete = \"60s\"\n  }",
    );
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    assert!(
        flat(&run).contains("Server creation timed out"),
        "{}",
        run.all()
    );
    assert!(
        e.cloud.servers(&e.name).is_empty(),
        "the stuck server was not deleted"
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.no_fips_left(), "a floating IP was left behind");
    record(
        "build stuck in BUILD past timeouts.create (3 s)",
        proxy.injected(),
        "clear error, server deleted",
        "no server, no floating IP",
    );
}

/// The other ways to say what a server gets: flavor by ID, a network by UUID plus an existing
/// port, named security groups and a config drive; all visible through Nova and Neutron, a
/// second plan is empty, and destroy keeps the user's port (detached) while deleting the server.
#[test]
fn flavor_id_network_uuid_port_security_groups_and_config_drive() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let port_name = format!("{}-port", e.name);
    let port = e
        .cloud
        .openstack(&[
            "port",
            "create",
            "--network",
            &e.cloud.value("FK_NETWORK_NAME"),
            "-f",
            "value",
            "-c",
            "id",
            &port_name,
        ])
        .trim()
        .to_string();
    let session = e.cloud.session(false);
    let flavor = e
        .cloud
        .block_on(Nova::new(&session).flavors())
        .expect("flavors")
        .into_iter()
        .find(|f| f.name == e.cloud.value("FK_FLAVOR_SMALL"))
        .expect("small flavor");
    e.configure("", &format!("{}-variants", e.name), "new", "");
    let text = std::fs::read_to_string(e.ws.path().join("main.tf")).expect("main.tf");
    let text = text
        .replace(
            &format!("flavor_name = \"{}\"", e.cloud.value("FK_FLAVOR_SMALL")),
            &format!("flavor_id   = \"{}\"", flavor.id),
        )
        .replace(
            &format!("  network {{\n    name = \"{}\"\n  }}", e.cloud.value("FK_NETWORK_NAME")),
            &format!(
                "  network {{\n    uuid = \"{}\"\n  }}\n  network {{\n    port = \"{port}\"\n  }}\n  security_groups = [\"default\"]\n  config_drive    = true",
                e.cloud.value("FK_NETWORK_ID")
            ),
        )
        .replace(
            &format!("  floating_ip_pool = \"{}\"\n", e.cloud.value("FK_EXTERNAL_NETWORK")),
            "",
        );
    assert!(
        text.contains("config_drive") && !text.contains("floating_ip_pool"),
        "{text}"
    );
    std::fs::write(e.ws.path().join("main.tf"), text).expect("write");
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();

    let server = &e.server_json(&id)["server"];
    assert_eq!(server["flavor"]["id"], flavor.id.as_str(), "{server}");
    assert_eq!(server["config_drive"], "True", "{server}");
    // Nova lists the groups per port: `default` once for each of the two ports.
    let groups = server["security_groups"]
        .as_array()
        .expect("security_groups");
    assert!(
        !groups.is_empty() && groups.iter().all(|g| g["name"] == "default"),
        "{server}"
    );
    let ports: Vec<String> = e
        .cloud
        .block_on(Neutron::new(&session).ports_of_device(&id))
        .expect("ports")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ports.len(), 2, "one port per network block: {ports:?}");
    assert!(
        ports.contains(&port),
        "the given port {port} is not attached: {ports:?}"
    );

    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(
        e.cloud.servers(&e.name).is_empty(),
        "Nova still lists a server"
    );
    let kept: serde_json::Value =
        serde_json::from_str(&e.cloud.openstack(&["port", "show", &port, "-f", "json"]))
            .expect("port JSON");
    assert_eq!(kept["device_id"], "", "the port is still attached: {kept}");
    e.cloud.openstack(&["port", "delete", &port]);
}

/// Boot from volume: the provider asks Nova for a volume made from the image (the Compute
/// API's block_device_mapping_v2). The local cloud has no Cinder, so real Nova accepts the
/// request and then fails the build ("volumev3 ... not found"): the provider reports that
/// fault and deletes the server.
#[test]
fn boot_from_volume_asks_nova_for_a_volume_from_the_image() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let proxy = FaultProxy::start(&e.cloud.value("FK_NOVA_URL"));
    e.configure_through(&proxy, "bfv", "  root_volume_size = 20");
    let run = e.ws.apply();
    assert_ne!(run.code, 0);
    let out = flat(&run);
    assert!(
        out.contains("The server failed to build") && out.contains("volumev3"),
        "{out}"
    );
    let creates = proxy.json_bodies_of("POST /v2.1/servers");
    assert_eq!(creates.len(), 1, "{creates:?}");
    let server = &creates[0]["server"];
    let image_id = e
        .cloud
        .images(
            &e.cloud.value("FK_GLANCE_URL"),
            &format!("{}-img-new", e.name),
        )
        .first()
        .map(|i| i.id.clone())
        .expect("the image");
    assert_eq!(server["imageRef"], "", "{server}");
    assert_eq!(
        server["block_device_mapping_v2"],
        serde_json::json!([{
            "boot_index": 0,
            "uuid": image_id,
            "source_type": "image",
            "destination_type": "volume",
            "volume_size": 20,
            "delete_on_termination": true
        }]),
        "{server}"
    );
    assert!(
        e.cloud.servers(&e.name).is_empty(),
        "the failed server was not deleted"
    );
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.no_fips_left(), "a floating IP was left behind");
}

#[test]
fn a_cloud_config_is_an_error_on_user_data_at_plan_time() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let ws = Workspace::new();
    ws.write_config("resource \"flatcar_instance\" \"node\" {\n  name        = \"n\"\n  image_id    = \"i\"\n  flavor_name = \"f\"\n  user_data   = \"#cloud-config\\nusers: []\\n\"\n  network {\n    name = \"private\"\n  }\n}\n");
    ws.init();
    let run = ws.run(&["validate"]);
    assert_ne!(run.code, 0);
    let out = run.all();
    assert!(out.contains("Invalid user_data"), "{out}");
    assert!(
        out.contains(":   user_data   ="),
        "not pointed at user_data:\n{out}"
    );
    assert!(flat(&run).contains("butane"), "{out}");
}

/// A write-only Ignition too large for Nova (the issue's reproduction: 50,000 bytes of padding)
/// is refused at plan time with the sizes, through real terraform against the real cloud:
/// Nova is never asked (its 400 would quote the whole base64 value), no output carries the
/// secret or its base64, and no server is made. The secret comes from a variable set in
/// `terraform.tfvars`, as it would in use (Terraform quotes the configuration's source line).
#[test]
fn an_oversized_write_only_user_data_is_refused_at_plan_time_and_never_shown() {
    if !acceptance::run(NEEDS) {
        return;
    }
    use base64::Engine as _;
    let e = env();
    let node = format!("{}-big", e.name);
    e.configure_edited(&node, "  user_data_wo_version = 1", |text| {
        let start = text.find("  user_data   = <<-EOT").expect("user_data");
        let end = start + text[start..].find("\nEOT\n").expect("heredoc end") + 5;
        format!(
            "{}  user_data_wo = jsonencode({{ignition={{version=\"3.4.0\"}}, passwd={{users=[{{name=\"core\", passwordHash=var.password_hash}}]}}, storage={{files=[{{path=\"/etc/pad\", contents={{source=\"data:,${{format(\"%050000s\",\"\")}}\"}}}}]}}}})\n{}",
            &text[..start],
            &text[end..]
        )
    });
    let main = e.ws.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(
        &main,
        format!(
            "{text}\nvariable \"password_hash\" {{\n  type      = string\n  sensitive = true\n}}\n"
        ),
    )
    .expect("variable");
    std::fs::write(
        e.ws.path().join("terraform.tfvars"),
        "password_hash = \"SECRETHASH\"\n",
    )
    .expect("tfvars");
    e.ws.init();
    let run = e.ws.run(&["apply", "-auto-approve", "-input=false"]);
    assert_ne!(run.code, 0, "{}", run.all());
    let out = run.all();
    let flat: String = out.split_whitespace().collect();
    assert!(
        out.contains("Invalid user_data_wo") && flat.contains("Novaacceptsatmost65535afterbase64"),
        "{out:.3000}"
    );
    assert!(!out.contains("SECRETHASH"), "{out:.3000}");
    for shift in 0..3 {
        let mut bytes = vec![b'x'; shift];
        bytes.extend_from_slice(b"SECRETHASH");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(
            !flat.contains(&encoded[4..12]),
            "base64 of the secret in:\n{out:.3000}"
        );
    }
    assert!(e.cloud.servers(&node).is_empty(), "a server was made");
    record(
        "write-only user_data over Nova's 65,535 bytes, a secret inside",
        1,
        "refused at plan time with the sizes; no output carries the secret or its base64",
        "no server",
    );
}

/// A running server moved from one `flatcar_security_group` into another: an in-place update
/// (Nova's add/removeSecurityGroup), the same server ID, and Nova then lists only the new
/// group; destroy removes the server before the groups it used.
#[test]
fn a_server_moves_into_another_security_group_in_place() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let node = format!("{}-grouped", e.name);
    let write = |group: &str| {
        let extra = format!("  security_groups = [flatcar_security_group.{group}.id]");
        e.configure_edited(&node, &extra, |mut text| {
            for g in ["a", "b"] {
                text.push_str(&format!(
                    "\nresource \"flatcar_security_group\" \"{g}\" {{\n  name = \"{}-{g}\"\n  rule {{\n    self = true\n  }}\n}}\n",
                    e.name
                ));
            }
            text
        });
    };
    let groups_of = |id: &str| -> Vec<String> {
        let server = e.server_json(id);
        let mut names: Vec<String> = server["server"]["security_groups"]
            .as_array()
            .expect("security_groups")
            .iter()
            .filter_map(|g| g["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    write("a");
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    assert_eq!(groups_of(&id), vec![format!("{}-a", e.name)]);

    write("b");
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    e.ws.apply().ok();
    assert_eq!(e.ws.output("id"), id.as_str(), "the server was replaced");
    assert_eq!(groups_of(&id), vec![format!("{}-b", e.name)]);
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());
    e.destroy_and_check_gone(&node);
}

/// Ignition through the write-only `user_data_wo`: Nova gets it, neither the state file nor
/// `terraform show -json` holds a trace of it, and a new `user_data_wo_version` replaces the
/// server.
#[test]
fn write_only_ignition_stays_out_of_state_and_a_new_version_replaces_the_server() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let node = format!("{}-wo", e.name);
    let write = |version: u32| {
        e.configure_edited(&node, "", |text| {
            let edited = text.replace(
                "  user_data   = <<-EOT",
                &format!("  user_data_wo_version = {version}\n  user_data_wo = <<-EOT"),
            );
            assert!(edited.contains("user_data_wo ="), "{edited}");
            edited
        });
    };
    write(1);
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    let server = e.server_as_admin(&id);
    assert_eq!(
        server.user_data().as_deref().map(str::trim),
        Some(IGNITION),
        "Nova got the Ignition"
    );
    let state = std::fs::read_to_string(e.ws.path().join("terraform.tfstate")).expect("state");
    let shown = e.ws.run(&["show", "-json"]).ok().stdout;
    for (what, text) in [("the state file", &state), ("terraform show -json", &shown)] {
        assert!(
            !text.contains("/etc/hostname"),
            "{what} holds the write-only Ignition"
        );
        assert!(text.contains(&id), "{what} does not describe the server");
    }
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    write(2);
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    e.ws.apply().ok();
    let new_id = e.ws.output("id").as_str().expect("id").to_string();
    assert_ne!(new_id, id, "a new version replaces the server");
    e.destroy_and_check_gone(&node);
}

/// `provider::flatcar::butane` output as `user_data`: the real terraform calls the function
/// (GetFunctions / CallFunction) and Nova gets exactly the Ignition the translation gives.
#[test]
fn butane_through_the_provider_function_becomes_the_servers_ignition() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let node = format!("{}-bu", e.name);
    let butane = "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/hostname\n      mode: 0644\n      contents:\n        inline: node-from-butane\n";
    e.configure_edited(&node, "", |text| {
        let start = text.find("  user_data   = <<-EOT").expect("user_data");
        let end = text[start..].find("\nEOT\n").expect("heredoc end") + start + "\nEOT\n".len();
        format!(
            "{}  user_data = provider::flatcar::butane(<<-EOT\n{butane}EOT\n  )\n{}",
            &text[..start],
            &text[end..]
        )
    });
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    let expected = flatcar_butane::to_ignition(butane, &flatcar_butane::Options::default())
        .expect("translates");
    assert_eq!(
        e.server_as_admin(&id).user_data().as_deref(),
        Some(expected.as_str())
    );
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());
    e.destroy_and_check_gone(&node);
}

/// Where in a server launch the kill tests freeze the provider before the SIGKILL.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Nova accepted the server; the provider sees it in BUILD for as long as the test needs.
    WhileBuild,
    /// The server is ACTIVE and its floating IP allocated and associated; the provider's
    /// request that marks the server created is held by the proxy.
    AfterFloatingIp,
}

impl Stage {
    fn describe(self) -> &'static str {
        match self {
            Stage::WhileBuild => "after the server POST, while BUILD",
            Stage::AfterFloatingIp => "after the floating IP allocation",
        }
    }

    fn fault(self) -> Fault {
        match self {
            Stage::WhileBuild => stuck_in_build(1000),
            Stage::AfterFloatingIp => Fault::Stall {
                method: "PUT".into(),
                path_contains: "/metadata/".into(),
            },
        }
    }

    /// Whether the running launch has reached this stage (nobody has recorded the server yet).
    fn reached(self, e: &Env, proxy: &FaultProxy) -> bool {
        match self {
            Stage::WhileBuild => {
                proxy.saw("POST /v2.1/servers") && !e.cloud.servers(&e.name).is_empty()
            }
            Stage::AfterFloatingIp => proxy.injected() > 0 && !e.no_fips_left(),
        }
    }
}

/// SIGKILL to terraform, and separately to the provider, at `stage` of the launch (the server
/// builds and runs without anyone recording it): the next `terraform apply` succeeds and Nova
/// and Neutron then hold exactly one server of that name and one floating IP for it, the ones in
/// state (the launch finds what the killed one left by its marks, and adopts an ACTIVE server
/// built from the same request or deletes it).
fn a_kill_then_apply_leaves_one_server_and_one_floating_ip(stage: Stage) {
    for victim in [Victim::Terraform, Victim::Provider] {
        let e = env();
        let proxy = with_nova_proxy(&e, stage.fault());
        e.configure_through(&proxy, "killed", "");
        let mut child = e.ws.spawn_apply();
        wait_until(
            stage.describe(),
            std::time::Duration::from_secs(120),
            || stage.reached(&e, &proxy),
        );
        let before: Vec<String> = e.cloud.servers(&e.name).into_iter().map(|s| s.id).collect();
        sigkill(&mut child, victim);
        proxy.clear();

        let run = e.ws.apply();
        assert_eq!(
            run.code,
            0,
            "{victim:?} {}: the next apply fails:\n{}",
            stage.describe(),
            run.all()
        );
        let id = e.ws.output("id");
        let servers = e.cloud.servers(&e.name);
        assert_eq!(
            servers.len(),
            1,
            "{victim:?} {}: Nova holds {servers:#?}",
            stage.describe()
        );
        assert_eq!(Some(servers[0].id.as_str()), id.as_str(), "{victim:?}");
        // A killed provider leaves its ACTIVE server, built from the same request: the next
        // launch adopts it (no second build). A killed terraform's provider deletes its own.
        let adopted = before.contains(&servers[0].id);
        if victim == Victim::Provider && matches!(stage, Stage::AfterFloatingIp) {
            assert!(
                adopted,
                "the built server {before:?} was not adopted: {servers:#?}"
            );
        }
        let fips: Vec<String> = e
            .cloud
            .floating_ips()
            .into_iter()
            .filter(|f| {
                f.description
                    .as_deref()
                    .is_some_and(|d| d.contains(&e.name))
            })
            .map(|f| f.floating_ip_address)
            .collect();
        assert_eq!(
            fips.len(),
            1,
            "{victim:?} {}: Neutron holds {fips:?}",
            stage.describe()
        );
        assert_eq!(Some(fips[0].as_str()), e.ws.output("floating_ip").as_str());
        e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
        assert!(e.cloud.servers(&e.name).is_empty());
        assert!(
            e.no_fips_left(),
            "{victim:?}: a floating IP was left behind"
        );
        record(
            &format!(
                "SIGKILL to {} {}, then apply",
                victim.name(),
                stage.describe()
            ),
            1,
            if adopted {
                "next apply adopts the built server and its floating IP"
            } else {
                "next apply succeeds, leftover deleted"
            },
            "exactly one server, one floating IP",
        );
    }
}

/// Ctrl-C (SIGINT to terraform) while three servers build: terraform asks the provider to
/// stop, each launch deletes the server it made and waits until Nova confirms it (the clean-up
/// is not cancelled by the stop), and any output says "deleted" only of servers Nova no longer
/// has. Afterwards Nova holds exactly the servers in state (none that the next apply could not
/// see, so a lowered count leaves no orphan), Neutron no port of the deleted ones, and destroy
/// finishes.
#[test]
fn ctrl_c_while_servers_build_deletes_them_and_says_only_what_is_true() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let proxy = with_nova_proxy(&e, stuck_in_build(100_000));
    let over = format!("  endpoint_overrides = {{ compute = \"{}\" }}", proxy.url);
    let node = format!("{}-sigint", e.name);
    e.configure(&over, &node, "new", "  count = 3");
    let main = e.ws.path().join("main.tf");
    let text = std::fs::read_to_string(&main)
        .expect("main.tf")
        .replace(
            &format!("name        = \"{node}\""),
            &format!("name        = \"{node}-${{count.index}}\""),
        )
        .replace("flatcar_instance.node.", "flatcar_instance.node[0].");
    std::fs::write(&main, text).expect("main.tf");
    e.ws.init();
    let log = e.ws.path().join("apply.log");
    let mut child =
        e.ws.command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .stdout(std::fs::File::create(&log).expect("log"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("terraform");
    wait_until(
        "three server POSTs",
        std::time::Duration::from_secs(180),
        || e.cloud.servers(&node).len() >= 3,
    );
    let building: Vec<String> = e.cloud.servers(&node).into_iter().map(|s| s.id).collect();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    // Let the stop reach the launches, then let Nova's real answers through for the clean-up.
    std::thread::sleep(std::time::Duration::from_secs(1));
    proxy.clear();
    let status = child.wait().expect("terraform");
    assert!(!status.success(), "an interrupted apply must fail");
    let out = std::fs::read_to_string(&log).expect("log");
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");

    let left: Vec<String> = e.cloud.servers(&node).into_iter().map(|s| s.id).collect();
    // Terraform 1.11 shows no resource diagnostics after an interrupt; a claim shown must hold.
    for id in &building {
        if flat.contains(&format!("Server {id} has been deleted (Nova confirmed)")) {
            assert!(
                !left.contains(id),
                "said deleted, but Nova has {id}:\n{out}"
            );
        }
    }
    // What is left is in state, where the next apply and destroy see it.
    let state = e.ws.run(&["state", "list"]);
    let in_state = state
        .stdout
        .lines()
        .filter(|l| l.contains("flatcar_instance.node"))
        .count();
    assert_eq!(
        left.len(),
        in_state,
        "Nova holds {left:?}; state: {}",
        state.stdout
    );
    let admin = e.cloud.session(true);
    for id in building.iter().filter(|id| !left.contains(id)) {
        let ports = e
            .cloud
            .block_on(Neutron::new(&admin).ports_of_device(id))
            .expect("ports");
        assert!(
            ports.is_empty(),
            "ports of the deleted {id} remain: {ports:?}"
        );
    }
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
    assert!(e.cloud.servers(&node).is_empty());
    assert!(e.no_fips_left(), "a floating IP was left behind");
    record(
        "SIGINT (Ctrl-C) to terraform while 3 servers build",
        1,
        "each launch deletes its server and waits for Nova's 404; only confirmed deletions are reported",
        "exactly the servers in state; no port or floating IP of the deleted ones",
    );
}

#[test]
fn a_kill_after_the_server_post_then_apply_leaves_one_server_and_one_floating_ip() {
    if !acceptance::run(NEEDS) {
        return;
    }
    a_kill_then_apply_leaves_one_server_and_one_floating_ip(Stage::WhileBuild);
}

#[test]
fn a_kill_after_the_floating_ip_allocation_then_apply_leaves_one_server_and_one_floating_ip() {
    if !acceptance::run(NEEDS) {
        return;
    }
    a_kill_then_apply_leaves_one_server_and_one_floating_ip(Stage::AfterFloatingIp);
}
