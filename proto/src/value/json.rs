//! JSON codec for values (Terraform's state format). JSON cannot carry unknown values.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::{child_path, describe, CodecError, Number, Type, Value};

/// Encodes a wholly known value of type `ty` as JSON bytes.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    Ok(to_json(value, ty, "")?.to_string().into_bytes())
}

/// Decodes JSON bytes as a value of type `ty`. Object attributes the type does not declare
/// are dropped (they come from older schemas); absent ones become null.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| CodecError::Invalid {
        path: String::new(),
        message: format!("invalid JSON: {e}"),
    })?;
    from_json(&json, ty, "")
}

fn to_json(value: &Value, ty: &Type, path: &str) -> Result<Json, CodecError> {
    let mismatch = || CodecError::Mismatch {
        path: path.to_string(),
        expected: ty.name(),
        found: describe(value).to_string(),
    };
    Ok(match (value, ty) {
        (Value::Unknown, _) => {
            return Err(CodecError::Invalid {
                path: path.to_string(),
                message: "unknown values cannot be written as JSON".into(),
            })
        }
        (Value::Null, _) => Json::Null,
        (Value::Dynamic(inner_ty, inner), Type::Dynamic) => {
            let mut obj = Map::new();
            obj.insert("value".into(), to_json(inner, inner_ty, path)?);
            obj.insert("type".into(), inner_ty.to_json());
            Json::Object(obj)
        }
        (Value::String(s), Type::String) => Json::String(s.clone()),
        (Value::Number(n), Type::Number) => match n.as_i64() {
            Some(i) => Json::from(i),
            None => serde_json::Number::from_f64(n.as_f64())
                .map(Json::Number)
                .ok_or_else(mismatch)?,
        },
        (Value::Bool(b), Type::Bool) => Json::Bool(*b),
        (Value::List(items), Type::List(elem) | Type::Set(elem)) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_json(v, elem, &child_path(path, &format!("[{i}]"))))
                .collect::<Result<_, _>>()?,
        ),
        (Value::List(items), Type::Tuple(types)) if items.len() == types.len() => Json::Array(
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (v, t))| to_json(v, t, &child_path(path, &format!("[{i}]"))))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Map(items), Type::Map(elem)) => Json::Object(
            items
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v, elem, &child_path(path, k))?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Value::Map(items), Type::Object(attrs)) => Json::Object(
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = items.get(k).unwrap_or(&Value::Null);
                    Ok((k.clone(), to_json(v, t, &child_path(path, k))?))
                })
                .collect::<Result<_, CodecError>>()?,
        ),
        _ => return Err(mismatch()),
    })
}

fn from_json(json: &Json, ty: &Type, path: &str) -> Result<Value, CodecError> {
    let mismatch = || CodecError::Mismatch {
        path: path.to_string(),
        expected: ty.name(),
        found: json_kind(json).to_string(),
    };
    if json.is_null() {
        return Ok(Value::Null);
    }
    Ok(match ty {
        Type::String => Value::String(json.as_str().ok_or_else(mismatch)?.to_string()),
        Type::Number => match json {
            Json::Number(n) => Value::Number(match n.as_i64() {
                Some(i) => Number::Int(i),
                None => Number::Float(n.as_f64().ok_or_else(mismatch)?),
            }),
            Json::String(s) => Value::Number(Number::parse(s).ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        },
        Type::Bool => Value::Bool(json.as_bool().ok_or_else(mismatch)?),
        Type::List(elem) | Type::Set(elem) => Value::List(
            json.as_array()
                .ok_or_else(mismatch)?
                .iter()
                .enumerate()
                .map(|(i, v)| from_json(v, elem, &child_path(path, &format!("[{i}]"))))
                .collect::<Result<_, _>>()?,
        ),
        Type::Tuple(types) => {
            let items = json.as_array().ok_or_else(mismatch)?;
            if items.len() != types.len() {
                return Err(mismatch());
            }
            Value::List(
                items
                    .iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (v, t))| from_json(v, t, &child_path(path, &format!("[{i}]"))))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(elem) => Value::Map(
            json.as_object()
                .ok_or_else(mismatch)?
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, elem, &child_path(path, k))?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        Type::Object(attrs) => {
            let obj = json.as_object().ok_or_else(mismatch)?;
            let mut out = BTreeMap::new();
            for (name, t) in attrs {
                let v = match obj.get(name) {
                    Some(v) => from_json(v, t, &child_path(path, name))?,
                    None => Value::Null,
                };
                out.insert(name.clone(), v);
            }
            Value::Map(out)
        }
        Type::Dynamic => {
            let obj = json.as_object().ok_or_else(mismatch)?;
            let inner_ty = Type::from_json(obj.get("type").ok_or_else(mismatch)?)?;
            let inner = from_json(obj.get("value").unwrap_or(&Json::Null), &inner_ty, path)?;
            Value::Dynamic(inner_ty, Box::new(inner))
        }
    })
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
