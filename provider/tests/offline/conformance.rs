//! OpenTofu conformance without `tofu`: the provider started as OpenTofu's go-plugin client
//! starts it (`support::plugin_client`), then OpenTofu's RPC sequences replayed over tonic.
//! Sources read: opentofu `internal/command/meta_providers.go` (AutoMTLS unless
//! `TF_DISABLE_PLUGIN_TLS`, `VersionedPlugins` 5 and 6), `internal/plugin6/grpc_provider.go`
//! (schema load with `GetResourceIdentitySchemas`, client capabilities, `MoveResourceState`),
//! `internal/tofu/node_resource_abstract_instance.go` (validate before plan, null prior state
//! for a replacement); go-plugin `client.go` (environment, handshake parse, TLS 1.2 minimum)
//! and `mtls.go` (client certificate).
//!
//! Values are written and read with `rmpv`, not tfplugin's codec, so a symmetric bug in the
//! codec cannot hide. Any RPC answered `Unimplemented` fails the test. None needs a cloud
//! (sequences against the local cloud: the acceptance suite's `conformance_cloud`).
//! scripts/test.sh runs them against the release build (`FLATCAR_KUBE_CONFORMANCE_PROVIDER`).

use crate::support;

use std::time::Duration;

use rmpv::Value;
use support::conformance::*;
use support::http_server::StaticServer;
use support::plugin_client::wire::goplugin as gp;
use support::plugin_client::wire::tfplugin6 as pb;
use support::plugin_client::Launch;
use support::release_tree::{Release, ReleaseTree, SigningKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocol_version_orders_negotiate_6_over_automtls() {
    for versions in ["5,6", "6,5"] {
        let plugin = start(versions);
        assert_eq!(plugin.protocol_version, 6, "offered {versions}");
        let cert = plugin.server_cert.as_ref().expect("AutoMTLS certificate");
        assert!(
            cert.len() > 50,
            "go-plugin ignores a certificate field <= 50"
        );
        let mut client = plugin.provider().await;
        load_schema(&mut client).await;
        shutdown_within_two_seconds(plugin).await;
    }
}

/// go-plugin 1.7+ sets TLS 1.2 as the minimum; a 1.2-only client must still get in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_2_is_accepted_and_the_pinned_certificate_is_enforced() {
    let plugin = start("5,6");
    let channel = plugin
        .channel_with(&[&rustls::version::TLS12])
        .await
        .expect("TLS 1.2 with the announced certificate");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    answered(
        "Health.Check",
        health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "plugin".into(),
            })
            .await,
    );

    // Pinned to another process's certificate, the client must not get in.
    let mut other = start("6,5");
    other.server_cert = plugin.server_cert.clone();
    assert!(
        other.channel().await.is_err(),
        "a server certificate other than the announced one was accepted"
    );
}

/// OpenTofu with `TF_DISABLE_PLUGIN_TLS` set turns AutoMTLS off: no `PLUGIN_CLIENT_CERT`,
/// and go-plugin then expects a plaintext server and no certificate in the handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_without_automtls() {
    let plugin = Launch {
        protocol_versions: "6,5",
        auto_mtls: false,
        env: Vec::new(),
    }
    .start();
    assert!(
        plugin.server_cert.is_none(),
        "no certificate without AutoMTLS"
    );
    let mut client = plugin.provider().await;
    load_schema(&mut client).await;
    shutdown_within_two_seconds(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_stdio_and_controller_shutdown() {
    let plugin = start("5,6");
    let channel = plugin.channel().await.expect("connect");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = answered(
        "Health.Check",
        health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "plugin".into(),
            })
            .await,
    );
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    // go-plugin opens StreamStdio right after connecting and keeps it open.
    let mut stdio = gp::grpc_stdio_client::GrpcStdioClient::new(channel.clone());
    let stream = answered("StreamStdio", stdio.stream_stdio(()).await);
    // And its GRPCBroker runs StartStream for the plugin's lifetime (grpc_broker.go): the
    // stream opens, sends nothing unprompted and stays open until Shutdown.
    let mut broker = gp::grpc_broker_client::GrpcBrokerClient::new(channel);
    let mut broker_stream = answered(
        "GRPCBroker.StartStream",
        broker
            .start_stream(futures::stream::pending::<gp::ConnInfo>())
            .await,
    );
    let early = tokio::time::timeout(Duration::from_millis(200), broker_stream.message()).await;
    assert!(
        early.is_err(),
        "the broker stream must stay open and quiet: {early:?}"
    );
    shutdown_within_two_seconds(plugin).await;
    drop(stream);
}

