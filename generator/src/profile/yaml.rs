//! A YAML document as a tree of nodes that remember where they start (line and column), and a
//! serde `Deserializer` over that tree, so every type error, unknown key and missing key of a
//! profile can be reported at `file:line:col`.
//!
//! Only what a profile needs is supported: one document of mappings, sequences and scalars.
//! Anchors/aliases and custom tags are rejected (they only make a profile harder to read), and
//! nesting is bounded so hostile input cannot exhaust the stack.

use std::fmt;

use flatcar_yaml::MAX_DEPTH;
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// Positions and suggestions are the ones every YAML reader of the project shares.
pub use flatcar_yaml::{suggest, Pos};

/// One YAML node with its start position.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// `plain` is false for quoted and block scalars, which are always strings.
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

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
    let mut builder = Builder {
        parser: Parser::new_from_str(src),
        last: Pos { line: 1, col: 1 },
    };
    builder.document()
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    last: Pos,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Pos), YamlError> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                let pos = Pos::from_marker(&span.start);
                self.last = pos;
                Ok((event, pos))
            }
            Some(Err(e)) => Err(YamlError::new(
                Pos::from_marker(e.marker()),
                format!("this is not valid YAML: {}", e.info()),
                "fix the YAML syntax here (indentation, quotes, `key: value`)",
            )),
            None => Err(YamlError::new(
                self.last,
                "the YAML ends unexpectedly",
                "complete the document",
            )),
        }
    }

    fn document(&mut self) -> Result<Node, YamlError> {
        let mut root = None;
        loop {
            let (event, pos) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::DocumentStart(_) => {
                    if root.is_some() {
                        return Err(YamlError::new(
                            pos,
                            "a second YAML document starts here",
                            "a profile is one document: remove the `---` and what follows",
                        ));
                    }
                    let (event, pos) = self.next()?;
                    root = Some(self.node(event, pos, 0)?);
                }
                Event::StreamEnd => {
                    return root.ok_or_else(|| {
                        YamlError::new(
                            pos,
                            "the profile is empty",
                            "start from `flatcar-kube init`",
                        )
                    });
                }
                _ => {
                    return Err(YamlError::new(
                        pos,
                        "unexpected YAML content",
                        "a profile is one YAML mapping",
                    ))
                }
            }
        }
    }

    fn node(&mut self, event: Event<'a>, pos: Pos, depth: usize) -> Result<Node, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::new(
                pos,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                "a profile needs only a few levels: flatten this value",
            ));
        }
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 {
                    return Err(anchor_error(pos));
                }
                let mut plain = style == ScalarStyle::Plain;
                if let Some(tag) = tag {
                    if tag.is_yaml_core_schema() && tag.suffix == "str" {
                        plain = false;
                    } else {
                        return Err(YamlError::new(
                            pos,
                            format!("the YAML tag `{tag}` is not supported"),
                            "remove the tag",
                        ));
                    }
                }
                Ok(Node {
                    pos,
                    kind: NodeKind::Scalar {
                        value: value.into_owned(),
                        plain,
                    },
                })
            }
            Event::SequenceStart(anchor, tag) => {
                if anchor != 0 {
                    return Err(anchor_error(pos));
                }
                if tag.is_some() {
                    return Err(tag_error(pos));
                }
                let mut items = Vec::new();
                loop {
                    let (event, item_pos) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, item_pos, depth + 1)?);
                }
                Ok(Node {
                    pos,
                    kind: NodeKind::Seq(items),
                })
            }
            Event::MappingStart(anchor, tag) => {
                if anchor != 0 {
                    return Err(anchor_error(pos));
                }
                if tag.is_some() {
                    return Err(tag_error(pos));
                }
                let mut entries: Vec<(Node, Node)> = Vec::new();
                loop {
                    let (event, key_pos) = self.next()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(event, key_pos, depth + 1)?;
                    let key_text = match &key.kind {
                        NodeKind::Scalar { value, .. } => value.clone(),
                        _ => {
                            return Err(YamlError::new(
                                key.pos,
                                "a key must be a plain word",
                                "write `name: value`",
                            ))
                        }
                    };
                    if let Some((first, _)) =
                        entries.iter().find(|(k, _)| k.scalar() == Some(&key_text))
                    {
                        return Err(YamlError::new(
                            key.pos,
                            format!(
                                "key `{key_text}` appears twice (first at line {})",
                                first.pos.line
                            ),
                            "keep one of them",
                        ));
                    }
                    let (event, value_pos) = self.next()?;
                    let value = self.node(event, value_pos, depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Node {
                    pos,
                    kind: NodeKind::Map(entries),
                })
            }
            Event::Alias(_) => Err(anchor_error(pos)),
            _ => Err(YamlError::new(
                pos,
                "unexpected YAML content",
                "write a mapping, a list or a value here",
            )),
        }
    }
}

fn anchor_error(pos: Pos) -> YamlError {
    YamlError::new(
        pos,
        "YAML anchors and aliases (`&name`, `*name`) are not supported in a profile",
        "write the value out in full",
    )
}

fn tag_error(pos: Pos) -> YamlError {
    YamlError::new(
        pos,
        "YAML tags are not supported in a profile",
        "remove the tag",
    )
}

