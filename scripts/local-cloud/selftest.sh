# shellcheck shell=bash
# The selftest command (`bash scripts/local-cloud.sh selftest`).
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

# Checks a started cloud end to end with curl: password and application-credential tokens,
# PUT /file on the plain Glance, stage + glance-direct import on the import Glance, Glance's
# os_hash_value against our SHA-512, delete, and no image left; then Swift (selftest_swift.py):
# a container made with the Swift API, an EC2 credential, S3 PUT, conditional PUT (412), GET,
# LIST, DELETE with boto3; after `start --compute` also Designate (selftest_dns.py): an A
# recordset created, updated and deleted through the v2 API, each step checked with dig on named.
cmd_selftest() {
  local tmp img sha ctype=(-H 'Content-Type: application/json')
  [ -f "$state/env" ] || die "not started"
  # shellcheck disable=SC1091
  . "$state/env"
  command -v qemu-img >/dev/null || die "qemu-img missing (scripts/setup.d/10-system-tools.sh)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  img="$tmp/t.qcow2"
  head -c 8M /dev/urandom >"$tmp/t.raw"
  qemu-img convert -f raw -O qcow2 "$tmp/t.raw" "$img"
  sha=$(sha512sum "$img" | cut -d' ' -f1)

  token_from() { curl -sf "${ctype[@]}" -D - -o /dev/null -d "$1" "$OS_AUTH_URL/auth/tokens" |
    tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'; }
  local pw appcred
  pw=$(token_from "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$OS_USERNAME\",\"domain\":{\"name\":\"$OS_USER_DOMAIN_NAME\"},\"password\":\"$OS_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"$OS_PROJECT_NAME\",\"domain\":{\"name\":\"$OS_PROJECT_DOMAIN_NAME\"}}}}}")
  [ -n "$pw" ] || die "selftest: password token failed"
  appcred=$(token_from "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":{\"id\":\"$FK_APP_CRED_ID\",\"secret\":\"$FK_APP_CRED_SECRET\"}}}}")
  [ -n "$appcred" ] || die "selftest: application credential token failed"
  echo "selftest: password and application-credential tokens issued" >&2

  local url id
  field() { "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
  for url in "$FK_GLANCE_PLAIN_URL" "$FK_GLANCE_URL"; do
    id=$(curl -sf "${ctype[@]}" -H "X-Auth-Token: $appcred" -d '{"name":"fk-selftest","disk_format":"qcow2","container_format":"bare"}' \
      "$url/v2/images" | field id)
    [ -n "$id" ] || die "selftest: image create on $url failed"
    if [ "$url" = "$FK_GLANCE_PLAIN_URL" ]; then
      curl -sf -X PUT -H "X-Auth-Token: $appcred" -H 'Content-Type: application/octet-stream' \
        -H 'Transfer-Encoding: chunked' -T "$img" "$url/v2/images/$id/file" || die "selftest: PUT /file on $url failed"
    else
      curl -sf -X PUT -H "X-Auth-Token: $appcred" -H 'Content-Type: application/octet-stream' \
        -H 'Transfer-Encoding: chunked' -T "$img" "$url/v2/images/$id/stage" || die "selftest: stage on $url failed"
      curl -sf "${ctype[@]}" -H "X-Auth-Token: $appcred" -d '{"method":{"name":"glance-direct"}}' \
        "$url/v2/images/$id/import" || die "selftest: import on $url failed"
    fi
    local status="" hash="" i
    for ((i = 0; i < 100; i++)); do
      status=$(curl -sf -H "X-Auth-Token: $pw" "$url/v2/images/$id" | field status)
      [ "$status" = active ] && break
      sleep 0.1
    done
    [ "$status" = active ] || die "selftest: image $id on $url is '$status', not active"
    hash=$(curl -sf -H "X-Auth-Token: $pw" "$url/v2/images/$id" | field os_hash_value)
    [ "$hash" = "$sha" ] || die "selftest: os_hash_value on $url differs from our SHA-512"
    curl -sf -X DELETE -H "X-Auth-Token: $pw" "$url/v2/images/$id" || die "selftest: delete on $url failed"
    # Only our own image: tests may be using the same cloud at the same time.
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $pw" "$url/v2/images/$id")" = 404 ] ||
      die "selftest: image $id still on $url after delete"
    echo "selftest: $url: upload active, os_hash_value = SHA-512, deleted" >&2
  done
  "$swift_venv/bin/python" "$local_cloud_dir/selftest_swift.py" </dev/null || die "selftest: Swift failed; see $FK_SWIFT_LOG"
  if [ -n "${FK_DESIGNATE_URL:-}" ]; then
    FK_STATE="$state" "$venv/bin/python" "$local_cloud_dir/selftest_dns.py" </dev/null ||
      die "selftest: Designate failed; see $FK_DESIGNATE_LOG and $FK_NAMED_LOG"
  fi
  echo "selftest: ok" >&2
}
