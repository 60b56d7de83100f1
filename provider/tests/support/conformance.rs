//! The conformance client's side of OpenTofu's RPC sequences: values written and read with
//! `rmpv` (not tfplugin's codec, so a symmetric bug in the codec cannot hide), schema load,
//! configure, validate-then-plan, and a bounded shutdown. Shared by the offline conformance
//! tests and the acceptance ones against the local cloud.

use std::time::Duration;

use rmpv::Value;
use tonic::{Code, Response, Status};

use super::plugin_client::wire::goplugin as gp;
use super::plugin_client::wire::tfplugin6 as pb;
use super::plugin_client::{Launch, Plugin, ProviderClient};

pub const SECURITY_GROUP: &str = "flatcar_security_group";
pub const RELEASE: &str = "flatcar_release";
pub const IMAGE: &str = "flatcar_image";

/// The answer, or the test fails; Unimplemented is named as such (OpenTofu turns it into
/// "Unsupported plugin method").
pub fn answered<T>(rpc: &str, result: Result<Response<T>, Status>) -> T {
    match result {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == Code::Unimplemented => {
            panic!("{rpc} answered Unimplemented: {}", status.message())
        }
        Err(status) => panic!("{rpc} failed: {status}"),
    }
}

pub fn no_errors(rpc: &str, diags: &[pb::Diagnostic]) {
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect();
    assert!(errors.is_empty(), "{rpc} returned errors: {errors:#?}");
}

pub fn encode(value: &Value) -> pb::DynamicValue {
    let mut msgpack = Vec::new();
    rmpv::encode::write_value(&mut msgpack, value).expect("msgpack encode");
    pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    }
}

pub fn decode(value: Option<pb::DynamicValue>) -> Value {
    let value = value.expect("a DynamicValue");
    assert!(value.json.is_empty(), "values must be sent as msgpack");
    rmpv::decode::read_value(&mut value.msgpack.as_slice()).expect("msgpack decode")
}

/// An attribute of a decoded object (Terraform sends objects as maps keyed by name).
pub fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object
        .as_map()
        .unwrap_or_else(|| panic!("not an object: {object}"))
        .iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("object lacks {name:?}: {object}"))
}

/// cty's unknown value in msgpack: extension type 0 with one zero byte.
pub fn is_unknown(value: &Value) -> bool {
    matches!(value, Value::Ext(0, data) if data.as_slice() == [0])
}

/// An object of `block`'s type as Terraform sends a configuration: every attribute and
/// nested block present, the ones not set null (single) or empty (list, set, map).
pub fn object(block: &pb::schema::Block, set: &[(&str, Value)]) -> Value {
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

pub fn with_field(object: &Value, name: &str, value: Value) -> Value {
    let mut entries = object.as_map().expect("object").clone();
    for (k, v) in entries.iter_mut() {
        if k.as_str() == Some(name) {
            *v = value.clone();
        }
    }
    Value::Map(entries)
}

/// OpenTofu's client capabilities (`grpc_provider.go`: write-only attributes allowed).
pub fn capabilities() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

/// The schema load OpenTofu 1.12+ does: GetProviderSchema, then GetResourceIdentitySchemas.
pub async fn load_schema(client: &mut ProviderClient) -> pb::get_provider_schema::Response {
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

pub fn resource_block<'a>(
    schema: &'a pb::get_provider_schema::Response,
    name: &str,
) -> &'a pb::schema::Block {
    schema.resource_schemas[name].block.as_ref().expect("block")
}

/// ValidateProviderConfig then ConfigureProvider, as OpenTofu does for a provider block.
pub async fn configure(
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

pub async fn shutdown(plugin: &Plugin) {
    let channel = plugin.channel().await.expect("connect");
    let mut controller = gp::grpc_controller_client::GrpcControllerClient::new(channel);
    answered("Shutdown", controller.shutdown(gp::Empty {}).await);
}

/// go-plugin's `Kill`: Shutdown, then it waits 2 s before killing. The process must be gone
/// by then, and with it the socket directory.
pub async fn shutdown_within_two_seconds(mut plugin: Plugin) {
    shutdown(&plugin).await;
    let dir = plugin.socket_dir().to_path_buf();
    let status = tokio::task::block_in_place(|| plugin.wait_exit(Duration::from_secs(2)));
    let status = status.expect("the provider still runs 2 s after Shutdown");
    assert!(status.success(), "the provider exited with {status}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

pub fn start(protocol_versions: &'static str) -> Plugin {
    Launch {
        protocol_versions,
        auto_mtls: true,
        env: Vec::new(),
    }
    .start()
}

/// ValidateResourceConfig then PlanResourceChange for a create; returns the planned state.
pub async fn plan(
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

pub fn security_group_config(schema: &pb::get_provider_schema::Response, name: &str) -> Value {
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
