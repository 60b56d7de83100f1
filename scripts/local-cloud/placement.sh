# shellcheck shell=bash
# Placement (start --compute): http://127.0.0.1:8778 on MariaDB; its configuration, schema and
# gunicorn. Log: logs/placement.log (and placement-manage.log).
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

write_placement_conf() {
  mkdir -p "$state/placement"
  render placement.conf "$state/placement/placement.conf" \
    "DATABASE_URL=$(db_url placement)" \
    "KEYSTONE_URL=$keystone_url"
  install_wsgi placement
}

placement_db_sync() {
  "$venv/bin/placement-manage" --config-file "$state/placement/placement.conf" db sync \
    >>"$logs/placement-manage.log" 2>&1
}

start_placement() {
  start_gunicorn placement "$placement_port" fk_placement_wsgi:application \
    "OS_PLACEMENT_CONFIG_DIR=$state/placement"
}
