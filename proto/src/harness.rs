//! An in-process harness: drives a provider's resources through plan, apply, read and
//! import by calling the very gRPC service methods Terraform reaches over the socket (values
//! are msgpack-encoded and decoded with the schema as on the wire), without a process, TLS or
//! Terraform. The proposed new state is computed the way Terraform computes it.

use std::sync::Arc;

use tonic::Request;

use crate::convert::{value_in, value_out};
use crate::diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::grpc::ProviderService;
use crate::provider::Provider;
use crate::schema::{Block, Nesting};
use crate::value::{Type, Value};
use crate::wire::tfplugin6 as pb;
use crate::wire::tfplugin6::provider_server::Provider as ProviderRpc;

/// What a plan returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Diagnostics,
}

/// A provider served in-process.
pub struct Harness {
    service: ProviderService,
    /// Whether the client announces write-only support (Terraform/OpenTofu 1.11+).
    write_only_allowed: bool,
}

fn diagnostics_from(wire: &[pb::Diagnostic]) -> Diagnostics {
    Diagnostics(
        wire.iter()
            .map(|d| Diagnostic {
                severity: if d.severity == pb::diagnostic::Severity::Warning as i32 {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                summary: d.summary.clone(),
                detail: d.detail.clone(),
                path: d.attribute.as_ref().map(path_from),
            })
            .collect(),
    )
}

fn path_from(wire: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath(
        wire.steps
            .iter()
            .filter_map(|s| {
                Some(match s.selector.as_ref()? {
                    Selector::AttributeName(n) => PathStep::Attribute(n.clone()),
                    Selector::ElementKeyString(k) => PathStep::Key(k.clone()),
                    Selector::ElementKeyInt(i) => PathStep::Index(*i),
                })
            })
            .collect(),
    )
}

fn errors_or<T>(diags: Diagnostics, value: T) -> Result<T, Diagnostics> {
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(value)
    }
}

impl Harness {
    pub fn new(provider: Arc<dyn Provider>) -> Harness {
        Harness {
            service: ProviderService::new(provider),
            write_only_allowed: true,
        }
    }

    /// A client older than protocol 6.8 (Terraform/OpenTofu before 1.11): no write-only.
    pub fn without_write_only(mut self) -> Harness {
        self.write_only_allowed = false;
        self
    }

