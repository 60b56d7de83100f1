//! flatcar-yaml: what the project's two YAML readers with positions share — the profile
//! reader of `flatcar-kube` (`generator/src/profile/yaml.rs`) and the Butane reader of
//! `flatcar-butane` (`butane/src/yaml.rs`) — so that both report the same `line:col` for the
//! same text and suggest names the same way.
//!
//! - [`Pos`]: 1-based line and column (in characters) of a saphyr marker;
//! - [`suggest`]: "did you mean `x`?" for an unknown key or value, then the allowed names;
//! - [`MAX_DEPTH`]: how deep mappings and sequences may nest before a reader refuses.
//!
//! The trees themselves still differ on purpose: a profile refuses anchors and aliases at the
//! event level, Butane expands them (and merge keys) like Go's yaml.v3.

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
