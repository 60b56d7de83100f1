//! flatcar-yaml: the one YAML reader with positions of the project, shared by the profile
//! reader of `flatcar-kube` (`generator/src/profile/yaml.rs`, a serde `Deserializer` over the
//! tree) and the Butane reader of `flatcar-butane` (`butane/src/yaml.rs`, yaml.v3's resolution
//! of scalars and `locate` of a path), so that both report the same `line:col` for the same text
//! and suggest names the same way.
//!
//! - [`tree`]: [`Node`] with its position; scalars as written (text, quoted, core tag), lists,
//!   mappings with each key's text and position;
//! - [`build`]: the [`Builder`] from saphyr-parser's events to that tree under a [`Policy`]
//!   ([`Policy::STRICT`] for a profile, [`Policy::YAML_V3`] for Butane);
//! - [`Pos`]: 1-based line and column (in characters) of a saphyr marker;
//! - [`suggest`]: "did you mean `x`?" for an unknown key or value, then the allowed names;
//! - [`MAX_DEPTH`]: how deep mappings and sequences may nest before a reader refuses.
//!
//! Why one event builder rather than saphyr's loader for both: the loader builds the whole
//! document before anything can be checked, so neither its depth (a profile stops at the 65th
//! level, not after building 10,000) nor an anchor (a profile refuses it where it is written)
//! can be refused on the way, and its duplicate-key check misses `a` and `"a"`. The builder does
//! what the loader did for Butane (aliases copied within the same node budget, a copy placed at
//! its alias) and adds merge keys, so the one difference left is the [`Policy`].

pub mod build;
pub mod tree;

pub use build::{Anchors, Builder, Error, ErrorKind, Policy, Segment};
pub use tree::{CoreTag, Entry, Node, Scalar, Value, NULLS};

use saphyr_parser::Marker;

/// How deep mappings and sequences may nest; real documents need a handful of levels, and the
/// bound keeps hostile input from exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// A position in the source: 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    /// Where a saphyr marker points (saphyr counts lines from 1 and columns from 0).
    pub fn from_marker(marker: &Marker) -> Pos {
        Pos {
            line: marker.line(),
            col: marker.col() + 1,
        }
    }
}

/// How similar (Jaro-Winkler) a name must be to what was written to be suggested.
const MIN_SIMILARITY: f64 = 0.8;

/// "did you mean `x`?" when a candidate is close, followed by the allowed names; `what` names
/// them in the plural ("keys", "values").
pub fn suggest(got: &str, candidates: &[&str], what: &str) -> String {
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(got, c), *c))
        .filter(|(score, _)| *score >= MIN_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let allowed = candidates
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match best {
        Some((_, c)) => format!("did you mean `{c}`? (allowed {what}: {allowed})"),
        None if candidates.is_empty() => format!("remove it; no {what} are allowed here"),
        None => format!("use one of the allowed {what}: {allowed}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestion_picks_the_closest_name() {
        assert!(
            suggest("flavour", &["count", "flavor"], "keys").starts_with("did you mean `flavor`?")
        );
        assert_eq!(
            suggest("zzz", &["count", "flavor"], "keys"),
            "use one of the allowed keys: `count`, `flavor`"
        );
        assert_eq!(
            suggest("x", &[], "keys"),
            "remove it; no keys are allowed here"
        );
    }

    #[test]
    fn positions_count_from_one() {
        let mut parser = saphyr_parser::Parser::new_from_str("a: b\n");
        let (_, span) = parser.next_event().expect("event").expect("ok");
        assert_eq!(Pos::from_marker(&span.start), Pos { line: 1, col: 1 });
    }
}
