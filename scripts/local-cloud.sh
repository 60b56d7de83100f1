#!/usr/bin/env bash
# Real Keystone and Glance (and with --compute Placement, Nova, Neutron) on 127.0.0.1 for the
# provider's acceptance tests.
#
#   bash scripts/local-cloud.sh start   # fresh databases, waits until all answer, prints the env path
#   bash scripts/local-cloud.sh start --compute   # also Placement, Nova, Neutron (see below)
#   bash scripts/local-cloud.sh stop    # stops what `start` started (pid files); idempotent
#   bash scripts/local-cloud.sh status  # what runs
#   bash scripts/local-cloud.sh env     # prints the env file path (fails when not started)
#
# Needs the venv of scripts/setup.d/40-openstack.sh (run `bash scripts/setup.sh` once).
# State lives in ${FLATCAR_KUBE_CLOUD_DIR:-$FLATCAR_KUBE_CACHE/cloud} (FLATCAR_KUBE_CACHE defaults
# to $HOME/.cache/flatcar-kube) and is wiped by every `start`.
#
# Services (gunicorn, 1 worker, 4 threads each):
#   MariaDB      127.0.0.1:13306 private server (data and socket under $STATE/mariadb; Debian
#                package of setup.d/46-mariadb.sh): the databases of every service below.
#                sqlite was dropped: Glance answered 500 "database is locked" under parallel uploads.
#   Keystone     http://127.0.0.1:5000/v3  fernet tokens, region RegionOne
#   Glance       http://127.0.0.1:9292     in the catalog (service type image);
#                enabled_import_methods = [glance-direct, web-download, copy-image],
#                import tasks run inside the API process
#   Glance plain http://127.0.0.1:9293     NOT in the catalog (reach it by endpoint override);
#                enabled_import_methods = [] so clients must use PUT /v2/images/{id}/file.
#                Own database and store: images made on one port are not seen on the other.
# Logs: $STATE/logs/{keystone,glance,glance-plain}.log (service log and gunicorn access log), mariadb.log.
# Glance validates every token with Keystone (no cache), so revoking a token
# (DELETE /v3/auth/tokens) makes the next Glance call answer 401 at once.
# FLATCAR_KUBE_CLOUD_TOKEN_EXPIRATION (seconds, default 3600) sets Keystone's token lifetime;
# FLATCAR_KUBE_CLOUD_WAIT (seconds, default 60) bounds the wait for each service at start.
#
# Contract for the tests: after `start`, $STATE/env.json is one JSON object of strings
# (the same keys and values as the `export` lines of $STATE/env):
#   OS_AUTH_URL              http://127.0.0.1:5000/v3
#   OS_USERNAME, OS_PASSWORD demo / demo-secret (role member on project demo)
#   OS_PROJECT_NAME          demo
#   OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME   Default
#   OS_REGION_NAME           RegionOne
#   OS_IDENTITY_API_VERSION  3
#   OS_INTERFACE             public
#   FK_APP_CRED_ID, FK_APP_CRED_SECRET  application credential of user demo on project demo
#                            (restricted; authenticate WITHOUT a scope)
#   FK_GLANCE_URL            http://127.0.0.1:9292 (glance-direct import; the catalog's image endpoint)
#   FK_GLANCE_PLAIN_URL      http://127.0.0.1:9293 (no import methods: plain PUT /file)
#   FK_ADMIN_USERNAME, FK_ADMIN_PASSWORD, FK_ADMIN_PROJECT_NAME   admin / admin / admin
#   FK_CLOUDS_YAML           $STATE/clouds.yaml, entries `demo-password` and `demo-appcred`
#   FK_STATE_DIR, FK_LOG_DIR state directory and its logs/ directory
#   FK_KEYSTONE_LOG, FK_GLANCE_LOG, FK_GLANCE_PLAIN_LOG   the three log files
#
# Compute stack: `start --compute` (or FLATCAR_KUBE_CLOUD_COMPUTE=1) also starts, fresh each time,
# a private RabbitMQ node (127.0.0.1:5672, user nova; setup.d/45-rabbitmq.sh),
# Placement :8778, Nova :8774 (API from nova.wsgi.osapi_compute; conductor, scheduler and compute
# with fake.FakeDriver on host fk-compute: 1000 vCPU, 800000 MB, no overcommit) and Neutron :9696
# (ML2/openvswitch, vxlan + flat, router plugin, no L3/DHCP agent; a fake Open vSwitch agent row for
# fk-compute lets ML2 bind ports). Ports: FLATCAR_KUBE_{PLACEMENT,NOVA,NEUTRON,RABBIT,MARIADB}_PORT.
# Resources: flavors m1.tiny (1 vCPU, 512 MB, 1 GB) and m1.huge (1 TiB RAM: ERROR "No valid host");
# network private + subnet 10.0.0.0/24 (project demo), external network public (flat) + subnet
# 172.24.4.0/24, router1 between them (floating IPs work), SSH and ICMP ingress in demo's default
# security group; demo quotas: 100 instances, unlimited cores and RAM, 100 floating IPs.
# No key pair. Logs: nova.log (all four Nova processes), neutron.log, placement.log, rabbitmq.log,
# *-manage.log. env.json then also holds:
#   FK_COMPUTE               1
#   FK_NOVA_URL              http://127.0.0.1:8774/v2.1
#   FK_NEUTRON_URL           http://127.0.0.1:9696
#   FK_PLACEMENT_URL         http://127.0.0.1:8778
#   FK_NETWORK_ID, FK_NETWORK_NAME   the private network (name private)
#   FK_EXTERNAL_NETWORK      public (floating IP pool)
#   FK_FLAVOR_SMALL, FK_FLAVOR_HUGE  m1.tiny, m1.huge
#   FK_NOVA_LOG, FK_NEUTRON_LOG      the two log files
set -euo pipefail

cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/openstack-venv"
state=${FLATCAR_KUBE_CLOUD_DIR:-$cache/cloud}
logs="$state/logs"
run="$state/run"
# In stop order: the database last (compute services stop before these).
services=(keystone glance glance-plain mariadb)
# The compute stack (start --compute), in stop order: API users first, the bus last.
compute_services=(nova-compute nova-scheduler nova-conductor nova-api neutron placement rabbitmq epmd)
wait_seconds=${FLATCAR_KUBE_CLOUD_WAIT:-60}
# Ports (defaults 5000, 9292, 9293, 13306); another set lets a second cloud run beside the first
# (with its own FLATCAR_KUBE_CLOUD_DIR).
keystone_port=${FLATCAR_KUBE_KEYSTONE_PORT:-5000}
glance_port=${FLATCAR_KUBE_GLANCE_PORT:-9292}
glance_plain_port=${FLATCAR_KUBE_GLANCE_PLAIN_PORT:-9293}
mariadb_port=${FLATCAR_KUBE_MARIADB_PORT:-13306}
keystone_url="http://127.0.0.1:$keystone_port/v3"
# Compute stack ports (start --compute).
placement_port=${FLATCAR_KUBE_PLACEMENT_PORT:-8778}
nova_port=${FLATCAR_KUBE_NOVA_PORT:-8774}
neutron_port=${FLATCAR_KUBE_NEUTRON_PORT:-9696}
rabbit_port=${FLATCAR_KUBE_RABBIT_PORT:-5672}
compute=${FLATCAR_KUBE_CLOUD_COMPUTE:-0}
# The Nova host name of the fake compute node (also the host of the fake Open vSwitch agent).
compute_host=fk-compute
# Keystone token lifetime in seconds; a test of re-authentication may shorten it.
token_expiration=${FLATCAR_KUBE_CLOUD_TOKEN_EXPIRATION:-3600}

port_of() {
  case $1 in
    keystone) echo "$keystone_port" ;;
    glance) echo "$glance_port" ;;
    glance-plain) echo "$glance_plain_port" ;;
    placement) echo "$placement_port" ;;
    nova-api) echo "$nova_port" ;;
    neutron) echo "$neutron_port" ;;
    rabbitmq) echo "$rabbit_port" ;;
    mariadb) echo "$mariadb_port" ;;
  esac
}

# Log file of a service: the four Nova processes share nova.log.
log_of() {
  case $1 in
    nova-*) echo "$logs/nova.log" ;;
    *) echo "$logs/$1.log" ;;
  esac
}

die() {
  echo "local-cloud: $*" >&2
  exit 1
}

