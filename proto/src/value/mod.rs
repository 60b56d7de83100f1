//! Terraform's value model: types, and values that are known, null or unknown.
//!
//! Values do not carry their type; the codecs (`msgpack`, `json`) are driven by a [`Type`]
//! taken from a schema, the way Terraform's own `cty` library works. Objects always carry
//! every attribute their type declares (absent ones decode as null).

mod json;
mod msgpack;
mod types;

use std::collections::BTreeMap;

pub use json::{decode_json, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use types::Type;

/// Failure to encode or decode a value against its type.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    #[error("{path}: expected {expected}, found {found}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("malformed type description: {0}")]
    BadType(String),
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
}

/// A Terraform number. Integers stay exact; everything else is a 64-bit float.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The exact integer, when the number is one.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            Number::Float(_) => None,
        }
    }

    /// Parses Terraform's decimal string form (used for numbers too large for msgpack).
    pub fn parse(text: &str) -> Option<Number> {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Number::Float)
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (self.as_i64(), other.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => self.as_f64() == other.as_f64(),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

/// A value as Terraform sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Not known until apply.
    Unknown,
    #[default]
    Null,
    String(String),
    Number(Number),
    Bool(bool),
    /// Elements of a list, set or tuple.
    List(Vec<Value>),
    /// Elements of a map, or attributes of an object.
    Map(BTreeMap<String, Value>),
    /// A value in a `dynamic` position: its concrete type travels with it.
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An object from (name, value) pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(items) => items.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// An attribute of an object value; null when absent or when `self` is not an object.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Map(attrs) => attrs.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an attribute of an object value (no effect on other values).
    pub fn set(&mut self, name: &str, value: Value) {
        if let Value::Map(attrs) = self {
            attrs.insert(name.to_string(), value);
        }
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string-valued entries of a known map, skipping null entries.
    pub fn as_string_map(&self) -> Option<BTreeMap<String, String>> {
        match self {
            Value::Map(items) => Some(
                items
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect(),
            ),
            _ => None,
        }
    }
}

pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Unknown => "unknown",
        Value::Null => "null",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::List(_) => "sequence",
        Value::Map(_) => "map",
        Value::Dynamic(..) => "dynamic",
    }
}

pub(crate) fn child_path(path: &str, step: &str) -> String {
    if path.is_empty() {
        step.to_string()
    } else if step.starts_with('[') {
        format!("{path}{step}")
    } else {
        format!("{path}.{step}")
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(items)
    }
}
