//! The traits a provider implements: `Provider`, `Resource`, `DataSource`.
//!
//! They see only our own types (`Value`, `Schema`, `Diagnostics`); the gRPC layer decodes
//! and encodes values with the schemas they return.

use std::sync::Arc;

use async_trait::async_trait;

use crate::diagnostics::Diagnostics;
use crate::schema::Schema;
use crate::value::{decode_json, Value};

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The schema of the provider block.
    fn schema(&self) -> Schema;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
    /// Provider-defined functions (`provider::<name>::<function>(...)`).
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
    /// Static checks of the provider block; values may be unknown.
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Called once with the provider block before resources are used.
    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics;
    /// Terraform asks the provider to stop what it is doing (Ctrl-C).
    async fn stop(&self) -> Result<(), String> {
        Ok(())
    }
}

#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Reads the data source; `config` is wholly known (Terraform defers reads otherwise).
    async fn read(&self, config: &Value) -> Result<Value, Diagnostics>;
}

pub struct PlanRequest<'a> {
    /// Null when the resource is being created.
    pub prior_state: &'a Value,
    pub proposed_new_state: Value,
    pub config: &'a Value,
    pub prior_private: &'a [u8],
}

#[derive(Debug, Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<crate::AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest<'a> {
    /// Null on create.
    pub prior_state: &'a Value,
    /// Null on destroy.
    pub planned_state: &'a Value,
    pub config: &'a Value,
    pub planned_private: &'a [u8],
}

#[derive(Debug, Default)]
pub struct ApplyResponse {
    /// Null after a destroy, or after a create that left nothing behind.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

impl ApplyResponse {
    /// The new state on success; on failure the diagnostics with `state_on_error` (null
    /// when nothing exists, the prior state when an update or delete failed).
    pub fn from_result(result: Result<Value, Diagnostics>, state_on_error: Value) -> ApplyResponse {
        match result {
            Ok(new_state) => ApplyResponse {
                new_state,
                ..ApplyResponse::default()
            },
            Err(diagnostics) => ApplyResponse {
                new_state: state_on_error,
                diagnostics,
                ..ApplyResponse::default()
            },
        }
    }
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Plans a create or update. The default takes the proposed state and marks the
    /// computed attributes the configuration leaves null as unknown on create.
    async fn plan(&self, request: PlanRequest<'_>) -> PlanResponse {
        let mut planned = request.proposed_new_state;
        if request.prior_state.is_null() && !planned.is_null() {
            self.schema()
                .block
                .mark_computed_unknown(&mut planned, request.config);
        }
        PlanResponse {
            planned_state: planned,
            ..PlanResponse::default()
        }
    }
    async fn apply(&self, request: ApplyRequest<'_>) -> ApplyResponse;
    /// Refreshes state from the real object; `Ok(Value::Null)` means it is gone.
    async fn read(&self, state: &Value) -> Result<Value, Diagnostics>;
    /// Builds the state of an existing object from its ID.
    async fn import(&self, id: &str) -> Result<Value, Diagnostics>;
    /// Turns stored state (JSON, written with schema `version`) into a current value.
    async fn upgrade_state(&self, _version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        decode_json(json, &self.schema().value_type()).map_err(|e| {
            crate::Diagnostic::error(
                "Stored state does not match the resource schema",
                format!("{}: {e}", self.type_name()),
            )
            .into()
        })
    }
}

/// One positional parameter of a function.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub ty: crate::Type,
    /// Markdown.
    pub description: String,
    /// Whether null may be passed (otherwise Terraform refuses it before calling).
    pub allow_null: bool,
}

/// What a function takes and returns, and its documentation.
#[derive(Debug, Clone)]
pub struct FunctionSignature {
    pub parameters: Vec<Parameter>,
    pub return_type: crate::Type,
    pub summary: String,
    /// Markdown.
    pub description: String,
}

/// Why a function call failed; `argument` is the index of the argument to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

/// A provider-defined function. Terraform calls it with wholly known arguments (unknown
/// arguments make the result unknown without a call).
#[async_trait]
pub trait Function: Send + Sync {
    fn name(&self) -> &'static str;
    fn signature(&self) -> FunctionSignature;
    async fn call(&self, arguments: Vec<Value>) -> Result<Value, FunctionError>;
}
