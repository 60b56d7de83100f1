//! OpenTofu conformance against the local cloud: a security group applied in a fresh
//! provider process, then imported and read in a third whose plan is empty, and destroyed;
//! StopProvider during an image apply leaves nothing. The client is the offline suite's
//! (`support::conformance`); scripts/test.sh runs it against the release build
//! (`FLATCAR_KUBE_CONFORMANCE_PROVIDER`).

use crate::support;

use std::time::Duration;

use flatcar_cloud::openstack::neutron::Neutron;
use rmpv::Value;
use support::acceptance::{self, Need};
use support::cloud::{unique_name, LocalCloud};
use support::conformance::*;
use support::fault_proxy::{Fault, FaultProxy};
use support::http_server::StaticServer;
use support::plugin_client::wire::tfplugin6 as pb;
use support::plugin_client::{Launch, Plugin, ProviderClient};
use support::release_tree::{Release, ReleaseTree, SigningKey};

/// What every test here needs (`flatcar_testkit::acceptance`).
const NEEDS: &[Need] = &[Need::ComputeCloud];

// ---- Sequences that need the local cloud (nextest's `local-cloud` group: `cloud_*`). ----

/// A provider process for the local cloud, as OpenTofu starts one per command.
async fn cloud_process(
    cloud: &LocalCloud,
    extra_config: &[(&str, Value)],
) -> (Plugin, ProviderClient, pb::get_provider_schema::Response) {
    let plugin = Launch {
        protocol_versions: "6,5",
        auto_mtls: true,
        env: cloud.password_env(),
    }
    .start();
    let mut client = plugin.provider().await;
    let schema = load_schema(&mut client).await;
    configure(&mut client, &schema, extra_config, "1.13.0").await;
    (plugin, client, schema)
}

async fn apply(
    client: &mut ProviderClient,
    type_name: &str,
    prior: &Value,
    planned: &pb::plan_resource_change::Response,
    config: &Value,
) -> pb::apply_resource_change::Response {
    answered(
        "ApplyResourceChange",
        client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: type_name.into(),
                prior_state: Some(encode(prior)),
                planned_state: planned.planned_state.clone(),
                config: Some(encode(config)),
                planned_private: planned.planned_private.clone(),
                provider_meta: None,
            })
            .await,
    )
}

