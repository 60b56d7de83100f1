# shellcheck shell=bash
# Neutron (start --compute): http://127.0.0.1:9696, ML2/openvswitch with vxlan tenant networks and
# flat network public, router plugin (floating IPs work), no L3 or DHCP agent; its configuration,
# schema, gunicorn, and the fake Open vSwitch agent row for fk-compute that lets ML2 bind ports.
# Log: logs/neutron.log (and neutron-db-manage.log).
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

write_neutron_conf() {
  mkdir -p "$state/neutron/locks"
  cp "$venv/etc/neutron/api-paste.ini" "$state/neutron/api-paste.ini"
  render neutron.conf "$state/neutron/neutron.conf" \
    "TRANSPORT_URL=$(rabbit_url)" \
    "NEUTRON_DIR=$state/neutron" \
    "DATABASE_URL=$(db_url neutron)" \
    "KEYSTONE_URL=$keystone_url"
  render ml2_conf.ini "$state/neutron/ml2_conf.ini"
  install_wsgi neutron
}

neutron_db_sync() {
  "$venv/bin/neutron-db-manage" --config-file "$state/neutron/neutron.conf" \
    --config-file "$state/neutron/ml2_conf.ini" upgrade heads >>"$logs/neutron-db-manage.log" 2>&1
}

# The fake Open vSwitch agent of the compute host: ML2 binds ports only to hosts with a live agent.
register_fake_ovs_agent() {
  render fake-ovs-agent.sql "$state/neutron/fake-ovs-agent.sql" "COMPUTE_HOST=$compute_host"
  mariadb_cli neutron <"$state/neutron/fake-ovs-agent.sql" ||
    die "registering the fake Open vSwitch agent failed"
}

start_neutron() {
  start_gunicorn neutron "$neutron_port" fk_neutron_wsgi:application \
    "OS_NEUTRON_CONFIG_DIR=$state/neutron" "OS_NEUTRON_CONFIG_FILES=neutron.conf;ml2_conf.ini"
}
