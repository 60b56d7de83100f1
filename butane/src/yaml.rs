//! The Butane text as a tree of YAML nodes that remember where they start, with scalars kept as
//! written (text and whether quoted) and resolved on demand the way Butane's Go YAML library
//! (yaml.v3) resolves them for a typed field: `0644` is octal, `yes` is true, a quoted value is
//! always a string.
//!
//! saphyr's loader builds the tree: aliases are expanded within its node budget and a key that
//! appears twice in one mapping is an error. This module adds merge keys (`<<: *anchor`),
//! refuses custom tags, and maps a path like `storage.files[2].mode` back to a position. What
//! the keys mean is `schema`'s business.

use saphyr::{MarkedYaml, ScalarStyle, Tag, YamlData, YamlLoader};
use saphyr_parser::{Marker, Parser, ScanError};

use crate::error::{child, item, Position, Problem, Result};

use flatcar_yaml::MAX_DEPTH;

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Position,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, an empty value, or `!!null`.
    Null,
    /// `quoted` is true for quoted and block scalars and for `!!str`: those are always strings.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Position,
    pub value: Node,
}

/// Parses the one YAML document of a Butane config. An empty text is a null document.
pub fn parse(src: &str) -> Result<Node> {
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    // Keep scalars as written: resolving them is up to the field that reads them (see above).
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(src);
    parser.load(&mut loader, true).map_err(syntax_error)?;
    if let Some(e) = loader.error() {
        return Err(syntax_error(e.clone()));
    }
    let docs = loader.into_documents();
    if let Some(extra) = docs.iter().skip(1).find(|d| !is_empty_document(d)) {
        return Err(Problem::new(
            "",
            "the text holds more than one YAML document",
            "a Butane config is one document; remove the `---` line and what follows it",
        )
        .at(position(&extra.span.start)));
    }
    match docs.first() {
        None => Ok(Node {
            pos: Position { line: 1, column: 1 },
            value: Value::Null,
        }),
        Some(doc) if is_empty_document(doc) => Ok(Node {
            pos: position(&doc.span.start),
            value: Value::Null,
        }),
        Some(doc) => convert(doc, "", 0),
    }
}

/// A document with no content: the loader stands a `BadValue` in for it, or (after `---`) an
/// empty plain scalar.
fn is_empty_document(doc: &MarkedYaml<'_>) -> bool {
    match &doc.data {
        YamlData::BadValue => true,
        YamlData::Representation(text, ScalarStyle::Plain, None) => text.is_empty(),
        _ => false,
    }
}

fn position(marker: &Marker) -> Position {
    let pos = flatcar_yaml::Pos::from_marker(marker);
    Position {
        line: pos.line,
        column: pos.col,
    }
}

fn syntax_error(e: ScanError) -> Problem {
    let (message, hint) = if e.info().contains("duplicated key") {
        (
            "this key appears twice in the same mapping".to_string(),
            "keep one of them",
        )
    } else {
        (
            format!("the text is not valid YAML: {}", e.info()),
            "fix the YAML syntax here (indentation, quoting, `key: value`)",
        )
    };
    Problem::new("", message, hint).at(position(e.marker()))
}

fn convert(node: &MarkedYaml<'_>, path: &str, depth: usize) -> Result<Node> {
    let pos = position(&node.span.start);
    if depth > MAX_DEPTH {
        return Err(Problem::new(
            path,
            format!("mappings and lists nest deeper than {MAX_DEPTH} levels"),
            "a Butane config needs a handful of levels; flatten the document",
        )
        .at(pos));
    }
    let value = match &node.data {
        YamlData::Representation(text, style, tag) => scalar(text, *style, tag.as_deref())
            .map_err(|(message, hint)| Problem::new(path, message, hint).at(pos))?,
        YamlData::Sequence(items) => Value::Seq(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| convert(n, &item(path, i), depth + 1))
                .collect::<Result<_>>()?,
        ),
        YamlData::Mapping(map) => Value::Map(mapping(map, path, depth)?),
        YamlData::Tagged(tag, _) => {
            return Err(Problem::new(
                path,
                format!("the YAML tag `{}` is not supported", tag_text(tag)),
                "remove the tag; Butane fields are plain strings, numbers, booleans, lists and mappings",
            )
            .at(pos))
        }
        // Early parsing is off, so resolved values only appear if saphyr changes; aliases to
        // unknown anchors come back as `BadValue`.
        YamlData::Value(_) | YamlData::Alias(_) | YamlData::BadValue => {
            return Err(Problem::new(
                path,
                "this value could not be read (an alias to an anchor that is not defined before it?)",
                "define the anchor (`&name`) before using the alias (`*name`), or write the value out",
            )
            .at(pos))
        }
    };
    Ok(Node { pos, value })
}

