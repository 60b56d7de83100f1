//! The tfplugin6 `Provider` gRPC service: decodes requests with the schemas, calls our
//! traits, encodes the answers.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::convert::{self, value_in, value_out};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::provider::{
    ApplyRequest, DataSource, Function, FunctionSignature, PlanRequest, Provider, Resource,
};
use crate::schema::Schema;
use crate::value::{Type, Value};
use crate::wire::tfplugin6 as pb;
use crate::wire::tfplugin6::provider_server::Provider as ProviderRpc;

struct Registered<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

pub(crate) struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    provider_type: Type,
    resources: HashMap<String, Registered<dyn Resource>>,
    data_sources: HashMap<String, Registered<dyn DataSource>>,
    functions: HashMap<String, (Arc<dyn Function>, FunctionSignature)>,
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {name:?}. Check the type name or upgrade the provider."),
    )
    .into()
}

impl ProviderService {
    pub(crate) fn new(provider: Arc<dyn Provider>) -> ProviderService {
        let provider_schema = provider.schema();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.value_type();
                (r.type_name().to_string(), Registered { imp: r, schema, ty })
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.value_type();
                (d.type_name().to_string(), Registered { imp: d, schema, ty })
            })
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| {
                let signature = f.signature();
                (f.name().to_string(), (f, signature))
            })
            .collect();
        ProviderService {
            functions,
            provider_type: provider_schema.value_type(),
            provider_schema,
            provider,
            resources,
            data_sources,
        }
    }

    fn resource(&self, name: &str) -> Result<&Registered<dyn Resource>, Diagnostics> {
        self.resources
            .get(name)
            .ok_or_else(|| unknown_type("resource", name))
    }

    fn data_source(&self, name: &str) -> Result<&Registered<dyn DataSource>, Diagnostics> {
        self.data_sources
            .get(name)
            .ok_or_else(|| unknown_type("data source", name))
    }

    /// The schema block of a resource type (for the in-process harness).
    pub(crate) fn resource_block(&self, type_name: &str) -> Option<crate::schema::Block> {
        self.resources
            .get(type_name)
            .map(|r| r.schema.block.clone())
    }

    /// The provider block's schema (for the in-process harness).
    pub(crate) fn provider_block(&self) -> &crate::schema::Block {
        &self.provider_schema.block
    }

    fn function_definitions(&self) -> HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(name, (_, sig))| (name.clone(), convert::function(sig)))
            .collect()
    }

    /// A function's signature (for the in-process harness).
    pub(crate) fn function_signature(&self, name: &str) -> Option<FunctionSignature> {
        self.functions.get(name).map(|(_, sig)| sig.clone())
    }

    /// Runs a function: arguments decoded with the parameter types, the result encoded.
    pub(crate) async fn call(
        &self,
        name: &str,
        arguments: &[pb::DynamicValue],
    ) -> Result<pb::DynamicValue, pb::FunctionError> {
        let error = |text: String, argument: Option<i64>| pb::FunctionError {
            text,
            function_argument: argument,
        };
        let (function, sig) = self.functions.get(name).ok_or_else(|| {
            error(
                format!("This provider has no function named {name:?}."),
                None,
            )
        })?;
        if arguments.len() != sig.parameters.len() {
            return Err(error(
                format!(
                    "{name} takes {} argument(s), {} given.",
                    sig.parameters.len(),
                    arguments.len()
                ),
                None,
            ));
        }
        let mut values = Vec::with_capacity(arguments.len());
        for (i, (arg, param)) in arguments.iter().zip(&sig.parameters).enumerate() {
            let value = value_in(Some(arg), &param.ty, "function argument").map_err(|d| {
                error(
                    d.0.iter().map(|d| d.detail.clone()).collect(),
                    Some(i as i64),
                )
            })?;
            values.push(value);
        }
        let result = function
            .call(values)
            .await
            .map_err(|e| error(e.text, e.argument))?;
        value_out(&result, &sig.return_type, "function result")
            .map_err(|d| error(d.0.iter().map(|d| d.detail.clone()).collect(), None))
    }

    /// The full provider schema, for the docs generator and GetProviderSchema.
    pub(crate) fn schema_response(&self) -> pb::get_provider_schema::Response {
        pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, r)| (k.clone(), convert::schema(&r.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, d)| (k.clone(), convert::schema(&d.schema)))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
            functions: self.function_definitions(),
        }
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        // The schema never changes within a build: Terraform may reuse the copy it cached from
        // the first provider process instead of asking every process again.
        get_provider_schema_optional: true,
        move_resource_state: false,
    }
}

