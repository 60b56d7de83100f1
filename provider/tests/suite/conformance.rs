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
//! codec cannot hide. Any RPC answered `Unimplemented` fails the test. The `cloud_*` tests run
//! against the local cloud (apply in a fresh process, import + read, destroy, StopProvider
//! during an apply); the rest need none. scripts/test.sh runs them against the release build
//! (`FLATCAR_KUBE_CONFORMANCE_PROVIDER`).

use crate::support;

use std::time::Duration;

use flatcar_cloud::openstack::neutron::Neutron;
use rmpv::Value;
use support::cloud::{unique_name, LocalCloud};
use support::fault_proxy::{Fault, FaultProxy};
use support::http_server::StaticServer;
use support::plugin_client::wire::goplugin as gp;
use support::plugin_client::wire::tfplugin6 as pb;
use support::plugin_client::{Launch, Plugin, ProviderClient};
use support::release_tree::{Release, ReleaseTree, SigningKey};
use tonic::{Code, Response, Status};

const SECURITY_GROUP: &str = "flatcar_security_group";
const RELEASE: &str = "flatcar_release";
const IMAGE: &str = "flatcar_image";

/// The answer, or the test fails; Unimplemented is named as such (OpenTofu turns it into
/// "Unsupported plugin method").
fn answered<T>(rpc: &str, result: Result<Response<T>, Status>) -> T {
    match result {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == Code::Unimplemented => {
            panic!("{rpc} answered Unimplemented: {}", status.message())
        }
        Err(status) => panic!("{rpc} failed: {status}"),
    }
}

fn no_errors(rpc: &str, diags: &[pb::Diagnostic]) {
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect();
    assert!(errors.is_empty(), "{rpc} returned errors: {errors:#?}");
}

fn encode(value: &Value) -> pb::DynamicValue {
    let mut msgpack = Vec::new();
    rmpv::encode::write_value(&mut msgpack, value).expect("msgpack encode");
    pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    }
}

fn decode(value: Option<pb::DynamicValue>) -> Value {
    let value = value.expect("a DynamicValue");
    assert!(value.json.is_empty(), "values must be sent as msgpack");
    rmpv::decode::read_value(&mut value.msgpack.as_slice()).expect("msgpack decode")
}

/// An attribute of a decoded object (Terraform sends objects as maps keyed by name).
fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object
        .as_map()
        .unwrap_or_else(|| panic!("not an object: {object}"))
        .iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("object lacks {name:?}: {object}"))
}

/// cty's unknown value in msgpack: extension type 0 with one zero byte.
fn is_unknown(value: &Value) -> bool {
    matches!(value, Value::Ext(0, data) if data.as_slice() == [0])
}

/// An object of `block`'s type as Terraform sends a configuration: every attribute and
/// nested block present, the ones not set null (single) or empty (list, set, map).
fn object(block: &pb::schema::Block, set: &[(&str, Value)]) -> Value {
    use pb::schema::nested_block::NestingMode;
    let mut entries = Vec::new();
    for attr in &block.attributes {
        let value = set
            .iter()
            .find(|(name, _)| *name == attr.name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Nil);
        entries.push((Value::from(attr.name.as_str()), value));
    }
    for nested in &block.block_types {
        let value = match set.iter().find(|(name, _)| *name == nested.type_name) {
            Some((_, v)) => v.clone(),
            None => match NestingMode::try_from(nested.nesting) {
                Ok(NestingMode::List | NestingMode::Set) => Value::Array(Vec::new()),
                Ok(NestingMode::Map) => Value::Map(Vec::new()),
                _ => Value::Nil,
            },
        };
        entries.push((Value::from(nested.type_name.as_str()), value));
    }
    Value::Map(entries)
}

fn with_field(object: &Value, name: &str, value: Value) -> Value {
    let mut entries = object.as_map().expect("object").clone();
    for (k, v) in entries.iter_mut() {
        if k.as_str() == Some(name) {
            *v = value.clone();
        }
    }
    Value::Map(entries)
}

/// OpenTofu's client capabilities (`grpc_provider.go`: write-only attributes allowed).
fn capabilities() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

