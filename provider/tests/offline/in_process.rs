//! In-process tests of the resources' plan, validation, apply-error and import paths,
//! through `tfplugin::harness` (the gRPC service's own code, values msgpack-encoded as on the
//! wire): no terraform, no local cloud, seconds to run. The acceptance tests beside this
//! one prove the same behaviour through the real terraform CLI and the real services.

use crate::support;

use std::sync::Arc;

use terraform_provider_flatcar::provider::FlatcarProvider;
use tfplugin::harness::Harness;
use tfplugin::{AttributePath, Value};

fn harness() -> Harness {
    Harness::new(Arc::new(FlatcarProvider::new().expect("provider")))
}

fn s(v: &str) -> Value {
    Value::string(v)
}

/// A configuration of `flatcar_image`: every attribute, unset ones null.
fn image_config(pairs: &[(&str, Value)]) -> Value {
    let mut config = Value::object(
        [
            "name",
            "channel",
            "arch",
            "version",
            "compression",
            "base_url",
            "visibility",
            "properties",
            "tags",
            "id",
            "status",
            "size",
            "checksum",
            "os_hash_algo",
            "os_hash_value",
            "resolved_version",
            "verified_fingerprint",
            "source_url",
            "timeouts",
        ]
        .map(|k| (k, Value::Null)),
    );
    for (k, v) in pairs {
        config.set(k, v.clone());
    }
    config
}

fn network(name: &str) -> Value {
    Value::object([
        ("uuid", Value::Null),
        ("name", s(name)),
        ("port", Value::Null),
        ("fixed_ip_v4", Value::Null),
    ])
}

/// A configuration of `flatcar_instance`: every attribute, unset ones null.
fn instance_config(pairs: &[(&str, Value)]) -> Value {
    let mut config = Value::object(
        [
            "name",
            "image_id",
            "flavor_name",
            "flavor_id",
            "key_pair",
            "user_data",
            "user_data_wo",
            "user_data_wo_version",
            "security_groups",
            "metadata",
            "availability_zone",
            "config_drive",
            "root_volume_size",
            "floating_ip_pool",
            "id",
            "status",
            "access_ip_v4",
            "access_ip_v6",
            "floating_ip",
            "addresses",
            "timeouts",
        ]
        .map(|k| (k, Value::Null)),
    );
    config.set("network", Value::List(vec![network("private")]));
    for (k, v) in pairs {
        config.set(k, v.clone());
    }
    config
}

/// A state as an apply would have left it: the plan with every unknown filled in, with a
/// value of the attribute's type.
fn fill_unknowns(planned: &Value, with: &str) -> Value {
    let filled = |key: &str, v: &Value| match (key, v) {
        ("size", Value::Unknown) => Value::Number(tfplugin::Number::Int(1024)),
        ("addresses", Value::Unknown) => {
            Value::object([("private", Value::List(vec![s("10.0.0.5")]))])
        }
        _ => fill_unknowns(v, &format!("{key}-{with}")),
    };
    match planned {
        Value::Unknown => s(with),
        Value::Map(items) => Value::Map(
            items
                .iter()
                .map(|(k, v)| (k.clone(), filled(k, v)))
                .collect(),
        ),
        Value::List(items) => Value::List(items.iter().map(|v| fill_unknowns(v, with)).collect()),
        other => other.clone(),
    }
}

mod image_plan {
    use super::*;

    #[tokio::test]
    async fn create_plans_defaults_and_leaves_computed_attributes_unknown() {
        let h = harness();
        let config = image_config(&[("name", s("flatcar"))]);
        let plan = h
            .plan("flatcar_image", &Value::Null, &config)
            .await
            .expect("plan");
        let p = &plan.planned_state;
        assert!(plan.requires_replace.is_empty());
        for (attr, default) in [
            ("channel", "stable"),
            ("arch", "amd64"),
            ("version", "current"),
            ("compression", "none"),
            ("visibility", "private"),
        ] {
            assert_eq!(p.get(attr), &s(default), "{attr}");
        }
        assert_eq!(p.get("tags"), &Value::List(vec![]));
        for attr in [
            "id",
            "status",
            "size",
            "checksum",
            "os_hash_value",
            "resolved_version",
            "verified_fingerprint",
            "source_url",
        ] {
            assert_eq!(p.get(attr), &Value::Unknown, "{attr}");
        }
        assert_eq!(p.get("base_url"), &Value::Null);
    }

