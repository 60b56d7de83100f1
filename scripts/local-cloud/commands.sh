# shellcheck shell=bash
# The commands start, stop, status and env: the order in which the services are prepared,
# started, waited for and stopped (the pieces of each service are in their own files), and the
# compute and DNS bootstraps (bootstrap_compute.py, bootstrap_dns.py) that end `start --compute`.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

cmd_stop() {
  local s pid i t how pids=() names=()
  [ -d "$run" ] || return 0
  for s in "${compute_services[@]}" "${services[@]}"; do
    [ -f "$run/$s.pid" ] || continue
    pid=$(cat "$run/$s.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      case $s in
        # SIGINT: gunicorn's quick shutdown (the state is thrown away at the next start anyway).
        keystone | glance | glance-plain | placement | nova-api | designate-api) kill -INT "$pid" 2>/dev/null || true ;;
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

# Schemas: Placement, Nova (API, cell0, cell1), Neutron and Designate in parallel.
sync_compute_dbs() {
  local p1 p2 p3 p4
  placement_db_sync &
  p1=$!
  nova_db_sync &
  p2=$!
  neutron_db_sync &
  p3=$!
  designate_db_sync &
  p4=$!
  wait "$p1" || die "placement-manage db sync failed; see $logs/placement-manage.log"
  wait "$p2" || die "nova-manage failed; see $logs/nova-manage.log"
  wait "$p3" || die "neutron-db-manage upgrade heads failed; see $logs/neutron-db-manage.log"
  wait "$p4" || die "designate-manage database sync failed; see $logs/designate-manage.log"
}

# Waits for the compute node, maps it into cell1, waits for the Nova services; then flavors,
# quotas, networks, router and security group rules; adds the compute keys to env/env.json.
bootstrap_compute() {
  FK_STATE="$state" FK_NOVA_MANAGE="$venv/bin/nova-manage" FK_NOVA_CONF="$state/nova/nova.conf" \
    FK_WAIT="$wait_seconds" "$venv/bin/python" "$local_cloud_dir/bootstrap_compute.py" </dev/null \
    >>"$logs/bootstrap.log" 2>&1 || die "preparing the compute resources failed; see $logs/bootstrap.log"
}

# Second half of `start --compute`: after Keystone (service users, catalog) and the schemas.
start_compute() {
  local compute_db=$1 compute_boot
  wait "$compute_db" || die "preparing the compute schemas failed; see $logs/"
  register_fake_ovs_agent
  wait_tcp rabbitmq "$rabbit_port"
  start_placement
  start_nova_api
  start_neutron
  start_nova_services
  start_designate
  wait_http placement "http://127.0.0.1:$placement_port/"
  wait_http nova-api "http://127.0.0.1:$nova_port/"
  wait_http neutron "http://127.0.0.1:$neutron_port/"
  # The compute resources and the DNS zone side by side (both add keys to env/env.json).
  bootstrap_compute &
  compute_boot=$!
  wait_designate
  bootstrap_dns
  wait "$compute_boot" || die "preparing the compute resources failed; see $logs/bootstrap.log"
}

cmd_start() {
  local t0=$SECONDS s compute_db="" glance_sync glance_plain_sync swift_start
  [ -x "$venv/bin/gunicorn" ] || die "no venv at $venv: run 'bash scripts/setup.sh' first"
  [ -x "$swift_venv/bin/swift-proxy-server" ] || die "no venv at $swift_venv: run 'bash scripts/setup.sh' first"
  cmd_stop
  check_ports_free
  # Fresh state each start: new databases, keys, images and logs.
  rm -rf "$state"
  mkdir -p "$logs" "$run"
  chmod 700 "$state"
  # Swift needs nothing else to start (Keystone only for requests): rings and servers first.
  start_swift &
  swift_start=$!
  start_mariadb
  if [ "$compute" = 1 ]; then
    # The slow part (the compute schemas) and the broker start first and run beside Keystone/Glance.
    touch "$state/compute"
    write_placement_conf
    write_nova_conf
    write_neutron_conf
    write_designate_conf
    sync_compute_dbs &
    compute_db=$!
    start_rabbitmq
    start_named
  fi
  write_keystone_conf
  write_glance_conf glance "$glance_port" '[glance-direct,web-download,copy-image]'
  write_glance_conf glance-plain "$glance_plain_port" '[]'

  # Glance schemas in the background while Keystone is prepared.
  glance_db_sync glance &
  glance_sync=$!
  glance_db_sync glance-plain &
  glance_plain_sync=$!

  setup_keystone
  start_keystone

  wait "$glance_sync" || die "glance-manage db_sync failed; see $logs/glance-manage.log"
  wait "$glance_plain_sync" || die "glance-manage db_sync failed; see $logs/glance-plain-manage.log"
  for s in glance glance-plain; do
    start_glance "$s"
  done

  wait_http keystone "$keystone_url"
  bootstrap_identity
  for s in glance glance-plain; do
    wait_http "$s" "http://127.0.0.1:$(port_of "$s")/versions"
  done
  check_glance_auth
  wait "$swift_start" || die "starting Swift failed; see $logs/swift-*.log"
  wait_swift
  echo "local-cloud: Keystone :$keystone_port, Glance :$glance_port (import) and :$glance_plain_port (plain), Swift :$swift_port up in $((SECONDS - t0)) s" >&2
  if [ "$compute" = 1 ]; then
    start_compute "$compute_db"
    echo "local-cloud: Placement :$placement_port, Nova :$nova_port, Neutron :$neutron_port, Designate :$designate_port (named :$bind_port), RabbitMQ :$rabbit_port, MariaDB :$mariadb_port up; whole start $((SECONDS - t0)) s" >&2
  fi
  echo "$state/env"
}
