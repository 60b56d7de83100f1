//! The `flatcar-kube` command line: parses arguments, calls the library, turns errors into
//! messages and exit codes (0 fine, 1 `--check` found differences, 2 bad input or failure).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use flatcar_kube::starter::{starter, StarterCloud};
use flatcar_kube::{inventory, profile, render};

const AFTER_HELP: &str = "\
The whole flow on Jetstream2 with our provider (kubespray/ cloned beside out/):
  source app-cred-NAME-openrc.sh     # the application credential's OS_* variables
  flatcar-kube init --cloud jetstream2 -o cluster.yaml
  flatcar-kube up cluster.yaml -o out
  out/deploy.sh

Or with Kubespray's own Terraform module:
  flatcar-kube generate cluster.yaml -o out
  cd kubespray/contrib/terraform/openstack
  terraform init && terraform apply -var-file=$OLDPWD/out/kubespray/cluster.tfvars
  terraform show -json | flatcar-kube inventory -o $OLDPWD/out/inventory/hosts.yaml
  cd $OLDPWD && out/deploy.sh

Exit codes: 0 success, 1 `generate --check` found differences, 2 invalid input or failure.";

/// One profile to Kubespray's cluster.tfvars, inventory, group_vars and Ansible wrapper for
/// Kubernetes on Flatcar Container Linux in OpenStack; inventories from any Terraform backend.
#[derive(Parser)]
#[command(name = "flatcar-kube", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a commented starter profile.
    #[command(after_help = "\
