# shellcheck shell=bash
# Nova (start --compute): the API http://127.0.0.1:8774/v2.1 (gunicorn, nova.wsgi.osapi_compute)
# and nova-conductor, nova-scheduler and nova-compute with fake.FakeDriver on host fk-compute
# (1000 vCPU, 800000 MB, no overcommit); their configuration and schemas (API, cell0, cell1).
# Log: logs/nova.log for all four processes (and nova-manage.log).
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

write_nova_conf() {
  mkdir -p "$state/nova/instances" "$state/nova/locks"
  cp "$venv/etc/nova/api-paste.ini" "$state/nova/api-paste.ini"
  render nova.conf "$state/nova/nova.conf" \
    "COMPUTE_HOST=$compute_host" \
    "NOVA_DIR=$state/nova" \
    "TRANSPORT_URL=$(rabbit_url)" \
    "API_DATABASE_URL=$(db_url nova_api)" \
    "DATABASE_URL=$(db_url nova)" \
    "KEYSTONE_URL=$keystone_url"
  install_wsgi nova
}

# The API database, cell0 and cell1, the cell database.
nova_db_sync() {
  local nm=("$venv/bin/nova-manage" --config-file "$state/nova/nova.conf")
  {
    "${nm[@]}" api_db sync &&
      "${nm[@]}" cell_v2 map_cell0 --database_connection "$(db_url nova_cell0)" &&
      "${nm[@]}" cell_v2 create_cell --name cell1 &&
      "${nm[@]}" db sync
  } >>"$logs/nova-manage.log" 2>&1
}

start_nova_api() {
  start_gunicorn nova-api "$nova_port" fk_nova_wsgi:application "OS_NOVA_CONFIG_DIR=$state/nova"
}

start_nova_services() {
  local s
  for s in nova-conductor nova-scheduler nova-compute; do
    start_daemon "$s" "$venv/bin/$s" --config-file "$state/nova/nova.conf"
  done
}
