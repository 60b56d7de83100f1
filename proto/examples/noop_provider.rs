//! A provider that does nothing, served by tfplugin: the protocol's own floor for benchmarks
//! (`provider/benches/plan_floor.rs`). Its one resource, `noop_thing`, has the shape of
//! `flatcar_instance` (required and optional strings, a set, a map, computed attributes, a
//! `network` list block and a `timeouts` block) and is written directly on the dynamic
//! `tfplugin::Resource` trait: no framework, no typed model, no cloud.
//!
//! Plan is the trait's default (the proposed state, computed attributes unknown on create);
//! apply returns the planned state with `id` filled in and the other unknowns null; read
//! returns the state; import makes a state holding only the ID.
//!
//! Build with `cargo build --release -p tfplugin --examples`; Terraform starts it like any
//! provider once it is installed as `registry.terraform.io/flatcar-kube/noop`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, DataSource, Diagnostics, NestedBlock, Provider,
    Resource, Schema, Type, Value,
};

struct NoopProvider;

#[async_trait]
impl Provider for NoopProvider {
    fn schema(&self) -> Schema {
        Schema::new(0, Block::default())
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(NoopThing {
            next_id: AtomicU64::new(1),
        })]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
    async fn configure(&self, _config: &Value, _terraform_version: &str) -> Diagnostics {
        Diagnostics::default()
    }
}

struct NoopThing {
    next_id: AtomicU64,
}

/// Replaces every unknown inside `value` with null: what a create that computes nothing
/// leaves in the new state.
fn unknown_to_null(value: &mut Value) {
    match value {
        Value::Unknown => *value = Value::Null,
        Value::List(items) => items.iter_mut().for_each(unknown_to_null),
        Value::Map(items) => items.values_mut().for_each(unknown_to_null),
        _ => {}
    }
}

#[async_trait]
impl Resource for NoopThing {
    fn type_name(&self) -> &'static str {
        "noop_thing"
    }

    fn schema(&self) -> Schema {
        let s = Type::String;
        let network = Block {
            description: "A network, by `uuid` or `name`.".into(),
            attributes: vec![
                Attribute::optional_computed("uuid", s.clone(), "Network ID."),
                Attribute::optional_computed("name", s.clone(), "Network name."),
                Attribute::optional("port", s.clone(), "An existing port."),
                Attribute::optional_computed("fixed_ip_v4", s.clone(), "Fixed IPv4 address."),
            ],
            ..Block::default()
        };
        let timeouts = Block {
            description: "How long operations may take.".into(),
            attributes: vec![
                Attribute::optional("create", s.clone(), "Limit for create."),
                Attribute::optional("delete", s.clone(), "Limit for delete."),
            ],
            ..Block::default()
        };
        let block = Block {
            description: "A thing that exists only in Terraform's state.".into(),
            attributes: vec![
                Attribute::required("name", s.clone(), "Name."),
                Attribute::required("image_id", s.clone(), "An image ID, never looked at."),
                Attribute::optional_computed("flavor_name", s.clone(), "A flavor name."),
                Attribute::optional_computed("flavor_id", s.clone(), "A flavor ID."),
                Attribute::optional("key_pair", s.clone(), "A key pair name."),
                Attribute::optional("user_data", s.clone(), "User data, never parsed."),
                Attribute::optional("security_groups", Type::set(s.clone()), "Names."),
                Attribute::optional("metadata", Type::map(s.clone()), "Key/value strings."),
                Attribute::optional_computed("availability_zone", s.clone(), "A zone."),
                Attribute::optional("config_drive", Type::Bool, "A flag."),
                Attribute::optional("root_volume_size", Type::Number, "A number."),
                Attribute::optional("floating_ip_pool", s.clone(), "A pool name."),
                Attribute::computed("id", s.clone(), "A counter."),
                Attribute::computed("status", s.clone(), "Always null."),
                Attribute::computed("access_ip_v4", s.clone(), "Always null."),
                Attribute::computed("access_ip_v6", s.clone(), "Always null."),
                Attribute::computed("floating_ip", s.clone(), "Always null."),
                Attribute::computed("addresses", Type::map(Type::list(s)), "Always null."),
            ],
            blocks: vec![
                NestedBlock::list("network", network, 1),
                NestedBlock::single("timeouts", timeouts),
            ],
            ..Block::default()
        };
        Schema::new(0, block)
    }

    async fn apply(&self, request: ApplyRequest<'_>) -> ApplyResponse {
        if request.planned_state.is_null() {
            return ApplyResponse::default(); // destroy
        }
        let mut state = request.planned_state.clone();
        if state.get("id").is_unknown() {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            state.set("id", Value::string(format!("noop-{id}")));
        }
        unknown_to_null(&mut state);
        ApplyResponse {
            new_state: state,
            ..ApplyResponse::default()
        }
    }

    async fn read(&self, state: &Value) -> Result<Value, Diagnostics> {
        Ok(state.clone())
    }

    async fn import(&self, id: &str) -> Result<Value, Diagnostics> {
        Ok(Value::object([("id", Value::string(id))]))
    }
}

fn main() -> std::process::ExitCode {
    tfplugin::logging::init("provider.terraform-provider-noop", &["noop_provider"]);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let options = tfplugin::ServeOptions {
        provider_address: "registry.terraform.io/flatcar-kube/noop".into(),
        debug: std::env::args().any(|a| a == "--debug"),
    };
    match runtime.block_on(tfplugin::serve(Arc::new(NoopProvider), options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(tfplugin::ServeError::NoMagicCookie) => {
            eprint!("{}", tfplugin::server::NOT_A_COMMAND_MESSAGE);
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
