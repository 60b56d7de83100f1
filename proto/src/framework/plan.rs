//! The default plan: what a resource's declared behaviours make of Terraform's proposed new
//! state (defaults, requires-replace, unknown computed values, write-only), so that no
//! resource writes its own plan.

use crate::diagnostics::AttributePath;
use crate::schema::{Block, Nesting};
use crate::value::Value;

/// The planned state and the paths whose change replaces the object.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Plans a create (`prior` null) or an update of an object of `block`.
///
/// 1. Attributes with a default get it where the proposed state has no value.
/// 2. Write-only attributes are planned as null.
/// 3. On update, a changed attribute or block declared `requires_replace` replaces the object.
/// 4. On create or replace, every computed attribute the configuration leaves unset (and
///    that has no default) is unknown, in nested blocks too; on an in-place update only those
///    not declared `use_state_for_unknown` are.
pub fn derive(block: &Block, prior: &Value, proposed: Value, config: &Value) -> DerivedPlan {
    let mut planned = proposed;
    apply_defaults(block, &mut planned);
    let mut requires_replace = Vec::new();
    let fresh = if prior.is_null() {
        true
    } else {
        for attr in block
            .attributes
            .iter()
            .filter(|a| a.behaviour.requires_replace)
        {
            if prior.get(&attr.name) != planned.get(&attr.name) {
                requires_replace.push(AttributePath::root(&attr.name));
            }
        }
        for nested in block.blocks.iter().filter(|b| b.requires_replace) {
            if prior.get(&nested.type_name) != planned.get(&nested.type_name) {
                requires_replace.push(AttributePath::root(&nested.type_name));
            }
        }
        !requires_replace.is_empty()
    };
    if fresh || planned != *prior {
        mark_unknown(block, &mut planned, config, fresh);
    }
    DerivedPlan {
        planned,
        requires_replace,
    }
}

fn apply_defaults(block: &Block, planned: &mut Value) {
    if !matches!(planned, Value::Map(_)) {
        return;
    }
    for attr in &block.attributes {
        if attr.behaviour.write_only {
            planned.set(&attr.name, Value::Null);
        } else if let Some(default) = &attr.behaviour.default {
            if planned.get(&attr.name).is_null() {
                planned.set(&attr.name, default.clone());
            }
        }
    }
    for nested in &block.blocks {
        let mut items = planned.get(&nested.type_name).clone();
        for_each_object(nested.nesting, &mut items, |item, _| {
            apply_defaults(&nested.block, item)
        });
        planned.set(&nested.type_name, items);
    }
}

/// Computed attributes without configuration become unknown; `all` also overrides
/// `use_state_for_unknown` (create and replace have no prior object to keep values of).
fn mark_unknown(block: &Block, planned: &mut Value, config: &Value, all: bool) {
    if !matches!(planned, Value::Map(_)) {
        return;
    }
    for attr in &block.attributes {
        let keep = attr.behaviour.use_state_for_unknown && !all;
        if attr.computed
            && attr.behaviour.default.is_none()
            && !keep
            && config.get(&attr.name).is_null()
        {
            planned.set(&attr.name, Value::Unknown);
        }
    }
    for nested in &block.blocks {
        let mut items = planned.get(&nested.type_name).clone();
        let configured = config.get(&nested.type_name);
        for_each_object(nested.nesting, &mut items, |item, index| {
            let item_config = match (nested.nesting, index) {
                (Nesting::List, Some(i)) => match configured {
                    Value::List(list) => list.get(i).unwrap_or(&Value::Null),
                    _ => &Value::Null,
                },
                _ => configured,
            };
            mark_unknown(&nested.block, item, item_config, all)
        });
        planned.set(&nested.type_name, items);
    }
}

