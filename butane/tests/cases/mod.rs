//! The table of Butane documents and the exact Ignition JSON or error each one gives, shared by
//! the offline tests (the table itself) and the acceptance tests (every Ignition 3.3.0 output
//! through the real `ignition-validate`).
//!
//! Expected JSON is what Butane writes for the same document (key order, `"compression":""` for
//! inline contents, Go's `\u0026`-style escapes), written by hand from Butane's and Ignition's
//! specs, not copied from this crate's output.

// Each test binary uses its part of the table.
#![allow(dead_code)]

use flatcar_butane::{to_ignition, ButaneError, Options};

pub enum Expect {
    Json(&'static str),
    Error {
        path: &'static str,
        line: usize,
        column: usize,
        message: &'static str,
        /// A part of the hint (the rest lists allowed keys and such).
        hint: &'static str,
    },
}

pub struct Case {
    pub name: &'static str,
    /// Indented for reading; `dedent` strips the indentation, and lines and columns in
    /// expected errors count in the dedented text (line 1 is `variant: flatcar`).
    pub butane: &'static str,
    pub expect: Expect,
}

/// Drops the first line break and the indentation all lines share.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| if l.len() >= indent { &l[indent..] } else { "" })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub const CASES: &[Case] = &[
    Case {
        name: "minimal",
        butane: "
            variant: flatcar
            version: 1.0.0
        ",
        expect: Expect::Json(r#"{"ignition":{"version":"3.3.0"}}"#),
    },
    Case {
        name: "file: inline, octal mode, owner by name and id, overwrite",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/hostname
                  mode: 0644
                  overwrite: true
                  user:
                    name: core
                  group:
                    id: 500
                  contents:
                    inline: node-1
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"group":{"id":500},"overwrite":true,"path":"/etc/hostname","user":{"name":"core"},"contents":{"compression":"","source":"data:,node-1"},"mode":420}]}}"#,
        ),
    },
    Case {
        name: "file: multi-line inline text is percent-encoded",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/motd
                  contents:
                    inline: |
                      Hello, world!
                      a=b&c
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"compression":"","source":"data:,Hello%2C%20world!%0Aa%3Db%26c%0A"}}]}}"#,
        ),
    },
    Case {
        name: "file: remote source with compression, headers and sha512 verification",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /opt/bin/tool
                  mode: 0755
                  contents:
                    source: https://example.com/tool.gz
                    compression: gzip
                    http_headers:
                      - name: Authorization
                        value: Bearer abc
                    verification:
                      hash: sha512-cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e
        ",
        expect: Expect::Json(concat!(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/opt/bin/tool","contents":{"compression":"gzip","httpHeaders":[{"name":"Authorization","value":"Bearer abc"}],"source":"https://example.com/tool.gz","verification":{"hash":"sha512-"#,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            r#""}},"mode":493}]}}"#
        )),
    },
    Case {
        name: "file: append",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/profile.d/extra.sh
                  append:
                    - inline: |
                        export A=1
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/profile.d/extra.sh","append":[{"compression":"","source":"data:,export%20A%3D1%0A"}]}]}}"#,
        ),
    },
    Case {
        name: "directories and links",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              directories:
                - path: /opt/data
                  mode: 0750
                  user:
                    id: 1000
              links:
                - path: /etc/localtime
                  target: /usr/share/zoneinfo/Europe/Berlin
                  overwrite: true
                - path: /opt/data/hostname
                  target: /etc/hostname
                  hard: true
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"directories":[{"path":"/opt/data","user":{"id":1000},"mode":488}],"links":[{"overwrite":true,"path":"/etc/localtime","target":"/usr/share/zoneinfo/Europe/Berlin"},{"path":"/opt/data/hostname","hard":true,"target":"/etc/hostname"}]}}"#,
        ),
    },
    Case {
        name: "systemd units: enabled, drop-in, mask; Go escapes for & and >",
        butane: r#"
            variant: flatcar
            version: 1.0.0
            systemd:
              units:
                - name: hello.service
                  enabled: true
                  contents: |
                    [Unit]
                    Description=Hello
                    [Service]
                    ExecStart=/bin/sh -c "echo a && echo b > /tmp/x"
                    [Install]
                    WantedBy=multi-user.target
                - name: containerd.service
                  dropins:
                    - name: 10-env.conf
                      contents: |
                        [Service]
                        Environment=A=1
                - name: update-engine.service
                  mask: true
        "#,
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"systemd":{"units":[{"contents":"[Unit]\nDescription=Hello\n[Service]\nExecStart=/bin/sh -c \"echo a \u0026\u0026 echo b \u003e /tmp/x\"\n[Install]\nWantedBy=multi-user.target\n","enabled":true,"name":"hello.service"},{"dropins":[{"contents":"[Service]\nEnvironment=A=1\n","name":"10-env.conf"}],"name":"containerd.service"},{"mask":true,"name":"update-engine.service"}]}}"#,
        ),
    },
    Case {
        name: "passwd users and groups",
        butane: r#"
            variant: flatcar
            version: 1.0.0
            passwd:
              users:
                - name: core
                  ssh_authorized_keys:
                    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx core@example
                - name: deploy
                  uid: 1010
                  primary_group: deploy
                  groups: [docker, sudo]
                  home_dir: /home/deploy
                  shell: /bin/bash
                  no_create_home: false
                  system: false
                  password_hash: "$6$rounds=4096$salt$hash"
              groups:
                - name: deploy
                  gid: 1010
        "#,
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"passwd":{"groups":[{"gid":1010,"name":"deploy"}],"users":[{"name":"core","sshAuthorizedKeys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx core@example"]},{"groups":["docker","sudo"],"homeDir":"/home/deploy","name":"deploy","noCreateHome":false,"passwordHash":"$6$rounds=4096$salt$hash","primaryGroup":"deploy","shell":"/bin/bash","system":false,"uid":1010}]}}"#,
        ),
    },
    Case {
        name: "kernel arguments",
        butane: "
            variant: flatcar
            version: 1.0.0
            kernel_arguments:
              should_exist:
                - console=ttyS0,115200n8
                - flatcar.autologin
              should_not_exist:
                - quiet
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"kernelArguments":{"shouldExist":["console=ttyS0,115200n8","flatcar.autologin"],"shouldNotExist":["quiet"]}}"#,
        ),
    },
    Case {
        name: "ignition: merge with sha256 verification, proxy, timeouts",
        butane: "
            variant: flatcar
            version: 1.0.0
            ignition:
              config:
                merge:
                  - source: https://example.com/base.ign
                    verification:
                      hash: sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
              timeouts:
                http_total: 30
              proxy:
                http_proxy: http://proxy.example.com:3128
                no_proxy: [localhost, .internal]
        ",
        expect: Expect::Json(
            r#"{"ignition":{"config":{"merge":[{"source":"https://example.com/base.ign","verification":{"hash":"sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}]},"proxy":{"httpProxy":"http://proxy.example.com:3128","noProxy":["localhost",".internal"]},"timeouts":{"httpTotal":30},"version":"3.3.0"}}"#,
        ),
    },
    Case {
        name: "ignition: replace with an inline config (base64 is shorter)",
        butane: r#"
            variant: flatcar
            version: 1.0.0
            ignition:
              config:
                replace:
                  inline: '{"ignition":{"version":"3.3.0"}}'
        "#,
        expect: Expect::Json(
            r#"{"ignition":{"config":{"replace":{"compression":"","source":"data:;base64,eyJpZ25pdGlvbiI6eyJ2ZXJzaW9uIjoiMy4zLjAifX0="}},"version":"3.3.0"}}"#,
        ),
    },
    Case {
        name: "filesystem with a generated mount unit",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              filesystems:
                - device: /dev/disk/by-label/DATA
                  format: ext4
                  path: /var/lib/data
                  label: DATA
                  with_mount_unit: true
                  mount_options: [noatime]
        ",
        expect: Expect::Json(
            r##"{"ignition":{"version":"3.3.0"},"storage":{"filesystems":[{"device":"/dev/disk/by-label/DATA","format":"ext4","label":"DATA","mountOptions":["noatime"],"path":"/var/lib/data"}]},"systemd":{"units":[{"contents":"# Generated by Butane\n[Unit]\nRequires=systemd-fsck@dev-disk-by\\x2dlabel-DATA.service\nAfter=systemd-fsck@dev-disk-by\\x2dlabel-DATA.service\n\n[Mount]\nWhere=/var/lib/data\nWhat=/dev/disk/by-label/DATA\nType=ext4\nOptions=noatime\n\n[Install]\nRequiredBy=local-fs.target","enabled":true,"name":"var-lib-data.mount"}]}}"##,
        ),
    },
    Case {
        name: "disk with a partition",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              disks:
                - device: /dev/vdb
                  wipe_table: true
                  partitions:
                    - label: data
                      number: 1
                      size_mib: 0
                      start_mib: 0
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"disks":[{"device":"/dev/vdb","partitions":[{"label":"data","number":1,"sizeMiB":0,"startMiB":0}],"wipeTable":true}]}}"#,
        ),
    },
    Case {
        name: "YAML anchors, merge keys, 0o octal and yes",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - &base
                  path: /etc/a
                  mode: 0o600
                  overwrite: yes
                  contents:
                    inline: a
                - <<: *base
                  path: /etc/b
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"overwrite":true,"path":"/etc/a","contents":{"compression":"","source":"data:,a"},"mode":384},{"overwrite":true,"path":"/etc/b","contents":{"compression":"","source":"data:,a"},"mode":384}]}}"#,
        ),
    },
    Case {
        name: "version 1.1.0 gives Ignition 3.4.0",
        butane: "
            variant: flatcar
            version: 1.1.0
            storage:
              luks:
                - name: data
                  device: /dev/vdb
                  discard: true
                  key_file:
                    inline: secret
        ",
        expect: Expect::Json(
            r#"{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"device":"/dev/vdb","discard":true,"keyFile":{"compression":"","source":"data:,secret"},"name":"data"}]}}"#,
        ),
    },
    Case {
        name: "error: unknown key with a near miss",
        butane: "
            variant: flatcar
            version: 1.0.0
            passwd:
              users:
                - name: core
                  ssh_authorised_keys:
                    - ssh-ed25519 AAAA
        ",
        expect: Expect::Error {
            path: "passwd.users[0].ssh_authorised_keys",
            line: 6,
            column: 7,
            message: "unknown key `ssh_authorised_keys`",
            hint: "did you mean `ssh_authorized_keys`?",
        },
    },
    Case {
        name: "error: local contents need a files directory",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/a
                  contents:
                    inline: a
                - path: /etc/b
                - path: /etc/c
                  contents:
                    local: c.txt
        ",
        expect: Expect::Error {
            path: "storage.files[2].contents.local",
            line: 11,
            column: 16,
            message: "`local` reads a file from Butane's files directory, and there is none here",
            hint: "put the text in `inline:`",
        },
    },
    Case {
        name: "error: a quoted mode is a string",
        butane: r#"
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/a
                  mode: "0644"
        "#,
        expect: Expect::Error {
            path: "storage.files[0].mode",
            line: 6,
            column: 13,
            message: "expected a whole number, found the quoted string `0644`",
            hint: "remove the quotes: `0644`",
        },
    },
    Case {
        name: "error: a mode written in decimal",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/a
                  mode: 644
        ",
        expect: Expect::Error {
            path: "storage.files[0].mode",
            line: 6,
            column: 13,
            message: "`mode: 644` is decimal, which is octal 1204",
            hint: "`mode: 0644`",
        },
    },
    Case {
        name: "error: duplicate file paths",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              directories:
                - path: /etc/a
              files:
                - path: /etc/b
                - path: /etc/a
        ",
        expect: Expect::Error {
            path: "storage.files[1]",
            line: 8,
            column: 7,
            message: "the path `/etc/a` is already used at storage.directories[0]",
            hint: "must be unique",
        },
    },
    Case {
        name: "error: duplicate unit names",
        butane: "
            variant: flatcar
            version: 1.0.0
            systemd:
              units:
                - name: a.service
                  mask: true
                - name: a.service
                  enabled: false
        ",
        expect: Expect::Error {
            path: "systemd.units[1]",
            line: 7,
            column: 7,
            message: "the unit name `a.service` is already used at systemd.units[0]",
            hint: "must be unique",
        },
    },
    Case {
        name: "error: relative path",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: etc/hostname
        ",
        expect: Expect::Error {
            path: "storage.files[0].path",
            line: 5,
            column: 13,
            message: "the path `etc/hostname` is not absolute",
            hint: "`/etc/hostname`",
        },
    },
    Case {
        name: "error: unsupported variant",
        butane: "
            variant: fcos
            version: 1.5.0
        ",
        expect: Expect::Error {
            path: "variant",
            line: 1,
            column: 10,
            message: "the variant `fcos` is not supported",
            hint: "only `variant: flatcar` is translated here, with `version:` `1.0.0` (Ignition 3.3.0) or `1.1.0` (Ignition 3.4.0)",
        },
    },
    Case {
        name: "error: unsupported version",
        butane: "
            variant: flatcar
            version: 1.2.0-experimental
        ",
        expect: Expect::Error {
            path: "version",
            line: 2,
            column: 10,
            message: "version `1.2.0-experimental` of the flatcar variant is not supported",
            hint: "use `1.0.0` (Ignition 3.3.0) or `1.1.0` (Ignition 3.4.0)",
        },
    },
    Case {
        name: "error: contents given as a string",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/a
                  contents: hello
        ",
        expect: Expect::Error {
            path: "storage.files[0].contents",
            line: 6,
            column: 17,
            message: "expected a mapping with `inline` or `source`, found `hello`",
            hint: "write `inline: |`",
        },
    },
    Case {
        name: "error: enabled unit without [Install]",
        butane: "
            variant: flatcar
            version: 1.0.0
            systemd:
              units:
                - name: a.service
                  enabled: true
                  contents: |
                    [Service]
                    ExecStart=/bin/true
        ",
        expect: Expect::Error {
            path: "systemd.units[0].contents",
            // A block scalar starts where its text does.
            line: 8,
            column: 9,
            message: "`a.service` is enabled, but has no `[Install]` section, so enabling does nothing",
            hint: "add an `[Install]` section",
        },
    },
    Case {
        name: "error: wrong hash length",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/a
                  contents:
                    source: https://example.com/a
                    verification:
                      hash: sha256-abc
        ",
        expect: Expect::Error {
            path: "storage.files[0].contents.verification.hash",
            line: 9,
            column: 17,
            message: "a sha256 sum is 64 hex digits; this one is 3 characters",
            hint: "sha256sum",
        },
    },
    Case {
        name: "error: YAML syntax",
        butane: "
            variant: flatcar
            version: 1.0.0
            storage:
              files:
                - path: /etc/a
                 mode: 0644
        ",
        expect: Expect::Error {
            path: "",
            line: 6,
            column: 6,
            message: "the text is not valid YAML",
            hint: "fix the YAML syntax",
        },
    },
    Case {
        name: "error: missing variant",
        butane: "
            version: 1.0.0
            storage: {}
        ",
        expect: Expect::Error {
            path: "variant",
            line: 1,
            column: 1,
            message: "`variant` is missing",
            hint: "add `variant: flatcar`",
        },
    },
    Case {
        name: "error: a Container Linux Config is told about variant, not its keys",
        butane: "
            passwd:
              users:
                - name: core
            locksmith:
              reboot_strategy: off
        ",
        expect: Expect::Error {
            path: "variant",
            line: 1,
            column: 1,
            message: "`variant` is missing",
            hint: "Container Linux Configs for `ct` must first be rewritten as Butane",
        },
    },
];

