//! The `timeouts` block (`create`, `delete`, ...) with Terraform's duration strings.

use std::time::Duration;

use tfplugin::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Nesting, Type, Value,
};

/// A `timeouts { ... }` block with the given operations and their defaults.
pub fn block(operations: &[(&str, &str)]) -> NestedBlock {
    NestedBlock {
        type_name: "timeouts".into(),
        block: Block {
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
        nesting: Nesting::Single,
        min_items: 0,
        max_items: 0,
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

/// The configured limit for `operation`, or `default`.
pub fn get(config: &Value, operation: &str, default: Duration) -> Duration {
    config
        .get("timeouts")
        .get(operation)
        .as_str()
        .and_then(parse)
        .unwrap_or(default)
}

pub fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Value::Map(ops) = config.get("timeouts") {
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
                        .at(AttributePath::root("timeouts").attribute(op)),
                    );
                }
            }
        }
    }
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
}