    fn resource_type(&self, type_name: &str) -> Result<(Type, Block), Diagnostics> {
        let block = self.service.resource_block(type_name).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error("Unknown resource type", type_name))
        })?;
        Ok((block.value_type(), block))
    }

    fn wire(value: &Value, ty: &Type) -> Result<Option<pb::DynamicValue>, Diagnostics> {
        value_out(value, ty, "harness value").map(Some)
    }

    /// ConfigureProvider with the provider block `config`.
    pub async fn configure(&self, config: Value) -> Result<(), Diagnostics> {
        let ty = self.service.provider_block().value_type();
        let request = pb::configure_provider::Request {
            terraform_version: "1.11.0".into(),
            config: Self::wire(&config, &ty)?,
            ..Default::default()
        };
        let response = ProviderRpc::configure_provider(&self.service, Request::new(request))
            .await
            .map_err(|s| Diagnostic::error("RPC failed", s.to_string()))?
            .into_inner();
        errors_or(diagnostics_from(&response.diagnostics), ())
    }

    /// ValidateResourceConfig: the diagnostics, errors and warnings alike.
    pub async fn validate(&self, type_name: &str, config: &Value) -> Diagnostics {
        let run = async {
            let (ty, _) = self.resource_type(type_name)?;
            let request = pb::validate_resource_config::Request {
                type_name: type_name.into(),
                config: Self::wire(config, &ty)?,
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: false,
                    write_only_attributes_allowed: self.write_only_allowed,
                }),
            };
            let response =
                ProviderRpc::validate_resource_config(&self.service, Request::new(request))
                    .await
                    .map_err(|s| Diagnostic::error("RPC failed", s.to_string()))?
                    .into_inner();
            Ok::<_, Diagnostics>(diagnostics_from(&response.diagnostics))
        };
        run.await.unwrap_or_else(|d| d)
    }

    /// PlanResourceChange for `config` over `prior` (null to create), with the proposed new
    /// state Terraform would send.
    pub async fn plan(
        &self,
        type_name: &str,
        prior: &Value,
        config: &Value,
    ) -> Result<Plan, Diagnostics> {
        let (ty, block) = self.resource_type(type_name)?;
        let proposed = proposed_new_state(&block, prior, config);
        let request = pb::plan_resource_change::Request {
            type_name: type_name.into(),
            prior_state: Self::wire(prior, &ty)?,
            proposed_new_state: Self::wire(&proposed, &ty)?,
            config: Self::wire(config, &ty)?,
            ..Default::default()
        };
        let response = ProviderRpc::plan_resource_change(&self.service, Request::new(request))
            .await
            .map_err(|s| Diagnostic::error("RPC failed", s.to_string()))?
            .into_inner();
        let diagnostics = diagnostics_from(&response.diagnostics);
        let planned_state = value_in(response.planned_state.as_ref(), &ty, "planned state")?;
        errors_or(
            diagnostics.clone(),
            Plan {
                planned_state,
                requires_replace: response.requires_replace.iter().map(path_from).collect(),
                diagnostics,
            },
        )
    }

    /// ApplyResourceChange: the new state Terraform would record and the diagnostics.
    pub async fn apply(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<(Value, Diagnostics), Diagnostics> {
        let (ty, _) = self.resource_type(type_name)?;
        let request = pb::apply_resource_change::Request {
            type_name: type_name.into(),
            prior_state: Self::wire(prior, &ty)?,
            planned_state: Self::wire(planned, &ty)?,
            config: Self::wire(config, &ty)?,
            ..Default::default()
        };
        let response = ProviderRpc::apply_resource_change(&self.service, Request::new(request))
            .await
            .map_err(|s| Diagnostic::error("RPC failed", s.to_string()))?
            .into_inner();
        let state = value_in(response.new_state.as_ref(), &ty, "new state")?;
        Ok((state, diagnostics_from(&response.diagnostics)))
    }

    /// ReadResource: the refreshed state (null when the object is gone).
    pub async fn read(&self, type_name: &str, state: &Value) -> Result<Value, Diagnostics> {
        let (ty, _) = self.resource_type(type_name)?;
        let request = pb::read_resource::Request {
            type_name: type_name.into(),
            current_state: Self::wire(state, &ty)?,
            ..Default::default()
        };
        let response = ProviderRpc::read_resource(&self.service, Request::new(request))
            .await
            .map_err(|s| Diagnostic::error("RPC failed", s.to_string()))?
            .into_inner();
        let diagnostics = diagnostics_from(&response.diagnostics);
        let state = value_in(response.new_state.as_ref(), &ty, "refreshed state")?;
        errors_or(diagnostics, state)
    }

    /// ImportResourceState: the imported state.
    pub async fn import(&self, type_name: &str, id: &str) -> Result<Value, Diagnostics> {
        let (ty, _) = self.resource_type(type_name)?;
        let request = pb::import_resource_state::Request {
            type_name: type_name.into(),
            id: id.into(),
            ..Default::default()
        };
        let response = ProviderRpc::import_resource_state(&self.service, Request::new(request))
            .await
            .map_err(|s| Diagnostic::error("RPC failed", s.to_string()))?
            .into_inner();
        let diagnostics = diagnostics_from(&response.diagnostics);
        let imported = response
            .imported_resources
            .first()
            .map(|r| value_in(r.state.as_ref(), &ty, "imported state"))
            .transpose()?
            .unwrap_or(Value::Null);
        errors_or(diagnostics, imported)
    }

    /// CallFunction through the gRPC service: arguments encoded with the parameter types,
    /// the result decoded with the return type.
    pub async fn call_function(
        &self,
        name: &str,
        arguments: &[Value],
    ) -> Result<Value, crate::FunctionError> {
        let sig = self
            .service
            .function_signature(name)
            .ok_or_else(|| crate::FunctionError {
                text: format!("no function {name:?}"),
                argument: None,
            })?;
        let mut wire = Vec::with_capacity(arguments.len());
        for (i, (arg, param)) in arguments.iter().zip(&sig.parameters).enumerate() {
            let encoded =
                value_out(arg, &param.ty, "argument").map_err(|d| crate::FunctionError {
                    text: format!("{d:?}"),
                    argument: Some(i as i64),
                })?;
            wire.push(encoded);
        }
        let request = pb::call_function::Request {
            name: name.into(),
            arguments: wire,
        };
        let response = ProviderRpc::call_function(&self.service, Request::new(request))
            .await
            .map_err(|s| crate::FunctionError {
                text: s.to_string(),
                argument: None,
            })?
            .into_inner();
        if let Some(e) = response.error {
            return Err(crate::FunctionError {
                text: e.text,
                argument: e.function_argument,
            });
        }
        value_in(
            response.result.as_ref(),
            &sig.return_type,
            "function result",
        )
        .map_err(|d| crate::FunctionError {
            text: format!("{d:?}"),
            argument: None,
        })
    }

    /// Plans and applies `config` over `prior` in one go, as `terraform apply` does.
    pub async fn plan_and_apply(
        &self,
        type_name: &str,
        prior: &Value,
        config: &Value,
    ) -> Result<Value, Diagnostics> {
        let plan = self.plan(type_name, prior, config).await?;
        let (state, diags) = self
            .apply(type_name, prior, &plan.planned_state, config)
            .await?;
        errors_or(diags, state)
    }

    /// Applies a destroy of `prior`.
    pub async fn destroy(&self, type_name: &str, prior: &Value) -> Result<(), Diagnostics> {
        let (state, diags) = self
            .apply(type_name, prior, &Value::Null, &Value::Null)
            .await?;
        if !state.is_null() && !diags.has_errors() {
            return Err(Diagnostic::error("Destroy left a state", format!("{state:?}")).into());
        }
        errors_or(diags, ())
    }
}

