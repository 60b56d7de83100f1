#!/usr/bin/env bash
# The main job on a local default: a local cloud (real Keystone, Glance, Nova, Neutron on
# 127.0.0.1) and a Flatcar release mirror signed by a key made for the demo, then
# `flatcar-kube up` of an example profile (generate -> terraform init/apply with this
# provider -> inventory), then the resulting hosts.yaml and the command a real user runs next.
# Nothing leaves this machine. Tear down: the command printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
work=${FLATCAR_KUBE_DEMO_DIR:-$FLATCAR_KUBE_CACHE/demo}
mkdir -p "$work"
echo "==> building the provider, the generator and the release mirror" >&2
cargo build -q --workspace --bins
cargo build -q -p flatcar-testkit --example release_mirror

echo "==> starting the local cloud (about a minute)" >&2
bash scripts/local-cloud.sh start --compute >/dev/null
cloud_env=$(bash scripts/local-cloud.sh env)
# shellcheck disable=SC1090,SC1091
source "$cloud_env"

echo "==> starting the Flatcar release mirror" >&2
rm -rf "$work/mirror-info"
./target/debug/examples/release_mirror "$work/mirror-info" &
mirror_pid=$!
trap 'kill $mirror_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/mirror-info/base_url" ] && break; sleep 0.1; done
[ -s "$work/mirror-info/base_url" ] || { echo "release mirror did not start" >&2; exit 1; }

# The provider from a filesystem mirror, as a user without registry access would install it.
# Its source address is flatcar_cloud::PROVIDER_SOURCE (a test holds this line to it).
provider_source=registry.terraform.io/flatcar-kube/flatcar
plugins="$work/plugins/$provider_source/0.1.0/linux_amd64"
mkdir -p "$plugins"
cp target/debug/terraform-provider-flatcar "$plugins/terraform-provider-flatcar_v0.1.0"
cat > "$work/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$work/plugins"
    include = ["$provider_source"]
  }
  direct { exclude = ["$provider_source"] }
}
TFRC
export TF_CLI_CONFIG_FILE="$work/terraform.tfrc" CHECKPOINT_DISABLE=1

[ -f "$work/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -f "$work/id_ed25519"
cat > "$work/demo.yaml" <<PROFILE
# A 1 control plane + 2 workers cluster on the local cloud.
version: 1
name: demo
cloud:
  region: RegionOne
  auth: password
network:
  name: $FK_NETWORK_NAME
  reuse: true
  external_network: $FK_EXTERNAL_NETWORK
  security_groups: [default]
flatcar:
  channel: stable
  version: current
  mirror_url: $(cat "$work/mirror-info/base_url")
  signing_key_file: $work/mirror-info/signing_key.asc
ssh:
  public_key_file: $work/id_ed25519.pub
pools:
  control_plane:
    count: 1
    flavor: $FK_FLAVOR_SMALL
  workers:
    count: 2
    flavor: $FK_FLAVOR_SMALL
    floating_ip: false
kubernetes:
  openstack_cloud_provider: false
  cinder_csi: false
PROFILE

rm -rf "$work/out"
echo "==> flatcar-kube up $work/demo.yaml" >&2
./target/debug/flatcar-kube up "$work/demo.yaml" -o "$work/out" --terraform /usr/local/bin/terraform
echo
echo "==> $work/out/inventory/hosts.yaml"
cat "$work/out/inventory/hosts.yaml"
echo
echo "Next, on real machines only (Kubernetes cannot run here): the same command with --deploy,"
echo "which fetches Kubespray v2.31.0 and its Ansible into the cache and runs it, or by hand:"
echo "  $work/out/deploy.sh"
# The tear-down must work as printed in a new shell: it brings the local cloud's OS_* variables
# (the env file), the provider mirror (TF_CLI_CONFIG_FILE) and absolute paths, in a subshell
# that leaves the caller's environment alone.
echo "Tear down (from any shell):"
printf '  (cd %q && . %q && TF_CLI_CONFIG_FILE=%q CHECKPOINT_DISABLE=1 ./target/debug/flatcar-kube up %q -o %q --destroy --terraform /usr/local/bin/terraform && FLATCAR_KUBE_CACHE=%q FLATCAR_KUBE_CLOUD_DIR=%q bash scripts/local-cloud.sh stop)\n' \
  "$PWD" "$cloud_env" "$work/terraform.tfrc" "$work/demo.yaml" "$work/out" "$FLATCAR_KUBE_CACHE" "$(dirname "$cloud_env")"
