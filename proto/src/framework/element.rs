//! Where a diagnostic about one element of a nested block points. A list element has an
//! index Terraform finds in the configuration. A set element has none that helps: Terraform
//! sends a set in its own order (by hash), not in the order of the blocks in the file, so an
//! index would make Terraform quote another block than the one at fault (checked with
//! Terraform 1.x: `rule[1]` quoted the third `rule` block). A diagnostic about an element of
//! a set of several blocks therefore points at the blocks' name and quotes the element's
//! attributes in its detail; with a single block the index is exact.

use crate::diagnostics::{AttributePath, Diagnostic};
use crate::schema::Nesting;
use crate::value::Value;

/// One element of a list- or set-nested block.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    /// The name of the block, e.g. `rule`.
    pub block: &'a str,
    pub nesting: Nesting,
    /// Its position among the `count` elements, in the order Terraform sent them.
    pub index: usize,
    pub count: usize,
    /// Its value (configuration).
    pub value: &'a Value,
}

impl Element<'_> {
    fn addressable(&self) -> bool {
        self.nesting != Nesting::Set || self.count == 1
    }

    /// `diag`, about `attribute` of this element (`None`: the element as a whole), pointed
    /// where Terraform finds it, below `parent` (the path of the block's parent object).
    pub fn point(
        &self,
        parent: &AttributePath,
        attribute: Option<&str>,
        mut diag: Diagnostic,
    ) -> Diagnostic {
        let block = parent.clone().attribute(self.block);
        if self.addressable() {
            let at = block.index(self.index as i64);
            return diag.at(match attribute {
                Some(name) => at.attribute(name),
                None => at,
            });
        }
        diag.detail = format!(
            "In the `{}` block {}: {}",
            self.block,
            literal(self.value),
            diag.detail
        );
        diag.at(block)
    }

    /// Re-points `diag`, made at a path within this element, with [`Self::point`].
    pub(super) fn repoint(&self, parent: &AttributePath, diag: Diagnostic) -> Diagnostic {
        if self.addressable() {
            return diag;
        }
        self.point(parent, None, diag)
    }
}

/// The value as the configuration would write it (null attributes left out).
fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Unknown => "(known after apply)".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_f64().to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(attrs) => {
            let attrs: Vec<String> = attrs
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k} = {}", literal(v)))
                .collect();
            format!("{{ {} }}", attrs.join(", "))
        }
        Value::Dynamic(_, inner) => literal(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;

    #[test]
    fn list_elements_and_lone_set_elements_get_an_index_other_set_elements_a_quote() {
        let value = Value::object([
            ("protocol", Value::string("udp")),
            ("port", Value::Number(Number::Int(70000))),
            ("self", Value::Null),
        ]);
        let element = |nesting, count| Element {
            block: "rule",
            nesting,
            index: 1,
            count,
            value: &value,
        };
        let root = AttributePath::default();
        let diag = || Diagnostic::error("Invalid rule.port", "70000 is too large.");
        let listed = element(Nesting::List, 3).point(&root, Some("port"), diag());
        assert_eq!(
            listed.path.map(|p| p.to_string()).as_deref(),
            Some("rule[1].port")
        );
        let lone = Element {
            index: 0,
            ..element(Nesting::Set, 1)
        };
        let lone = lone.point(&root, None, diag());
        assert_eq!(lone.path.map(|p| p.to_string()).as_deref(), Some("rule[0]"));
        let among = element(Nesting::Set, 3).point(&root, Some("port"), diag());
        assert_eq!(among.path.map(|p| p.to_string()).as_deref(), Some("rule"));
        assert_eq!(
            among.detail,
            "In the `rule` block { port = 70000, protocol = \"udp\" }: 70000 is too large."
        );
    }
}
