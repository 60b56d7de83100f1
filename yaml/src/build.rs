//! Builds the [`Node`] tree from saphyr-parser's events, one document at a time, under a
//! [`Policy`] for what the two readers treat differently: anchors and aliases (a profile refuses
//! them, Butane expands them within a node budget, as saphyr's loader did), merge keys (`<<`),
//! and core tags (a profile accepts only `!!str`, Butane the whole core schema).
//!
//! Both refuse custom tags, bound nesting at [`MAX_DEPTH`] while reading (so hostile input
//! fails before it is built), and find a key written twice. Errors are kinds with a position
//! and the path of keys and indexes to the node; each reader words them.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, StrInput, Tag};

use crate::tree::{CoreTag, Entry, Node, Scalar, Value};
use crate::{Pos, MAX_DEPTH};

/// What a reader accepts beyond plain mappings, lists and scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub anchors: Anchors,
    /// `<<: *base` merges the entries of `base` into the mapping (keys written there win).
    pub merge_keys: bool,
    /// Accept `!!null`, `!!bool`, `!!int` and `!!float` on scalars and core tags on
    /// collections; `!!str` is always accepted.
    pub core_tags: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchors {
    /// An anchor or alias is an error.
    Refuse,
    /// An alias is a copy of its anchor's node; all copies together may hold at most `budget`
    /// nodes, which keeps an alias bomb ("billion laughs") an error.
    Expand { budget: usize },
}

impl Policy {
    /// A profile: no anchors, no merge keys, no tags but `!!str`.
    pub const STRICT: Policy = Policy {
        anchors: Anchors::Refuse,
        merge_keys: false,
        core_tags: false,
    };

    /// Go's yaml.v3 (Butane): aliases, merge keys and core tags; saphyr's loader's budget.
    pub const YAML_V3: Policy = Policy {
        anchors: Anchors::Expand { budget: 100_000 },
        merge_keys: true,
        core_tags: true,
    };
}

/// One step of the path from the document root to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Why the text could not be built into a tree, where, and at which path.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub pos: Pos,
    pub path: Vec<Segment>,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// The parser's own message.
    Syntax(String),
    /// The events stop before the document is complete.
    UnexpectedEnd,
    /// An event that cannot start a node (or a document) here.
    UnexpectedEvent,
    /// Mappings and lists nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An anchor or alias under [`Anchors::Refuse`].
    Anchor,
    /// Aliases would copy more nodes than the budget allows.
    AliasBudget,
    /// A tag the policy does not accept, on a scalar or on a collection.
    Tag { tag: Tag, on_collection: bool },
    /// A list or mapping (or, under `core_tags`, a tagged scalar) used as a key.
    KeyNotScalar,
    /// A key written twice in one mapping (the path ends with it); `same_style` when also
    /// quoted the same way (saphyr's loader found only those).
    DuplicateKey {
        key: String,
        first: Pos,
        same_style: bool,
    },
    /// `<<` followed by something other than a mapping or a list of mappings.
    MergeNotMapping,
}

impl ErrorKind {
    /// Whether the parser found the text is not YAML (rather than YAML this policy refuses).
    pub fn is_syntax(&self) -> bool {
        matches!(self, ErrorKind::Syntax(_))
    }
}

/// Reads events into nodes; [`Builder::next_document`] then [`Builder::root`] per document.
pub struct Builder<'a> {
    parser: Parser<'a, StrInput<'a>>,
    policy: Policy,
    last: Pos,
    path: Vec<Segment>,
    anchors: HashMap<usize, Node>,
    budget: usize,
}

/// How a key was written, for finding one written twice the same way.
struct WrittenKey {
    text: String,
    pos: Pos,
    style: ScalarStyle,
    tag: Option<Tag>,
}