/// The schema load OpenTofu 1.12+ does: GetProviderSchema, then GetResourceIdentitySchemas.
async fn load_schema(client: &mut ProviderClient) -> pb::get_provider_schema::Response {
    let schema = answered(
        "GetProviderSchema",
        client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await,
    );
    no_errors("GetProviderSchema", &schema.diagnostics);
    let identities = answered(
        "GetResourceIdentitySchemas",
        client
            .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
            .await,
    );
    no_errors("GetResourceIdentitySchemas", &identities.diagnostics);
    assert!(
        identities.identity_schemas.is_empty(),
        "no resource declares an identity: {:?}",
        identities.identity_schemas.keys()
    );
    schema
}

fn resource_block<'a>(
    schema: &'a pb::get_provider_schema::Response,
    name: &str,
) -> &'a pb::schema::Block {
    schema.resource_schemas[name].block.as_ref().expect("block")
}

/// ValidateProviderConfig then ConfigureProvider, as OpenTofu does for a provider block.
async fn configure(
    client: &mut ProviderClient,
    schema: &pb::get_provider_schema::Response,
    set: &[(&str, Value)],
    terraform_version: &str,
) {
    let block = schema
        .provider
        .as_ref()
        .and_then(|s| s.block.as_ref())
        .expect("provider schema");
    let config = encode(&object(block, set));
    let validated = answered(
        "ValidateProviderConfig",
        client
            .validate_provider_config(pb::validate_provider_config::Request {
                config: Some(config.clone()),
            })
            .await,
    );
    no_errors("ValidateProviderConfig", &validated.diagnostics);
    let configured = answered(
        "ConfigureProvider",
        client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: terraform_version.into(),
                config: Some(config),
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("ConfigureProvider", &configured.diagnostics);
}

async fn shutdown(plugin: &Plugin) {
    let channel = plugin.channel().await.expect("connect");
    let mut controller = gp::grpc_controller_client::GrpcControllerClient::new(channel);
    answered("Shutdown", controller.shutdown(gp::Empty {}).await);
}

/// go-plugin's `Kill`: Shutdown, then it waits 2 s before killing. The process must be gone
/// by then, and with it the socket directory.
async fn shutdown_within_two_seconds(mut plugin: Plugin) {
    shutdown(&plugin).await;
    let dir = plugin.socket_dir().to_path_buf();
    let status = tokio::task::block_in_place(|| plugin.wait_exit(Duration::from_secs(2)));
    let status = status.expect("the provider still runs 2 s after Shutdown");
    assert!(status.success(), "the provider exited with {status}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

fn start(protocol_versions: &'static str) -> Plugin {
    Launch {
        protocol_versions,
        auto_mtls: true,
        env: Vec::new(),
    }
    .start()
}

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

/// ValidateResourceConfig then PlanResourceChange for a create; returns the planned state.
async fn plan(
    client: &mut ProviderClient,
    prior: &Value,
    config: &Value,
) -> pb::plan_resource_change::Response {
    let validated = answered(
        "ValidateResourceConfig",
        client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: SECURITY_GROUP.into(),
                config: Some(encode(config)),
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("ValidateResourceConfig", &validated.diagnostics);
    // With a null prior state the proposed new state is the config (no computed values yet);
    // with a prior state it keeps the prior's computed values where the config is null.
    let proposed = match prior {
        Value::Nil => config.clone(),
        prior => with_field(config, "id", field(prior, "id").clone()),
    };
    let planned = answered(
        "PlanResourceChange",
        client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: SECURITY_GROUP.into(),
                prior_state: Some(encode(prior)),
                proposed_new_state: Some(encode(&proposed)),
                config: Some(encode(config)),
                prior_private: Vec::new(),
                provider_meta: None,
                client_capabilities: capabilities(),
            })
            .await,
    );
    no_errors("PlanResourceChange", &planned.diagnostics);
    planned
}

fn security_group_config(schema: &pb::get_provider_schema::Response, name: &str) -> Value {
    let block = resource_block(schema, SECURITY_GROUP);
    let rule_block = block
        .block_types
        .iter()
        .find(|b| b.type_name == "rule")
        .and_then(|b| b.block.as_ref())
        .expect("rule block");
    let rule = object(
        rule_block,
        &[
            ("protocol", Value::from("tcp")),
            ("port_range_min", Value::from(22)),
            ("port_range_max", Value::from(22)),
            ("remote_ip_prefix", Value::from("203.0.113.0/24")),
        ],
    );
    object(
        block,
        &[
            ("name", Value::from(name)),
            ("rule", Value::Array(vec![rule])),
        ],
    )
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