/// A write-only attribute set in configuration, for a client that cannot keep it out of plan
/// and state (Terraform and OpenTofu before 1.11): an error at the attribute.
fn write_only_refused(schema: &Schema, config: &Value, allowed: bool) -> Diagnostics {
    let mut d = Diagnostics::default();
    if allowed {
        return d;
    }
    for attr in schema
        .block
        .attributes
        .iter()
        .filter(|a| a.behaviour.write_only)
    {
        if !config.get(&attr.name).is_null() {
            d.push(
                Diagnostic::error(
                    "Write-only attribute not supported by this client",
                    format!("`{}` is write-only: it is never stored in plan or state, which needs Terraform 1.11 or OpenTofu 1.11 or later. Upgrade, or use the attribute's stored counterpart.", attr.name),
                )
                .at(crate::AttributePath::root(&attr.name)),
            );
        }
    }
    d
}

fn diags(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    convert::diagnostics(d)
}

type RpcResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|k| pb::get_metadata::FunctionMetadata { name: k.clone() })
                .collect(),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        let req = request.into_inner();
        let d = Diagnostic::error(
            "Resource move not supported",
            format!(
                "A `moved` block from {} ({}) to {} needs the provider to convert the state, and this provider converts none. Remove the `moved` block, and import the object into the new address instead (`terraform import` or an `import` block).",
                req.source_type_name, req.source_provider_address, req.target_type_name
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: diags(&d.into()),
            target_private: Vec::new(),
        }))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.function_definitions(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> RpcResult<pb::call_function::Response> {
        let req = request.into_inner();
        Ok(Response::new(
            match self.call(&req.name, &req.arguments).await {
                Ok(result) => pb::call_function::Response {
                    result: Some(result),
                    error: None,
                },
                Err(error) => pb::call_function::Response {
                    result: None,
                    error: Some(error),
                },
            },
        ))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let req = request.into_inner();
        let d = match value_in(
            req.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        ) {
            Ok(config) => self.provider.validate(&config).await,
            Err(d) => d,
        };
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags(&d),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let req = request.into_inner();
        let d = async {
            let r = self.resource(&req.type_name)?;
            let config = value_in(req.config.as_ref(), &r.ty, "resource configuration")?;
            let write_only_allowed = req
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.write_only_attributes_allowed);
            let mut d = write_only_refused(&r.schema, &config, write_only_allowed);
            d.extend(r.imp.validate(&config).await);
            Ok::<_, Diagnostics>(d)
        }
        .await
        .unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags(&d),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let req = request.into_inner();
        let d = async {
            let ds = self.data_source(&req.type_name)?;
            let config = value_in(req.config.as_ref(), &ds.ty, "data source configuration")?;
            Ok::<_, Diagnostics>(ds.imp.validate(&config).await)
        }
        .await
        .unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags(&d),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = request.into_inner();
        let result = async {
            let r = self.resource(&req.type_name)?;
            let json = req.raw_state.map(|raw| raw.json).unwrap_or_default();
            if json.is_empty() {
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "The stored state is in the legacy flatmap format, which this provider never wrote.",
                )
                .into());
            }
            let value = r.imp.upgrade_state(req.version, &json).await?;
            value_out(&value, &r.ty, "upgraded state")
        }
        .await;
        let (upgraded_state, d) = split(result);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diags(&d),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let req = request.into_inner();
        let d = match value_in(
            req.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        ) {
            Ok(config) => {
                self.provider
                    .configure(&config, &req.terraform_version)
                    .await
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags(&d),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = request.into_inner();
        let private = req.private.clone();
        let result = async {
            let r = self.resource(&req.type_name)?;
            let state = value_in(req.current_state.as_ref(), &r.ty, "current state")?;
            let new_state = r.imp.read(&state).await?;
            value_out(&new_state, &r.ty, "refreshed state")
        }
        .await;
        let (new_state, d) = split(result);
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diags(&d),
            private,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = request.into_inner();
        let mut out = pb::plan_resource_change::Response::default();
        let result = async {
            let r = self.resource(&req.type_name)?;
            let prior = value_in(req.prior_state.as_ref(), &r.ty, "prior state")?;
            let proposed = value_in(req.proposed_new_state.as_ref(), &r.ty, "proposed state")?;
            let config = value_in(req.config.as_ref(), &r.ty, "configuration")?;
            if proposed.is_null() {
                // Destroy: nothing to plan.
                return Ok((
                    value_out(&Value::Null, &r.ty, "planned state")?,
                    Default::default(),
                ));
            }
            let plan = r
                .imp
                .plan(PlanRequest {
                    prior_state: &prior,
                    proposed_new_state: proposed,
                    config: &config,
                    prior_private: &req.prior_private,
                })
                .await;
            if plan.diagnostics.has_errors() {
                return Err(plan.diagnostics);
            }
            let planned = value_out(&plan.planned_state, &r.ty, "planned state")?;
            Ok((planned, plan))
        }
        .await;
        match result {
            Ok((planned, plan)) => {
                out.planned_state = Some(planned);
                out.requires_replace = plan
                    .requires_replace
                    .iter()
                    .map(convert::attribute_path)
                    .collect();
                out.planned_private = plan.planned_private;
                out.diagnostics = diags(&plan.diagnostics);
            }
            Err(d) => out.diagnostics = diags(&d),
        }
        Ok(Response::new(out))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = request.into_inner();
        let mut out = pb::apply_resource_change::Response::default();
        let result = async {
            let r = self.resource(&req.type_name)?;
            let prior = value_in(req.prior_state.as_ref(), &r.ty, "prior state")?;
            let planned = value_in(req.planned_state.as_ref(), &r.ty, "planned state")?;
            let config = value_in(req.config.as_ref(), &r.ty, "configuration")?;
            let applied = r
                .imp
                .apply(ApplyRequest {
                    prior_state: &prior,
                    planned_state: &planned,
                    config: &config,
                    planned_private: &req.planned_private,
                })
                .await;
            let mut d = applied.diagnostics;
            match value_out(&applied.new_state, &r.ty, "new state") {
                Ok(v) => Ok((v, applied.private, d)),
                Err(e) => {
                    d.extend(e);
                    Err(d)
                }
            }
        }
        .await;
        match result {
            Ok((state, private, d)) => {
                out.new_state = Some(state);
                out.private = private;
                out.diagnostics = diags(&d);
            }
            Err(d) => out.diagnostics = diags(&d),
        }
        Ok(Response::new(out))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let req = request.into_inner();
        let result = async {
            let r = self.resource(&req.type_name)?;
            let state = r.imp.import(&req.id).await?;
            value_out(&state, &r.ty, "imported state")
        }
        .await;
        let (state, d) = split(result);
        let imported_resources = state
            .map(|state| pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: Some(state),
                private: Vec::new(),
            })
            .into_iter()
            .collect();
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diags(&d),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = request.into_inner();
        let result = async {
            let ds = self.data_source(&req.type_name)?;
            let config = value_in(req.config.as_ref(), &ds.ty, "data source configuration")?;
            let state = ds.imp.read(&config).await?;
            value_out(&state, &ds.ty, "data source state")
        }
        .await;
        let (state, d) = split(result);
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diags(&d),
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        let error = self.provider.stop().await.err().unwrap_or_default();
        Ok(Response::new(pb::stop_provider::Response { error }))
    }
}