impl<'a> Builder<'a> {
    pub fn new(src: &'a str, policy: Policy) -> Builder<'a> {
        let budget = match policy.anchors {
            Anchors::Refuse => 0,
            Anchors::Expand { budget } => budget,
        };
        Builder {
            parser: Parser::new_from_str(src),
            policy,
            last: Pos { line: 1, col: 1 },
            path: Vec::new(),
            anchors: HashMap::new(),
            budget,
        }
    }

    /// Where the last event read starts (the end of the stream once it is read).
    pub fn last_pos(&self) -> Pos {
        self.last
    }

    fn error(&self, pos: Pos, kind: ErrorKind) -> Error {
        Error {
            pos,
            path: self.path.clone(),
            kind,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Pos), Error> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                let pos = Pos::from_marker(&span.start);
                self.last = pos;
                Ok((event, pos))
            }
            Some(Err(e)) => Err(self.error(
                Pos::from_marker(e.marker()),
                ErrorKind::Syntax(e.info().to_string()),
            )),
            None => Err(self.error(self.last, ErrorKind::UnexpectedEnd)),
        }
    }

    /// Where the next document starts, or `None` at the end of the stream.
    pub fn next_document(&mut self) -> Result<Option<Pos>, Error> {
        loop {
            let (event, pos) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::DocumentStart(_) => return Ok(Some(pos)),
                Event::StreamEnd => return Ok(None),
                _ => return Err(self.error(pos, ErrorKind::UnexpectedEvent)),
            }
        }
    }

    /// The root node of the document [`Builder::next_document`] found.
    pub fn root(&mut self) -> Result<Node, Error> {
        let (event, pos) = self.next()?;
        self.node(event, pos, 0)
    }

    /// Reads the rest of the stream (a reader that stopped at an error may call it too): a
    /// syntax error the parser finds in it, or where the first later document that holds
    /// something starts (a document of only an empty plain scalar holds nothing).
    pub fn rest(&mut self) -> Result<Option<Pos>, Error> {
        let mut extra = None;
        let mut document_started = false;
        loop {
            let (event, pos) = self.next()?;
            if document_started && extra.is_none() {
                let empty = matches!(&event, Event::Scalar(text, ScalarStyle::Plain, 0, None) if text.is_empty());
                if !empty {
                    extra = Some(pos);
                }
            }
            document_started = matches!(event, Event::DocumentStart(_));
            if matches!(event, Event::StreamEnd) {
                return Ok(extra);
            }
        }
    }

    fn node(&mut self, event: Event<'a>, pos: Pos, depth: usize) -> Result<Node, Error> {
        if depth > MAX_DEPTH {
            return Err(self.error(pos, ErrorKind::TooDeep));
        }
        let anchor = match &event {
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _) => *anchor,
            _ => 0,
        };
        // Refused where it is written, before what it names is read.
        if anchor != 0 && self.policy.anchors == Anchors::Refuse {
            return Err(self.error(pos, ErrorKind::Anchor));
        }
        let value = match event {
            Event::Scalar(text, style, _, tag) => {
                Value::Scalar(self.scalar(text.into_owned(), style, tag, pos)?)
            }
            Event::SequenceStart(_, tag) => {
                self.collection_tag(tag, pos)?;
                Value::Seq(self.sequence(depth)?)
            }
            Event::MappingStart(_, tag) => {
                self.collection_tag(tag, pos)?;
                Value::Map(self.mapping(depth)?)
            }
            Event::Alias(id) => return self.alias(id, pos, depth),
            _ => return Err(self.error(pos, ErrorKind::UnexpectedEvent)),
        };
        let node = Node { pos, value };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn scalar(
        &self,
        text: String,
        style: ScalarStyle,
        tag: Option<std::borrow::Cow<'a, Tag>>,
        pos: Pos,
    ) -> Result<Scalar, Error> {
        let tag = match tag {
            None => None,
            Some(tag) => match self.core_tag(&tag) {
                Some(core) => Some(core),
                None => {
                    return Err(self.error(
                        pos,
                        ErrorKind::Tag {
                            tag: tag.into_owned(),
                            on_collection: false,
                        },
                    ))
                }
            },
        };
        let quoted = match tag {
            Some(CoreTag::Str) => true,
            Some(_) => false,
            None => style != ScalarStyle::Plain,
        };
        Ok(Scalar { text, quoted, tag })
    }

    /// The core tag the policy accepts on a scalar.
    fn core_tag(&self, tag: &Tag) -> Option<CoreTag> {
        if !tag.is_yaml_core_schema() {
            return None;
        }
        let core = match tag.suffix.as_str() {
            "str" => return Some(CoreTag::Str),
            "null" => CoreTag::Null,
            "bool" => CoreTag::Bool,
            "int" => CoreTag::Int,
            "float" => CoreTag::Float,
            _ => return None,
        };
        self.policy.core_tags.then_some(core)
    }

    fn collection_tag(
        &self,
        tag: Option<std::borrow::Cow<'a, Tag>>,
        pos: Pos,
    ) -> Result<(), Error> {
        match tag {
            Some(tag) if !(self.policy.core_tags && tag.is_yaml_core_schema()) => Err(self.error(
                pos,
                ErrorKind::Tag {
                    tag: tag.into_owned(),
                    on_collection: true,
                },
            )),
            _ => Ok(()),
        }
    }

    fn alias(&mut self, id: usize, pos: Pos, depth: usize) -> Result<Node, Error> {
        let Anchors::Expand { .. } = self.policy.anchors else {
            return Err(self.error(pos, ErrorKind::Anchor));
        };
        // The parser refuses an alias to an anchor it has not seen.
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(self.error(pos, ErrorKind::UnexpectedEvent));
        };
        if !anchored.spend(&mut self.budget) {
            return Err(self.error(pos, ErrorKind::AliasBudget));
        }
        if depth + anchored.height() > MAX_DEPTH {
            return Err(self.error(pos, ErrorKind::TooDeep));
        }
        // The copy starts where the alias is written, as saphyr's loader placed it.
        let mut node = anchored.clone();
        node.pos = pos;
        Ok(node)
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<Node>, Error> {
        let mut items = Vec::new();
        loop {
            let (event, item_pos) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return Ok(items);
            }
            self.path.push(Segment::Index(items.len()));
            items.push(self.node(event, item_pos, depth + 1)?);
            self.path.pop();
        }
    }

    fn mapping(&mut self, depth: usize) -> Result<Vec<Entry>, Error> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merged: Vec<Entry> = Vec::new();
        let mut written: Vec<WrittenKey> = Vec::new();
        loop {
            let (event, key_pos) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key = self.key(event, key_pos, depth)?;
            self.path.push(Segment::Key(key.text.clone()));
            if let Some(first) = written
                .iter()
                .find(|k| k.text == key.text && k.style == key.style && k.tag == key.tag)
            {
                return Err(self.duplicate(&key, first.pos, true));
            }
            let is_merge = self.policy.merge_keys
                && key.text == "<<"
                && key.style == ScalarStyle::Plain
                && key.tag.is_none();
            if !is_merge {
                if let Some(first) = entries.iter().find(|e| e.key == key.text) {
                    return Err(self.duplicate(&key, first.key_pos, false));
                }
            }
            let (event, value_pos) = self.next()?;
            let value = self.node(event, value_pos, depth + 1)?;
            if is_merge {
                for entry in self.merge_sources(value)? {
                    if !merged.iter().any(|e| e.key == entry.key) {
                        merged.push(entry);
                    }
                }
            } else {
                entries.push(Entry {
                    key: key.text.clone(),
                    key_pos,
                    key_quoted: key.style != ScalarStyle::Plain || key.tag.is_some(),
                    value,
                });
            }
            self.path.pop();
            written.push(key);
        }
        for entry in merged {
            if !entries.iter().any(|e| e.key == entry.key) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    fn duplicate(&self, key: &WrittenKey, first: Pos, same_style: bool) -> Error {
        self.error(
            key.pos,
            ErrorKind::DuplicateKey {
                key: key.text.clone(),
                first,
                same_style,
            },
        )
    }

    /// A key: a scalar (under `core_tags`, untagged or `!!str`); checked as any node is.
    fn key(&mut self, event: Event<'a>, pos: Pos, depth: usize) -> Result<WrittenKey, Error> {
        let written = match &event {
            Event::Scalar(text, style, _, tag) => {
                Some((text.to_string(), *style, tag.as_deref().cloned()))
            }
            _ => None,
        };
        // yaml.v3's reader (saphyr's loader before it) looks at the key before its tags; a
        // profile reads the key as any node first.
        let refused = match (&event, &written) {
            (Event::SequenceStart(..) | Event::MappingStart(..), _) => true,
            (_, Some((_, _, Some(tag)))) => !(tag.is_yaml_core_schema() && tag.suffix == "str"),
            _ => false,
        };
        if self.policy.core_tags && refused {
            return Err(self.error(pos, ErrorKind::KeyNotScalar));
        }
        let node = self.node(event, pos, depth + 1)?;
        match (written, node.value) {
            (Some((text, style, tag)), _) => Ok(WrittenKey {
                text,
                pos,
                style,
                tag,
            }),
            // An alias to a scalar.
            (None, Value::Scalar(s)) => Ok(WrittenKey {
                text: s.text,
                pos,
                style: if s.quoted {
                    ScalarStyle::DoubleQuoted
                } else {
                    ScalarStyle::Plain
                },
                tag: None,
            }),
            (None, _) => Err(self.error(node.pos, ErrorKind::KeyNotScalar)),
        }
    }

    /// The entries `<<` merges in: a mapping, or each mapping of a list, first one first.
    fn merge_sources(&self, source: Node) -> Result<Vec<Entry>, Error> {
        let maps = match source.value {
            Value::Map(m) => vec![m],
            Value::Seq(items) => items
                .into_iter()
                .map(|n| match n.value {
                    Value::Map(m) => Ok(m),
                    _ => Err(self.error(n.pos, ErrorKind::MergeNotMapping)),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(self.error(source.pos, ErrorKind::MergeNotMapping)),
        };
        Ok(maps.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(src: &str, policy: Policy) -> Result<Node, Error> {
        let mut builder = Builder::new(src, policy);
        builder.next_document()?;
        builder.root()
    }

    fn kind(src: &str, policy: Policy) -> ErrorKind {
        match build(src, policy) {
            Err(e) => e.kind,
            Ok(node) => panic!("{src:?} built {node:?}"),
        }
    }

    #[test]
    fn strict_refuses_anchors_tags_and_merge_keys_are_plain_keys() {
        assert_eq!(kind("a: &x 1\nb: *x\n", Policy::STRICT), ErrorKind::Anchor);
        assert_eq!(kind("a: &x !!int 1\n", Policy::STRICT), ErrorKind::Anchor);
        assert_eq!(
            kind("a: &x {b: !!int 1}\n", Policy::STRICT),
            ErrorKind::Anchor
        );
        assert!(matches!(
            kind("a: !!int 1\n", Policy::STRICT),
            ErrorKind::Tag {
                on_collection: false,
                ..
            }
        ));
        assert!(matches!(
            kind("a: !!map {}\n", Policy::STRICT),
            ErrorKind::Tag {
                on_collection: true,
                ..
            }
        ));
        let node = build("a: !!str 1\n'<<': {b: 1}\n", Policy::STRICT).expect("built");
        assert_eq!(node.entry("a").map(|e| e.value.is_null()), Some(false));
        assert!(node.entry("<<").is_some());
    }

    #[test]
    fn yaml_v3_expands_aliases_at_the_alias_and_merges_keys() {
        let node = build(
            "a: &x {k: 1}\nb: *x\nc:\n  <<: *x\n  k: 2\n",
            Policy::YAML_V3,
        )
        .expect("built");
        assert_eq!(node.pos_of(&["b"]), Pos { line: 2, col: 4 });
        assert_eq!(node.pos_of(&["b", "k"]), Pos { line: 1, col: 11 });
        assert_eq!(node.get(&["c", "k"]).and_then(Node::scalar), Some("2"));
        let e = build("a: &x 1\nb:\n  <<: *x\n", Policy::YAML_V3).expect_err("not a mapping");
        assert_eq!(e.kind, ErrorKind::MergeNotMapping);
        assert_eq!(
            e.path,
            [Segment::Key("b".into()), Segment::Key("<<".into())]
        );
    }

    #[test]
    fn an_alias_bomb_is_an_error() {
        let mut bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            let refs = vec![format!("*{prev}"); 10].join(", ");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        assert_eq!(kind(&bomb, Policy::YAML_V3), ErrorKind::AliasBudget);
    }

    #[test]
    fn nesting_is_bounded_while_reading_and_through_aliases() {
        let deep: String = (0..500).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        assert_eq!(kind(&deep, Policy::STRICT), ErrorKind::TooDeep);
        assert_eq!(kind(&deep, Policy::YAML_V3), ErrorKind::TooDeep);
        let levels = MAX_DEPTH - 2;
        let anchored = format!("a: &x {}1{}\n", "[".repeat(levels), "]".repeat(levels));
        assert!(build(&anchored, Policy::YAML_V3).is_ok());
        let e = build(&format!("{anchored}b: [[[*x]]]\n"), Policy::YAML_V3).expect_err("deep");
        assert_eq!(e.kind, ErrorKind::TooDeep);
    }

    #[test]
    fn a_key_twice_is_an_error_quoted_or_not() {
        let e = build("a: 1\na: 2\n", Policy::STRICT).expect_err("twice");
        assert_eq!(e.pos, Pos { line: 2, col: 1 });
        assert!(matches!(
            e.kind,
            ErrorKind::DuplicateKey {
                same_style: true,
                first: Pos { line: 1, col: 1 },
                ..
            }
        ));
        assert!(matches!(
            kind("a: 1\n\"a\": 2\n", Policy::YAML_V3),
            ErrorKind::DuplicateKey {
                same_style: false,
                ..
            }
        ));
        assert_eq!(
            kind("? [a]\n: 1\n", Policy::STRICT),
            ErrorKind::KeyNotScalar
        );
        assert_eq!(
            kind("!!int 1: a\n", Policy::YAML_V3),
            ErrorKind::KeyNotScalar
        );
        assert_eq!(
            kind("? !x [a]\n: 1\n", Policy::YAML_V3),
            ErrorKind::KeyNotScalar
        );
    }
}