/// Calls `f` on each object of a nested block value (with its index in a list).
fn for_each_object(
    nesting: Nesting,
    items: &mut Value,
    mut f: impl FnMut(&mut Value, Option<usize>),
) {
    match (nesting, items) {
        (Nesting::List | Nesting::Set, Value::List(list)) => {
            for (i, item) in list.iter_mut().enumerate() {
                f(item, Some(i));
            }
        }
        (Nesting::Map, Value::Map(map)) => map.values_mut().for_each(|item| f(item, None)),
        (Nesting::Single | Nesting::Group, item @ Value::Map(_)) => f(item, None),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};
    use crate::value::Type;

    fn block() -> Block {
        let s = Type::String;
        let nested = Block {
            attributes: vec![
                Attribute::optional_computed("uuid", s.clone(), "d").use_state_for_unknown(),
                Attribute::optional("port", s.clone(), "d"),
            ],
            ..Block::default()
        };
        Block {
            attributes: vec![
                Attribute::required("name", s.clone(), "d"),
                Attribute::optional("image", s.clone(), "d").requires_replace(),
                Attribute::optional("channel", s.clone(), "d")
                    .default("stable")
                    .requires_replace(),
                Attribute::computed("id", s.clone(), "d").use_state_for_unknown(),
                Attribute::computed("status", s.clone(), "d"),
                Attribute::optional("secret", s, "d").write_only(),
            ],
            blocks: vec![NestedBlock::list("network", nested, 0).requires_replace()],
            ..Block::default()
        }
    }

    fn network(uuid: Value) -> Value {
        Value::List(vec![Value::object([("uuid", uuid), ("port", Value::Null)])])
    }

    fn object(name: &str, image: &str, id: Value, status: Value, uuid: Value) -> Value {
        Value::object([
            ("name", Value::string(name)),
            ("image", Value::string(image)),
            ("channel", Value::Null),
            ("id", id),
            ("status", status),
            ("secret", Value::Null),
            ("network", network(uuid)),
        ])
    }

    #[test]
    fn create_fills_defaults_and_leaves_computed_values_unknown() {
        let config = object("a", "img", Value::Null, Value::Null, Value::Null);
        let mut proposed = config.clone();
        proposed.set("secret", Value::string("s3cret"));
        let plan = derive(&block(), &Value::Null, proposed, &config);
        assert!(plan.requires_replace.is_empty());
        let p = &plan.planned;
        assert_eq!(p.get("channel"), &Value::string("stable"));
        assert_eq!(p.get("id"), &Value::Unknown);
        assert_eq!(p.get("status"), &Value::Unknown);
        assert_eq!(p.get("secret"), &Value::Null);
        assert_eq!(p.get("network"), &network(Value::Unknown));
    }

    #[test]
    fn in_place_update_keeps_declared_state_and_replace_marks_everything() {
        let known = |s: &str| Value::string(s);
        let mut prior = object("a", "img", known("id-1"), known("ACTIVE"), known("net-1"));
        prior.set("channel", known("stable"));
        let config = object("b", "img", Value::Null, Value::Null, Value::Null);
        let mut proposed = prior.clone();
        proposed.set("name", known("b"));
        let plan = derive(&block(), &prior, proposed.clone(), &config);
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned.get("id"), &known("id-1"));
        assert_eq!(plan.planned.get("status"), &Value::Unknown);
        assert_eq!(plan.planned.get("network"), &network(known("net-1")));

        // No change at all: nothing becomes unknown.
        let plan = derive(&block(), &prior, prior.clone(), &config);
        assert_eq!(plan.planned, prior);

        proposed.set("image", known("img-2"));
        let plan = derive(&block(), &prior, proposed.clone(), &config);
        assert_eq!(plan.requires_replace, vec![AttributePath::root("image")]);
        assert_eq!(plan.planned.get("id"), &Value::Unknown);
        assert_eq!(plan.planned.get("network"), &network(Value::Unknown));

        proposed.set("image", known("img"));
        proposed.set("network", network(known("net-2")));
        let plan = derive(&block(), &prior, proposed, &config);
        assert_eq!(plan.requires_replace, vec![AttributePath::root("network")]);
    }
}
