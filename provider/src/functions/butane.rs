//! `provider::flatcar::butane(config)`: a Butane config of the `flatcar` variant to Ignition
//! JSON (the translation is the `flatcar-butane` crate), checked by the same Ignition check
//! `flatcar_instance` runs at plan time.

use async_trait::async_trait;
use tfplugin::framework::function;
use tfplugin::{Function, FunctionError, FunctionSignature, Parameter, Type, Value};

use crate::resources::ignition;

pub struct ButaneFunction;

#[async_trait]
impl Function for ButaneFunction {
    fn name(&self) -> &'static str {
        "butane"
    }

    fn signature(&self) -> FunctionSignature {
        FunctionSignature {
            parameters: vec![Parameter {
                name: "config".into(),
                ty: Type::String,
                description: "A Butane config with `variant: flatcar` and `version: 1.0.0` (Ignition 3.3.0) or `1.1.0` (Ignition 3.4.0), e.g. `file(\"node.bu\")` or a heredoc.".into(),
                allow_null: false,
            }],
            return_type: Type::String,
            summary: "Translates a Butane config (variant flatcar) to Ignition JSON".into(),
            description: "Translates a Butane config of the `flatcar` variant to Ignition JSON, as the `butane` CLI does, without a second provider or tool: the result goes straight into `flatcar_instance.user_data` (or `user_data_wo`). Every key is checked: an unknown key, a value of the wrong type or a field that needs local files (`local`, `trees`; a function has no files directory: use `inline` or `source`) is an error that names the YAML path, line and column. Inline contents are percent-encoded or base64, never gzipped, so the same config always gives the same Ignition (and never replaces a server by itself).".into(),
        }
    }

    async fn call(&self, arguments: Vec<Value>) -> Result<Value, FunctionError> {
        let fail = |text: String| FunctionError {
            text,
            argument: Some(0),
        };
        let (config,): (String,) = function::arguments(arguments)?;
        let json = flatcar_butane::to_ignition(&config, &flatcar_butane::Options::default())
            .map_err(|e| fail(format!("Butane config: {e}")))?;
        ignition::check(&json)
            .map_err(|reason| fail(format!("The Ignition produced is not valid: {reason}")))?;
        Ok(Value::String(json))
    }
}
