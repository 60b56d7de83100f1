//! Issue 23 end to end: a profile with `access.reserved_address` and `dns` through
//! `flatcar-kube up` against the local cloud (real Neutron, Nova, Designate with bind9): bind9
//! answers the API and hub names with the reserved address, which the first control plane
//! machine has and which goes into `hosts.yaml` and the API certificate's names; `terraform
//! apply -replace` of that machine keeps the address and the records; `up --destroy` leaves
//! no record, address or server.

use crate::flow::{flow_with, Flow};
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use flatcar_cloud::openstack::designate::Designate;
use flatcar_cloud::openstack::neutron::Neutron;
use support::acceptance::{self, Need};
use support::dns::dig_until;
use support::release_tree::Release;

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud, Need::Venv, Need::Dig];

const VERSION: &str = "4593.2.5";

fn flow() -> Flow {
    flow_with(&[Release {
        channel: "stable",
        version: VERSION,
        current: true,
    }])
}

fn profile(f: &Flow, zone: &str) -> PathBuf {
    let text = format!(
        "version: 1\nname: {name}\ncloud:\n  region: RegionOne\n  auth: password\naccess:\n  allowed_cidrs: [198.51.100.0/24]\n  reserved_address: true\ndns:\n  zone: {zone}\n  ingress_name: hub-{name}\nnetwork:\n  name: {network}\n  reuse: true\n  external_network: {public}\nflatcar:\n  channel: stable\n  version: {VERSION}\n  mirror_url: {base}/{{channel}}\n  signing_key_file: {key}\nssh:\n  public_key_file: {ssh}\npools:\n  control_plane:\n    count: 1\n    flavor: {flavor}\n  workers:\n    count: 1\n    flavor: {flavor}\n    floating_ip: false\nkubernetes:\n  openstack_cloud_provider: false\n  cinder_csi: false\n",
        name = f.name,
        network = f.cloud.value("FK_NETWORK_NAME"),
        public = f.cloud.value("FK_EXTERNAL_NETWORK"),
        base = f.base_url(),
        key = f.home.path().join("signing.asc").display(),
        ssh = f.home.path().join("id.pub").display(),
        flavor = f.cloud.value("FK_FLAVOR_SMALL"),
    );
    let path = f.home.path().join(format!("{}.yaml", f.name));
    std::fs::write(&path, text).expect("profile");
    path
}

/// Terraform in the generated root module, with the environment `up` gives it.
fn terraform(f: &Flow, out: &Path, args: &[&str]) -> std::process::Output {
    Command::new(support::terraform::binary())
        .arg(format!("-chdir={}", out.join("terraform").display()))
        .args(args)
        .env("TF_CLI_CONFIG_FILE", &f.ws.cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .envs(f.ws.extra_env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("terraform")
}

fn records(f: &Flow) -> Vec<(String, Vec<String>)> {
    let session = f.cloud.session(false);
    let zone_id = f.cloud.value("FK_DNS_ZONE_ID");
    let designate = Designate::new(&session);
    let mut found = Vec::new();
    for label in [f.name.clone(), format!("hub-{}", f.name)] {
        let name = format!("{label}.{}", f.cloud.value("FK_DNS_ZONE"));
        for set in f
            .cloud
            .block_on(designate.find(&zone_id, &name, "A"))
            .expect("recordsets")
        {
            found.push((set.id, set.records));
        }
    }
    found.sort();
    found
}

#[test]
fn reserved_address_and_dns_names_survive_a_replacement_and_go_with_destroy() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let f = flow();
    let zone = f.cloud.value("FK_DNS_ZONE");
    let profile = profile(&f, &zone);
    let out = f.home.path().join("out");
    let up = |args: &[&str]| {
        let result = f
            .up_cmd(&profile, &out, &support::terraform::binary())
            .args(args)
            .output()
            .expect("up");
        let text = String::from_utf8_lossy(&result.stdout).into_owned()
            + &String::from_utf8_lossy(&result.stderr);
        assert!(result.status.success(), "up {args:?}:\n{text}");
        text
    };
    up(&[]);
    let outputs: serde_json::Value =
        serde_json::from_slice(&terraform(&f, &out, &["output", "-json"]).stdout).expect("outputs");
    let address = outputs["api_address"]["value"]
        .as_str()
        .expect("api_address")
        .to_string();
    let api = format!("{}.{zone}", f.name);
    let hub = format!("hub-{}.{zone}", f.name);
    // bind9 answers both names with the reserved address.
    dig_until(&f.cloud, &api, std::slice::from_ref(&address));
    dig_until(&f.cloud, &hub, std::slice::from_ref(&address));
    let before = records(&f);
    assert_eq!(before.len(), 2, "{before:?}");
    // Ansible reaches the first control plane there, and the API certificate names the name.
    let hosts = std::fs::read_to_string(out.join("inventory/hosts.yaml")).expect("hosts");
    assert!(
        hosts.contains(&format!("ansible_host: \"{address}\"")),
        "{hosts}"
    );
    assert!(
        hosts.contains(api.trim_end_matches('.')),
        "the API name is not in supplementary_addresses_in_ssl_keys:\n{hosts}"
    );

    // The first control plane machine replaced by hand: same address, same records.
    let cp = format!("{}-control-plane-1", f.name);
    let first = f.cloud.servers(&cp);
    assert_eq!(first.len(), 1);
    let replaced = terraform(
        &f,
        &out,
        &[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &format!("-replace=module.cluster.flatcar_instance.node[\"{cp}\"]"),
        ],
    );
    assert!(
        replaced.status.success(),
        "{}{}",
        String::from_utf8_lossy(&replaced.stdout),
        String::from_utf8_lossy(&replaced.stderr)
    );
    let second = f.cloud.servers(&cp);
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].id, first[0].id, "not replaced");
    let after: serde_json::Value =
        serde_json::from_slice(&terraform(&f, &out, &["output", "-json"]).stdout).expect("outputs");
    assert_eq!(after["api_address"]["value"], address.as_str());
    assert_eq!(records(&f), before, "the records changed");
    dig_until(&f.cloud, &api, std::slice::from_ref(&address));

    // up --destroy: no record, no address, no server.
    up(&["--destroy"]);
    dig_until(&f.cloud, &api, &[]);
    dig_until(&f.cloud, &hub, &[]);
    assert!(records(&f).is_empty());
    let session = f.cloud.session(false);
    let left = f
        .cloud
        .block_on(Neutron::new(&session).floating_ips_at(&address))
        .expect("floating IPs");
    assert!(left.is_empty(), "the reserved address is left: {left:?}");
    assert!(f.cloud.servers(&f.name).is_empty());
}
