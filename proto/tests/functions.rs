//! Provider-defined functions through the gRPC service's own code (the in-process harness):
//! arguments decoded with the parameter types, results encoded with the return type, errors
//! naming the argument to blame.

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::harness::Harness;
use tfplugin::{
    DataSource, Diagnostics, Function, FunctionError, FunctionSignature, Parameter, Provider,
    Resource, Schema, Type, Value,
};

struct Repeat;

#[async_trait]
impl Function for Repeat {
    fn name(&self) -> &'static str {
        "repeat"
    }
    fn signature(&self) -> FunctionSignature {
        FunctionSignature {
            parameters: vec![
                Parameter {
                    name: "text".into(),
                    ty: Type::String,
                    description: "What to repeat.".into(),
                    allow_null: false,
                },
                Parameter {
                    name: "times".into(),
                    ty: Type::Number,
                    description: "How often, at least 1.".into(),
                    allow_null: false,
                },
            ],
            return_type: Type::list(Type::String),
            summary: "Repeats a string.".into(),
            description: "Repeats `text` `times` times.".into(),
        }
    }
    async fn call(&self, arguments: Vec<Value>) -> Result<Value, FunctionError> {
        let text = arguments[0].as_str().unwrap_or_default().to_string();
        let times = arguments[1]
            .as_number()
            .and_then(|n| n.as_i64())
            .unwrap_or(0);
        if times < 1 {
            return Err(FunctionError {
                text: format!("times must be at least 1, not {times}"),
                argument: Some(1),
            });
        }
        Ok(Value::List(
            (0..times).map(|_| Value::string(&text)).collect(),
        ))
    }
}

struct WithFunctions;

#[async_trait]
impl Provider for WithFunctions {
    fn schema(&self) -> Schema {
        Schema::default()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        Vec::new()
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Repeat)]
    }
    async fn configure(&self, _: &Value, _: &str) -> Diagnostics {
        Diagnostics::default()
    }
}

#[tokio::test]
async fn a_call_decodes_arguments_and_encodes_the_result_by_the_signature() {
    let h = Harness::new(Arc::new(WithFunctions));
    let result = h
        .call_function("repeat", &[Value::string("ab"), Value::from(3)])
        .await
        .expect("call");
    assert_eq!(result, Value::List(vec![Value::string("ab"); 3]));
}

#[tokio::test]
async fn errors_name_the_argument_and_unknown_functions_are_refused() {
    let h = Harness::new(Arc::new(WithFunctions));
    let err = h
        .call_function("repeat", &[Value::string("ab"), Value::from(0)])
        .await
        .expect_err("zero times");
    assert_eq!(err.argument, Some(1));
    assert!(err.text.contains("at least 1"), "{}", err.text);
    let err = h
        .call_function("nope", &[])
        .await
        .expect_err("no such function");
    assert!(err.text.contains("nope"), "{}", err.text);
}