/// `tofu validate` and every command's schema load: a process started only for the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_only_process() {
    let plugin = start("6,5");
    let mut client = plugin.provider().await;
    let schema = load_schema(&mut client).await;
    assert!(schema.resource_schemas.contains_key(SECURITY_GROUP));
    assert!(schema.data_source_schemas.contains_key(RELEASE));
    assert!(schema.functions.contains_key("butane"));
    shutdown_within_two_seconds(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_functions_and_butane_call() {
    let plugin = start("5,6");
    let mut client = plugin.provider().await;
    let metadata = answered(
        "GetMetadata",
        client.get_metadata(pb::get_metadata::Request {}).await,
    );
    no_errors("GetMetadata", &metadata.diagnostics);
    assert!(metadata
        .resources
        .iter()
        .any(|r| r.type_name == SECURITY_GROUP));
    assert!(metadata.data_sources.iter().any(|d| d.type_name == RELEASE));
    assert!(metadata.functions.iter().any(|f| f.name == "butane"));

    // OpenTofu asks GetFunctions when the configuration names a function the schema lacks.
    let functions = answered(
        "GetFunctions",
        client.get_functions(pb::get_functions::Request {}).await,
    );
    no_errors("GetFunctions", &functions.diagnostics);
    let butane = &functions.functions["butane"];
    assert_eq!(butane.parameters.len(), 1, "butane(text)");
    assert_eq!(butane.parameters[0].r#type, b"\"string\"");
    assert_eq!(
        butane.r#return.as_ref().expect("return").r#type,
        b"\"string\""
    );

    let text = "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/hostname\n      contents:\n        inline: node-1\n";
    let called = answered(
        "CallFunction",
        client
            .call_function(pb::call_function::Request {
                name: "butane".into(),
                arguments: vec![encode(&Value::from(text))],
            })
            .await,
    );
    assert!(called.error.is_none(), "butane failed: {:?}", called.error);
    let ignition = decode(called.result);
    let ignition: serde_json::Value =
        serde_json::from_str(ignition.as_str().expect("a string")).expect("Ignition JSON");
    assert_eq!(ignition["storage"]["files"][0]["path"], "/etc/hostname");
    assert!(
        ignition["ignition"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{ignition}"
    );

    // An error names the argument (FunctionError.function_argument), not Unimplemented.
    let failed = answered(
        "CallFunction",
        client
            .call_function(pb::call_function::Request {
                name: "butane".into(),
                arguments: vec![encode(&Value::from(
                    "variant: flatcar\nversion: 1.0.0\nbogus: 1\n",
                ))],
            })
            .await,
    );
    let error = failed.error.expect("an unknown key is an error");
    assert_eq!(error.function_argument, Some(0));
    assert!(error.text.contains("bogus"), "{}", error.text);
    shutdown_within_two_seconds(plugin).await;
}

/// OpenTofu up to 1.11 sends its own version; 1.12 and later send "1.13.0".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_configure_with_both_terraform_versions() {
    for version in ["1.11.0", "1.13.0"] {
        let plugin = start("5,6");
        let mut client = plugin.provider().await;
        let schema = load_schema(&mut client).await;
        configure(&mut client, &schema, &[], version).await;
        let stopped = answered(
            "StopProvider",
            client.stop_provider(pb::stop_provider::Request {}).await,
        );
        assert!(stopped.error.is_empty(), "StopProvider: {}", stopped.error);
        shutdown_within_two_seconds(plugin).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_source_validate_and_read_against_a_release_server() {
    let tree = ReleaseTree::build(
        SigningKey::generate("Conformance Signing"),
        &[Release {
            channel: "stable",
            version: "4593.2.5",
            current: true,
        }],
    );
    let server = StaticServer::start(tree.root.path());
    let plugin = start("6,5");
    let mut client = plugin.provider().await;
    let schema = load_schema(&mut client).await;
    configure(
        &mut client,
        &schema,
        &[
            (
                "release_base_url",
                Value::from(format!("{}/{{channel}}", server.base_url)),
            ),
            ("signing_key", Value::from(tree.key.armored_public.as_str())),
        ],
        "1.13.0",
    )
    .await;
    let block = schema.data_source_schemas[RELEASE]
        .block
        .as_ref()
        .expect("block");
    let config = encode(&object(block, &[("channel", Value::from("stable"))]));
    let validated = answered(
        "ValidateDataResourceConfig",
        client
            .validate_data_resource_config(pb::validate_data_resource_config::Request {
                type_name: RELEASE.into(),
                config: Some(config.clone()),
            })
            .await,
    );
    no_errors("ValidateDataResourceConfig", &validated.diagnostics);
    let read = answered(
        "ReadDataSource",
        client
            .read_data_source(pb::read_data_source::Request {
                type_name: RELEASE.into(),
                config: Some(config),
                provider_meta: None,
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("ReadDataSource", &read.diagnostics);
    let state = decode(read.state);
    assert_eq!(field(&state, "version").as_str(), Some("4593.2.5"));
    assert_eq!(field(&state, "id").as_str(), Some("stable/amd64/4593.2.5"));
    let sha512 = field(&state, "sha512").as_str().expect("sha512");
    assert_eq!(sha512.len(), 128, "{sha512}");
    shutdown_within_two_seconds(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_group_create_plan_update_plan_and_replacement_replan() {
    let plugin = start("5,6");
    let mut client = plugin.provider().await;
    let schema = load_schema(&mut client).await;
    configure(&mut client, &schema, &[], "1.11.0").await;

    let config = security_group_config(&schema, "conformance");
    let created = plan(&mut client, &Value::Nil, &config).await;
    let planned = decode(created.planned_state);
    assert!(
        is_unknown(field(&planned, "id")),
        "planned id must be unknown (ext 0, [0]): {}",
        field(&planned, "id")
    );
    assert_eq!(field(&planned, "name").as_str(), Some("conformance"));
    assert_eq!(field(&planned, "allow_all_egress").as_bool(), Some(true));
    assert!(created.requires_replace.is_empty());

    // The state an apply would have written, then a change of name: planned in place.
    let prior = with_field(&planned, "id", Value::from("3f1c0d4e-sg"));
    let prior = with_field(&prior, "allow_all_egress", Value::from(true));
    let renamed = security_group_config(&schema, "conformance-renamed");
    let updated = plan(&mut client, &prior, &renamed).await;
    let planned_update = decode(updated.planned_state);
    assert_eq!(field(&planned_update, "id").as_str(), Some("3f1c0d4e-sg"));
    assert_eq!(
        field(&planned_update, "name").as_str(),
        Some("conformance-renamed")
    );
    assert!(
        updated.requires_replace.is_empty(),
        "a rename changes in place"
    );

    // A replacement (requires_replace or a tainted object) makes OpenTofu plan again with a
    // null prior state: it must be a create plan again, with an unknown id.
    let replanned = plan(&mut client, &Value::Nil, &renamed).await;
    let replanned = decode(replanned.planned_state);
    assert!(is_unknown(field(&replanned, "id")), "{replanned}");
    assert_eq!(
        field(&replanned, "name").as_str(),
        Some("conformance-renamed")
    );
    shutdown_within_two_seconds(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_plans_on_one_connection() {
    let plugin = start("6,5");
    let mut client = plugin.provider().await;
    let schema = load_schema(&mut client).await;
    configure(&mut client, &schema, &[], "1.13.0").await;
    let plans = (0..10).map(|i| {
        let mut client = client.clone();
        let config = security_group_config(&schema, &format!("group-{i}"));
        async move {
            let planned = plan(&mut client, &Value::Nil, &config).await;
            (i, decode(planned.planned_state))
        }
    });
    for (i, planned) in futures::future::join_all(plans).await {
        let expected = format!("group-{i}");
        assert_eq!(
            field(&planned, "name").as_str(),
            Some(expected.as_str()),
            "answers must not be mixed up"
        );
        assert!(is_unknown(field(&planned, "id")));
    }
    shutdown_within_two_seconds(plugin).await;
}

/// OpenTofu calls MoveResourceState for a cross-type `moved` block without checking the
/// capability: the provider must answer with an error diagnostic, not Unimplemented.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_resource_state_is_an_error_diagnostic() {
    let plugin = start("5,6");
    let mut client = plugin.provider().await;
    load_schema(&mut client).await;
    let moved = answered(
        "MoveResourceState",
        client
            .move_resource_state(pb::move_resource_state::Request {
                source_provider_address: "registry.opentofu.org/hashicorp/openstack".into(),
                source_type_name: "openstack_networking_secgroup_v2".into(),
                source_schema_version: 0,
                source_state: Some(pb::RawState {
                    json: br#"{"id":"3f1c0d4e-sg","name":"web"}"#.to_vec(),
                    flatmap: Default::default(),
                }),
                target_type_name: SECURITY_GROUP.into(),
                source_private: Vec::new(),
            })
            .await,
    );
    let error = moved
        .diagnostics
        .iter()
        .find(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .expect("an error diagnostic");
    assert!(!error.summary.is_empty() && !error.detail.is_empty());
    assert!(moved.target_state.is_none());
    shutdown_within_two_seconds(plugin).await;
}