Examples:
  flatcar-kube init --cloud jetstream2 > cluster.yaml
  flatcar-kube init --cloud generic -o cluster.yaml")]
    Init {
        /// Which cloud the profile is written for.
        #[arg(long, value_enum, default_value = "jetstream2")]
        cloud: StarterCloud,
        /// Write the profile to FILE instead of stdout (refuses to overwrite).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check a profile and write the deployment files into DIR.
    #[command(after_help = "\
Writes, deterministically (same profile and flavors, same bytes):
  kubespray/cluster.tfvars          for Kubespray's contrib/terraform/openstack; flavor names
                                    become Nova's flavor IDs when OS_* variables (or OS_CLOUD)
                                    are set, else a warning names them (`openstack flavor list`)
  inventory/group_vars/all/         bin_dir: /opt/bin, cloud provider; openstack.yml: Cinder
                                    CSI and its default StorageClass (0600)
  inventory/group_vars/k8s_cluster/ resolvconf_mode, network plugin, kubeconfig into
                                    DIR/artifacts/, certificate renewal, volumes (0600)
  ansible.cfg                       pipelining, ControlPersist, forks sized to the cluster
  deploy.sh                         checks ansible-core, runs Kubespray's cluster.yml

Examples:
  flatcar-kube generate cluster.yaml -o out
  flatcar-kube generate cluster.yaml -o out --check   # exit 1 and a diff if out/ is stale
A generated file changed by hand is never overwritten: generate stops, names it and writes
nothing (DIR/.flatcar-kube-written.json holds what was written); move the change into the
profile (kubespray.extra_vars, flatcar.butane_file) or pass --force.")]
    Generate {
        /// The profile (YAML; see `flatcar-kube schema`).
        profile: PathBuf,
        /// Output directory.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// Write nothing; print a unified diff and exit 1 when the files on disk differ.
        #[arg(long)]
        check: bool,
        /// Overwrite generated files that were changed by hand since the last generate
        /// (without it, such files stop the write and are named).
        #[arg(long, conflicts_with = "check")]
        force: bool,
    },
    /// Generate, then plan, review and apply the machines, write inventory/hosts.yaml, and with
    /// --deploy run Kubespray; later runs change the living cluster safely.
    #[command(after_help = "\
Steps (each printed as it runs; Terraform inherits the environment: OS_*, TF_CLI_CONFIG_FILE):
  0. with --deploy: the Kubespray to run: kubespray.path (or --kubespray), else the release
     kubespray.version cloned into the cache (FLATCAR_KUBE_CACHE, default ~/.cache/flatcar-kube)
     with a virtualenv from its own requirements.txt (both reused later). kubernetes.version
     must be one that Kubespray has checksums for; unset, Kubespray's default is used and
     recorded. Refused here, before any machine is made.
  1. flatcar-kube generate PROFILE -o DIR
  2. terraform -chdir=DIR/terraform init, then the previous outputs machine_images and releases into
     DIR/terraform/machine-images.auto.tfvars.json (running machines keep their image). When
     no CLI config (TF_CLI_CONFIG_FILE, ~/.terraformrc) and no ~/.terraform.d/plugins copy
     provides the provider, the terraform-provider-flatcar beside flatcar-kube (or on PATH)
     is handed to Terraform through DIR/terraform/provider-mirror.tfrc.
  3. terraform plan -out=up.tfplan, and a summary per machine: create / update in place /
     REPLACE / DESTROY / unchanged. Replacing or destroying a control-plane or etcd machine is
     refused unless --allow-disruption; the first control-plane or etcd host always (Kubespray
     cannot remove it; the error says how to by hand). On an existing cluster any change is
     confirmed at the terminal ('yes'), or by --yes; without a terminal and without --yes
     nothing is applied.
  4. with --deploy: Kubespray's remove-node.yml for machines that leave, BEFORE their servers
     are destroyed; unreachable ones (or all, with --ungraceful-removal) again with
     reset_nodes=false allow_ungraceful_removal=true
  5. terraform apply up.tfplan (exactly the plan shown), then DIR/inventory/hosts.yaml (hosts
     in natural order: cp-2 before cp-10)
  6. with --deploy: cluster.yml the first time, then the reboot coordinator (kured); later:
     upgrade-cluster.yml when Kubernetes or Kubespray moved (one minor, one release at a time;
     a skip is refused before anything runs); for etcd members that join or leave, cluster.yml
     and upgrade-cluster.yml --limit=etcd,kube_control_plane -e ignore_assert_errors=yes;
     cluster.yml for new control planes; scale.yml --limit=NEW for new workers; playbooks/
     facts.yml before any --limit. DIR/deployed.json records the machines, the Kubernetes
     version and the Kubespray release and commit; --destroy removes it.
Day 2: a newer flatcar.version, another SSH key or a butane_file reach new machines only;
running machines keep their image and Ignition, and Flatcar updates them itself (kured
reboots one node at a time in updates.reboot_window). Rebuild one machine on purpose with
  terraform -chdir=DIR/terraform apply -replace='module.cluster.flatcar_instance.node[\"NAME\"]'
With --destroy, step 3 is `terraform destroy -auto-approve` and nothing else runs.
The Terraform state stays in DIR/terraform (local backend): keep DIR.
Playbooks run through DIR/deploy.sh (PLAYBOOK=...), which checks ansible-core and OS_*.

Examples:
  source app-cred-mycluster-openrc.sh
  flatcar-kube up cluster.yaml -o out --deploy             # machines and Kubernetes
  flatcar-kube up cluster.yaml -o out --deploy --yes       # the same from a script
  flatcar-kube up cluster.yaml -o out                      # machines only; then out/deploy.sh
  flatcar-kube up cluster.yaml -o out --destroy            # remove servers, floating IPs and images
  flatcar-kube up cluster.yaml -o out --terraform tofu     # OpenTofu")]
    Up {
        /// The profile (YAML; see `flatcar-kube schema`).
        profile: PathBuf,
        /// Output directory (generated files, Terraform state, inventory, deploy record).
        #[arg(short, long, value_name = "DIR", default_value = "out")]
        output: PathBuf,
        /// Destroy what a previous `up` made instead of applying.
        #[arg(long, conflicts_with_all = ["deploy", "allow_disruption"])]
        destroy: bool,
        /// The terraform (or tofu) binary.
        #[arg(long, value_name = "PATH", default_value = "terraform")]
        terraform: PathBuf,
        /// Also run Kubespray: cluster.yml, scale.yml, remove-node.yml, upgrade-cluster.yml as needed.
        #[arg(long)]
        deploy: bool,
        /// Apply changes to an existing cluster without asking (for scripts).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Allow the plan to replace or destroy control-plane and etcd machines.
        #[arg(long)]
        allow_disruption: bool,
        /// Overwrite generated files that were changed by hand (see `generate --force`).
        #[arg(long)]
        force: bool,
        /// Remove leaving machines without reaching them (Kubespray's reset_nodes=false,
        /// allow_ungraceful_removal=true), e.g. when they are dead. Without it, unreachable
        /// machines are removed that way after a graceful attempt fails.
        #[arg(long, requires = "deploy")]
        ungraceful_removal: bool,
        /// The ansible-playbook to run (deploy.sh's ANSIBLE_PLAYBOOK; default: the virtualenv
        /// `up` made for the Kubespray release, else ansible-playbook from PATH).
        #[arg(long, value_name = "PATH")]
        ansible_playbook: Option<PathBuf>,
        /// A Kubespray checkout of your own (deploy.sh's KUBESPRAY_DIR; default: the profile's
        /// kubespray.path, else its kubespray.version fetched into the cache).
        #[arg(long, value_name = "DIR")]
        kubespray: Option<PathBuf>,
    },
    /// Write Kubespray's hosts.yaml from `terraform output -json` or `terraform show -json`.
    #[command(after_help = "\
The input's shape is detected:
  terraform output -json  of our module, whose output `kubespray_inventory` is
                          {\"hosts\": {NAME: {\"groups\": [..], \"ip\": .., \"access_ip\": ..}}}
  terraform show -json    of Kubespray's contrib/terraform/openstack: instances'
                          kubespray_groups and ssh_user metadata, floating-IP associations
Both come from Terraform itself, so any backend (local, S3, HTTP, ...) works.
The control plane's floating IPs become kube_control_plane's
supplementary_addresses_in_ssl_keys (in the API certificate, for kubectl from outside).

Examples:
  terraform output -json | flatcar-kube inventory > out/inventory/hosts.yaml
  terraform show -json > state.json
  flatcar-kube inventory --input state.json -o out/inventory/hosts.yaml")]
    Inventory {
        /// Read from FILE instead of stdin.
        #[arg(short, long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the profile's JSON Schema (for editors: completion and validation).
    #[command(after_help = "\
Example:
  flatcar-kube schema > flatcar-kube.schema.json
  # then, first line of cluster.yaml: # yaml-language-server: $schema=flatcar-kube.schema.json")]
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "{message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Init { cloud, output } => {
            let text = starter(cloud);
            match output {
                Some(path) => {
                    if path.exists() {
                        return Err(format!(
                            "{}: already exists; choose another file or remove it first",
                            path.display()
                        ));
                    }
                    render::write_file(&path, text.as_bytes(), render::PLAIN_MODE)
                        .map_err(|e| e.to_string())?;
                }
                None => print_stdout(text)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            profile,
            output,
            check,
            force,
        } => {
            let files = render::generate_profile(&profile, &env_var, &mut std::io::stderr())
                .map_err(|e| e.to_string())?
                .files;
            if check {
                let diff = render::check_files(&output, &files).map_err(|e| e.to_string())?;
                if diff.is_empty() {
                    return Ok(ExitCode::SUCCESS);
                }
                print_stdout(&diff)?;
                let _ = writeln!(
                    std::io::stderr(),
                    "{}: out of date with {}; run `flatcar-kube generate {} -o {}`",
                    output.display(),
                    profile.display(),
                    profile.display(),
                    output.display()
                );
                return Ok(ExitCode::from(1));
            }
            render::write_files(&output, &files, force).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Inventory { input, output } => {
            let (text, source_name) = match &input {
                Some(path) => (
                    std::fs::read_to_string(path).map_err(|e| {
                        format!("{}: cannot read ({e}); check the path", path.display())
                    })?,
                    path.display().to_string(),
                ),
                None => {
                    let mut text = String::new();
                    std::io::stdin().read_to_string(&mut text).map_err(|e| {
                        format!("stdin: cannot read ({e}); pipe terraform's JSON in")
                    })?;
                    (text, "stdin".to_string())
                }
            };
            let (inv, kind) = inventory::read(&text, &source_name).map_err(|e| e.to_string())?;
            let source = match kind {
                inventory::InputKind::TerraformOutput => "`terraform output -json`",
                inventory::InputKind::TerraformShow => "`terraform show -json`",
            };
            let yaml = inventory::to_hosts_yaml(&inv, source).map_err(|e| e.to_string())?;
            match output {
                Some(path) => render::write_file(&path, yaml.as_bytes(), render::PLAIN_MODE)
                    .map_err(|e| e.to_string())?,
                None => print_stdout(&yaml)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Up {
            profile,
            output,
            destroy,
            terraform,
            deploy,
            yes,
            allow_disruption,
            ungraceful_removal,
            force,
            ansible_playbook,
            kubespray,
        } => {
            let opts = flatcar_kube::up::UpOptions {
                profile,
                output: output.clone(),
                destroy,
                terraform,
                allow_disruption,
                yes,
                deploy,
                ungraceful_removal,
                force,
                ansible_playbook,
                kubespray_dir: kubespray,
            };
            let mut log = std::io::stdout();
            match flatcar_kube::up::up(&opts, &mut TerminalPrompt, &mut log)
                .map_err(|e| format!("flatcar-kube up: {e}"))?
            {
                flatcar_kube::up::UpResult::Applied {
                    hosts_yaml,
                    deployed,
                } => {
                    if !deployed {
                        print_stdout(&flatcar_kube::up::next_steps(&output, &hosts_yaml))?;
                    }
                }
                flatcar_kube::up::UpResult::Destroyed => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print_stdout(&profile::json_schema())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Asks on the terminal; nobody to ask when stdin is not one.
struct TerminalPrompt;

impl flatcar_kube::up::Confirm for TerminalPrompt {
    fn confirm(&mut self, question: &str) -> Option<bool> {
        use std::io::IsTerminal as _;
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let mut err = std::io::stderr();
        let _ = write!(err, "{question}: ");
        let _ = err.flush();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).ok()?;
        Some(answer.trim() == "yes")
    }
}

/// The process environment, as the flavor look-up reads it (`OS_*`, `HOME` for clouds.yaml).
fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

fn print_stdout(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}