pub fn check(case: &Case) -> Result<(), String> {
    let input = dedent(case.butane);
    let got = to_ignition(&input, &Options::default());
    match (&case.expect, got) {
        (Expect::Json(want), Ok(json)) if json == *want => Ok(()),
        (Expect::Json(want), Ok(json)) => Err(format!("want {want}\n got {json}")),
        (Expect::Json(_), Err(e)) => Err(format!("want JSON, got error: {e}")),
        (Expect::Error { .. }, Ok(json)) => Err(format!("want an error, got {json}")),
        (
            Expect::Error {
                path,
                line,
                column,
                message,
                hint,
            },
            Err(e),
        ) => {
            let ButaneError {
                path: got_path,
                position,
                message: got_message,
                hint: got_hint,
            } = &e;
            let message_ok = if path.is_empty() {
                // YAML syntax errors carry the parser's own wording after ours.
                got_message.starts_with(message)
            } else {
                got_message == message
            };
            if got_path == path
                && (position.line, position.column) == (*line, *column)
                && message_ok
                && got_hint.contains(hint)
            {
                Ok(())
            } else {
                Err(format!(
                    "want {path} ({line}:{column}) {message:?} hint containing {hint:?}\n got {got_path} ({}:{}) {got_message:?} hint {got_hint:?}",
                    position.line, position.column
                ))
            }
        }
    }
}

/// A config with one long, repetitive inline file: what `compress` is for.
pub fn long_inline_file() -> String {
    let text = "a line of a long and repetitive file\n".repeat(100);
    format!(
        "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/long\n      contents:\n        inline: |\n{}",
        text.lines().map(|l| format!("          {l}\n")).collect::<String>()
    )
}

/// `butane` translated with `compress`.
pub fn compressed(butane: &str) -> String {
    to_ignition(
        butane,
        &Options {
            compress: true,
            ..Options::default()
        },
    )
    .unwrap()
}
