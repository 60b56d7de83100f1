//! Reading YAML nodes into typed values with the path of each: a mapping is checked against the
//! keys its object allows (an unknown key is an error, with "did you mean" for a near miss), a
//! value against the type its field expects. Null and absent are the same thing, as in Butane.
//!
//! What the objects are is `schema`'s business; this module only knows strings, numbers,
//! booleans, lists and mappings.

use crate::error::{child, item, Problem, Result};
use crate::yaml::{resolve_bool, resolve_int, Locate, Node, Scalar, Value};

/// A mapping being read as one Butane object.
pub struct Object<'a> {
    node: &'a Node,
    path: String,
}

impl<'a> Object<'a> {
    /// Reads `node` (at `path`) as an object with the keys `allowed`; `Ok(None)` for null.
    pub fn read(node: &'a Node, path: &str, allowed: &[&str]) -> Result<Option<Object<'a>>> {
        let entries = match &node.value {
            _ if node.is_null() => return Ok(None),
            Value::Map(entries) => entries,
            _ => {
                return Err(Problem::new(
                    path,
                    format!("expected a mapping, found {}", node.describe()),
                    format!(
                        "write indented `key: value` lines here (keys: {})",
                        list_names(allowed)
                    ),
                )
                .at(node.pos))
            }
        };
        for entry in entries {
            if !allowed.contains(&entry.key.as_str()) {
                return Err(Problem::new(
                    &child(path, &entry.key),
                    format!("unknown key `{}`", entry.key),
                    flatcar_yaml::suggest(&entry.key, allowed, "keys"),
                )
                .at(entry.key_pos));
            }
        }
        Ok(Some(Object {
            node,
            path: path.to_string(),
        }))
    }

    /// Reads `node` as an object that must be there: a list item, or a value whose key is
    /// written.
    pub fn item(node: &'a Node, path: &str, allowed: &[&str]) -> Result<Object<'a>> {
        Object::read(node, path, allowed)?.ok_or_else(|| {
            Problem::new(
                path,
                "expected a mapping, found nothing (null)",
                format!(
                    "write indented `key: value` lines here (keys: {})",
                    list_names(allowed)
                ),
            )
            .at(node.pos)
        })
    }

    /// The path of `key` in this object.
    pub fn path_of(&self, key: &str) -> String {
        child(&self.path, key)
    }

    /// The value under `key`, unless absent or null.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node
            .entry(key)
            .map(|e| &e.value)
            .filter(|n| !n.is_null())
    }

    /// Whether `key` is written at all, even as null.
    pub fn has(&self, key: &str) -> bool {
        self.node.entry(key).is_some()
    }

    pub fn string(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
            .map(|n| string(n, &self.path_of(key)))
            .transpose()
    }

    /// A string that Ignition always writes out; absent reads as empty (checks say it is missing).
    pub fn required_string(&self, key: &str) -> Result<String> {
        Ok(self.string(key)?.unwrap_or_default())
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        self.get(key)
            .map(|n| int(n, &self.path_of(key)))
            .transpose()
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.get(key)
            .map(|n| boolean(n, &self.path_of(key)))
            .transpose()
    }

    /// A list of strings; absent reads as empty.
    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        self.list(key, "strings", string)
    }

    /// A list whose items `read` turns into values; absent reads as empty. `what` names the
    /// items in messages ("files", "strings").
    pub fn list<T>(
        &self,
        key: &str,
        what: &str,
        mut read: impl FnMut(&'a Node, &str) -> Result<T>,
    ) -> Result<Vec<T>> {
        let path = self.path_of(key);
        let Some(node) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Seq(items) = &node.value else {
            return Err(Problem::new(
                &path,
                format!("expected a list of {what}, found {}", node.describe()),
                format!("write each item on its own `- ` line under `{key}:`, even if there is only one"),
            )
            .at(node.pos));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let p = item(&path, i);
                if n.is_null() {
                    return Err(Problem::new(
                        &p,
                        "this list item is empty",
                        "fill it in or remove the `-` line",
                    )
                    .at(n.pos));
                }
                read(n, &p)
            })
            .collect()
    }

    /// The object under `key` with the keys `allowed`; `Ok(None)` when absent or null.
    pub fn object(&self, key: &str, allowed: &[&str]) -> Result<Option<Object<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => Object::read(n, &self.path_of(key), allowed),
        }
    }
}

pub fn string(node: &Node, path: &str) -> Result<String> {
    match &node.value {
        Value::Scalar(Scalar { text, .. }) if !node.is_null() => Ok(text.clone()),
        _ => Err(Problem::new(
            path,
            format!("expected a string, found {}", node.describe()),
            "write a single value here; use `|` for text that spans several lines",
        )
        .at(node.pos)),
    }
}

pub fn int(node: &Node, path: &str) -> Result<i64> {
    match &node.value {
        Value::Scalar(Scalar {
            text,
            quoted: false,
            ..
        }) if !node.is_null() => resolve_int(text).ok_or_else(|| {
            let hint = if text.starts_with('0') && text.chars().all(|c| c.is_ascii_digit()) {
                "a leading 0 means octal, where only the digits 0-7 exist; write an octal number like 0644 or a decimal one without the 0"
            } else {
                "write a whole number such as 420, or an octal one such as 0644"
            };
            Problem::new(path, format!("expected a whole number, found {}", node.describe()), hint)
                .at(node.pos)
        }),
        Value::Scalar(Scalar {
            text, quoted: true, ..
        }) if resolve_int(text).is_some() => Err(Problem::new(
            path,
            format!("expected a whole number, found {}", node.describe()),
            format!("remove the quotes: `{text}`"),
        )
        .at(node.pos)),
        _ => Err(Problem::new(
            path,
            format!("expected a whole number, found {}", node.describe()),
            "write a whole number such as 420, or an octal one such as 0644",
        )
        .at(node.pos)),
    }
}

pub fn boolean(node: &Node, path: &str) -> Result<bool> {
    match &node.value {
        Value::Scalar(Scalar {
            text,
            quoted: false,
            ..
        }) if resolve_bool(text).is_some() => Ok(resolve_bool(text).unwrap_or_default()),
        Value::Scalar(Scalar {
            text, quoted: true, ..
        }) if resolve_bool(text).is_some() => Err(Problem::new(
            path,
            format!("expected true or false, found {}", node.describe()),
            format!("remove the quotes: `{text}`"),
        )
        .at(node.pos)),
        _ => Err(Problem::new(
            path,
            format!("expected true or false, found {}", node.describe()),
            "write `true` or `false`",
        )
        .at(node.pos)),
    }
}

fn list_names(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