    #[tokio::test]
    async fn a_new_name_changes_in_place_and_keeps_every_computed_value() {
        let h = harness();
        let config = image_config(&[("name", s("flatcar"))]);
        let created = h
            .plan("flatcar_image", &Value::Null, &config)
            .await
            .expect("plan");
        let state = fill_unknowns(&created.planned_state, "known");
        let unchanged = h
            .plan("flatcar_image", &state, &config)
            .await
            .expect("plan");
        assert_eq!(
            unchanged.planned_state, state,
            "an unchanged configuration plans no change"
        );

        let renamed = image_config(&[("name", s("flatcar-2"))]);
        let plan = h
            .plan("flatcar_image", &state, &renamed)
            .await
            .expect("plan");
        assert!(
            plan.requires_replace.is_empty(),
            "{:?}",
            plan.requires_replace
        );
        let mut expected = state.clone();
        expected.set("name", s("flatcar-2"));
        assert_eq!(plan.planned_state, expected);
    }

    #[tokio::test]
    async fn a_new_version_replaces_the_image_and_unknowns_its_computed_values() {
        let h = harness();
        let config = image_config(&[("name", s("flatcar"))]);
        let created = h
            .plan("flatcar_image", &Value::Null, &config)
            .await
            .expect("plan");
        let state = fill_unknowns(&created.planned_state, "known");
        let pinned = image_config(&[("name", s("flatcar")), ("version", s("4593.2.5"))]);
        let plan = h
            .plan("flatcar_image", &state, &pinned)
            .await
            .expect("plan");
        assert_eq!(plan.requires_replace, vec![AttributePath::root("version")]);
        assert_eq!(plan.planned_state.get("id"), &Value::Unknown);
        assert_eq!(plan.planned_state.get("version"), &s("4593.2.5"));
    }

    #[tokio::test]
    async fn invalid_settings_are_errors_at_their_attribute() {
        let h = harness();
        let config = image_config(&[
            ("name", s("")),
            ("channel", s("edge")),
            ("compression", s("zip")),
            ("visibility", s("everyone")),
            ("properties", Value::object([("flatcar_channel", s("x"))])),
            (
                "timeouts",
                Value::object([("create", s("soon")), ("delete", Value::Null)]),
            ),
        ]);
        let diags = h.validate("flatcar_image", &config).await;
        let paths: Vec<String> = diags
            .0
            .iter()
            .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
            .collect();
        for expected in [
            "name",
            "channel",
            "compression",
            "visibility",
            "properties[\"flatcar_channel\"]",
            "timeouts.create",
        ] {
            assert!(
                paths.contains(&expected.to_string()),
                "{expected} missing from {paths:?}"
            );
        }
        let channel = diags
            .0
            .iter()
            .find(|d| d.summary == "Invalid channel")
            .expect("channel diagnostic");
        assert!(
            channel.detail.contains("stable, beta, alpha, lts"),
            "{}",
            channel.detail
        );
    }

    #[tokio::test]
    async fn unknown_values_pass_validation() {
        let h = harness();
        let config = image_config(&[("name", Value::Unknown), ("version", Value::Unknown)]);
        let diags = h.validate("flatcar_image", &config).await;
        assert!(diags.is_empty(), "{diags:?}");
    }
}

mod instance_plan {
    use super::*;

