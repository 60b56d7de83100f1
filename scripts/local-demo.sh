#!/usr/bin/env bash
# The main job on a local default: a Flatcar release mirror on 127.0.0.1 (signed by a key made
# for the demo), the provider installed from a filesystem mirror, and `terraform apply`
# resolving and verifying the current stable release. Nothing leaves this machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
work=${FLATCAR_KUBE_DEMO_DIR:-$(mktemp -d)}
echo "demo directory: $work" >&2
cargo build -q -p terraform-provider-flatcar --bins --examples
mkdir -p "$work/mirror-info"
./target/debug/examples/release_mirror "$work/mirror-info" &
mirror_pid=$!
trap 'kill $mirror_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/mirror-info/base_url" ] && break; sleep 0.1; done
[ -s "$work/mirror-info/base_url" ] || { echo "release mirror did not start" >&2; exit 1; }

plugins="$work/plugins/registry.terraform.io/flatcar-kube/flatcar/0.1.0/linux_amd64"
mkdir -p "$plugins" "$work/tf"
cp target/debug/terraform-provider-flatcar "$plugins/terraform-provider-flatcar_v0.1.0"
cat > "$work/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$work/plugins"
    include = ["registry.terraform.io/flatcar-kube/flatcar"]
  }
  direct { exclude = ["registry.terraform.io/flatcar-kube/flatcar"] }
}
TFRC
cat > "$work/tf/main.tf" <<TF
terraform {
  required_providers {
    flatcar = { source = "flatcar-kube/flatcar" }
  }
}

provider "flatcar" {
  release_base_url = "$(cat "$work/mirror-info/base_url")"
  signing_key      = file("\${path.module}/../mirror-info/signing_key.asc")
}

data "flatcar_release" "stable" {
  channel = "stable"
}

output "flatcar_version" { value = data.flatcar_release.stable.version }
output "image_url" { value = data.flatcar_release.stable.image_url }
output "sha512" { value = data.flatcar_release.stable.sha512 }
output "verified_by" { value = data.flatcar_release.stable.verified_fingerprint }
TF
export TF_CLI_CONFIG_FILE="$work/terraform.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
terraform -chdir="$work/tf" init -input=false >/dev/null
terraform -chdir="$work/tf" apply -auto-approve -input=false
