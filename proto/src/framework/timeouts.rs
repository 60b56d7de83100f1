//! The `timeouts { create = "30m" ... }` block: its schema, its model and Terraform's
//! duration strings. Each operation's default is declared once, as an [`Operation`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Attr, Validator};
use crate::schema::{Attribute, Block, NestedBlock};
use crate::value::Type;

/// Name of the block in every resource that has one.
pub const BLOCK_NAME: &str = "timeouts";

/// One operation of a `timeouts` block and its default limit, declared once (a const beside
/// the resource) and read by both the schema ([`block`]) and the code ([`limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub name: &'static str,
    pub default: Duration,
}

impl Operation {
    pub const fn new(name: &'static str, default: Duration) -> Operation {
        Operation { name, default }
    }
}

/// A `timeouts` block with the given operations; the docs state their defaults.
pub fn block(operations: &[Operation]) -> NestedBlock {
    NestedBlock::single(
        BLOCK_NAME,
        Block {
            description: "How long operations may take, as `30s`, `10m` or `1h30m`.".into(),
            attributes: operations
                .iter()
                .map(|op| {
                    Attribute::optional(
                        op.name,
                        Type::String,
                        &format!("Limit for {}. Default `{}`.", op.name, format(op.default)),
                    )
                    .validate(Validator::ParsesAs(
                        "a duration such as `30s`, `10m` or `1h30m`",
                        check,
                    ))
                })
                .collect(),
            ..Block::default()
        },
    )
}

/// The model of a `timeouts` block: operation -> duration string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timeouts(pub BTreeMap<String, Attr<String>>);

impl Timeouts {
    /// The configured limit for `operation`, or its default.
    pub fn get(&self, operation: Operation) -> Duration {
        self.0
            .get(operation.name)
            .and_then(Attr::as_str)
            .and_then(parse)
            .unwrap_or(operation.default)
    }
}

/// The limit for `operation` from an optional block.
pub fn limit(block: &Attr<Timeouts>, operation: Operation) -> Duration {
    block
        .known()
        .map(|t| t.get(operation))
        .unwrap_or(operation.default)
}

/// Terraform's form of a default: whole minutes as `10m`, else seconds.
fn format(d: Duration) -> String {
    match d.as_secs() {
        s if s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn check(text: &str) -> Result<(), String> {
    match parse(text) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{text:?} is not a duration such as \"30s\", \"10m\" or \"1h30m\"."
        )),
    }
}

/// Parses `1h30m`, `10m`, `45s`.
pub fn parse(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    (number.is_empty() && total > 0).then(|| Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::AttributePath;
    use crate::value::Value;

    #[test]
    fn durations() {
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse("10"), None);
        assert_eq!(parse("5d"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn invalid_durations_are_reported_at_their_path_and_defaults_apply() {
        const CREATE: Operation = Operation::new("create", Duration::from_secs(3600));
        const DELETE: Operation = Operation::new("delete", Duration::from_secs(7));
        let schema = Block {
            blocks: vec![block(&[CREATE, DELETE])],
            ..Block::default()
        };
        let mut config = Value::object([(
            BLOCK_NAME,
            Value::object([
                ("create", Value::string("5 minutes")),
                ("delete", Value::Null),
            ]),
        )]);
        let diags = super::super::validators::check(&schema, &mut config);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(
            diags.0[0].path,
            Some(AttributePath::root("timeouts").attribute("create"))
        );
        assert!(diags.0[0].detail.contains("\"10m\""), "{diags:?}");
        let description = &schema.blocks[0].block.attributes[0].description;
        assert!(description.contains("Default `60m`"), "{description}");
        let t = Timeouts(BTreeMap::from([("create".to_string(), Attr::from("2m"))]));
        assert_eq!(t.get(CREATE), Duration::from_secs(120));
        assert_eq!(t.get(DELETE), Duration::from_secs(7));
        assert_eq!(limit(&Attr::Null, CREATE), Duration::from_secs(3600));
    }
}
