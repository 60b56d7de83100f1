//! Typed models to and from [`Value`] through serde: a struct is an object, `Vec` a list or
//! set, `BTreeMap<String, _>` a map, [`Attr`](super::Attr) a value that may be null or
//! unknown, `Option` a value that may be null but never unknown.
//!
//! Errors carry the attribute path, so a model that does not match its schema says where.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

use super::attr::{ATTR_MARKER, UNKNOWN_MARKER};
use crate::value::{Number, Value};

/// A model that does not fit a value (or the other way round), with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ModelError {
    pub path: String,
    pub message: String,
    /// The value itself is wrong, not the provider: a number with a fraction where the model
    /// holds a whole number (Terraform's `number` type admits both). Reported to the user.
    pub user_input: bool,
}

impl ModelError {
    fn at(mut self, step: &str) -> ModelError {
        self.path = if self.path.is_empty() {
            step.to_string()
        } else if self.path.starts_with('[') {
            format!("{step}{}", self.path)
        } else {
            format!("{step}.{}", self.path)
        };
        self
    }
}

impl ser::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> ModelError {
        ModelError {
            path: String::new(),
            message: msg.to_string(),
            user_input: false,
        }
    }
}

impl de::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> ModelError {
        <ModelError as ser::Error>::custom(msg)
    }
}

/// The value of a model.
pub fn to_value<T: Serialize + ?Sized>(model: &T) -> Result<Value, ModelError> {
    model.serialize(ValueSerializer)
}

/// The model of a value.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ModelError> {
    T::deserialize(ValueDeserializer(value))
}

struct ValueSerializer;

struct SeqBuilder(Vec<Value>);
struct MapBuilder {
    items: BTreeMap<String, Value>,
    key: Option<String>,
}

