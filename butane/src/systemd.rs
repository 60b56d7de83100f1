//! What this crate knows of systemd: valid unit and drop-in names, the unit-file syntax
//! Ignition's validator accepts (go-systemd's parser), `systemd-escape --path`, and the mount and
//! swap units Butane writes for `with_mount_unit`.

/// Unit types Ignition accepts in a unit name.
pub const UNIT_TYPES: [&str; 12] = [
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".snapshot",
    ".slice",
    ".scope",
];

/// Whether `name` ends in a unit type (`.service`, `.timer`, ...).
pub fn has_unit_type(name: &str) -> bool {
    UNIT_TYPES
        .iter()
        .any(|t| name.ends_with(t) && name.len() > t.len())
}

/// go-systemd refuses longer lines (systemd would truncate them).
const LINE_MAX: usize = 2048;

/// The options of a unit file, as (section, key).
pub type Options = Vec<(String, String)>;

/// A unit file's syntax error: the 1-based line within the unit text and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// Parses unit-file text the way Ignition's validator does, returning its options.
///
/// Stricter than go-systemd in one way: text before the first `[Section]` is an error here
/// (systemd ignores it, which is never what was meant).
pub fn parse_unit(contents: &str) -> Result<Options, SyntaxError> {
    let mut options = Vec::new();
    let mut section: Option<String> = None;
    let mut continued = false;
    let mut comment_continued = false;
    for (i, raw) in contents.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let error = |message: String| SyntaxError {
            line: line_no,
            message,
        };
        if line.len() >= LINE_MAX {
            return Err(error(format!(
                "the line is {} bytes long; systemd reads at most {}",
                line.len(),
                LINE_MAX - 1
            )));
        }
        let trimmed = line.trim();
        if continued {
            // A value goes on while its lines end in `\`; an empty line ends it.
            continued = !trimmed.is_empty() && line.ends_with('\\');
            continue;
        }
        if comment_continued {
            comment_continued = line.trim_end_matches(' ').ends_with('\\');
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            comment_continued = line.trim_end_matches(' ').ends_with('\\');
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some((name, after)) = rest.split_once(']') else {
                return Err(error(format!("`{trimmed}` has no closing `]`")));
            };
            if !after.trim().is_empty() {
                return Err(error(format!(
                    "`{}` follows the section name `[{name}]`",
                    after.trim()
                )));
            }
            section = Some(name.to_string());
            continue;
        }
        let Some(current) = &section else {
            return Err(error(format!(
                "`{trimmed}` comes before the first `[Section]` line"
            )));
        };
        let Some((key, _)) = line.split_once('=') else {
            return Err(error(format!(
                "`{trimmed}` is neither `Key=value`, a `[Section]` line nor a comment"
            )));
        };
        options.push((current.clone(), key.trim().to_string()));
        continued = line.ends_with('\\');
    }
    Ok(options)
}

/// Whether the options have an `[Install]` section with something in it.
pub fn has_install_section(options: &Options) -> bool {
    options.iter().any(|(section, _)| section == "Install")
}

/// `systemd-escape --path`, as go-systemd writes it: slashes at the ends and repeated slashes
/// dropped, `/` to `-`, and everything outside `[A-Za-z0-9:_.]` (and a leading `.`) as `\xNN`.
pub fn escape_path(path: &str) -> String {
    let mut out = String::new();
    let mut in_slashes = false;
    let mut start = true;
    for b in path.bytes() {
        if b == b'/' {
            in_slashes = true;
            continue;
        }
        if in_slashes {
            in_slashes = false;
            if !start {
                out.push('-');
            }
        }
        if (start && b == b'.') || !(b.is_ascii_alphanumeric() || b":_.".contains(&b)) {
            out.push_str(&format!("\\x{b:x}"));
        } else {
            out.push(char::from(b));
        }
        start = false;
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

/// The unit Butane generates for a filesystem with `with_mount_unit: true`: a `.swap` unit for
/// swap, a `.mount` unit otherwise. Returns (name, contents). `path` is required for a mount.
pub fn mount_unit(
    device: &str,
    format: &str,
    path: &str,
    mount_options: &[String],
) -> (String, String) {
    let options = if mount_options.is_empty() {
        String::new()
    } else {
        format!("\nOptions={}", mount_options.join(","))
    };
    if format == "swap" {
        let name = format!("{}.swap", escape_path(device));
        let contents = format!(
            "# Generated by Butane\n[Swap]\nWhat={device}{options}\n\n[Install]\nRequiredBy=swap.target"
        );
        (name, contents)
    } else {
        let escaped = escape_path(device);
        let name = format!("{}.mount", escape_path(path));
        let contents = format!(
            "# Generated by Butane\n[Unit]\nRequires=systemd-fsck@{escaped}.service\nAfter=systemd-fsck@{escaped}.service\n\n[Mount]\nWhere={path}\nWhat={device}\nType={format}{options}\n\n[Install]\nRequiredBy=local-fs.target"
        );
        (name, contents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_paths_like_systemd_escape() {
        assert_eq!(escape_path("/var/lib/data"), "var-lib-data");
        assert_eq!(
            escape_path("/dev/disk/by-label/DATA"),
            "dev-disk-by\\x2dlabel-DATA"
        );
        assert_eq!(escape_path("/"), "-");
        assert_eq!(escape_path("//a//b/"), "a-b");
        assert_eq!(escape_path("/.hidden"), "\\x2ehidden");
    }

    #[test]
    fn unit_syntax() {
        let ok = parse_unit(
            "# c\n[Unit]\nDescription=x \\\n  continued\n\n[Service]\nExecStart=/bin/true\n; c\n[Install]\nWantedBy=multi-user.target\n",
        )
        .unwrap();
        assert!(has_install_section(&ok));
        assert_eq!(ok.len(), 3);
        assert_eq!(
            parse_unit("[Service]\nExecStart /bin/true\n").unwrap_err(),
            SyntaxError {
                line: 2,
                message:
                    "`ExecStart /bin/true` is neither `Key=value`, a `[Section]` line nor a comment"
                        .into()
            }
        );
        assert_eq!(parse_unit("[Unit\nA=b").unwrap_err().line, 1);
        assert_eq!(parse_unit("A=b\n[Unit]").unwrap_err().line, 1);
        assert!(!has_install_section(
            &parse_unit("[Service]\nType=oneshot").unwrap()
        ));
    }

    #[test]
    fn unit_names() {
        assert!(has_unit_type("a.service"));
        assert!(has_unit_type("var-lib.mount"));
        assert!(!has_unit_type("a.conf"));
        assert!(!has_unit_type(".service"));
    }
}
