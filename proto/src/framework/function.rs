//! Typed arguments of a provider-defined function: the argument list decoded into a tuple
//! (or any serde model of a list), so a function reads `(String,)` instead of matching
//! values by hand.

use serde::de::DeserializeOwned;

use super::codec::from_value;
use crate::provider::FunctionError;
use crate::value::Value;

/// The arguments as `T`, e.g. `let (config,): (String,) = arguments(args)?`. A mismatch
/// blames the argument it is in.
pub fn arguments<T: DeserializeOwned>(arguments: Vec<Value>) -> Result<T, FunctionError> {
    from_value(Value::List(arguments)).map_err(|e| {
        let index = e
            .path
            .strip_prefix('[')
            .and_then(|rest| rest.split(']').next())
            .and_then(|i| i.parse().ok());
        FunctionError {
            text: format!("Invalid argument: {}.", e.message),
            argument: index,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_decode_into_a_tuple_and_mismatches_blame_their_argument() {
        let args = vec![Value::string("a"), Value::Bool(true)];
        assert_eq!(
            arguments::<(String, bool)>(args.clone()),
            Ok(("a".to_string(), true))
        );
        let err = arguments::<(String, String)>(args).expect_err("a bool is no string");
        assert_eq!(err.argument, Some(1));
        assert!(err.text.contains("string"), "{}", err.text);
    }
}