/// Plan in one process, apply in a fresh one (OpenTofu's `plan -out` then `apply PLANFILE`,
/// which plans again before applying), then import + read in a third, whose plan is empty;
/// destroy is an apply with a null planned state and no plan (OpenTofu plans no destroy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_security_group_apply_in_a_fresh_process_then_import_read_and_destroy() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let name = unique_name("conformance");
    // The test client's own blocking runtime, off this async worker.
    let groups = || {
        tokio::task::block_in_place(|| {
            let session = cloud.session(false);
            cloud
                .block_on(Neutron::new(&session).security_groups_named(&name))
                .expect("security groups")
        })
    };

    // `tofu plan -out`.
    let (plugin, mut client, schema) = cloud_process(&cloud, &[]).await;
    let config = security_group_config(&schema, &name);
    let saved = decode(plan(&mut client, &Value::Nil, &config).await.planned_state);
    shutdown_within_two_seconds(plugin).await;

    // `tofu apply PLANFILE`: a fresh process plans again and must agree with the saved plan.
    let (plugin, mut client, _) = cloud_process(&cloud, &[]).await;
    let planned = plan(&mut client, &Value::Nil, &config).await;
    assert_eq!(
        decode(planned.planned_state.clone()),
        saved,
        "the fresh process plans what the saved plan holds"
    );
    let applied = apply(&mut client, SECURITY_GROUP, &Value::Nil, &planned, &config).await;
    no_errors("ApplyResourceChange", &applied.diagnostics);
    let state = decode(applied.new_state);
    let id = field(&state, "id").as_str().expect("id").to_string();
    assert_eq!(groups().len(), 1, "Neutron holds the group");
    shutdown_within_two_seconds(plugin).await;

    // `tofu import`, then a plan against the configuration: nothing to change.
    let (plugin, mut client, _) = cloud_process(&cloud, &[]).await;
    let imported = answered(
        "ImportResourceState",
        client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: SECURITY_GROUP.into(),
                id: id.clone(),
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("ImportResourceState", &imported.diagnostics);
    let resource = imported.imported_resources.first().expect("one resource");
    let read = answered(
        "ReadResource",
        client
            .read_resource(pb::read_resource::Request {
                type_name: SECURITY_GROUP.into(),
                current_state: resource.state.clone(),
                private: resource.private.clone(),
                provider_meta: None,
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("ReadResource", &read.diagnostics);
    let read_state = decode(read.new_state);
    assert_eq!(field(&read_state, "id").as_str(), Some(id.as_str()));
    assert_eq!(field(&read_state, "name").as_str(), Some(name.as_str()));
    let replanned = plan(&mut client, &read_state, &config).await;
    assert_eq!(
        decode(replanned.planned_state),
        read_state,
        "an imported group plans no change"
    );
    assert!(replanned.requires_replace.is_empty());

    // `tofu destroy`: no PlanResourceChange, an apply with a null planned state.
    let destroyed = answered(
        "ApplyResourceChange",
        client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: SECURITY_GROUP.into(),
                prior_state: Some(encode(&read_state)),
                planned_state: Some(encode(&Value::Nil)),
                config: Some(encode(&Value::Nil)),
                planned_private: Vec::new(),
                provider_meta: None,
            })
            .await,
    );
    no_errors("ApplyResourceChange (destroy)", &destroyed.diagnostics);
    assert_eq!(decode(destroyed.new_state), Value::Nil);
    assert!(groups().is_empty(), "Neutron still holds the group");
    shutdown_within_two_seconds(plugin).await;
}

/// `StopProvider` while an image apply streams into Glance (OpenTofu calls it on the first
/// interrupt): the apply returns an error diagnostic, and Glance keeps nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_stop_provider_during_an_image_apply_leaves_nothing() {
    if !acceptance::run(NEEDS) {
        return;
    }
    let cloud = LocalCloud::get();
    let tree = ReleaseTree::build(
        SigningKey::generate("Conformance Stop"),
        &[Release {
            channel: "stable",
            version: "4593.2.5",
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    // Glance behind a proxy that takes the image's bytes slowly, so the stop lands in the
    // middle of the upload.
    let glance = cloud.value("FK_GLANCE_URL");
    let proxy = FaultProxy::start(&glance);
    proxy.add(Fault::Throttle {
        method: "PUT".into(),
        path_contains: "/v2/images/".into(),
        bytes_per_sec: 50_000,
    });
    let (plugin, mut client, schema) = cloud_process(
        &cloud,
        &[
            (
                "release_base_url",
                Value::from(format!("{}/{{channel}}", server.base_url)),
            ),
            ("signing_key", Value::from(tree.key.armored_public.as_str())),
            (
                "endpoint_overrides",
                Value::Map(vec![(
                    Value::from("image"),
                    Value::from(proxy.url.as_str()),
                )]),
            ),
        ],
    )
    .await;
    let name = unique_name("conformance-stop");
    let block = resource_block(&schema, IMAGE);
    // Streamed, so that the stop lands in this process's upload.
    let config = object(
        block,
        &[
            ("name", Value::from(name.as_str())),
            ("import_method", Value::from("stream")),
        ],
    );
    let planned = answered(
        "PlanResourceChange",
        client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: IMAGE.into(),
                prior_state: Some(encode(&Value::Nil)),
                proposed_new_state: Some(encode(&config)),
                config: Some(encode(&config)),
                prior_private: Vec::new(),
                provider_meta: None,
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("PlanResourceChange", &planned.diagnostics);

    let mut applying = client.clone();
    let apply_task =
        tokio::spawn(
            async move { apply(&mut applying, IMAGE, &Value::Nil, &planned, &config).await },
        );
    // Wait until Glance lists the image being uploaded, then stop.
    let images = |name: &str| {
        cloud
            .images(&glance, name)
            .into_iter()
            .filter(|i| i.name == name)
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while tokio::task::block_in_place(|| images(&name)) == 0 || !proxy.saw("PUT /v2/images/") {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never started"
        );
        if apply_task.is_finished() {
            let early = apply_task.await.expect("apply task");
            panic!("the apply ended before the stop: {:#?}", early.diagnostics);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stopped = answered(
        "StopProvider",
        client.stop_provider(pb::stop_provider::Request {}).await,
    );
    assert!(stopped.error.is_empty(), "StopProvider: {}", stopped.error);
    // Bounded only so that a hang fails instead of stalling (the upload alone takes minutes).
    let applied = tokio::time::timeout(Duration::from_secs(120), apply_task)
        .await
        .expect("the apply ends after StopProvider")
        .expect("apply task");
    let errors: Vec<&pb::Diagnostic> = applied
        .diagnostics
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect();
    assert!(!errors.is_empty(), "a stopped apply is an error");
    assert!(
        applied
            .new_state
            .as_ref()
            .is_none_or(|v| decode(Some(v.clone())) == Value::Nil),
        "nothing to record in state"
    );
    assert_eq!(
        tokio::task::block_in_place(|| images(&name)),
        0,
        "Glance still holds the stopped image: {errors:?}"
    );
    shutdown_within_two_seconds(plugin).await;
}
