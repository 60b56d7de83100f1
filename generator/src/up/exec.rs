//! Running Terraform and Kubespray's wrapper for `up`: progress lines, stdout passed through
//! (or captured), stderr echoed with its last lines kept for the error message.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Write};
use std::process::{Command, Stdio};

use super::{UpError, STDERR_TAIL_LINES};

pub fn progress(log: &mut dyn Write, message: &str) {
    let _ = writeln!(log, "flatcar-kube up: {message}");
    let _ = log.flush();
}

/// Whether an environment variable's value must not be shown (`AWS_SECRET_ACCESS_KEY`, ...).
fn is_secret_env(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    ["SECRET", "PASSWORD", "TOKEN"]
        .iter()
        .any(|word| key.contains(word))
}

/// The command as a shell would show it, with the variables it sets (`PLAYBOOK=... deploy.sh`);
/// the values of secret ones are hidden.
pub fn shown(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| {
            let key = k.to_string_lossy();
            let value = if is_secret_env(&key) {
                "(hidden)".into()
            } else {
                v?.to_string_lossy()
            };
            Some(format!("{key}={value}"))
        })
        .collect();
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `cmd` with stdout passed through (or captured) and stderr echoed to ours; on failure
/// the error carries the tail of stderr.
pub fn execute(
    log: &mut dyn Write,
    mut cmd: Command,
    capture_stdout: bool,
) -> Result<String, UpError> {
    let command = shown(&cmd);
    progress(log, &format!("running {command}"));
    cmd.stdin(Stdio::null())
        .stdout(if capture_stdout {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| UpError::Spawn {
        command: command.clone(),
        source,
    })?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = stdout {
            let _ = std::io::Read::read_to_string(&mut out, &mut text);
        }
        text
    });
    let mut tail: VecDeque<String> = VecDeque::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if tail.len() == STDERR_TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
    let status = child.wait().map_err(|source| UpError::Spawn {
        command: command.clone(),
        source,
    })?;
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<String> = tail.into_iter().collect();
        return Err(UpError::Failed {
            command,
            status: status.to_string(),
            code: status.code(),
            hint: String::new(),
            tail: if tail.is_empty() {
                "(nothing on stderr)".to_string()
            } else {
                tail.join("\n")
            },
        });
    }
    Ok(out)
}

pub fn run(log: &mut dyn Write, cmd: Command) -> Result<(), UpError> {
    execute(log, cmd, false).map(|_| ())
}

pub fn capture(log: &mut dyn Write, cmd: Command) -> Result<String, UpError> {
    execute(log, cmd, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_variables_are_not_shown() {
        let mut cmd = std::process::Command::new("terraform");
        cmd.env("AWS_ACCESS_KEY_ID", "AK1")
            .env("AWS_SECRET_ACCESS_KEY", "s3cr3t")
            .arg("plan");
        let shown = super::shown(&cmd);
        assert!(shown.contains("AWS_ACCESS_KEY_ID=AK1"), "{shown}");
        assert!(shown.contains("AWS_SECRET_ACCESS_KEY=(hidden)"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
