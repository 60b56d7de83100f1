//! Declared attribute validators: what one attribute's value must be (one of a list, not
//! empty, a whole number in a range, something a parser accepts), declared on the schema with
//! [`Attribute::validate`](crate::Attribute::validate) and checked by the framework for every
//! resource, data source and the provider block, at the attribute's exact path (nested blocks
//! included: where [`Element`] says Terraform finds the element). A value that fails is
//! unknown to the checks that run after. Checks that relate two attributes stay in the
//! resource's own `validate`.

use std::fmt;

use super::{Element, StringEnum};
use crate::diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep};
use crate::schema::{Block, Nesting};
use crate::value::Value;

/// What one attribute's known value must be. Null and unknown values are not judged.
#[derive(Clone, Copy)]
pub enum Validator {
    /// A string from this list (case matters).
    OneOf(&'static [&'static str]),
    /// A string with at least one character, or a collection with at least one element.
    NonEmpty,
    /// A whole number from the first to the second, both included.
    Between(i64, i64),
    /// A string `parse` accepts; `what` names it in the docs (e.g. "a CIDR"), the error
    /// says what is wrong and what to write.
    ParsesAs(&'static str, fn(&str) -> Result<(), String>),
    /// A map whose every key `parse` accepts; `what` names what keys may be in the docs.
    KeysParseAs(&'static str, fn(&str) -> Result<(), String>),
}

impl Validator {
    /// The strings of a [`StringEnum`].
    pub fn one_of<E: StringEnum>() -> Validator {
        Validator::OneOf(E::VALUES)
    }

    /// A TCP or UDP port.
    pub const PORT: Validator = Validator::Between(1, 65535);

    /// A whole number of at least `min`.
    pub const fn at_least(min: i64) -> Validator {
        Validator::Between(min, i64::MAX)
    }

    /// Why `value` (known, not null) fails, at `path`; `name` is the attribute for the summary.
    fn check(&self, name: &str, path: &AttributePath, value: &Value) -> Vec<Diagnostic> {
        let invalid = |detail: String| Diagnostic::error(format!("Invalid {name}"), detail);
        let failure = match (self, value) {
            (Validator::OneOf(values), Value::String(s)) if !values.contains(&s.as_str()) => {
                Some(invalid(format!(
                    "{s:?} is not one of {}. Write one of these exactly (case matters).",
                    values.join(", ")
                )))
            }
            (Validator::NonEmpty, Value::String(s)) if s.is_empty() => Some(invalid(format!(
                "`{path}` must not be empty: give it a value (see its description)."
            ))),
            (Validator::NonEmpty, Value::List(items)) if items.is_empty() => {
                Some(invalid(format!("`{path}` must have at least one element.")))
            }
            (Validator::Between(lo, hi), Value::Number(n)) => match n.as_i64() {
                None => Some(invalid(format!(
                    "`{path}`: {} is not a whole number. Write a whole number, e.g. {lo}.",
                    n.as_f64()
                ))),
                Some(i) if i < *lo || i > *hi => Some(invalid(format!(
                    "{i} is not {}. Write a number in that range.",
                    range_text(*lo, *hi)
                ))),
                Some(_) => None,
            },
            (Validator::ParsesAs(_, parse), Value::String(s)) => parse(s).err().map(invalid),
            (Validator::KeysParseAs(_, parse), Value::Map(items)) => {
                return items
                    .keys()
                    .filter_map(|k| parse(k).err().map(|e| (k, e)))
                    .map(|(k, e)| invalid(e).at(path.clone().key(k)))
                    .collect();
            }
            _ => None,
        };
        failure.map(|d| d.at(path.clone())).into_iter().collect()
    }
}

fn range_text(lo: i64, hi: i64) -> String {
    if hi == i64::MAX {
        format!("a whole number of at least {lo}")
    } else {
        format!("a whole number from {lo} to {hi}")
    }
}

/// How the docs state the rule, e.g. "One of `tcp`, `udp`.".
impl fmt::Display for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validator::OneOf(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                write!(f, "One of {}.", quoted.join(", "))
            }
            Validator::NonEmpty => f.write_str("Must not be empty."),
            Validator::Between(lo, hi) => {
                let text = range_text(*lo, *hi);
                write!(f, "{}{}.", text[..1].to_uppercase(), &text[1..])
            }
            Validator::ParsesAs(what, _) => write!(f, "Must be {what}."),
            Validator::KeysParseAs(what, _) => write!(f, "Keys must be {what}."),
        }
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Validator({self})")
    }
}

/// Runs the validators declared on `block`'s attributes (and those of its nested blocks)
/// against `config`. Every value that fails is replaced by unknown in `config`, so checks
/// that run after these (cross-attribute ones, a typed model's decode) do not judge it twice
/// or stumble on it.
pub fn check(block: &Block, config: &mut Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    check_at(block, config, &AttributePath::default(), &mut diags);
    diags
}

