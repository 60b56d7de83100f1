//! The `timeouts { create = "30m" ... }` block: its schema, its model and Terraform's
//! duration strings.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Attr;
use crate::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Attribute, Block, NestedBlock};
use crate::value::{Type, Value};

/// Name of the block in every resource that has one.
pub const BLOCK_NAME: &str = "timeouts";

/// A `timeouts` block with the given operations and their defaults (`("create", "30m")`).
pub fn block(operations: &[(&str, &str)]) -> NestedBlock {
    NestedBlock::single(
        BLOCK_NAME,
        Block {
            description: "How long operations may take, as `30s`, `10m` or `1h30m`.".into(),
            attributes: operations
                .iter()
                .map(|(op, default)| {
                    Attribute::optional(
                        op,
                        Type::String,
                        &format!("Limit for {op}. Default `{default}`."),
                    )
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
    /// The configured limit for `operation`, or `default`.
    pub fn get(&self, operation: &str, default: Duration) -> Duration {
        self.0
            .get(operation)
            .and_then(Attr::as_str)
            .and_then(parse)
            .unwrap_or(default)
    }
}

/// The limit for `operation` from an optional block.
pub fn limit(block: &Attr<Timeouts>, operation: &str, default: Duration) -> Duration {
    block
        .known()
        .map(|t| t.get(operation, default))
        .unwrap_or(default)
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

/// Checks the durations of a configuration's `timeouts` block, at their paths.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    if let Value::Map(ops) = config.get(BLOCK_NAME) {
        for (op, value) in ops {
            if let Some(text) = value.as_str() {
                if parse(text).is_none() {
                    diags.push(
                        Diagnostic::error(
                            "Invalid timeout",
                            format!(
                                "{text:?} is not a duration such as \"30s\", \"10m\" or \"1h30m\"."
                            ),
                        )
                        .at(AttributePath::root(BLOCK_NAME).attribute(op)),
                    );
                }
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse("10"), None);
        assert_eq!(parse("5d"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn invalid_durations_are_reported_at_their_path() {
        let config = Value::object([(
            BLOCK_NAME,
            Value::object([
                ("create", Value::string("5 minutes")),
                ("delete", Value::Null),
            ]),
        )]);
        let diags = validate(&config);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(
            diags.0[0].path,
            Some(AttributePath::root("timeouts").attribute("create"))
        );
        let t = Timeouts(BTreeMap::from([("create".to_string(), Attr::from("2m"))]));
        assert_eq!(t.get("create", Duration::ZERO), Duration::from_secs(120));
        assert_eq!(
            t.get("delete", Duration::from_secs(7)),
            Duration::from_secs(7)
        );
    }
}
