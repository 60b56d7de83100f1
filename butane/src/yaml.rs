//! Butane's reading of the shared YAML tree (`flatcar_yaml`, built under
//! [`Policy::YAML_V3`]: aliases expanded within a node budget, merge keys (`<<: *anchor`),
//! core tags, custom tags refused, a key written twice an error): the builder's errors worded
//! for Butane, the path `storage.files[2].mode` mapped back to a position, and scalars resolved
//! on demand the way Butane's Go YAML library (yaml.v3) resolves them for a typed field:
//! `0644` is octal, `yes` is true, a quoted value is always a string. What the keys mean is
//! `schema`'s business.

use flatcar_yaml::{Builder, ErrorKind, Policy, Segment as Step, MAX_DEPTH};

use crate::error::{child, item, Position, Problem, Result};

pub use flatcar_yaml::{Node, Scalar, Value};

/// Parses the one YAML document of a Butane config. An empty text is a null document.
pub fn parse(src: &str) -> Result<Node> {
    let mut builder = Builder::new(src, Policy::YAML_V3);
    let root = match builder.next_document().map_err(problem)? {
        None => {
            return Ok(Node {
                pos: flatcar_yaml::Pos { line: 1, col: 1 },
                value: Value::Scalar(Scalar {
                    text: String::new(),
                    quoted: false,
                    tag: None,
                }),
            })
        }
        Some(_) => builder.root(),
    };
    // saphyr's loader, which Butane's reader was built on, read the whole text before checking
    // anything else: what it found (the text is not YAML, a key written twice the same way, an
    // alias bomb) and a second document still come before what is wrong in the tree.
    if let Err(e) = &root {
        if loader_found(&e.kind) {
            return root.map_err(problem);
        }
    }
    if let Some(pos) = builder.rest().map_err(problem)? {
        return Err(Problem::new(
            "",
            "the text holds more than one YAML document",
            "a Butane config is one document; remove the `---` line and what follows it",
        )
        .at(pos));
    }
    root.map_err(problem)
}

fn loader_found(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Syntax(_)
            | ErrorKind::UnexpectedEnd
            | ErrorKind::AliasBudget
            | ErrorKind::DuplicateKey {
                same_style: true,
                ..
            }
    )
}

/// The builder's error in Butane's words, at the path of the node.
fn problem(e: flatcar_yaml::Error) -> Problem {
    let path = e.path.iter().fold(String::new(), |path, step| match step {
        Step::Key(key) => child(&path, key),
        Step::Index(i) => item(&path, *i),
    });
    let syntax = "fix the YAML syntax here (indentation, quoting, `key: value`)";
    let unsupported_tag =
        "remove the tag; Butane fields are plain strings, numbers, booleans, lists and mappings";
    let (path, message, hint) = match e.kind {
        ErrorKind::Syntax(info) => (
            String::new(),
            format!("the text is not valid YAML: {info}"),
            syntax,
        ),
        ErrorKind::UnexpectedEnd => (
            String::new(),
            "the text is not valid YAML: it ends unexpectedly".to_string(),
            syntax,
        ),
        ErrorKind::AliasBudget => (
            String::new(),
            "the text is not valid YAML: alias expansion exceeded the maximum node budget (possible billion-laughs attack)".to_string(),
            syntax,
        ),
        ErrorKind::DuplicateKey {
            same_style: true, ..
        } => (
            String::new(),
            "this key appears twice in the same mapping".to_string(),
            "keep one of them",
        ),
        ErrorKind::DuplicateKey { key, .. } => (
            path,
            format!("the key `{key}` appears twice in the same mapping"),
            "keep one of them",
        ),
        ErrorKind::TooDeep => (
            path,
            format!("mappings and lists nest deeper than {MAX_DEPTH} levels"),
            "a Butane config needs a handful of levels; flatten the document",
        ),
        ErrorKind::Tag {
            tag,
            on_collection: false,
        } if tag.is_yaml_core_schema() => (
            path,
            format!("the YAML tag `!!{}` is not supported", tag.suffix),
            "remove the tag; write the value as a plain or quoted string",
        ),
        ErrorKind::Tag { tag, .. } => (
            path,
            format!("the YAML tag `{}{}` is not supported", tag.handle, tag.suffix),
            unsupported_tag,
        ),
        ErrorKind::KeyNotScalar => (
            path,
            "a mapping key is not a plain word".to_string(),
            "write keys as plain words like `path:`; lists, mappings and tags cannot be keys",
        ),
        ErrorKind::MergeNotMapping => (
            path,
            "a merge key (`<<`) needs a mapping or a list of mappings".to_string(),
            "write `<<: *anchor` where the anchor names a mapping",
        ),
        ErrorKind::UnexpectedEvent | ErrorKind::Anchor => (
            path,
            "this value could not be read (an alias to an anchor that is not defined before it?)".to_string(),
            "define the anchor (`&name`) before using the alias (`*name`), or write the value out",
        ),
    };
    Problem::new(&path, message, hint).at(e.pos)
}

/// What Butane asks of a node beyond the shared tree.
pub trait Locate {
    /// Where the value at `path` (as built by `error::child` / `error::item`) starts, or, when
    /// part of the path is absent, where its nearest present ancestor starts.
    fn locate(&self, path: &str) -> Position;

    /// How the value reads in a message: "a mapping", "the string `abc`", ...
    fn describe(&self) -> String;
}

impl Locate for Node {
    fn locate(&self, path: &str) -> Position {
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
        node.pos.into()
    }

    fn describe(&self) -> String {
        match &self.value {
            _ if self.is_null() => "nothing (null)".to_string(),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
            Value::Scalar(Scalar { text, quoted, .. }) => {
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
            Value::Scalar(Scalar {
                text: "3".into(),
                quoted: true,
                tag: None
            })
        );
        assert!(c.entry("x").is_some());
    }

    #[test]
    fn one_document() {
        assert!(parse("a: 1\n---\n").is_ok());
        assert!(parse("---\na: 1\n").is_ok());
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.position, Some(Position { line: 3, column: 1 }));
        assert!(parse("# nothing\n").unwrap().is_null());
    }

    #[test]
    fn hostile_input_is_an_error() {
        let mut bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for (prev, name) in [
            ("a", "b"),
            ("b", "c"),
            ("c", "d"),
            ("d", "e"),
            ("e", "f"),
            ("f", "g"),
        ] {
            bomb.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        let e = parse(&bomb).unwrap_err();
        assert_eq!(e.path, "");
        assert!(e.message.contains("alias expansion exceeded"), "{e:?}");
        let deep: String = (0..500).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nest deeper than 64 levels"), "{e:?}");
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
