#!/usr/bin/env bash
# Installs ignition-validate (Debian's `ignition` package, Ignition 2.14: specs 3.0-3.3); the
# butane crate's tests check every Ignition config it produces with it.
set -euo pipefail
if command -v ignition-validate >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ignition </dev/null