pid_alive() {
  local f="$run/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cmd_stop() {
  local s pid i t how pids=() names=()
  [ -d "$run" ] || return 0
  for s in "${compute_services[@]}" "${services[@]}"; do
    [ -f "$run/$s.pid" ] || continue
    pid=$(cat "$run/$s.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      case $s in
        # SIGINT: gunicorn's quick shutdown (the state is thrown away at the next start anyway).
        keystone | glance | glance-plain | placement | nova-api) kill -INT "$pid" 2>/dev/null || true ;;
        # epmd was started by the broker (not by setsid): only its own pid.
        epmd) kill -TERM "$pid" 2>/dev/null || true ;;
        # Started with setsid: the process group holds wrapper scripts and their children.
        *) kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true ;;
      esac
      pids+=("$pid")
      names+=("$s")
    fi
  done
  # One shared grace period of 5 s for all of them, then SIGKILL.
  t=0
  for ((i = 0; i < ${#pids[@]}; i++)); do
    pid=${pids[$i]}
    for (( ; t < 50; t++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    how=""
    if kill -0 "$pid" 2>/dev/null; then
      # Started with setsid: the process group is the master's pid and holds its workers.
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      how=", killed"
    fi
    echo "local-cloud: stopped ${names[$i]} (pid $pid$how)" >&2
  done
  for s in "${compute_services[@]}" "${services[@]}"; do
    rm -f "$run/$s.pid"
  done
}

cmd_status() {
  local s any=1 list=("${services[@]}")
  [ -f "$state/compute" ] && list+=("${compute_services[@]}")
  for s in "${list[@]}"; do
    # epmd has a pid file only when the broker started it (not when one already ran).
    [ "$s" = epmd ] && [ ! -f "$run/epmd.pid" ] && continue
    if pid_alive "$s"; then
      echo "$s: running (pid $(cat "$run/$s.pid")$([ -n "$(port_of "$s")" ] && echo ", 127.0.0.1:$(port_of "$s")"))"
      any=0
    else
      echo "$s: stopped"
    fi
  done
  [ -f "$state/env" ] && [ $any -eq 0 ] && echo "env: $state/env"
  return $any
}

cmd_env() {
  [ -f "$state/env" ] || die "no env file: run 'bash scripts/local-cloud.sh start' first"
  echo "$state/env"
}

# Waits until an unauthenticated GET answers with any HTTP status below 500.
wait_http() {
  local name=$1 url=$2 deadline=$((SECONDS + wait_seconds)) code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && [ "$code" -lt 500 ]; then
      return 0
    fi
    if ! pid_alive "$name"; then
      tail -n 30 "$(log_of "$name")" >&2 || true
      die "$name exited during start-up; see $(log_of "$name")"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$(log_of "$name")" >&2 || true
      die "$name did not answer on $url within ${wait_seconds}s; see $(log_of "$name")"
    fi
    sleep 0.2
  done
}

write_keystone_conf() {
  mkdir -p "$state/keystone/fernet-keys" "$state/keystone/credential-keys" "$state/keystone/locks"
  chmod 700 "$state/keystone/fernet-keys" "$state/keystone/credential-keys"
  cat >"$state/keystone/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false

[database]
connection = $(db_url keystone)

[token]
provider = fernet
expiration = $token_expiration

[fernet_tokens]
key_repository = $state/keystone/fernet-keys

[fernet_receipts]
key_repository = $state/keystone/fernet-keys

[credential]
key_repository = $state/keystone/credential-keys

[cache]
enabled = false

[oslo_concurrency]
lock_path = $state/keystone/locks
EOF
  mkdir -p "$state/wsgi"
  # Keystone reads gunicorn's argv as its own command line: reset it before importing the app.
  cat >"$state/wsgi/fk_keystone_wsgi.py" <<'EOF'
import sys
sys.argv = sys.argv[:1]
from keystone.server import wsgi  # noqa: E402
application = wsgi.initialize_public_application()
EOF
}

# write_glance_conf NAME PORT IMPORT_METHODS
write_glance_conf() {
  local name=$1 port=$2 methods=$3 dir="$state/$1"
  mkdir -p "$dir/conf" "$dir/images" "$dir/staging" "$dir/tasks" "$dir/locks"
  cp "$venv/etc/glance/glance-api-paste.ini" "$dir/conf/glance-api-paste.ini"
  cat >"$dir/conf/glance-api.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false
enabled_backends = fs:file
enabled_import_methods = $methods
worker_self_reference_url = http://127.0.0.1:$port

[database]
connection = $(db_url "${name//-/_}")

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $dir/images

[os_glance_staging_store]
filesystem_store_datadir = $dir/staging

[os_glance_tasks_store]
filesystem_store_datadir = $dir/tasks

[paste_deploy]
flavor = keystone
config_file = $dir/conf/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = $keystone_url
auth_url = $keystone_url
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = glance-secret
region_name = RegionOne
# No token cache: a token revoked in Keystone is refused at once (tests can force a 401).
token_cache_time = -1

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = $dir/locks

[wsgi]
task_pool_threads = 4
EOF
}

# start_gunicorn NAME PORT APP [extra env assignments...]
start_gunicorn() {
  local name=$1 port=$2 app=$3
  shift 3
  # setsid: own process group, so `stop` can reap workers even if the master died oddly.
  env "$@" setsid "$venv/bin/gunicorn" \
    --workers 1 --threads 4 --worker-class gthread \
    --bind "127.0.0.1:$port" --timeout 600 --graceful-timeout 5 \
    --pythonpath "$state/wsgi" \
    --access-logfile - --error-logfile - \
    --name "fk-$name" \
    "$app" >>"$(log_of "$name")" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

check_ports_free() {
  local s port list=("${services[@]}")
  [ "$compute" = 1 ] && list+=("${compute_services[@]}")
  for s in "${list[@]}"; do
    port=$(port_of "$s")
    [ -n "$port" ] || continue
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port (for $s) is already in use by a process this script did not start"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Compute stack (start --compute): MariaDB, RabbitMQ, Placement, Nova (fake virt driver), Neutron.

db_url() { echo "mysql+pymysql://fk:fk-secret@127.0.0.1:$mariadb_port/$1?charset=utf8"; }
mariadb_cli() { mariadb --no-defaults --socket="$state/mariadb/mysqld.sock" -uroot "$@"; }

# start_daemon NAME COMMAND... (own process group, pid file, log)
start_daemon() {
  local name=$1
  shift
  setsid "$@" >>"$(log_of "$name")" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

# Private MariaDB: own data dir, socket and port; fast, non-durable settings (state is thrown away).
start_mariadb() {
  local d="$state/mariadb" deadline
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || die "mariadbd missing: run 'bash scripts/setup.sh' (setup.d/46-mariadb.sh)"
  mkdir -p "$d/data" "$d/tmp"
  mariadb-install-db --no-defaults --datadir="$d/data" --user="$(id -un)" --skip-test-db \
    --auth-root-authentication-method=socket >>"$logs/mariadb.log" 2>&1 ||
    die "mariadb-install-db failed; see $logs/mariadb.log"
  start_daemon mariadb /usr/sbin/mariadbd --no-defaults --datadir="$d/data" --tmpdir="$d/tmp" \
    --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --port="$mariadb_port" \
    --bind-address=127.0.0.1 --user="$(id -un)" --skip-name-resolve --max-connections=1000 \
    --character-set-server=utf8 --collation-server=utf8_general_ci \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
    --sync-frm=0 --skip-log-bin --log-error="$logs/mariadb.log"
  deadline=$((SECONDS + wait_seconds))
  until mariadb-admin --no-defaults --socket="$d/mysqld.sock" -uroot ping >/dev/null 2>&1; do
    pid_alive mariadb || die "mariadbd exited during start-up; see $logs/mariadb.log"
    [ $SECONDS -lt $deadline ] || die "mariadbd not ready within ${wait_seconds}s; see $logs/mariadb.log"
    sleep 0.2
  done
  mariadb_cli -e "
    CREATE DATABASE keystone; CREATE DATABASE glance; CREATE DATABASE glance_plain;
    CREATE DATABASE placement; CREATE DATABASE nova_api; CREATE DATABASE nova_cell0;
    CREATE DATABASE nova; CREATE DATABASE neutron;
    CREATE USER 'fk'@'127.0.0.1' IDENTIFIED BY 'fk-secret';
    GRANT ALL PRIVILEGES ON *.* TO 'fk'@'127.0.0.1';" || die "creating the MariaDB databases failed"
}

# Private RabbitMQ node: own node name, data dir, cookie (HOME) and ports; user nova.
start_rabbitmq() {
  local d="$state/rabbitmq" epmd_before
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || die "rabbitmq-server missing: run 'bash scripts/setup.sh' (setup.d/45-rabbitmq.sh)"
  mkdir -p "$d/mnesia" "$d/log"
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$rabbit_port
default_user = nova
default_pass = nova-secret
default_vhost = /
loopback_users = none
disk_free_limit.absolute = 50MB
EOF
  echo '[].' >"$d/enabled_plugins"
  epmd_before=$(pgrep -x epmd || true)
  # The Debian wrapper in /usr/sbin switches to the rabbitmq user; the real script runs as us.
  start_daemon rabbitmq env HOME="$d" RABBITMQ_CONF_ENV_FILE=/dev/null \
    RABBITMQ_NODENAME="fk$rabbit_port@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$rabbit_port" RABBITMQ_DIST_PORT="$((rabbit_port + 20000))" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" RABBITMQ_LOGS=- RABBITMQ_PID_FILE="$d/rabbitmq.pid" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
  # Remember an epmd the broker started, so `stop` ends it too.
  if [ -z "$epmd_before" ]; then
    (
      for _ in $(seq 50); do
        p=$(pgrep -x epmd || true)
        if [ -n "$p" ]; then
          echo "$p" >"$run/epmd.pid"
          break
        fi
        sleep 0.2
      done
    ) &
  fi
}

wait_tcp() {
  local name=$1 port=$2 deadline=$((SECONDS + wait_seconds))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    pid_alive "$name" || { tail -n 30 "$(log_of "$name")" >&2; die "$name exited during start-up; see $(log_of "$name")"; }
    [ $SECONDS -lt $deadline ] || die "$name not listening on $port within ${wait_seconds}s; see $(log_of "$name")"
    sleep 0.2
  done
}

# keystone_authtoken and service-user sections shared by the compute services.
auth_section() {
  cat <<EOF
[$1]
auth_type = password
auth_url = $keystone_url
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $2-secret
region_name = RegionOne
EOF
}

write_compute_conf() {
  local rabbit="rabbit://nova:nova-secret@127.0.0.1:$rabbit_port/"
  mkdir -p "$state/placement" "$state/nova/instances" "$state/nova/locks" "$state/neutron/locks" "$state/wsgi"
  cat >"$state/placement/placement.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false

[api]
auth_strategy = keystone

[placement_database]
connection = $(db_url placement)

$(auth_section keystone_authtoken placement)
www_authenticate_uri = $keystone_url
EOF
  cp "$venv/etc/nova/api-paste.ini" "$state/nova/api-paste.ini"
  cat >"$state/nova/nova.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false
host = $compute_host
my_ip = 127.0.0.1
state_path = $state/nova
instances_path = $state/nova/instances
transport_url = $rabbit
compute_driver = fake.FakeDriver
# The fake host: 1000 vCPU, 800000 MB RAM, 600000 GB disk (FakeDriver); no overcommit, so a
# flavor above that fails scheduling with a real ERROR and fault.
cpu_allocation_ratio = 1.0
ram_allocation_ratio = 1.0
disk_allocation_ratio = 1.0
reserved_host_memory_mb = 0
reserved_host_disk_mb = 0
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
heal_instance_info_cache_interval = -1
# "stop" throws the state away: no long graceful shutdown.
graceful_shutdown_timeout = 2

[api]
auth_strategy = keystone

[wsgi]
api_paste_config = $state/nova/api-paste.ini

[api_database]
connection = $(db_url nova_api)

[database]
connection = $(db_url nova)

$(auth_section keystone_authtoken nova)
www_authenticate_uri = $keystone_url
service_token_roles_required = true

$(auth_section service_user nova)
send_service_user_token = true

$(auth_section placement nova)

$(auth_section neutron nova)
default_floating_pool = public

[glance]
region_name = RegionOne

[scheduler]
discover_hosts_in_cells_interval = 2
workers = 1

[conductor]
workers = 1

[vnc]
enabled = false

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = $state/nova/locks
EOF
  cp "$venv/etc/neutron/api-paste.ini" "$state/neutron/api-paste.ini"
  cat >"$state/neutron/neutron.conf" <<EOF
[DEFAULT]
use_stderr = true
debug = false
core_plugin = ml2
# The L3 router plugin: floating IPs need it; routers stay unscheduled (there is no L3 agent).
service_plugins = router
auth_strategy = keystone
transport_url = $rabbit
api_paste_config = $state/neutron/api-paste.ini
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
allow_overlapping_ips = true
# The fake Open vSwitch agent reports once at start: keep it alive for a day.
agent_down_time = 86400
router_distributed = false
l3_ha = false

[database]
connection = $(db_url neutron)

$(auth_section keystone_authtoken neutron)
www_authenticate_uri = $keystone_url

$(auth_section nova neutron)

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = $state/neutron/locks
EOF
  cat >"$state/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security

[ml2_type_flat]
flat_networks = public

[ml2_type_vxlan]
vni_ranges = 1:1000

[securitygroup]
enable_security_group = true
EOF
  # Placement and Nova read gunicorn's argv as their own options, like Keystone.
  cat >"$state/wsgi/fk_placement_wsgi.py" <<'EOF'
import sys
sys.argv = sys.argv[:1]
from placement.wsgi.api import application  # noqa: E402,F401
EOF
  cat >"$state/wsgi/fk_nova_wsgi.py" <<'EOF'
import sys
sys.argv = sys.argv[:1]
from nova.wsgi.osapi_compute import application  # noqa: E402,F401
EOF
  cat >"$state/wsgi/fk_neutron_wsgi.py" <<'EOF'
import sys
sys.argv = sys.argv[:1]
from neutron.wsgi.api import application  # noqa: E402,F401
EOF
}

# Schemas: Placement, Nova (API, cell0, cell1) and Neutron in parallel.
sync_compute_dbs() {
  local nm=("$venv/bin/nova-manage" --config-file "$state/nova/nova.conf") p1 p2 p3
  "$venv/bin/placement-manage" --config-file "$state/placement/placement.conf" db sync \
    >>"$logs/placement-manage.log" 2>&1 &
  p1=$!
  {
    "${nm[@]}" api_db sync &&
      "${nm[@]}" cell_v2 map_cell0 --database_connection "$(db_url nova_cell0)" &&
      "${nm[@]}" cell_v2 create_cell --name cell1 &&
      "${nm[@]}" db sync
  } >>"$logs/nova-manage.log" 2>&1 &
  p2=$!
  "$venv/bin/neutron-db-manage" --config-file "$state/neutron/neutron.conf" \
    --config-file "$state/neutron/ml2_conf.ini" upgrade heads >>"$logs/neutron-db-manage.log" 2>&1 &
  p3=$!
  wait "$p1" || die "placement-manage db sync failed; see $logs/placement-manage.log"
  wait "$p2" || die "nova-manage failed; see $logs/nova-manage.log"
  wait "$p3" || die "neutron-db-manage upgrade heads failed; see $logs/neutron-db-manage.log"
}

# The fake Open vSwitch agent of the compute host: ML2 binds ports only to hosts with a live agent.
register_fake_ovs_agent() {
  mariadb_cli neutron -e "
    INSERT INTO agents (id, agent_type, \`binary\`, topic, host, admin_state_up, created_at,
      started_at, heartbeat_timestamp, description, configurations, \`load\`, resources_synced)
    VALUES (UUID(), 'Open vSwitch agent', 'neutron-openvswitch-agent', 'N/A', '$compute_host', 1,
      UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(), 'fake agent (local-cloud.sh)',
      '{\"bridge_mappings\": {\"public\": \"br-ex\"}, \"tunnel_types\": [\"vxlan\"], \"integration_bridge\": \"br-int\", \"datapath_type\": \"system\", \"ovs_hybrid_plug\": false, \"l2_population\": false, \"tunneling_ip\": \"127.0.0.1\", \"devices\": 0}',
      0, 1);" || die "registering the fake Open vSwitch agent failed"
}

start_compute_services() {
  local nova_env="OS_NOVA_CONFIG_DIR=$state/nova" s
  start_gunicorn placement "$placement_port" fk_placement_wsgi:application \
    "OS_PLACEMENT_CONFIG_DIR=$state/placement"
  start_gunicorn nova-api "$nova_port" fk_nova_wsgi:application "$nova_env"
  start_gunicorn neutron "$neutron_port" fk_neutron_wsgi:application \
    "OS_NEUTRON_CONFIG_DIR=$state/neutron" "OS_NEUTRON_CONFIG_FILES=neutron.conf;ml2_conf.ini"
  for s in nova-conductor nova-scheduler nova-compute; do
    start_daemon "$s" "$venv/bin/$s" --config-file "$state/nova/nova.conf"
  done
}

# Second half of `start --compute`: after Keystone (service users, catalog) and the schemas.
start_compute() {
  local compute_db=$1
  wait "$compute_db" || die "preparing the compute schemas failed; see $logs/"
  register_fake_ovs_agent
  wait_tcp rabbitmq "$rabbit_port"
  start_compute_services
  wait_http placement "http://127.0.0.1:$placement_port/"
  wait_http nova-api "http://127.0.0.1:$nova_port/"
  wait_http neutron "http://127.0.0.1:$neutron_port/"
  # Waits for the compute node, maps it into cell1, waits for the Nova services; then flavors,
  # quotas, networks, router and security group rules; adds the compute keys to env/env.json.
  FK_STATE="$state" FK_NOVA_MANAGE="$venv/bin/nova-manage" FK_NOVA_CONF="$state/nova/nova.conf" \
    FK_WAIT="$wait_seconds" "$venv/bin/python" - <<'PY' >>"$logs/bootstrap.log" 2>&1 || die "preparing the compute resources failed; see $logs/bootstrap.log"
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

STATE = os.environ["FK_STATE"]
env = json.load(open(os.path.join(STATE, "env.json")))
KS = env["OS_AUTH_URL"]
DEADLINE = time.monotonic() + int(os.environ["FK_WAIT"])


def call(method, url, body=None, token=None, expect=(200, 201, 202, 204), headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as rsp:
            raw, status, hdrs = rsp.read(), rsp.status, rsp.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    if status not in expect:
        raise SystemExit(f"{method} {url}: {status} {raw[:500]!r}")
    return hdrs, (json.loads(raw) if raw.strip() else None)


def token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    hdrs, rsp = call("POST", KS + "/auth/tokens", body)
    catalog = {s["type"]: next(e["url"] for e in s["endpoints"] if e["interface"] == "public")
               for s in rsp["token"]["catalog"]}
    return hdrs["X-Subject-Token"], rsp["token"]["project"]["id"], catalog


admin, _, cat = token("admin", "admin", "admin")
demo, demo_project, _ = token("demo", "demo-secret", "demo")
NOVA, NEUTRON, PLACEMENT = cat["compute"], cat["network"], cat["placement"]


def wait_for(what, check):
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > DEADLINE:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


# The fake compute node reports its resource provider to Placement.
wait_for("the compute node in Placement", lambda: call(
    "GET", PLACEMENT + "/resource_providers", token=admin)[1]["resource_providers"])
out = subprocess.run([os.environ["FK_NOVA_MANAGE"], "--config-file", os.environ["FK_NOVA_CONF"],
                      "cell_v2", "discover_hosts", "--verbose"],
                     capture_output=True, text=True, check=True)
print(out.stdout, out.stderr)
wait_for("nova-compute, nova-scheduler and nova-conductor up", lambda: {
    s["binary"] for s in call("GET", NOVA + "/os-services", token=admin)[1]["services"]
    if s["state"] == "up"} >= {"nova-compute", "nova-scheduler", "nova-conductor"})
wait_for("the hypervisor", lambda: call(
    "GET", NOVA + "/os-hypervisors", token=admin)[1]["hypervisors"])

for fid, name, vcpus, ram, disk in (("1", "m1.tiny", 1, 512, 1),
                                    # More RAM than the fake host (800000 MB): NoValidHost.
                                    ("99", "m1.huge", 1, 1048576, 1)):
    call("POST", NOVA + "/flavors", {"flavor": {"id": fid, "name": name, "vcpus": vcpus,
                                                "ram": ram, "disk": disk}}, token=admin)
# Room for the benchmark's 30 servers; m1.huge must reach the scheduler (not a quota 403).
call("PUT", f"{NOVA}/os-quota-sets/{demo_project}",
     {"quota_set": {"instances": 100, "cores": -1, "ram": -1}}, token=admin)
call("PUT", f"{NEUTRON}/v2.0/quotas/{demo_project}",
     {"quota": {"floatingip": 100, "port": 1000}}, token=admin)

_, rsp = call("POST", NEUTRON + "/v2.0/networks", {"network": {
    "name": "public", "router:external": True, "provider:network_type": "flat",
    "provider:physical_network": "public"}}, token=admin)
public = rsp["network"]["id"]
call("POST", NEUTRON + "/v2.0/subnets", {"subnet": {
    "name": "public-subnet", "network_id": public, "ip_version": 4, "cidr": "172.24.4.0/24",
    "gateway_ip": "172.24.4.1", "enable_dhcp": False,
    "allocation_pools": [{"start": "172.24.4.10", "end": "172.24.4.250"}]}}, token=admin)

_, rsp = call("POST", NEUTRON + "/v2.0/networks", {"network": {"name": "private"}}, token=demo)
private = rsp["network"]["id"]
_, rsp = call("POST", NEUTRON + "/v2.0/subnets", {"subnet": {
    "name": "private-subnet", "network_id": private, "ip_version": 4, "cidr": "10.0.0.0/24",
    "gateway_ip": "10.0.0.1"}}, token=demo)
private_subnet = rsp["subnet"]["id"]
_, rsp = call("POST", NEUTRON + "/v2.0/routers", {"router": {
    "name": "router1", "external_gateway_info": {"network_id": public}}}, token=demo)
router = rsp["router"]["id"]
call("PUT", f"{NEUTRON}/v2.0/routers/{router}/add_router_interface",
     {"subnet_id": private_subnet}, token=demo)

# Listing as demo creates the project's default security group; add SSH and ICMP ingress.
_, rsp = call("GET", NEUTRON + "/v2.0/security-groups?name=default", token=demo)
default_sg = rsp["security_groups"][0]["id"]
for rule in ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
             {"protocol": "icmp"}):
    call("POST", NEUTRON + "/v2.0/security-group-rules", {"security_group_rule": dict(
        rule, direction="ingress", ethertype="IPv4", remote_ip_prefix="0.0.0.0/0",
        security_group_id=default_sg)}, token=demo)

env.update({
    "FK_COMPUTE": "1",
    "FK_NOVA_URL": NOVA,
    "FK_NEUTRON_URL": NEUTRON,
    "FK_PLACEMENT_URL": PLACEMENT,
    "FK_NETWORK_ID": private,
    "FK_NETWORK_NAME": "private",
    "FK_EXTERNAL_NETWORK": "public",
    "FK_FLAVOR_SMALL": "m1.tiny",
    "FK_FLAVOR_HUGE": "m1.huge",
    "FK_NOVA_LOG": f"{STATE}/logs/nova.log",
    "FK_NEUTRON_LOG": f"{STATE}/logs/neutron.log",
})


def write(name, text):
    path = os.path.join(STATE, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def sh_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


write("env.json", json.dumps(env, indent=2) + "\n")
write("env", "".join(f"export {k}={sh_quote(v)}\n" for k, v in env.items()))
print("compute bootstrap done", private)
PY
}

cmd_start() {
  local t0=$SECONDS km gm s
  [ -x "$venv/bin/gunicorn" ] || die "no venv at $venv: run 'bash scripts/setup.sh' first"
  cmd_stop
  check_ports_free
  # Fresh state each start: new databases, keys, images and logs.
  rm -rf "$state"
  mkdir -p "$logs" "$run"
  chmod 700 "$state"
  local compute_db=""
  start_mariadb
  if [ "$compute" = 1 ]; then
    # The slow part (the compute schemas) and the broker start first and run beside Keystone/Glance.
    touch "$state/compute"
    write_compute_conf
    sync_compute_dbs &
    compute_db=$!
    start_rabbitmq
  fi
  write_keystone_conf
  write_glance_conf glance "$glance_port" '[glance-direct,web-download,copy-image]'
  write_glance_conf glance-plain "$glance_plain_port" '[]'

  # Glance schemas in the background while Keystone is prepared.
  gm="$venv/bin/glance-manage"
  "$gm" --config-file "$state/glance/conf/glance-api.conf" db_sync >>"$logs/glance-manage.log" 2>&1 &
  local glance_sync=$!
  "$gm" --config-file "$state/glance-plain/conf/glance-api.conf" db_sync >>"$logs/glance-plain-manage.log" 2>&1 &
  local glance_plain_sync=$!

  km=("$venv/bin/keystone-manage" --config-file "$state/keystone/keystone.conf")
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

  start_gunicorn keystone "$keystone_port" fk_keystone_wsgi:application \
    "OS_KEYSTONE_CONFIG_FILES=$state/keystone/keystone.conf"

  wait "$glance_sync" || die "glance-manage db_sync failed; see $logs/glance-manage.log"
  wait "$glance_plain_sync" || die "glance-manage db_sync failed; see $logs/glance-plain-manage.log"
  for s in glance glance-plain; do
    start_gunicorn "$s" "$(port_of "$s")" glance.wsgi.api:application \
      "OS_GLANCE_CONFIG_DIR=$state/$s/conf"
  done

  wait_http keystone "$keystone_url"
  # Projects, users, roles, the image service and its endpoint, the application credential;
  # writes env, env.json and clouds.yaml.
  FK_STATE="$state" FK_KS="$keystone_url" FK_GLANCE="http://127.0.0.1:$glance_port" \
    FK_GLANCE_PLAIN="http://127.0.0.1:$glance_plain_port" FK_COMPUTE="$compute" \
    FK_PLACEMENT="http://127.0.0.1:$placement_port" FK_NOVA="http://127.0.0.1:$nova_port/v2.1" \
    FK_NEUTRON="http://127.0.0.1:$neutron_port" "$venv/bin/python" - <<'PY' >>"$logs/bootstrap.log" 2>&1 || die "creating the demo project failed; see $logs/bootstrap.log"
import json
import os
import urllib.error
import urllib.request

KS = os.environ["FK_KS"]
GLANCE = os.environ["FK_GLANCE"]
GLANCE_PLAIN = os.environ["FK_GLANCE_PLAIN"]
STATE = os.environ["FK_STATE"]


def call(method, path, body=None, token=None, expect=(200, 201, 204), base=KS):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as rsp:
            raw = rsp.read()
            status, headers = rsp.status, rsp.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    if status not in expect:
        raise SystemExit(f"{method} {base}{path}: {status} {raw[:500]!r}")
    return status, headers, (json.loads(raw) if raw.strip() else None)


def password_token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    _, headers, _ = call("POST", "/auth/tokens", body)
    return headers["X-Subject-Token"]


admin = password_token("admin", "admin", "admin")


def create(kind, body_key, attrs):
    _, _, rsp = call("POST", f"/{kind}", {body_key: attrs}, token=admin)
    return rsp[body_key]["id"]


def role_id(name):
    _, _, rsp = call("GET", f"/roles?name={name}", token=admin)
    if rsp["roles"]:
        return rsp["roles"][0]["id"]
    return create("roles", "role", {"name": name})


member, admin_role, service_role = role_id("member"), role_id("admin"), role_id("service")
demo_project = create("projects", "project", {"name": "demo", "domain_id": "default"})
service_project = create("projects", "project", {"name": "service", "domain_id": "default"})
demo_user = create("users", "user", {"name": "demo", "domain_id": "default",
                                     "password": "demo-secret", "default_project_id": demo_project})
glance_user = create("users", "user", {"name": "glance", "domain_id": "default",
                                       "password": "glance-secret"})
call("PUT", f"/projects/{demo_project}/users/{demo_user}/roles/{member}", token=admin)
for role in (admin_role, service_role):
    call("PUT", f"/projects/{service_project}/users/{glance_user}/roles/{role}", token=admin)
image_service = create("services", "service", {"type": "image", "name": "glance"})
for interface in ("public", "internal", "admin"):
    create("endpoints", "endpoint", {"service_id": image_service, "interface": interface,
                                     "region_id": "RegionOne", "url": GLANCE})
if os.environ.get("FK_COMPUTE") == "1":
    # Service users (roles admin and service on project service), services and endpoints.
    for name, stype, url in (("placement", "placement", os.environ["FK_PLACEMENT"]),
                             ("nova", "compute", os.environ["FK_NOVA"]),
                             ("neutron", "network", os.environ["FK_NEUTRON"])):
        user = create("users", "user", {"name": name, "domain_id": "default",
                                        "password": f"{name}-secret"})
        for role in (admin_role, service_role):
            call("PUT", f"/projects/{service_project}/users/{user}/roles/{role}", token=admin)
        service = create("services", "service", {"type": stype, "name": name})
        for interface in ("public", "internal", "admin"):
            create("endpoints", "endpoint", {"service_id": service, "interface": interface,
                                             "region_id": "RegionOne", "url": url})

demo = password_token("demo", "demo-secret", "demo")
_, _, rsp = call("POST", f"/users/{demo_user}/application_credentials",
                 {"application_credential": {"name": "fk-tests", "unrestricted": False,
                                             "description": "flatcar-kube acceptance tests"}},
                 token=demo)
app_cred_id = rsp["application_credential"]["id"]
app_cred_secret = rsp["application_credential"]["secret"]

env = {
    "OS_AUTH_URL": KS,
    "OS_USERNAME": "demo",
    "OS_PASSWORD": "demo-secret",
    "OS_PROJECT_NAME": "demo",
    "OS_USER_DOMAIN_NAME": "Default",
    "OS_PROJECT_DOMAIN_NAME": "Default",
    "OS_REGION_NAME": "RegionOne",
    "OS_IDENTITY_API_VERSION": "3",
    "OS_INTERFACE": "public",
    "FK_APP_CRED_ID": app_cred_id,
    "FK_APP_CRED_SECRET": app_cred_secret,
    "FK_GLANCE_URL": GLANCE,
    "FK_GLANCE_PLAIN_URL": GLANCE_PLAIN,
    "FK_ADMIN_USERNAME": "admin",
    "FK_ADMIN_PASSWORD": "admin",
    "FK_ADMIN_PROJECT_NAME": "admin",
    "FK_CLOUDS_YAML": f"{STATE}/clouds.yaml",
    "FK_STATE_DIR": STATE,
    "FK_LOG_DIR": f"{STATE}/logs",
    "FK_KEYSTONE_LOG": f"{STATE}/logs/keystone.log",
    "FK_GLANCE_LOG": f"{STATE}/logs/glance.log",
    "FK_GLANCE_PLAIN_LOG": f"{STATE}/logs/glance-plain.log",
}
clouds = {"clouds": {
    "demo-password": {
        "auth_type": "password",
        "auth": {"auth_url": KS, "username": "demo", "password": "demo-secret",
                 "project_name": "demo", "user_domain_name": "Default",
                 "project_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3},
    "demo-appcred": {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": KS, "application_credential_id": app_cred_id,
                 "application_credential_secret": app_cred_secret},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3},
}}


def write(name, text):
    path = os.path.join(STATE, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def sh_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


# JSON is valid YAML; clouds.yaml readers accept it.
write("clouds.yaml", json.dumps(clouds, indent=2) + "\n")
write("env.json", json.dumps(env, indent=2) + "\n")
write("env", "".join(f"export {k}={sh_quote(v)}\n" for k, v in env.items()))
print("bootstrap done", app_cred_id)
PY
  for s in glance glance-plain; do
    wait_http "$s" "http://127.0.0.1:$(port_of "$s")/versions"
  done
  # One authenticated call per Glance: proves keystonemiddleware and the glance service user work.
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
  echo "local-cloud: Keystone :$keystone_port, Glance :$glance_port (import) and :$glance_plain_port (plain) up in $((SECONDS - t0)) s" >&2
  if [ "$compute" = 1 ]; then
    start_compute "$compute_db"
    echo "local-cloud: Placement :$placement_port, Nova :$nova_port, Neutron :$neutron_port, RabbitMQ :$rabbit_port, MariaDB :$mariadb_port up; whole start $((SECONDS - t0)) s" >&2
  fi
  echo "$state/env"
}

# Checks a started cloud end to end with curl: password and application-credential tokens,
# PUT /file on the plain Glance, stage + glance-direct import on the import Glance, Glance's
# os_hash_value against our SHA-512, delete, and no image left.
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
  echo "selftest: ok" >&2
}

for arg in "${@:2}"; do
  case $arg in
    --compute) compute=1 ;;
    *) die "unknown option $arg" ;;
  esac
done

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  selftest) cmd_selftest ;;
  *)
    echo "usage: $0 start [--compute]|stop|status|env|selftest" >&2
    exit 2
    ;;
esac