/// The attribute names of a path, e.g. `rule.protocol` for `rule[1].protocol`: a summary
/// line names the attribute; the path (with the index) points at the element.
fn label(path: &AttributePath) -> String {
    let names: Vec<&str> = path
        .0
        .iter()
        .filter_map(|step| match step {
            PathStep::Attribute(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    names.join(".")
}

fn check_at(block: &Block, value: &mut Value, path: &AttributePath, diags: &mut Diagnostics) {
    let Value::Map(attrs) = value else {
        return;
    };
    for attr in block.attributes.iter().filter(|a| !a.validators.is_empty()) {
        let Some(v) = attrs.get_mut(&attr.name) else {
            continue;
        };
        if v.is_null() || !v.is_wholly_known() {
            continue;
        }
        let at = path.clone().attribute(&attr.name);
        let label = label(&at);
        let failures: Vec<Diagnostic> = attr
            .validators
            .iter()
            .flat_map(|validator| validator.check(&label, &at, v))
            .collect();
        if !failures.is_empty() {
            *v = Value::Unknown;
            diags.0.extend(failures);
        }
    }
    for nested in &block.blocks {
        let Some(items) = attrs.get_mut(&nested.type_name) else {
            continue;
        };
        let at = path.clone().attribute(&nested.type_name);
        match (nested.nesting, items) {
            (Nesting::List | Nesting::Set, Value::List(list)) => {
                let count = list.len();
                for (index, item) in list.iter_mut().enumerate() {
                    let original = item.clone();
                    let mut found = Diagnostics::default();
                    check_at(
                        &nested.block,
                        item,
                        &at.clone().index(index as i64),
                        &mut found,
                    );
                    let element = Element {
                        block: &nested.type_name,
                        nesting: nested.nesting,
                        index,
                        count,
                        value: &original,
                    };
                    diags
                        .0
                        .extend(found.0.into_iter().map(|d| element.repoint(path, d)));
                }
            }
            (Nesting::Map, Value::Map(map)) => {
                for (key, item) in map.iter_mut() {
                    check_at(&nested.block, item, &at.clone().key(key), diags);
                }
            }
            (Nesting::Single | Nesting::Group, item) => check_at(&nested.block, item, &at, diags),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};
    use crate::value::{Number, Type};

    crate::string_enum!(
        enum Direction {
            #[default]
            Ingress = "ingress",
            Egress = "egress",
        }
    );

    fn even(s: &str) -> Result<(), String> {
        s.len()
            .is_multiple_of(2)
            .then_some(())
            .ok_or_else(|| format!("{s:?} has an odd length; add a character."))
    }

    fn block() -> Block {
        let rule = Block {
            attributes: vec![
                Attribute::optional("direction", Type::String, "d")
                    .validate(Validator::one_of::<Direction>()),
                Attribute::optional("port", Type::Number, "d").validate(Validator::PORT),
            ],
            ..Block::default()
        };
        Block {
            attributes: vec![
                Attribute::required("name", Type::String, "d").validate(Validator::NonEmpty),
                Attribute::optional("code", Type::String, "d")
                    .validate(Validator::ParsesAs("of even length", even)),
                Attribute::optional("labels", Type::map(Type::String), "d")
                    .validate(Validator::KeysParseAs("of even length", even)),
            ],
            blocks: vec![NestedBlock::list("rule", rule, 0)],
            ..Block::default()
        }
    }

    fn rule(direction: Value, port: Value) -> Value {
        Value::object([("direction", direction), ("port", port)])
    }

    #[test]
    fn failures_are_reported_at_their_exact_path_and_become_unknown() {
        let mut config = Value::object([
            ("name", Value::string("")),
            ("code", Value::string("abc")),
            (
                "labels",
                Value::object([("ab", Value::string("1")), ("abc", Value::string("2"))]),
            ),
            (
                "rule",
                Value::List(vec![
                    rule(Value::string("ingress"), Value::Number(Number::Int(22))),
                    rule(Value::string("Egress"), Value::Number(Number::Int(70000))),
                    rule(Value::Unknown, Value::Number(Number::Float(2.5))),
                ]),
            ),
        ]);
        let diags = check(&block(), &mut config);
        let paths: Vec<String> = diags
            .0
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(
            paths,
            [
                "name",
                "code",
                "labels[\"abc\"]",
                "rule[1].direction",
                "rule[1].port",
                "rule[2].port"
            ]
        );
        assert!(diags.0[3].detail.contains("ingress, egress"), "{diags:?}");
        assert_eq!(diags.0[5].summary, "Invalid rule.port");
        assert!(diags.0[5].detail.contains("2.5 is not a whole number"));
        assert_eq!(config.get("name"), &Value::Unknown);
        assert_eq!(config.get("labels"), &Value::Unknown);
        assert_eq!(
            config.get("rule"),
            &Value::List(vec![
                rule(Value::string("ingress"), Value::Number(Number::Int(22))),
                rule(Value::Unknown, Value::Unknown),
                rule(Value::Unknown, Value::Unknown),
            ])
        );
    }

    #[test]
    fn null_and_unknown_values_are_not_judged_and_docs_state_the_rule() {
        let mut config = Value::object([
            ("name", Value::Unknown),
            ("code", Value::Null),
            ("labels", Value::Null),
            ("rule", Value::Null),
        ]);
        assert!(check(&block(), &mut config).is_empty());
        assert_eq!(
            Validator::one_of::<Direction>().to_string(),
            "One of `ingress`, `egress`."
        );
        assert_eq!(
            Validator::PORT.to_string(),
            "A whole number from 1 to 65535."
        );
        assert_eq!(Direction::default().to_string(), "ingress");
        assert_eq!("egress".parse(), Ok(Direction::Egress));
    }
}
