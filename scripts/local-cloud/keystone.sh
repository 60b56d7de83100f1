# shellcheck shell=bash
# Keystone: http://127.0.0.1:5000/v3, fernet tokens, region RegionOne; its configuration, keys and
# catalog bootstrap (keystone-manage), its gunicorn, and the identity bootstrap (bootstrap.py:
# projects, users, roles, service users, services and endpoints, the demo application
# credential; writes env, env.json and clouds.yaml).
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

write_keystone_conf() {
  mkdir -p "$state/keystone/fernet-keys" "$state/keystone/credential-keys" "$state/keystone/locks"
  chmod 700 "$state/keystone/fernet-keys" "$state/keystone/credential-keys"
  render keystone.conf "$state/keystone/keystone.conf" \
    "DATABASE_URL=$(db_url keystone)" \
    "TOKEN_EXPIRATION=$token_expiration" \
    "KEYSTONE_DIR=$state/keystone"
  install_wsgi keystone
}

# Schema, fernet and credential keys, admin user and project, region and identity endpoints.
setup_keystone() {
  local km=("$venv/bin/keystone-manage" --config-file "$state/keystone/keystone.conf")
  {
    "${km[@]}" db_sync &&
      "${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
      "${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
      "${km[@]}" bootstrap --bootstrap-password admin \
        --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$keystone_url" \
        --bootstrap-internal-url "$keystone_url" \
        --bootstrap-public-url "$keystone_url"
  } >>"$logs/keystone-manage.log" 2>&1 || die "keystone-manage failed; see $logs/keystone-manage.log"
}

start_keystone() {
  start_gunicorn keystone "$keystone_port" fk_keystone_wsgi:application \
    "OS_KEYSTONE_CONFIG_FILES=$state/keystone/keystone.conf"
}

# Projects, users, roles, the image and object-store services and their endpoints (with --compute also the service
# users, services and endpoints of Placement, Nova, Neutron and Designate), the application
# credential; writes env, env.json and clouds.yaml.
bootstrap_identity() {
  FK_STATE="$state" FK_KS="$keystone_url" FK_GLANCE="http://127.0.0.1:$glance_port" \
    FK_GLANCE_PLAIN="http://127.0.0.1:$glance_plain_port" FK_COMPUTE="$compute" \
    FK_SWIFT="http://127.0.0.1:$swift_port" FK_SWIFT_LOG="$(log_of swift-proxy)" \
    FK_PLACEMENT="http://127.0.0.1:$placement_port" FK_NOVA="http://127.0.0.1:$nova_port/v2.1" \
    FK_NEUTRON="http://127.0.0.1:$neutron_port" FK_DESIGNATE="http://127.0.0.1:$designate_port" \
    "$venv/bin/python" "$local_cloud_dir/bootstrap.py" </dev/null \
    >>"$logs/bootstrap.log" 2>&1 || die "creating the demo project failed; see $logs/bootstrap.log"
}
