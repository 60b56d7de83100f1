//! The one error type of the crate: what is wrong in a Butane document, where (YAML path and
//! line:column) and what to do about it.

use std::fmt;

/// A place in the Butane text: 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl From<flatcar_yaml::Pos> for Position {
    fn from(pos: flatcar_yaml::Pos) -> Position {
        Position {
            line: pos.line,
            column: pos.col,
        }
    }
}

/// Why a Butane document could not be turned into Ignition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ButaneError {
    /// The offending value from the document root, e.g. `storage.files[2].contents.inline`
    /// (list indexes count from 0). Empty for the document as a whole and for YAML syntax
    /// errors.
    pub path: String,
    /// Where the offending value (or, for an unknown key, the key) starts. When the value is
    /// missing, where the mapping that should hold it starts.
    pub position: Position,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for ButaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}; {}", self.position, self.message, self.hint)
        } else {
            write!(
                f,
                "{} ({}): {}; {}",
                self.path, self.position, self.message, self.hint
            )
        }
    }
}

/// A problem found before its position is known: checks on the decoded config know the path,
/// and the position is looked up in the YAML tree afterwards (see `yaml::Locate::locate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub path: String,
    pub position: Option<Position>,
    pub message: String,
    pub hint: String,
}

impl Problem {
    pub fn new(path: &str, message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            path: path.to_string(),
            position: None,
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn at(mut self, position: impl Into<Position>) -> Problem {
        self.position = Some(position.into());
        self
    }
}

pub(crate) type Result<T, E = Problem> = std::result::Result<T, E>;

/// `parent.key`, or `key` at the root.
pub(crate) fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub(crate) fn item(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}
