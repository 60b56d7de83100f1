//! Handlebars helpers that write a value for its target language. Templates never quote by
//! hand: every `{{...}}` goes through one of these (a unit test enforces it).
//! - `yaml`: a YAML scalar or flow value, plain when unambiguous in YAML 1.1 and 1.2;
//! - `yamlblock`: a whole YAML document in block style, its scalars written as `yaml` writes them;
//! - `hcl`: an HCL string, number, bool or list, with `${`/`%{` escaped;
//! - `sh`: a single-quoted POSIX shell word;
//! - `ini`: a bare word for ansible.cfg (letters, digits, `._/-` only; anything else is an error);
//! - `num`: a number, and nothing else;
//! - `comment`: text for the inside of a `#` comment (control characters become spaces).

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use std::fmt::Write as _;

use serde_json::Value;

/// A YAML representation of `value` that PyYAML (YAML 1.1) and YAML 1.2 read back identically.
pub fn yaml_value(value: &Value) -> String {
    match value {
        Value::String(s) => yaml_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(yaml_value).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", yaml_str(k), yaml_value(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        // null, bool and numbers print the same in JSON and YAML.
        other => other.to_string(),
    }
}

/// A YAML string scalar: plain when it cannot be read as anything but this string.
pub fn yaml_str(s: &str) -> String {
    const YAML11_WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let plain_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !YAML11_WORDS.contains(&s.to_ascii_lowercase().as_str());
    if plain_ok {
        s.to_string()
    } else {
        // A JSON string is a valid YAML double-quoted scalar.
        serde_json::Value::String(s.to_string()).to_string()
    }
}

/// `value` as block-style YAML (maps and non-empty lists on their own lines), every scalar
/// written by [`yaml_str`] or as its JSON number/bool/null, so PyYAML and YAML 1.2 read it back
/// identically.
pub fn yaml_block(value: &Value) -> String {
    let mut out = String::new();
    write_block(&mut out, value, 0);
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => yaml_str(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        other => other.to_string(),
    }
}

fn is_nested(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn write_block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                if is_nested(v) {
                    let _ = writeln!(out, "{pad}{}:", yaml_str(k));
                    let inner = if v.is_array() { indent } else { indent + 2 };
                    write_block(out, v, inner);
                } else {
                    let _ = writeln!(out, "{pad}{}: {}", yaml_str(k), scalar(v));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                if is_nested(item) {
                    // The first line of the item follows the dash; the rest align with it.
                    let mut inner = String::new();
                    write_block(&mut inner, item, indent + 2);
                    let body = inner.trim_start_matches(' ');
                    let _ = write!(out, "{pad}- {body}");
                } else {
                    let _ = writeln!(out, "{pad}- {}", scalar(item));
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

/// An HCL quoted string; template sequences are escaped so Terraform reads the text literally.
pub fn hcl_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An HCL value for a JSON value (strings, numbers, bools, lists and objects).
pub fn hcl_value(value: &Value) -> String {
    match value {
        Value::String(s) => hcl_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(hcl_value).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", hcl_str(k), hcl_value(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        other => other.to_string(),
    }
}

/// A single-quoted shell word: `it's` becomes `'it'\''s'`.
pub fn sh_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn param<'a>(h: &'a Helper<'_>, name: &'static str) -> Result<&'a Value, RenderError> {
    h.param(0)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex(name, 0).into())
}

fn yaml_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&yaml_value(param(h, "yaml")?))?;
    Ok(())
}

fn yaml_block_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&yaml_block(param(h, "yamlblock")?))?;
    Ok(())
}

fn hcl_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&hcl_value(param(h, "hcl")?))?;
    Ok(())
}

fn sh_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    match param(h, "sh")? {
        Value::String(s) => out.write(&sh_word(s))?,
        Value::Number(n) => out.write(&sh_word(&n.to_string()))?,
        other => {
            return Err(
                RenderErrorReason::Other(format!("sh: expected a string, got {other}")).into(),
            )
        }
    }
    Ok(())
}

fn ini_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let text = match param(h, "ini")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(
                RenderErrorReason::Other(format!("ini: expected a word, got {other}")).into(),
            )
        }
    };
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
    {
        return Err(RenderErrorReason::Other(format!("ini: `{text}` is not a safe word")).into());
    }
    out.write(&text)?;
    Ok(())
}

fn num_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    match param(h, "num")? {
        Value::Number(n) => out.write(&n.to_string())?,
        other => {
            return Err(
                RenderErrorReason::Other(format!("num: expected a number, got {other}")).into(),
            )
        }
    }
    Ok(())
}

/// Text safe inside a one-line `#` comment.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn comment_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    match param(h, "comment")? {
        Value::String(s) => out.write(&comment_text(s))?,
        other => out.write(&comment_text(&other.to_string()))?,
    }
    Ok(())
}

/// Registers every escaping helper on `hb`.
pub fn register(hb: &mut Handlebars<'_>) {
    hb.register_helper("yaml", Box::new(yaml_helper));
    hb.register_helper("yamlblock", Box::new(yaml_block_helper));
    hb.register_helper("hcl", Box::new(hcl_helper));
    hb.register_helper("sh", Box::new(sh_helper));
    hb.register_helper("ini", Box::new(ini_helper));
    hb.register_helper("num", Box::new(num_helper));
    hb.register_helper("comment", Box::new(comment_helper));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_yaml_nests_maps_and_lists() {
        let v = json!({"a": {"b": [{"x": 1, "y": "on"}, "z"], "c": {}}, "d": []});
        assert_eq!(
            yaml_block(&v),
            "a:\n  b:\n  - x: 1\n    \"y\": \"on\"\n  - z\n  c: {}\nd: []\n"
        );
    }

    #[test]
    fn yaml_quotes_what_would_change_meaning() {
        assert_eq!(yaml_str("/opt/bin"), "/opt/bin");
        assert_eq!(yaml_str("host_resolvconf"), "host_resolvconf");
        assert_eq!(yaml_str("yes"), "\"yes\"");
        assert_eq!(yaml_str("1.32.5"), "\"1.32.5\"");
        assert_eq!(yaml_str("a: b"), "\"a: b\"");
        assert_eq!(yaml_str(""), "\"\"");
        assert_eq!(yaml_value(&json!({"a": [1, "x y"]})), "{a: [1, \"x y\"]}");
    }

    #[test]
    fn hcl_escapes_templates_and_quotes() {
        assert_eq!(hcl_str("a\"b${x}%{y}$z"), "\"a\\\"b$${x}%%{y}$z\"");
        assert_eq!(hcl_value(&json!(["a", 1, true])), "[\"a\", 1, true]");
    }

    #[test]
    fn sh_quotes_single_quotes() {
        assert_eq!(sh_word("it's"), "'it'\\''s'");
    }
}
