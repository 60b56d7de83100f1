#!/usr/bin/env bash
# Installs shellcheck (Debian package); the generator's tests lint the generated deploy.sh.
set -euo pipefail
if command -v shellcheck >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q shellcheck </dev/null
