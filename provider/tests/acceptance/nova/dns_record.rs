//! Issue 23: `flatcar_dns_record` through the real terraform CLI against the local cloud's
//! real Designate, whose pool is a real bind9: the record made for a reserved address is
//! answered by bind9 (`dig`), changes in place, is put back after it was changed or deleted
//! by hand, imports, and is gone after destroy; a missing zone, a name outside the zone and
//! an exhausted quota are errors that say so.

use crate::support;

use std::time::Duration;

use reqwest::Method;
use support::cloud::{unique_name, LocalCloud};
use support::dns::dig_until;
use support::terraform::Workspace;

use flatcar_cloud::openstack::designate::{Designate, RecordSetSpec};
use flatcar_cloud::openstack::session::ApiRequest;
use support::acceptance::{self, Need};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::Terraform, Need::ComputeCloud, Need::Dig];

struct Env {
    name: String,
    cloud: LocalCloud,
    ws: Workspace,
    zone: String,
}

fn env() -> Env {
    let cloud = LocalCloud::get();
    assert!(
        cloud.values.contains_key("FK_DNS_ZONE"),
        "the local cloud runs without Designate: start it with `bash scripts/local-cloud.sh start --compute`"
    );
    let mut ws = Workspace::new();
    ws.extra_env.extend(cloud.password_env());
    let zone = cloud.value("FK_DNS_ZONE");
    Env {
        name: unique_name("fk-dns").replace('_', "-"),
        cloud,
        ws,
        zone,
    }
}

impl Env {
    fn fqdn(&self, label: &str) -> String {
        format!("{label}.{}", self.zone)
    }

    fn configure(&self, zone: &str, name: &str, records: &str, ttl: u32) {
        self.ws.write_config(&format!(
            r#"provider "flatcar" {{}}

resource "flatcar_floating_ip" "hub" {{
  pool = "{pool}"
}}

resource "flatcar_dns_record" "hub" {{
  zone        = "{zone}"
  name        = "{name}"
  records     = {records}
  ttl         = {ttl}
  description = "hub of {n}"
}}

output "id" {{ value = flatcar_dns_record.hub.id }}
output "zone_id" {{ value = flatcar_dns_record.hub.zone_id }}
output "address" {{ value = flatcar_floating_ip.hub.address }}
"#,
            pool = self.cloud.value("FK_EXTERNAL_NETWORK"),
            n = self.name,
        ));
    }
}