const NULLS: [&str; 5] = ["", "~", "null", "Null", "NULL"];

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> std::result::Result<Value, (String, &'static str)> {
    let plain = style == ScalarStyle::Plain;
    let quoted = match tag {
        None => !plain,
        Some(tag) if tag.is_yaml_core_schema() => match tag.suffix.as_str() {
            "str" => true,
            "null" => return Ok(Value::Null),
            "int" | "bool" | "float" => false,
            other => {
                return Err((
                    format!("the YAML tag `!!{other}` is not supported"),
                    "remove the tag; write the value as a plain or quoted string",
                ))
            }
        },
        Some(tag) => {
            return Err((
                format!("the YAML tag `{}` is not supported", tag_text(tag)),
                "remove the tag; Butane fields are plain strings, numbers, booleans, lists and mappings",
            ))
        }
    };
    if !quoted && NULLS.contains(&text) {
        return Ok(Value::Null);
    }
    Ok(Value::Scalar {
        text: text.to_string(),
        quoted,
    })
}

fn tag_text(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// The entries of a mapping, with `<<` merge keys applied as yaml.v3 does: keys written in the
/// mapping win over merged ones, and among merged mappings the first one wins.
fn mapping(
    map: &saphyr::AnnotatedMapping<'_, MarkedYaml<'_>>,
    path: &str,
    depth: usize,
) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut merged: Vec<Entry> = Vec::new();
    for (key_node, value_node) in map.iter() {
        let key_pos = position(&key_node.span.start);
        let (key, is_merge) = match &key_node.data {
            YamlData::Representation(text, style, None) => (
                text.to_string(),
                *style == ScalarStyle::Plain && text == "<<",
            ),
            YamlData::Representation(text, _, Some(tag))
                if tag.is_yaml_core_schema() && tag.suffix == "str" =>
            {
                (text.to_string(), false)
            }
            _ => return Err(Problem::new(
                path,
                "a mapping key is not a plain word",
                "write keys as plain words like `path:`; lists, mappings and tags cannot be keys",
            )
            .at(key_pos)),
        };
        let key_path = child(path, &key);
        if is_merge {
            let source = convert(value_node, &key_path, depth + 1)?;
            let sources = match source.value {
                Value::Map(m) => vec![m],
                Value::Seq(items) => items
                    .into_iter()
                    .map(|n| match n.value {
                        Value::Map(m) => Ok(m),
                        _ => Err(merge_error(&key_path, n.pos)),
                    })
                    .collect::<Result<_>>()?,
                _ => return Err(merge_error(&key_path, source.pos)),
            };
            for entry in sources.into_iter().flatten() {
                if !merged.iter().any(|e| e.key == entry.key) {
                    merged.push(entry);
                }
            }
            continue;
        }
        // saphyr compares keys by text *and* style, so `a` and `"a"` reach this point.
        if entries.iter().any(|e| e.key == key) {
            return Err(Problem::new(
                &key_path,
                format!("the key `{key}` appears twice in the same mapping"),
                "keep one of them",
            )
            .at(key_pos));
        }
        let value = convert(value_node, &key_path, depth + 1)?;
        entries.push(Entry {
            key,
            key_pos,
            value,
        });
    }
    for entry in merged {
        if !entries.iter().any(|e| e.key == entry.key) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

fn merge_error(path: &str, pos: Position) -> Problem {
    Problem::new(
        path,
        "a merge key (`<<`) needs a mapping or a list of mappings",
        "write `<<: *anchor` where the anchor names a mapping",
    )
    .at(pos)
}

impl Node {
    /// The entry under `key` if this node is a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Where the value at `path` (as built by `error::child` / `error::item`) starts, or, when
    /// part of the path is absent, where its nearest present ancestor starts.
    pub fn locate(&self, path: &str) -> Position {
        let mut node = self;
        for segment in path_segments(path) {
            let next = match segment {
                Segment::Key(key) => node.entry(key).map(|e| &e.value),
                Segment::Index(i) => match &node.value {
                    Value::Seq(items) => items.get(i),
                    _ => None,
                },
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.pos
    }

    /// How the value reads in a message: "a mapping", "the string `abc`", ...
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "nothing (null)".to_string(),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
            Value::Scalar { text, quoted } => {
                let shown: String = if text.chars().count() > 40 {
                    text.chars().take(37).chain("...".chars()).collect()
                } else {
                    text.clone()
                };
                let shown = shown.replace('\n', "\\n");
                if *quoted {
                    format!("the quoted string `{shown}`")
                } else {
                    format!("`{shown}`")
                }
            }
        }
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(Segment::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// A plain scalar as a whole number, as yaml.v3 reads one: `_` separators are dropped, `0x`,
/// `0o` and `0b` prefixes are hexadecimal, octal and binary, and a leading `0` means octal
/// (`0644`), as in YAML 1.1.
pub fn resolve_int(text: &str) -> Option<i64> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let (negative, unsigned) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let prefixed = |p: &[&str]| p.iter().find_map(|p| unsigned.strip_prefix(p));
    let (radix, digits) = if let Some(d) = prefixed(&["0x", "0X"]) {
        (16, d)
    } else if let Some(d) = prefixed(&["0o", "0O"]) {
        (8, d)
    } else if let Some(d) = prefixed(&["0b", "0B"]) {
        (2, d)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from(u64::from_str_radix(digits, radix).ok()?);
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// A plain scalar as a boolean, as yaml.v3 reads one into a bool field (YAML 1.1's `yes`/`no`,
/// `on`/`off`, `y`/`n` included).
pub fn resolve_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_resolve_like_yaml_v3() {
        assert_eq!(resolve_int("420"), Some(420));
        assert_eq!(resolve_int("0644"), Some(0o644));
        assert_eq!(resolve_int("0o755"), Some(0o755));
        assert_eq!(resolve_int("0x1F"), Some(31));
        assert_eq!(resolve_int("0b101"), Some(5));
        assert_eq!(resolve_int("-12"), Some(-12));
        assert_eq!(resolve_int("1_000"), Some(1000));
        assert_eq!(resolve_int("0"), Some(0));
        assert_eq!(resolve_int("0800"), None);
        assert_eq!(resolve_int("1.5"), None);
        assert_eq!(resolve_int("abc"), None);
        assert_eq!(resolve_int("99999999999999999999"), None);
    }

    #[test]
    fn positions_and_paths() {
        let doc = parse("a:\n  b:\n    - x\n    - y: 1\n").unwrap();
        assert_eq!(
            doc.locate("a.b[1].y"),
            Position {
                line: 4,
                column: 10
            }
        );
        assert_eq!(
            doc.locate("a.b[1].missing"),
            Position { line: 4, column: 7 }
        );
        assert_eq!(doc.locate("a.b[0]"), Position { line: 3, column: 7 });
    }

    #[test]
    fn merge_keys_and_quoting() {
        let doc = parse("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: '3'\n").unwrap();
        let c = &doc.entry("c").unwrap().value;
        assert_eq!(
            c.entry("y").unwrap().value.value,
            Value::Scalar {
                text: "3".into(),
                quoted: true
            }
        );
        assert!(c.entry("x").is_some());
    }

    #[test]
    fn one_document() {
        assert!(parse("a: 1\n---\n").is_ok());
        assert!(parse("---\na: 1\n").is_ok());
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.position, Some(Position { line: 3, column: 1 }));
        assert_eq!(parse("# nothing\n").unwrap().value, Value::Null);
    }

    #[test]
    fn duplicate_keys_and_tags_are_errors() {
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.position, Some(Position { line: 2, column: 1 }));
        let e = parse("a: 1\n\"a\": 2\n").unwrap_err();
        assert_eq!(e.path, "a");
        let e = parse("a: !custom 1\n").unwrap_err();
        assert!(e.message.contains("`!custom`"), "{e:?}");
    }
}