type SerResult = Result<Value, ModelError>;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ModelError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = ser::Impossible<Value, ModelError>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = ser::Impossible<Value, ModelError>;

    fn serialize_bool(self, v: bool) -> SerResult {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> SerResult {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> SerResult {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> SerResult {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> SerResult {
        Ok(Value::Number(Number::Int(v)))
    }
    fn serialize_u8(self, v: u8) -> SerResult {
        self.serialize_i64(v.into())
    }
    fn serialize_u16(self, v: u16) -> SerResult {
        self.serialize_i64(v.into())
    }
    fn serialize_u32(self, v: u32) -> SerResult {
        self.serialize_i64(v.into())
    }
    fn serialize_u64(self, v: u64) -> SerResult {
        Ok(Value::Number(match i64::try_from(v) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Float(v as f64),
        }))
    }
    fn serialize_f32(self, v: f32) -> SerResult {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> SerResult {
        Ok(Value::Number(Number::Float(v)))
    }
    fn serialize_char(self, v: char) -> SerResult {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> SerResult {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> SerResult {
        Err(ser::Error::custom(
            "bytes have no Terraform type; use a string",
        ))
    }
    fn serialize_none(self) -> SerResult {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> SerResult {
        v.serialize(self)
    }
    fn serialize_unit(self) -> SerResult {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, name: &'static str) -> SerResult {
        Ok(if name == UNKNOWN_MARKER {
            Value::Unknown
        } else {
            Value::Null
        })
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> SerResult {
        Ok(Value::String(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> SerResult {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> SerResult {
        Err(ser::Error::custom(format!(
            "enum variant {variant} with data has no Terraform type"
        )))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, ModelError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, ModelError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, ModelError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ModelError> {
        Err(ser::Error::custom(format!(
            "enum variant {variant} with data has no Terraform type"
        )))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, ModelError> {
        Ok(MapBuilder {
            items: BTreeMap::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapBuilder, ModelError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ModelError> {
        Err(ser::Error::custom(format!(
            "enum variant {variant} with data has no Terraform type"
        )))
    }
}

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        let index = self.0.len();
        let item = v
            .serialize(ValueSerializer)
            .map_err(|e| e.at(&format!("[{index}]")))?;
        self.0.push(item);
        Ok(())
    }
}

/// Lists, tuples and tuple structs all become a list.
macro_rules! serialize_as_list {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for SeqBuilder {
            type Ok = Value;
            type Error = ModelError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
                self.push(v)
            }
            fn end(self) -> SerResult {
                Ok(Value::List(self.0))
            }
        }
    )*};
}

serialize_as_list!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ModelError> {
        match key.serialize(ValueSerializer)? {
            Value::String(k) => {
                self.key = Some(k);
                Ok(())
            }
            _ => Err(ser::Error::custom("map keys must be strings")),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <ModelError as ser::Error>::custom("map value without a key"))?;
        let item = v.serialize(ValueSerializer).map_err(|e| e.at(&key))?;
        self.items.insert(key, item);
        Ok(())
    }
    fn end(self) -> SerResult {
        Ok(Value::Map(self.items))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), ModelError> {
        let item = v.serialize(ValueSerializer).map_err(|e| e.at(key))?;
        self.items.insert(key.to_string(), item);
        Ok(())
    }
    fn end(self) -> SerResult {
        Ok(Value::Map(self.items))
    }
}

/// Reads a model out of a value; owns the value so strings move instead of being copied.
struct ValueDeserializer(Value);

impl ValueDeserializer {
    fn unexpected(&self, expected: &str) -> ModelError {
        <ModelError as de::Error>::custom(format!(
            "expected {expected}, found {}",
            crate::value::describe(&self.0)
        ))
    }

    fn integer(self) -> Result<i64, ModelError> {
        let number = match &self.0 {
            Value::Number(n) => Some(*n),
            Value::String(s) => Number::parse(s),
            _ => None,
        };
        match number {
            Some(n) => n.as_i64().ok_or_else(|| ModelError {
                path: String::new(),
                message: format!("{} is not a whole number", n.as_f64()),
                user_input: true,
            }),
            None => Err(self.unexpected("a whole number")),
        }
    }
}

macro_rules! deserialize_integer {
    ($($method:ident => $visit:ident as $ty:ty),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
            let n = self.integer()?;
            let n = <$ty>::try_from(n).map_err(|_| <ModelError as de::Error>::custom(format!("{n} is out of range")))?;
            visitor.$visit(n)
        })*
    };
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = ModelError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.0 {
            Value::Unknown => Err(<ModelError as de::Error>::custom(
                "the value is unknown here; declare the field as Attr<_> to accept \"known after apply\"",
            )),
            Value::Null => visitor.visit_unit(),
            Value::String(s) => visitor.visit_string(s),
            Value::Number(Number::Int(i)) => visitor.visit_i64(i),
            Value::Number(Number::Float(f)) => visitor.visit_f64(f),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::List(items) => visitor.visit_seq(SeqReader {
                items: items.into_iter(),
                index: 0,
            }),
            Value::Map(items) => visitor.visit_map(MapReader {
                items: items.into_iter(),
                pending: None,
            }),
            Value::Dynamic(_, inner) => ValueDeserializer(*inner).deserialize_any(visitor),
        }
    }

    deserialize_integer! {
        deserialize_i8 => visit_i8 as i8,
        deserialize_i16 => visit_i16 as i16,
        deserialize_i32 => visit_i32 as i32,
        deserialize_i64 => visit_i64 as i64,
        deserialize_u8 => visit_u8 as u8,
        deserialize_u16 => visit_u16 as u16,
        deserialize_u32 => visit_u32 as u32,
        deserialize_u64 => visit_u64 as u64,
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match &self.0 {
            Value::Number(n) => visitor.visit_f64(n.as_f64()),
            _ => Err(self.unexpected("a number")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            Value::Unknown => Err(<ModelError as de::Error>::custom(
                "the value is unknown here; declare the field as Attr<_> to accept \"known after apply\"",
            )),
            other => visitor.visit_some(ValueDeserializer(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        if name == ATTR_MARKER {
            return match self.0 {
                Value::Unknown => visitor.visit_unit(),
                Value::Null => visitor.visit_none(),
                other => visitor.visit_some(ValueDeserializer(other)),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            _ => Err(self.unexpected("a string")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any i128 u128
    }
}

struct SeqReader {
    items: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqReader {
    type Error = ModelError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ModelError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(ValueDeserializer(item))
            .map(Some)
            .map_err(|e| e.at(&format!("[{index}]")))
    }
}

struct MapReader {
    items: std::collections::btree_map::IntoIter<String, Value>,
    pending: Option<(String, Value)>,
}

impl<'de> de::MapAccess<'de> for MapReader {
    type Error = ModelError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ModelError> {
        let Some((key, value)) = self.items.next() else {
            return Ok(None);
        };
        let k = seed.deserialize(key.clone().into_deserializer())?;
        self.pending = Some((key, value));
        Ok(Some(k))
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ModelError> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| <ModelError as de::Error>::custom("value without a key"))?;
        seed.deserialize(ValueDeserializer(value))
            .map_err(|e| e.at(&key))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::framework::Attr;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Block {
        uuid: Attr<String>,
        port: Option<String>,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Model {
        name: Attr<String>,
        id: Attr<String>,
        size: Attr<i64>,
        enabled: Attr<bool>,
        tags: Attr<Vec<String>>,
        metadata: Attr<BTreeMap<String, String>>,
        network: Attr<Vec<Block>>,
    }

    fn sample() -> Model {
        Model {
            name: "node-1".into(),
            id: Attr::Unknown,
            size: Attr::Known(1 << 40),
            enabled: Attr::Null,
            tags: Attr::Known(vec!["a".into(), "b".into()]),
            metadata: Attr::Known(BTreeMap::from([("k".to_string(), "v".to_string())])),
            network: Attr::Known(vec![Block {
                uuid: Attr::Unknown,
                port: None,
            }]),
        }
    }

    #[test]
    fn null_unknown_and_known_survive_a_round_trip() {
        let value = to_value(&sample()).expect("serializes");
        assert_eq!(value.get("id"), &Value::Unknown);
        assert_eq!(value.get("enabled"), &Value::Null);
        assert_eq!(value.get("size"), &Value::Number(Number::Int(1 << 40)));
        assert_eq!(
            value.get("network"),
            &Value::List(vec![Value::object([
                ("uuid", Value::Unknown),
                ("port", Value::Null)
            ])])
        );
        let back: Model = from_value(value).expect("deserializes");
        assert_eq!(back, sample());
    }

    #[test]
    fn errors_name_the_attribute_path() {
        let mut value = to_value(&sample()).expect("serializes");
        let mut block = Value::object([("uuid", Value::Null), ("port", Value::Unknown)]);
        value.set("network", Value::List(vec![block.clone()]));
        let err = from_value::<Model>(value.clone()).expect_err("unknown in an Option");
        assert_eq!(err.path, "network[0].port");

        block.set("port", Value::Null);
        block.set("typo", Value::Null);
        value.set("network", Value::List(vec![block]));
        let err = from_value::<Model>(value.clone()).expect_err("attribute not in model");
        assert_eq!(err.path, "network[0]");
        assert!(err.message.contains("typo"), "{err}");

        value.set("network", Value::Null);
        value.set("size", Value::string("many"));
        let err = from_value::<Model>(value).expect_err("string for a number");
        assert_eq!(
            err.to_string(),
            "size: expected a whole number, found string"
        );
    }

    #[test]
    fn numbers_accept_whole_floats_and_decimal_strings() {
        let mut value = to_value(&sample()).expect("serializes");
        value.set("size", Value::Number(Number::Float(3.0)));
        assert_eq!(
            from_value::<Model>(value.clone()).map(|m| m.size),
            Ok(Attr::Known(3))
        );
        value.set("size", Value::string("12"));
        assert_eq!(
            from_value::<Model>(value.clone()).map(|m| m.size),
            Ok(Attr::Known(12))
        );
        value.set("size", Value::Number(Number::Float(2.5)));
        let err = from_value::<Model>(value).expect_err("a fraction");
        assert!(
            err.user_input,
            "the configuration's mistake, not the provider's"
        );
        assert_eq!(err.to_string(), "size: 2.5 is not a whole number");
    }
}
