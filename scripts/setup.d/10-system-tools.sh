#!/usr/bin/env bash
# Debian tools the provider tests use: gpg (signs the test release tree), qemu-img (real qcow2
# fixtures), bzip2/gzip (compressed images). Installs only what is missing.
set -euo pipefail
missing=()
command -v gpg >/dev/null || missing+=(gnupg)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v bzip2 >/dev/null || missing+=(bzip2)
command -v gzip >/dev/null || missing+=(gzip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
[ -x /usr/local/bin/terraform ] || { echo "terraform 1.11 is expected at /usr/local/bin/terraform (machine image)" >&2; exit 1; }