    fn config() -> Value {
        instance_config(&[
            ("name", s("node-1")),
            ("image_id", s("img-1")),
            ("flavor_name", s("m3.small")),
            ("user_data", s(r#"{"ignition":{"version":"3.3.0"}}"#)),
            ("metadata", Value::object([("role", s("worker"))])),
        ])
    }

    #[tokio::test]
    async fn create_leaves_computed_and_unset_network_values_unknown() {
        let h = harness();
        let plan = h
            .plan("flatcar_instance", &Value::Null, &config())
            .await
            .expect("plan");
        let p = &plan.planned_state;
        for attr in [
            "id",
            "status",
            "access_ip_v4",
            "access_ip_v6",
            "floating_ip",
            "addresses",
            "flavor_id",
            "availability_zone",
        ] {
            assert_eq!(p.get(attr), &Value::Unknown, "{attr}");
        }
        assert_eq!(p.get("flavor_name"), &s("m3.small"));
        let Value::List(blocks) = p.get("network") else {
            panic!("network blocks")
        };
        assert_eq!(blocks[0].get("name"), &s("private"));
        assert_eq!(blocks[0].get("uuid"), &Value::Unknown);
        assert_eq!(blocks[0].get("fixed_ip_v4"), &Value::Unknown);
        assert_eq!(blocks[0].get("port"), &Value::Null);
    }

    #[tokio::test]
    async fn metadata_changes_in_place_and_a_new_image_or_network_replaces() {
        let h = harness();
        let created = h
            .plan("flatcar_instance", &Value::Null, &config())
            .await
            .expect("plan");
        let state = fill_unknowns(&created.planned_state, "known");
        let same = h
            .plan("flatcar_instance", &state, &config())
            .await
            .expect("plan");
        assert_eq!(same.planned_state, state);

        let mut retagged = config();
        retagged.set("metadata", Value::object([("role", s("control-plane"))]));
        let plan = h
            .plan("flatcar_instance", &state, &retagged)
            .await
            .expect("plan");
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned_state.get("id"), state.get("id"));
        assert_eq!(plan.planned_state.get("addresses"), state.get("addresses"));

        let mut regrouped = config();
        regrouped.set("security_groups", Value::List(vec![s("k8s-nodes")]));
        let plan = h
            .plan("flatcar_instance", &state, &regrouped)
            .await
            .expect("plan");
        assert!(
            plan.requires_replace.is_empty(),
            "a new security group is applied in place: {:?}",
            plan.requires_replace
        );

        let mut new_image = config();
        new_image.set("image_id", s("img-2"));
        let plan = h
            .plan("flatcar_instance", &state, &new_image)
            .await
            .expect("plan");
        assert_eq!(plan.requires_replace, vec![AttributePath::root("image_id")]);
        assert_eq!(plan.planned_state.get("id"), &Value::Unknown);

        let mut other_net = config();
        other_net.set("network", Value::List(vec![network("public")]));
        let plan = h
            .plan("flatcar_instance", &state, &other_net)
            .await
            .expect("plan");
        assert_eq!(plan.requires_replace, vec![AttributePath::root("network")]);
        let Value::List(blocks) = plan.planned_state.get("network") else {
            panic!("network")
        };
        assert_eq!(blocks[0].get("uuid"), &Value::Unknown);
    }

    #[tokio::test]
    async fn validation_names_the_attribute_and_says_what_to_do() {
        let h = harness();
        let mut c = config();
        c.set("flavor_name", Value::Null);
        c.set("user_data", s("#cloud-config\nusers: []"));
        c.set("root_volume_size", Value::Number(2.5_f64.into_number()));
        let mut both = network("private");
        both.set("uuid", s("net-1"));
        c.set("network", Value::List(vec![both]));
        let diags = h.validate("flatcar_instance", &c).await;
        let at = |path: &str| {
            diags
                .0
                .iter()
                .find(|d| d.path.as_ref().map(|p| p.to_string()).as_deref() == Some(path))
        };
        assert_eq!(
            at("flavor_name").map(|d| d.summary.as_str()),
            Some("Missing flavor")
        );
        let user_data = at("user_data").expect("user_data diagnostic");
        assert!(user_data.detail.contains("butane"), "{}", user_data.detail);
        assert_eq!(
            at("network[0]").map(|d| d.summary.as_str()),
            Some("Invalid network block")
        );
        assert_eq!(
            at("root_volume_size").map(|d| d.summary.as_str()),
            Some("Invalid root_volume_size")
        );

        let mut later = config();
        later.set(
            "security_groups",
            Value::List(vec![s("default"), Value::Unknown]),
        );
        let diags = h.validate("flatcar_instance", &later).await;
        assert!(
            diags.is_empty(),
            "a group ID known after apply is fine: {diags:?}"
        );

        let mut conflicting = config();
        conflicting.set("flavor_id", s("42"));
        let diags = h.validate("flatcar_instance", &conflicting).await;
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert_eq!(diags.0[0].summary, "Conflicting flavor");
    }

    #[tokio::test]
    async fn write_only_user_data_stays_out_of_the_plan_and_needs_a_client_that_knows_it() {
        let ignition = s(r#"{"ignition":{"version":"3.3.0"}}"#);
        let mut c = config();
        c.set("user_data", Value::Null);
        c.set("user_data_wo", ignition.clone());
        let h = harness();
        assert!(h.validate("flatcar_instance", &c).await.is_empty());
        let plan = h
            .plan("flatcar_instance", &Value::Null, &c)
            .await
            .expect("plan");
        assert_eq!(plan.planned_state.get("user_data_wo"), &Value::Null);

        let old = harness().without_write_only();
        let diags = old.validate("flatcar_instance", &c).await;
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert_eq!(diags.0[0].path, Some(AttributePath::root("user_data_wo")));
        assert!(diags.0[0].detail.contains("1.11"), "{}", diags.0[0].detail);

        c.set("user_data", ignition);
        let diags = h.validate("flatcar_instance", &c).await;
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert_eq!(diags.0[0].summary, "Conflicting user data");
    }

    trait IntoNumber {
        fn into_number(self) -> tfplugin::Number;
    }
    impl IntoNumber for f64 {
        fn into_number(self) -> tfplugin::Number {
            tfplugin::Number::Float(self)
        }
    }
}

/// A provider configured against the fixture cloud (and `extra` provider settings).
async fn configured(
    cloud: &support::fixture_cloud::FixtureCloud,
    extra: &[(&str, Value)],
) -> Harness {
    let h = harness();
    let mut block = cloud.provider_block();
    for (k, v) in extra {
        block.set(k, v.clone());
    }
    h.configure(block).await.expect("configure");
    h
}

/// Asserts attribute values of a state, naming the attribute that differs.
#[track_caller]
fn assert_attributes(state: &Value, expected: &[(&str, Value)]) {
    for (name, value) in expected {
        assert_eq!(state.get(name), value, "{name}");
    }
}

fn summaries(diags: &tfplugin::Diagnostics) -> String {
    diags
        .0
        .iter()
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

mod image_apply {
    use super::*;
    use support::fixture_cloud::{recorded_id, FixtureCloud};
    use support::http_server::StaticServer;
    use support::release_tree::{Release, ReleaseTree, SigningKey};

    #[tokio::test]
    async fn a_release_signed_by_another_key_fails_before_any_cloud_call() {
        let tree = ReleaseTree::build(
            SigningKey::generate("In-process Signing"),
            &[Release {
                channel: "stable",
                version: "4593.2.5",
                current: true,
            }],
        );
        let server = StaticServer::start(tree.root.path());
        let cloud = FixtureCloud::start();
        let stranger = SigningKey::generate("Someone Else");
        let h = configured(
            &cloud,
            &[
                (
                    "release_base_url",
                    s(&format!("{}/{{channel}}", server.base_url)),
                ),
                ("signing_key", s(&stranger.armored_public)),
            ],
        )
        .await;
        let config = image_config(&[("name", s("flatcar"))]);
        let plan = h
            .plan("flatcar_image", &Value::Null, &config)
            .await
            .expect("plan");
        let (state, diags) = h
            .apply("flatcar_image", &Value::Null, &plan.planned_state, &config)
            .await
            .expect("apply rpc");
        assert!(
            state.is_null(),
            "a failed create records nothing: {state:?}"
        );
        assert!(
            summaries(&diags).contains("Flatcar release signature verification failed"),
            "{}",
            summaries(&diags)
        );
        assert!(
            cloud.requests().is_empty(),
            "the cloud was called: {:?}",
            cloud.requests()
        );
    }

    #[tokio::test]
    async fn import_rebuilds_the_state_and_the_matching_configuration_plans_no_change() {
        let cloud = FixtureCloud::start();
        let h = configured(&cloud, &[]).await;
        let id = recorded_id("glance-image");
        let state = h.import("flatcar_image", &id).await.expect("import");
        assert_attributes(
            &state,
            &[
                ("id", s(&id)),
                ("name", s("fixture-flatcar")),
                ("status", s("active")),
                ("channel", s("stable")),
                ("version", s("current")),
                ("resolved_version", s("4593.2.5")),
                ("properties", Value::object([("hw_disk_bus", s("scsi"))])),
                ("tags", Value::List(vec![s("k8s")])),
            ],
        );
        assert!(
            matches!(state.get("size"), Value::Number(_)),
            "{:?}",
            state.get("size")
        );

        let config = image_config(&[
            ("name", s("fixture-flatcar")),
            ("properties", Value::object([("hw_disk_bus", s("scsi"))])),
            ("tags", Value::List(vec![s("k8s")])),
        ]);
        let plan = h
            .plan("flatcar_image", &state, &config)
            .await
            .expect("plan");
        assert!(
            plan.requires_replace.is_empty(),
            "{:?}",
            plan.requires_replace
        );
        assert_eq!(plan.planned_state, state, "import then plan must be empty");
        let refreshed = h.read("flatcar_image", &state).await.expect("read");
        assert_eq!(refreshed, state);
    }

    #[tokio::test]
    async fn importing_a_missing_image_says_how_to_find_it() {
        let cloud = FixtureCloud::start();
        let h = configured(&cloud, &[]).await;
        let err = h
            .import("flatcar_image", "00000000-0000-0000-0000-000000000000")
            .await
            .expect_err("missing");
        assert!(
            summaries(&err).contains("No such image"),
            "{}",
            summaries(&err)
        );
        assert!(
            summaries(&err).contains("openstack image list"),
            "{}",
            summaries(&err)
        );
        let gone = h
            .read(
                "flatcar_image",
                &image_config(&[("id", s("00000000-0000-0000-0000-000000000000"))]),
            )
            .await
            .expect("read");
        assert!(gone.is_null(), "a vanished image leaves the state");
    }
}

mod instance_apply {
    use super::*;
    use support::fixture_cloud::{recorded_id, FixtureCloud};

    fn config(flavor: &str) -> Value {
        instance_config(&[
            ("name", s("fixture-too-large")),
            ("image_id", s("img-1")),
            ("flavor_name", s(flavor)),
        ])
    }

    #[tokio::test]
    async fn a_server_nova_puts_in_error_is_reported_with_its_fault_and_deleted() {
        let cloud = FixtureCloud::start();
        let h = configured(&cloud, &[]).await;
        let plan = h
            .plan("flatcar_instance", &Value::Null, &config("m1.huge"))
            .await
            .expect("plan");
        let (state, diags) = h
            .apply(
                "flatcar_instance",
                &Value::Null,
                &plan.planned_state,
                &config("m1.huge"),
            )
            .await
            .expect("apply rpc");
        let id = recorded_id("nova-server-error");
        let text = summaries(&diags);
        assert!(state.is_null(), "{state:?}");
        assert!(text.contains("The server failed to build"), "{text}");
        assert!(
            text.contains(&format!("Nova put server {id} in ERROR:")),
            "{text}"
        );
        assert!(!text.contains("Nova gave no fault message"), "{text}");
        assert!(
            cloud
                .requests()
                .contains(&format!("DELETE /v2.1/servers/{id}")),
            "{:?}",
            cloud.requests()
        );
    }

    #[tokio::test]
    async fn an_unknown_flavor_is_an_error_at_flavor_name_and_creates_nothing() {
        let cloud = FixtureCloud::start();
        let h = configured(&cloud, &[]).await;
        let plan = h
            .plan("flatcar_instance", &Value::Null, &config("m9.nope"))
            .await
            .expect("plan");
        let (state, diags) = h
            .apply(
                "flatcar_instance",
                &Value::Null,
                &plan.planned_state,
                &config("m9.nope"),
            )
            .await
            .expect("apply rpc");
        assert!(state.is_null());
        assert_eq!(diags.0.len(), 1, "{}", summaries(&diags));
        assert_eq!(diags.0[0].summary, "Unknown flavor");
        assert_eq!(diags.0[0].path, Some(AttributePath::root("flavor_name")));
        assert!(
            diags.0[0].detail.contains("m1.tiny"),
            "lists the flavors: {}",
            diags.0[0].detail
        );
        assert!(
            !cloud
                .requests()
                .iter()
                .any(|r| r.starts_with("POST /v2.1/servers")),
            "{:?}",
            cloud.requests()
        );
    }

    #[tokio::test]
    async fn import_builds_the_state_from_nova_and_neutron() {
        let cloud = FixtureCloud::start();
        let h = configured(&cloud, &[]).await;
        let id = recorded_id("nova-server-active");
        let state = h.import("flatcar_instance", &id).await.expect("import");
        assert_attributes(
            &state,
            &[
                ("id", s(&id)),
                ("name", s("fixture-node")),
                ("status", s("ACTIVE")),
                ("flavor_name", s("m1.tiny")),
                ("metadata", Value::object([("role", s("worker"))])),
            ],
        );
        let Value::List(networks) = state.get("network") else {
            panic!("network blocks")
        };
        assert_eq!(networks.len(), 1);
        assert_eq!(networks[0].get("name"), &s("private"));
        assert!(
            networks[0].get("uuid").as_str().is_some(),
            "{:?}",
            networks[0]
        );
        assert!(
            networks[0].get("fixed_ip_v4").as_str().is_some(),
            "{:?}",
            networks[0]
        );
        assert_eq!(state.get("access_ip_v4"), networks[0].get("fixed_ip_v4"));
        assert!(state.is_wholly_known());

        let err = h
            .import("flatcar_instance", "00000000-0000-0000-0000-000000000000")
            .await
            .expect_err("missing");
        assert!(
            summaries(&err).contains("No such server"),
            "{}",
            summaries(&err)
        );
    }
}

mod security_group_plan {
    use super::*;

    fn rule(pairs: &[(&str, Value)]) -> Value {
        let mut rule = Value::object(
            [
                "direction",
                "ethertype",
                "protocol",
                "port_range_min",
                "port_range_max",
                "remote_ip_prefix",
                "remote_group_id",
                "self",
            ]
            .map(|k| (k, Value::Null)),
        );
        for (k, v) in pairs {
            rule.set(k, v.clone());
        }
        rule
    }

    fn config(rules: Vec<Value>) -> Value {
        Value::object([
            ("name", s("k8s")),
            ("description", Value::Null),
            ("allow_all_egress", Value::Null),
            ("id", Value::Null),
            ("rule", Value::List(rules)),
            ("timeouts", Value::Null),
        ])
    }

    fn port(n: i64) -> Value {
        Value::Number(tfplugin::Number::Int(n))
    }

    #[tokio::test]
    async fn create_fills_the_defaults_of_the_group_and_of_each_rule() {
        let h = harness();
        let members = rule(&[("self", Value::Bool(true))]);
        let plan = h
            .plan(
                "flatcar_security_group",
                &Value::Null,
                &config(vec![members]),
            )
            .await
            .expect("plan");
        let p = &plan.planned_state;
        assert_eq!(p.get("description"), &s(""));
        assert_eq!(p.get("allow_all_egress"), &Value::Bool(true));
        assert_eq!(p.get("id"), &Value::Unknown);
        let Value::List(rules) = p.get("rule") else {
            panic!("rules")
        };
        assert_attributes(
            &rules[0],
            &[
                ("direction", s("ingress")),
                ("ethertype", s("IPv4")),
                ("protocol", s("any")),
                ("self", Value::Bool(true)),
                ("remote_ip_prefix", Value::Null),
            ],
        );
    }

    #[tokio::test]
    async fn a_rule_change_is_in_place() {
        let h = harness();
        let ssh = |cidr: &str| {
            rule(&[
                ("protocol", s("tcp")),
                ("port_range_min", port(22)),
                ("port_range_max", port(22)),
                ("remote_ip_prefix", s(cidr)),
            ])
        };
        let created = h
            .plan(
                "flatcar_security_group",
                &Value::Null,
                &config(vec![ssh("10.0.0.0/8")]),
            )
            .await
            .expect("plan");
        let state = fill_unknowns(&created.planned_state, "known");
        let plan = h
            .plan(
                "flatcar_security_group",
                &state,
                &config(vec![ssh("192.168.0.0/16")]),
            )
            .await
            .expect("plan");
        assert!(
            plan.requires_replace.is_empty(),
            "{:?}",
            plan.requires_replace
        );
        assert_eq!(plan.planned_state.get("id"), state.get("id"));
    }

    #[tokio::test]
    async fn invalid_rules_are_errors_that_say_how_to_fix_them() {
        let h = harness();
        let cases = [
            (
                rule(&[("remote_ip_prefix", s("10.1.2.3/16"))]),
                "10.1.0.0/16",
                "rule[0].remote_ip_prefix",
            ),
            (
                rule(&[("remote_ip_prefix", s("::/0"))]),
                "ethertype = \"IPv6\"",
                "rule[0].remote_ip_prefix",
            ),
            (
                rule(&[("protocol", s("TCP"))]),
                "lower case",
                "rule[0].protocol",
            ),
            (
                rule(&[
                    ("protocol", s("icmp")),
                    ("port_range_min", port(8)),
                    ("port_range_max", port(8)),
                ]),
                "tcp and udp only",
                "rule[0].port_range_min",
            ),
            (
                rule(&[("protocol", s("tcp")), ("port_range_min", port(22))]),
                "set both",
                "rule[0].port_range_max",
            ),
            (
                rule(&[
                    ("protocol", s("tcp")),
                    ("port_range_min", port(0)),
                    ("port_range_max", port(22)),
                ]),
                "from 1 to 65535",
                "rule[0].port_range_min",
            ),
            (
                rule(&[("self", Value::Bool(true)), ("remote_group_id", s("g"))]),
                "at most one",
                "rule[0]",
            ),
            (
                rule(&[("direction", s("egress"))]),
                "allow_all_egress",
                "rule[0].direction",
            ),
            (
                rule(&[("direction", s("out"))]),
                "ingress, egress",
                "rule[0].direction",
            ),
        ];
        for (bad, hint, path) in cases {
            let diags = h
                .validate("flatcar_security_group", &config(vec![bad.clone()]))
                .await;
            assert_eq!(diags.0.len(), 1, "{bad:?}: {diags:?}");
            assert_eq!(
                diags.0[0].path.as_ref().map(ToString::to_string).as_deref(),
                Some(path)
            );
            assert!(
                diags.0[0].detail.contains(hint),
                "{hint:?} not in {}",
                diags.0[0].detail
            );
        }
    }
}

mod butane_function {
    use super::*;

    #[tokio::test]
    async fn butane_becomes_ignition_and_errors_name_the_yaml_path() {
        let h = harness();
        let ok = h
            .call_function(
                "butane",
                &[s("variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/hostname\n      contents:\n        inline: node-1\n")],
            )
            .await
            .expect("translates");
        let json: serde_json::Value =
            serde_json::from_str(ok.as_str().expect("a string")).expect("JSON");
        assert_eq!(json["ignition"]["version"], "3.3.0");
        assert_eq!(json["storage"]["files"][0]["path"], "/etc/hostname");

        let err = h
            .call_function(
                "butane",
                &[s("variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/x\n      contents:\n        local: x.conf\n")],
            )
            .await
            .expect_err("local files are not available");
        assert_eq!(err.argument, Some(0));
        assert!(
            err.text.contains("storage.files[0].contents.local"),
            "{}",
            err.text
        );
        assert!(err.text.contains("line 7"), "{}", err.text);
    }
}