#[test]
fn record_answered_by_bind9_in_place_change_drift_import_destroy() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let name = e.fqdn(&e.name);
    e.configure(&e.zone, &name, "[flatcar_floating_ip.hub.address]", 300);
    e.ws.init();
    e.ws.apply().ok();
    let id = e.ws.output("id").as_str().expect("id").to_string();
    let zone_id = e.ws.output("zone_id").as_str().expect("zone").to_string();
    let address =
        e.ws.output("address")
            .as_str()
            .expect("address")
            .to_string();
    // bind9 answers, not only the API.
    dig_until(&e.cloud, &name, std::slice::from_ref(&address));
    let second = e.ws.plan_exit_code();
    assert_eq!(second.code, 0, "second plan not empty:\n{}", second.all());

    // Records and TTL change in place: the same recordset.
    e.configure(
        &e.zone,
        &name,
        "[flatcar_floating_ip.hub.address, \"203.0.113.7\"]",
        60,
    );
    let plan = e.ws.run(&["plan", "-input=false"]).ok();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    e.ws.apply().ok();
    assert_eq!(e.ws.output("id"), id.as_str());
    let mut both = vec![address.clone(), "203.0.113.7".to_string()];
    both.sort();
    dig_until(&e.cloud, &name, &both);

    // Changed by hand: put back.
    let session = e.cloud.session(false);
    let designate = Designate::new(&session);
    let by_hand = RecordSetSpec {
        name: name.clone(),
        kind: "A".into(),
        records: vec!["198.51.100.99".into()],
        ttl: Some(60),
        description: "by hand".into(),
    };
    e.cloud
        .block_on(designate.update(&zone_id, &id, &by_hand))
        .expect("change by hand");
    let drift = e.ws.plan_exit_code();
    assert_eq!(drift.code, 2, "drift not seen:\n{}", drift.all());
    e.ws.apply().ok();
    dig_until(&e.cloud, &name, &both);

    // Deleted by hand: made again.
    e.cloud
        .block_on(designate.delete(&zone_id, &id, Duration::from_secs(60)))
        .expect("delete by hand");
    let gone = e.ws.plan_exit_code();
    assert_eq!(gone.code, 2, "deletion not seen:\n{}", gone.all());
    assert!(gone.stdout.contains("1 to add"), "{}", gone.stdout);
    e.ws.apply().ok();
    dig_until(&e.cloud, &name, &both);
    let id = e.ws.output("id").as_str().expect("id").to_string();

    // Import, then an empty plan.
    e.ws.run(&["state", "rm", "flatcar_dns_record.hub"]).ok();
    e.ws.run(&[
        "import",
        "-input=false",
        "flatcar_dns_record.hub",
        &format!("{zone_id}/{id}"),
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
    dig_until(&e.cloud, &name, &[]);
    assert!(e
        .cloud
        .block_on(designate.get(&zone_id, &id))
        .expect("read")
        .is_none());
}

#[test]
fn a_missing_zone_and_a_name_outside_the_zone_are_refused() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    // A zone the project does not have: at apply, nothing made but the address (destroyed).
    e.configure(
        "nope.example.test.",
        "hub.nope.example.test.",
        "[\"203.0.113.5\"]",
        300,
    );
    e.ws.init();
    let failed = e.ws.apply();
    assert_ne!(failed.code, 0);
    let text = failed
        .all()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("No such DNS zone"), "{text}");
    assert!(text.contains("openstack zone list"), "{text}");

    // A name outside the zone given by name: at plan time.
    e.configure(&e.zone, "hub.elsewhere.example.", "[\"203.0.113.5\"]", 300);
    let plan = e.ws.run(&["plan", "-input=false"]);
    assert_ne!(plan.code, 0);
    let text = plan.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("The name is outside the zone"), "{text}");

    // The same with the zone by ID: at apply, before anything is made in Designate.
    let zone_id = e.cloud.value("FK_DNS_ZONE_ID");
    e.configure(&zone_id, "hub.elsewhere.example.", "[\"203.0.113.5\"]", 300);
    let failed = e.ws.apply();
    assert_ne!(failed.code, 0);
    let text = failed
        .all()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("The name is outside the zone"), "{text}");
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
}

#[test]
fn an_exhausted_recordset_quota_is_named() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let e = env();
    let admin = e.cloud.session(true);
    let project = {
        let demo = e.cloud.session(false);
        e.cloud.block_on(demo.scope()).expect("scope").project_id
    };
    let quota_path = format!("/v2/quotas/{project}");
    let set_quota = |value: serde_json::Value| {
        e.cloud
            .block_on(
                admin.send(
                    ApiRequest::new(Method::PATCH, "dns", &quota_path)
                        .json(value)
                        .header("X-Auth-All-Projects", "true"),
                ),
            )
            .expect("set the quota");
    };
    // The zone's SOA and NS recordsets count: room for none of ours.
    let session = e.cloud.session(false);
    let zone_id = e.cloud.value("FK_DNS_ZONE_ID");
    #[derive(serde::Deserialize)]
    struct List {
        recordsets: Vec<serde_json::Value>,
    }
    let existing = e
        .cloud
        .block_on(async {
            let r = session
                .send(ApiRequest::new(
                    Method::GET,
                    "dns",
                    &format!("/v2/zones/{zone_id}/recordsets"),
                ))
                .await?;
            session.json::<List>(r).await
        })
        .expect("list recordsets")
        .recordsets
        .len();
    set_quota(serde_json::json!({ "zone_recordsets": existing }));
    let name = e.fqdn(&e.name);
    e.configure(&e.zone, &name, "[\"203.0.113.5\"]", 300);
    e.ws.init();
    let failed = e.ws.apply();
    set_quota(serde_json::json!({ "zone_recordsets": 500 }));
    assert_ne!(failed.code, 0, "{}", failed.all());
    let text = failed
        .all()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("DNS quota exceeded"), "{text}");
    e.ws.run(&["destroy", "-auto-approve", "-input=false"]).ok();
}
