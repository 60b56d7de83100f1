# shellcheck shell=bash
# Shared helpers of the local cloud: messages, pid files, ports, waiting for a service,
# starting gunicorn and daemons, rendering the configuration templates.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

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
    swift-proxy) echo "$swift_port" ;;
    swift-object) echo "$swift_object_port" ;;
    swift-container) echo "$swift_container_port" ;;
    swift-account) echo "$swift_account_port" ;;
    designate-api) echo "$designate_port" ;;
    designate-mdns) echo "$mdns_port" ;;
    named) echo "$bind_port" ;;
  esac
}

# Every port a service listens on (port_of gives the main one): named's rndc channel too.
ports_of() {
  case $1 in
    named) echo "$bind_port $rndc_port" ;;
    *) port_of "$1" ;;
  esac
}

# Log file of a service: the four Nova processes share nova.log.
log_of() {
  case $1 in
    nova-*) echo "$logs/nova.log" ;;
    designate-*) echo "$logs/designate.log" ;;
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

check_ports_free() {
  local s port list=("${services[@]}")
  [ "$compute" = 1 ] && list+=("${compute_services[@]}")
  for s in "${list[@]}"; do
    for port in $(ports_of "$s"); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port $port (for $s) is already in use by a process this script did not start"
      fi
    done
  done
  # DNS is UDP too (named, designate-mdns): a bind test, as nothing answers a UDP connect.
  if [ "$compute" = 1 ]; then
    "$venv/bin/python" - "$bind_port" "$mdns_port" <<'PY' || die "a DNS port (UDP) is already in use by a process this script did not start"
import socket, sys
for port in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", int(port)))
    except OSError as e:
        sys.exit(f"UDP 127.0.0.1:{port}: {e}")
    finally:
        s.close()
PY
  fi
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

# Waits until something listens on 127.0.0.1:PORT.
wait_tcp() {
  local name=$1 port=$2 deadline=$((SECONDS + wait_seconds))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    pid_alive "$name" || { tail -n 30 "$(log_of "$name")" >&2; die "$name exited during start-up; see $(log_of "$name")"; }
    [ $SECONDS -lt $deadline ] || die "$name not listening on $port within ${wait_seconds}s; see $(log_of "$name")"
    sleep 0.2
  done
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

# start_daemon NAME COMMAND... (own process group, pid file, log)
start_daemon() {
  local name=$1
  shift
  setsid "$@" >>"$(log_of "$name")" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

# install_wsgi SERVICE: copies wsgi/fk_SERVICE_wsgi.py into $state/wsgi, gunicorn's --pythonpath
# (a copy, so Python's __pycache__ stays out of the repository).
install_wsgi() {
  mkdir -p "$state/wsgi"
  cp "$local_cloud_dir/wsgi/fk_$1_wsgi.py" "$state/wsgi/"
}

# render TEMPLATE OUTPUT [NAME=VALUE...]: writes templates/TEMPLATE to OUTPUT with every @NAME@
# replaced by VALUE (literally; nothing else is expanded). Every NAME must occur in the template
# and no @UPPER_CASE@ placeholder may be left over.
render() {
  local template="$templates/$1" out=$2 text="" pair name
  shift 2
  [ -f "$template" ] || die "no template $template"
  IFS= read -r -d '' text <"$template" || true
  for pair in "$@"; do
    name=${pair%%=*}
    [[ $text == *"@$name@"* ]] || die "template $template has no placeholder @$name@"
    text=${text//"@$name@"/"${pair#*=}"}
  done
  if [[ $text =~ @[A-Z][A-Z0-9_]*@ ]]; then
    die "template $template: no value given for ${BASH_REMATCH[0]}"
  fi
  printf '%s' "$text" >"$out"
}
