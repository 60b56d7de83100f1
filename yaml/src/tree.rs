//! The tree both readers walk: nodes that remember where they start, scalars kept as written
//! (text, quoted or not, core tag) so each reader resolves them its own way, and mappings as
//! ordered entries with the key's text and position. Building it is `build`'s business.

use crate::Pos;

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null is a reading of a scalar ([`Scalar::is_null`]), not a node of its own: a profile
    /// names the text of `~` in messages, and a key `null:` is still the key `null`.
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A scalar as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// True for quoted and block scalars and for `!!str`: those are always strings.
    pub quoted: bool,
    /// The core-schema tag written on it (`!!str`, `!!int`, ...), if any.
    pub tag: Option<CoreTag>,
}

/// The tags of YAML's core schema a reader may accept on a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreTag {
    Str,
    Null,
    Bool,
    Int,
    Float,
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    /// Whether the key is quoted (or `!!str`): a quoted `"null"` is a name, a plain one is null.
    pub key_quoted: bool,
    pub value: Node,
}

/// What a plain scalar means as null under YAML 1.2's core schema.
pub const NULLS: [&str; 5] = ["", "~", "null", "Null", "NULL"];

impl Scalar {
    /// `~`, `null`, an empty value (unquoted), or anything tagged `!!null`.
    pub fn is_null(&self) -> bool {
        self.tag == Some(CoreTag::Null) || (!self.quoted && NULLS.contains(&self.text.as_str()))
    }
}

impl Node {
    /// Whether the node is a null scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.is_null())
    }

    /// The text of a scalar node.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// The entry under `key` if this node is a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The value at `path` (mapping keys or sequence indexes), if present.
    pub fn get(&self, path: &[&str]) -> Option<&Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let child = match &self.value {
            Value::Map(_) => self.entry(first).map(|e| &e.value),
            Value::Seq(items) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
            Value::Scalar(_) => None,
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
        match self.get(parent) {
            Some(
                node @ Node {
                    value: Value::Map(_),
                    ..
                },
            ) => node
                .entry(last)
                .map(|e| e.key_pos)
                .unwrap_or_else(|| self.pos_of(parent)),
            _ => self.pos_of(path),
        }
    }

    /// How many levels of mappings and lists the node holds (a scalar is 0).
    pub(crate) fn height(&self) -> usize {
        match &self.value {
            Value::Scalar(_) => 0,
            Value::Seq(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            Value::Map(entries) => 1 + entries.iter().map(|e| e.value.height()).max().unwrap_or(0),
        }
    }

    /// Takes this node's count of nodes (a mapping entry counts its key as one) from `budget`;
    /// false, leaving `budget` spent, when it does not fit.
    pub(crate) fn spend(&self, budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match &self.value {
            Value::Scalar(_) => true,
            Value::Seq(items) => items.iter().all(|n| n.spend(budget)),
            Value::Map(entries) => entries.iter().all(|e| {
                if *budget == 0 {
                    return false;
                }
                *budget -= 1;
                e.value.spend(budget)
            }),
        }
    }
}
