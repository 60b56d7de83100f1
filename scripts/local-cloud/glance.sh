# shellcheck shell=bash
# Glance, twice, each with its own database ($name with - as _) and store under $state/$name:
#   glance        http://127.0.0.1:9292  in the catalog (service type image);
#                 enabled_import_methods = [glance-direct, web-download, copy-image],
#                 import tasks run inside the API process
#   glance-plain  http://127.0.0.1:9293  NOT in the catalog (reach it by endpoint override);
#                 enabled_import_methods = [] so clients must use PUT /v2/images/{id}/file.
# Images made on one port are not seen on the other. Glance validates every token with Keystone
# (no cache), so revoking a token (DELETE /v3/auth/tokens) makes the next Glance call answer 401.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

# write_glance_conf NAME PORT IMPORT_METHODS
write_glance_conf() {
  local name=$1 port=$2 methods=$3 dir="$state/$1"
  mkdir -p "$dir/conf" "$dir/images" "$dir/staging" "$dir/tasks" "$dir/locks"
  cp "$venv/etc/glance/glance-api-paste.ini" "$dir/conf/glance-api-paste.ini"
  render glance-api.conf "$dir/conf/glance-api.conf" \
    "IMPORT_METHODS=$methods" \
    "PORT=$port" \
    "DATABASE_URL=$(db_url "${name//-/_}")" \
    "GLANCE_DIR=$dir" \
    "KEYSTONE_URL=$keystone_url"
}

# glance_db_sync NAME: the schema (logs/NAME-manage.log).
glance_db_sync() {
  "$venv/bin/glance-manage" --config-file "$state/$1/conf/glance-api.conf" db_sync \
    >>"$logs/$1-manage.log" 2>&1
}

# start_glance NAME
start_glance() {
  start_gunicorn "$1" "$(port_of "$1")" glance.wsgi.api:application \
    "OS_GLANCE_CONFIG_DIR=$state/$1/conf"
}

# One authenticated call per Glance: proves keystonemiddleware and the glance service user work.
check_glance_auth() {
  # shellcheck disable=SC1091
  (
    . "$state/env"
    token=$(curl -sf -X POST -H 'Content-Type: application/json' -D - -o /dev/null \
      -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","domain":{"id":"default"},"password":"demo-secret"}}},"scope":{"project":{"name":"demo","domain":{"id":"default"}}}}}' \
      "$OS_AUTH_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
    [ -n "$token" ] || die "demo token could not be issued; see $logs/keystone.log"
    for s in glance glance-plain; do
      code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" \
        "http://127.0.0.1:$(port_of "$s")/v2/images")
      [ "$code" = 200 ] || die "$s answered $code to an authenticated GET /v2/images; see $logs/$s.log"
    done
  )
}