impl Node {
    pub fn scalar(&self) -> Option<&String> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The value at `path` (mapping keys or sequence indexes), if present.
    pub fn get(&self, path: &[&str]) -> Option<&Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let child = match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar().map(String::as_str) == Some(*first))
                .map(|(_, v)| v),
            NodeKind::Seq(items) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
            NodeKind::Scalar { .. } => None,
        }?;
        child.get(rest)
    }

    /// The position of the value at `path`, or of the deepest part of it that exists.
    pub fn pos_of(&self, path: &[&str]) -> Pos {
        let mut node = self;
        for part in path {
            match node.get(&[part]) {
                Some(child) => node = child,
                None => break,
            }
        }
        node.pos
    }

    /// The position of the key `path.last()` itself (for "remove this key" messages).
    pub fn key_pos_of(&self, path: &[&str]) -> Pos {
        let Some((last, parent)) = path.split_last() else {
            return self.pos;
        };
        match self.get(parent).map(|n| &n.kind) {
            Some(NodeKind::Map(entries)) => entries
                .iter()
                .find(|(k, _)| k.scalar().map(String::as_str) == Some(*last))
                .map(|(k, _)| k.pos)
                .unwrap_or_else(|| self.pos_of(parent)),
            _ => self.pos_of(path),
        }
    }

    fn unexpected(&self) -> de::Unexpected<'_> {
        match &self.kind {
            NodeKind::Scalar { value, plain } => match (plain, resolve_plain(value)) {
                (true, Plain::Null) => de::Unexpected::Other("an empty value (null)"),
                (true, Plain::Bool(b)) => de::Unexpected::Bool(b),
                (true, Plain::Int(i)) => de::Unexpected::Signed(i),
                (true, Plain::Float(f)) => de::Unexpected::Float(f),
                _ => de::Unexpected::Str(value),
            },
            NodeKind::Seq(_) => de::Unexpected::Other("a list"),
            NodeKind::Map(_) => de::Unexpected::Other("a mapping"),
        }
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

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = YamlError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match &self.kind {
            NodeKind::Scalar { value, plain: true } => match resolve_plain(value) {
                Plain::Null => visitor.visit_unit(),
                Plain::Bool(b) => visitor.visit_bool(b),
                Plain::Int(i) => visitor.visit_i64(i),
                Plain::UInt(u) => visitor.visit_u64(u),
                Plain::Float(f) => visitor.visit_f64(f),
                Plain::Str => visitor.visit_str(value),
            },
            NodeKind::Scalar {
                value,
                plain: false,
            } => visitor.visit_str(value),
            NodeKind::Seq(items) => visitor.visit_seq(Items {
                iter: items.iter().enumerate(),
            }),
            NodeKind::Map(entries) => visitor.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e: YamlError| e.at(self.pos))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let NodeKind::Scalar { value, plain: true } = &self.kind {
            if let Plain::Bool(b) = resolve_plain(value) {
                return visitor.visit_bool(b).map_err(|e: YamlError| e.at(self.pos));
            }
        }
        Err(de::Error::invalid_type(self.unexpected(), &visitor))
            .map_err(|e: YamlError| e.at(self.pos))
    }

    /// Any scalar reads as a string (so `version: 1.31` or `4081.2.0` need no quotes), except
    /// an unquoted empty value or `null`.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.kind {
            NodeKind::Scalar { value, plain }
                if !*plain || !matches!(resolve_plain(value), Plain::Null) =>
            {
                visitor
                    .visit_str(value)
                    .map_err(|e: YamlError| e.at(self.pos))
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor))
                .map_err(|e: YamlError| e.at(self.pos)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.kind {
            NodeKind::Scalar { value, plain: true }
                if matches!(resolve_plain(value), Plain::Null) =>
            {
                visitor.visit_none()
            }
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
        match &self.kind {
            NodeKind::Scalar { value, .. } => {
                let de: de::value::StrDeserializer<'_, YamlError> =
                    value.as_str().into_deserializer();
                visitor
                    .visit_enum(de)
                    .map_err(|e: YamlError| e.at(self.pos))
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor))
                .map_err(|e: YamlError| e.at(self.pos)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.kind {
            NodeKind::Seq(_) => self.deserialize_any(visitor),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor))
                .map_err(|e: YamlError| e.at(self.pos)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.kind {
            NodeKind::Map(_) => self.deserialize_any(visitor),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor))
                .map_err(|e: YamlError| e.at(self.pos)),
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

struct Items<'de> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Node>>,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = YamlError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.iter.next() {
            Some((i, node)) => seed
                .deserialize(node)
                .map(Some)
                .map_err(|e: YamlError| e.at(node.pos).in_key(&i.to_string())),
            None => Ok(None),
        }
    }
}

struct Entries<'de> {
    iter: std::slice::Iter<'de, (Node, Node)>,
    value: Option<(&'de str, &'de Node)>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = YamlError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.iter.next() {
            Some((key, value)) => {
                let name = key.scalar().map(String::as_str).unwrap_or_default();
                self.value = Some((name, value));
                seed.deserialize(key)
                    .map(Some)
                    .map_err(|e: YamlError| e.at(key.pos))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some((name, node)) => seed
                .deserialize(node)
                .map_err(|e: YamlError| e.at(node.pos).in_key(name)),
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