/// Terraform's proposed new state (`objchange.ProposedNew`): the configuration, with the
/// prior state's value wherever a computed attribute is left unset in configuration.
pub fn proposed_new_state(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || config.is_unknown() {
        return config.clone();
    }
    let mut out = config.clone();
    for attr in &block.attributes {
        if attr.computed && config.get(&attr.name).is_null() {
            out.set(&attr.name, prior.get(&attr.name).clone());
        }
    }
    for nested in &block.blocks {
        let configured = config.get(&nested.type_name);
        let before = prior.get(&nested.type_name);
        let merged = match (nested.nesting, configured) {
            (Nesting::List, Value::List(items)) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let prior_item = match before {
                            Value::List(p) => p.get(i).unwrap_or(&Value::Null),
                            _ => &Value::Null,
                        };
                        proposed_new_state(&nested.block, prior_item, item)
                    })
                    .collect(),
            ),
            (Nesting::Single | Nesting::Group, item @ Value::Map(_)) => {
                proposed_new_state(&nested.block, before, item)
            }
            (_, other) => other.clone(),
        };
        out.set(&nested.type_name, merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;
    use crate::value::Type;

    #[test]
    fn proposed_state_takes_prior_computed_values_the_config_leaves_unset() {
        let block = Block {
            attributes: vec![
                Attribute::required("name", Type::String, "d"),
                Attribute::optional_computed("zone", Type::String, "d"),
                Attribute::computed("id", Type::String, "d"),
                Attribute::optional("note", Type::String, "d"),
            ],
            ..Block::default()
        };
        let prior = Value::object([
            ("name", Value::string("a")),
            ("zone", Value::string("z1")),
            ("id", Value::string("i-1")),
            ("note", Value::string("old")),
        ]);
        let config = Value::object([
            ("name", Value::string("b")),
            ("zone", Value::Null),
            ("id", Value::Null),
            ("note", Value::Null),
        ]);
        let proposed = proposed_new_state(&block, &prior, &config);
        assert_eq!(proposed.get("name"), &Value::string("b"));
        assert_eq!(proposed.get("zone"), &Value::string("z1"));
        assert_eq!(proposed.get("id"), &Value::string("i-1"));
        assert_eq!(proposed.get("note"), &Value::Null);
    }
}
