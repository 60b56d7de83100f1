//! The profile's reading of the shared YAML tree (`flatcar_yaml`, built under
//! [`Policy::STRICT`]: anchors, aliases and tags other than `!!str` refused, nesting bounded):
//! the builder's errors worded for a profile, and a serde `Deserializer` over the tree, so
//! every type error, unknown key and missing key of a profile is reported at `file:line:col`.

use std::fmt;

use flatcar_yaml::{Builder, Entry, ErrorKind, Policy, Scalar, Value, MAX_DEPTH};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// Positions, suggestions and the tree are the ones every YAML reader of the project shares.
pub use flatcar_yaml::{suggest, Node, Pos};

/// An error found while reading YAML or mapping it onto the profile's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Option<Pos>,
    /// Keys from the document root to the offending value, e.g. `pools.workers`.
    pub path: Vec<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl YamlError {
    pub fn new(pos: Pos, message: impl Into<String>, hint: impl Into<String>) -> YamlError {
        YamlError {
            pos: Some(pos),
            path: Vec::new(),
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    fn at(mut self, pos: Pos) -> YamlError {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }

    fn in_key(mut self, key: &str) -> YamlError {
        self.path.insert(0, key.to_string());
        self
    }

    /// `path` joined with dots, or `the profile` at the top level.
    pub fn location_name(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{}`", self.path.join("."))
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

/// Friendlier names for what serde's derived code expects.
fn describe_expected(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".to_string(),
        "i8" | "i16" | "i32" | "i64" => "a whole number".to_string(),
        "a boolean" => "true or false".to_string(),
        "a sequence" => "a list".to_string(),
        "a map" => "a mapping (indented `key: value` lines)".to_string(),
        other if other.starts_with("struct ") => {
            "a mapping (indented `key: value` lines)".to_string()
        }
        other => other.to_string(),
    }
}

impl de::Error for YamlError {
    fn custom<T: fmt::Display>(msg: T) -> YamlError {
        YamlError {
            pos: None,
            path: Vec::new(),
            message: msg.to_string(),
            hint: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> YamlError {
        let expected = describe_expected(&exp.to_string());
        let mut e = YamlError::custom(format_args!("expected {expected}, found {unexp}"));
        e.hint = Some(format!("write {expected} here"));
        e
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> YamlError {
        let expected = describe_expected(&exp.to_string());
        let mut e = YamlError::custom(format_args!("{unexp} is not {expected}"));
        e.hint = Some(format!("write {expected} here"));
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> YamlError {
        let mut e = YamlError::custom(format_args!("unknown key `{field}`"));
        e.hint = Some(suggest(field, expected, "keys"));
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> YamlError {
        let mut e = YamlError::custom(format_args!("unknown value `{variant}`"));
        e.hint = Some(suggest(variant, expected, "values"));
        e
    }

    fn missing_field(field: &'static str) -> YamlError {
        let mut e = YamlError::custom(format_args!("missing key `{field}`"));
        e.hint = Some(format!("add `{field}:` here (see `flatcar-kube schema`)"));
        e
    }

    fn duplicate_field(field: &'static str) -> YamlError {
        let mut e = YamlError::custom(format_args!("key `{field}` appears twice"));
        e.hint = Some("keep one of them".to_string());
        e
    }
}

/// Parses one YAML document into a [`Node`] tree.
pub fn parse(src: &str) -> Result<Node, YamlError> {
    let mut builder = Builder::new(src, Policy::STRICT);
    let root = builder.next_document().map_err(build_error)?;
    let Some(_) = root else {
        return Err(YamlError::new(
            builder.last_pos(),
            "the profile is empty",
            "start from `flatcar-kube init`",
        ));
    };
    let root = builder.root().map_err(build_error)?;
    if let Some(pos) = builder.next_document().map_err(build_error)? {
        return Err(YamlError::new(
            pos,
            "a second YAML document starts here",
            "a profile is one document: remove the `---` and what follows",
        ));
    }
    Ok(root)
}

/// The builder's error in a profile's words.
fn build_error(e: flatcar_yaml::Error) -> YamlError {
    let (message, hint) = match e.kind {
        ErrorKind::Syntax(info) => (
            format!("this is not valid YAML: {info}"),
            "fix the YAML syntax here (indentation, quotes, `key: value`)",
        ),
        ErrorKind::UnexpectedEnd => (
            "the YAML ends unexpectedly".to_string(),
            "complete the document",
        ),
        ErrorKind::UnexpectedEvent => (
            "unexpected YAML content".to_string(),
            "write a mapping, a list or a value here",
        ),
        ErrorKind::TooDeep => (
            format!("nesting deeper than {MAX_DEPTH} levels"),
            "a profile needs only a few levels: flatten this value",
        ),
        // The last two come only from expanding aliases, which `Policy::STRICT` refuses.
        ErrorKind::Anchor | ErrorKind::AliasBudget | ErrorKind::MergeNotMapping => (
            "YAML anchors and aliases (`&name`, `*name`) are not supported in a profile"
                .to_string(),
            "write the value out in full",
        ),
        ErrorKind::Tag {
            on_collection: true,
            ..
        } => (
            "YAML tags are not supported in a profile".to_string(),
            "remove the tag",
        ),
        ErrorKind::Tag { tag, .. } => (
            format!("the YAML tag `{tag}` is not supported"),
            "remove the tag",
        ),
        ErrorKind::KeyNotScalar => (
            "a key must be a plain word".to_string(),
            "write `name: value`",
        ),
        ErrorKind::DuplicateKey { key, first, .. } => (
            format!("key `{key}` appears twice (first at line {})", first.line),
            "keep one of them",
        ),
    };
    YamlError::new(e.pos, message, hint)
}

/// How a node reads in a type error.
fn unexpected(node: &Node) -> de::Unexpected<'_> {
    match &node.value {
        Value::Scalar(Scalar { text, quoted, .. }) => match (quoted, resolve_plain(text)) {
            (false, Plain::Null) => de::Unexpected::Other("an empty value (null)"),
            (false, Plain::Bool(b)) => de::Unexpected::Bool(b),
            (false, Plain::Int(i)) => de::Unexpected::Signed(i),
            (false, Plain::Float(f)) => de::Unexpected::Float(f),
            _ => de::Unexpected::Str(text),
        },
        Value::Seq(_) => de::Unexpected::Other("a list"),
        Value::Map(_) => de::Unexpected::Other("a mapping"),
    }
}

/// What an unquoted scalar means under YAML 1.2's core schema.
enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str,
}

fn resolve_plain(value: &str) -> Plain {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = value.parse::<i64>() {
            return Plain::Int(i);
        }
        if let Ok(u) = value.trim_start_matches('+').parse::<u64>() {
            return Plain::UInt(u);
        }
    }
    if let Some(hex) = value.strip_prefix("0x") {
        if let Ok(u) = u64::from_str_radix(hex, 16) {
            return Plain::UInt(u);
        }
    }
    if let Some(oct) = value.strip_prefix("0o") {
        if let Ok(u) = u64::from_str_radix(oct, 8) {
            return Plain::UInt(u);
        }
    }
    let looks_numeric = value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.matches('.').count() <= 1;
    if looks_numeric {
        if let Ok(f) = value.parse::<f64>() {
            return Plain::Float(f);
        }
    }
    Plain::Str
}

type Result<T, E = YamlError> = std::result::Result<T, E>;

/// A node as serde input. Visitors get owned strings (`visit_str`), so the tree need not
/// outlive `'de`: a key is read through a node made for it.
#[derive(Clone, Copy)]
pub struct NodeDeserializer<'a>(pub &'a Node);

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = YamlError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match &self.0.value {
            Value::Scalar(Scalar {
                text: value,
                quoted: false,
                ..
            }) => match resolve_plain(value) {
                Plain::Null => visitor.visit_unit(),
                Plain::Bool(b) => visitor.visit_bool(b),
                Plain::Int(i) => visitor.visit_i64(i),
                Plain::UInt(u) => visitor.visit_u64(u),
                Plain::Float(f) => visitor.visit_f64(f),
                Plain::Str => visitor.visit_str(value),
            },
            Value::Scalar(Scalar { text, .. }) => visitor.visit_str(text),
            Value::Seq(items) => visitor.visit_seq(Items {
                iter: items.iter().enumerate(),
            }),
            Value::Map(entries) => visitor.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e: YamlError| e.at(self.0.pos))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let Value::Scalar(Scalar {
            text: value,
            quoted: false,
            ..
        }) = &self.0.value
        {
            if let Plain::Bool(b) = resolve_plain(value) {
                return visitor
                    .visit_bool(b)
                    .map_err(|e: YamlError| e.at(self.0.pos));
            }
        }
        Err(de::Error::invalid_type(unexpected(self.0), &visitor))
            .map_err(|e: YamlError| e.at(self.0.pos))
    }

    /// Any scalar reads as a string (so `version: 1.31` or `4081.2.0` need no quotes), except
    /// an unquoted empty value or `null`.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.0.value {
            Value::Scalar(Scalar {
                text: value,
                quoted,
                ..
            }) if *quoted || !matches!(resolve_plain(value), Plain::Null) => visitor
                .visit_str(value)
                .map_err(|e: YamlError| e.at(self.0.pos)),
            _ => Err(de::Error::invalid_type(unexpected(self.0), &visitor))
                .map_err(|e: YamlError| e.at(self.0.pos)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.0.value {
            Value::Scalar(Scalar {
                text: value,
                quoted: false,
                ..
            }) if matches!(resolve_plain(value), Plain::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match &self.0.value {
            Value::Scalar(Scalar { text: value, .. }) => {
                let de: de::value::StrDeserializer<'_, YamlError> =
                    value.as_str().into_deserializer();
                visitor
                    .visit_enum(de)
                    .map_err(|e: YamlError| e.at(self.0.pos))
            }
            _ => Err(de::Error::invalid_type(unexpected(self.0), &visitor))
                .map_err(|e: YamlError| e.at(self.0.pos)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.0.value {
            Value::Seq(_) => self.deserialize_any(visitor),
            _ => Err(de::Error::invalid_type(unexpected(self.0), &visitor))
                .map_err(|e: YamlError| e.at(self.0.pos)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.0.value {
            Value::Map(_) => self.deserialize_any(visitor),
            _ => Err(de::Error::invalid_type(unexpected(self.0), &visitor))
                .map_err(|e: YamlError| e.at(self.0.pos)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple tuple_struct ignored_any
    }
}

struct Items<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = YamlError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.iter.next() {
            Some((i, node)) => seed
                .deserialize(NodeDeserializer(node))
                .map(Some)
                .map_err(|e: YamlError| e.at(node.pos).in_key(&i.to_string())),
            None => Ok(None),
        }
    }
}

struct Entries<'a> {
    iter: std::slice::Iter<'a, Entry>,
    value: Option<&'a Entry>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = YamlError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.iter.next() {
            Some(entry) => {
                self.value = Some(entry);
                let key = Node {
                    pos: entry.key_pos,
                    value: Value::Scalar(Scalar {
                        text: entry.key.clone(),
                        quoted: entry.key_quoted,
                        tag: None,
                    }),
                };
                seed.deserialize(NodeDeserializer(&key))
                    .map(Some)
                    .map_err(|e: YamlError| e.at(key.pos))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(entry) => seed
                .deserialize(NodeDeserializer(&entry.value))
                .map_err(|e: YamlError| e.at(entry.value.pos).in_key(&entry.key)),
            None => Err(de::Error::custom("a value was read before its key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let node = parse("a:\n  b: 1\n").unwrap();
        assert_eq!(node.pos_of(&["a", "b"]), Pos { line: 2, col: 6 });
        assert_eq!(node.key_pos_of(&["a", "b"]), Pos { line: 2, col: 3 });
    }

    #[test]
    fn aliases_are_rejected() {
        let e = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert!(e.message.contains("anchors"), "{e:?}");
    }

    #[test]
    fn suggestion_picks_the_closest_key() {
        assert!(
            suggest("flavour", &["count", "flavor"], "keys").starts_with("did you mean `flavor`?")
        );
    }
}