fn split<T>(result: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match result {
        Ok(v) => (Some(v), Diagnostics::default()),
        Err(d) => (None, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{DataSource, Resource};

    struct Empty;

    #[tonic::async_trait]
    impl Provider for Empty {
        fn schema(&self) -> Schema {
            Schema::default()
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
        async fn configure(&self, _: &Value, _: &str) -> Diagnostics {
            Diagnostics::default()
        }
    }

    #[tokio::test]
    async fn identity_schemas_are_empty_and_a_move_is_a_clear_error_not_unimplemented() {
        let service = ProviderService::new(Arc::new(Empty));
        let identity = ProviderRpc::get_resource_identity_schemas(
            &service,
            Request::new(pb::get_resource_identity_schemas::Request {}),
        )
        .await
        .expect("answered")
        .into_inner();
        assert!(identity.identity_schemas.is_empty() && identity.diagnostics.is_empty());
        let moved = ProviderRpc::move_resource_state(
            &service,
            Request::new(pb::move_resource_state::Request {
                source_type_name: "openstack_compute_instance_v2".into(),
                target_type_name: "flatcar_instance".into(),
                ..Default::default()
            }),
        )
        .await
        .expect("answered")
        .into_inner();
        assert_eq!(moved.diagnostics.len(), 1);
        assert_eq!(
            moved.diagnostics[0].severity,
            pb::diagnostic::Severity::Error as i32
        );
        assert!(moved.diagnostics[0]
            .detail
            .contains("openstack_compute_instance_v2"));
        assert!(moved.target_state.is_none());
    }
}
