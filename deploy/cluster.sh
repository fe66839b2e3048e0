#!/usr/bin/env bash
# A HubApi cluster on loopback, for trying the scale-out set-up on one machine:
# a PostgreSQL 15 primary, a synchronous hot standby streaming from it, N HubApi replicas and nginx in front.
#
#   deploy/cluster.sh start [N=2] [BASE_PORT=18400]   nginx on BASE, primary BASE+1, standby BASE+2, replicas BASE+11..
#   deploy/cluster.sh status                          what runs, and the standby's replication state
#   deploy/cluster.sh restart-replica I               restart replica I (SIGTERM, or start it again if it died)
#   deploy/cluster.sh restart-primary                 restart the primary PostgreSQL (pg_ctl restart -m fast)
#   deploy/cluster.sh promote                         stop the primary, promote the standby (a failover drill)
#   deploy/cluster.sh stop                            stop exactly the processes start started (by recorded pid)
#
# Everything lives in deploy/.run/ (data directories, logs, pids, the admin key), or in $CLUSTER_RUN when set. `stop`
# keeps it; delete the folder to start afresh. Run as root (PostgreSQL then runs as the postgres user) or as an
# ordinary user. The replicas inherit this script's environment, so any HubApi setting exported before `start` or
# `restart-replica` (RateLimiting__AnonymousPermitsPerMinute=..., ResponseCache__MaxEntries=...) reaches them.
# CLUSTER_BUILD=0 uses src/HubApi as already built (Release) instead of building it first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
run="${CLUSTER_RUN:-$here/.run}"
pgbin=/usr/lib/postgresql/15/bin
app="$repo/src/HubApi/bin/Release/net10.0/HubApi"

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# Debian installs nginx in /usr/sbin, which an ordinary user's PATH may lack.
nginx_bin() { command -v nginx || echo /usr/sbin/nginx; }
psql_admin() { as_pg "$pgbin/psql" -h 127.0.0.1 -p "$1" -U postgres -qAt "${@:2}"; }

# A pid is ours only while its command line still matches what we started (pids are reused).
alive() { # pidfile pattern
  [ -f "$1" ] || return 1
  local pid; pid="$(head -1 "$1")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$2"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_http() { # url seconds
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    if curl -fs -o /dev/null --max-time 2 "$1"; then return 0; fi
    sleep 0.25
  done
  return 1
}

install_missing() {
  local need=()
  [ -x "$(nginx_bin)" ] || need+=(nginx)
  [ -x "$pgbin/initdb" ] || need+=(postgresql-15)
  command -v curl >/dev/null || need+=(curl)
  [ ${#need[@]} -eq 0 ] && return 0
  say "installing ${need[*]}"
  as_root apt-get update -qq
  # No cluster of the distribution's own: this script makes its own.
  as_root mkdir -p /etc/postgresql-common
  [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq -o Dpkg::Options::=--force-confold "${need[@]}" >/dev/null
}

load_state() { [ -f "$run/state" ] || die "no cluster state in $run (run: $0 start)"; . "$run/state"; }

# Replica I on BASE+10+I, from the state file: its own application name in pg_stat_activity, nginx as its only proxy.
start_replica() { # i
  local i=$1 port=$((BASE + 10 + $1))
  ASPNETCORE_ENVIRONMENT=Production Database__Provider=Postgres ConnectionStrings__Hub="$CONN;Application Name=hubapi-$i" \
    Auth__AdminKey="$(cat "$run/admin-key")" ForwardedHeaders__KnownProxies="${ForwardedHeaders__KnownProxies:-127.0.0.1}" \
    setsid "$app" --urls "http://127.0.0.1:$port" >> "$run/logs/hubapi-$i.log" 2>&1 < /dev/null &
  echo $! > "$run/pids/hubapi-$i.pid"
}

wait_replica() { # i
  wait_http "http://127.0.0.1:$((BASE + 10 + $1))/health/ready" 90 \
    || { tail -20 "$run/logs/hubapi-$1.log"; die "replica $1 not ready (log: $run/logs/hubapi-$1.log)"; }
}

start() {
  local n="${1:-2}" base="${2:-18400}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number"
  [[ "$base" =~ ^[0-9]+$ ]] || die "BASE_PORT must be a number"
  if [ -f "$run/state" ]; then
    . "$run/state"
    for f in "$run"/pids/*.pid; do [ -e "$f" ] && alive "$f" . && die "already running ($f); stop it first"; done
  fi
  [ -e "$run/promoted" ] && die "the standby was promoted: $run/pg/primary is stale. Delete $run to start afresh"
  install_missing
  local nginx_port=$base p1=$((base + 1)) p2=$((base + 2)) i
  for p in $nginx_port $p1 $p2 $(seq $((base + 11)) $((base + 10 + n))); do port_free "$p" || die "port $p is taken; pass another BASE_PORT"; done

  mkdir -p "$run/pids" "$run/logs" "$run/pg" "$run/nginx/logs" "$run/nginx/temp"
  # As root, PostgreSQL (the postgres user) and nginx's workers must reach into the run folder.
  [ "$(id -u)" -eq 0 ] && { chmod 755 "$run"; chown postgres "$run/pg"; }
  rm -f "$run"/pids/*.pid

  if [ "${CLUSTER_BUILD:-1}" != 0 ]; then
    say "building HubApi (Release)"
    (cd "$repo" && dotnet build -c Release -nologo -v q -clp:ErrorsOnly src/HubApi) > "$run/logs/build.log" 2>&1 || { cat "$run/logs/build.log"; die "build failed"; }
  fi
  [ -x "$app" ] || die "$app is not built (dotnet build -c Release src/HubApi)"

  # --- PostgreSQL primary ------------------------------------------------------------------------------------------
  local primary="$run/pg/primary" standby="$run/pg/standby"
  if [ ! -f "$primary/PG_VERSION" ]; then
    say "initdb primary"
    as_pg "$pgbin/initdb" -D "$primary" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 > "$run/logs/initdb.log" 2>&1 \
      || { cat "$run/logs/initdb.log"; die "initdb failed"; }
    as_pg tee -a "$primary/postgresql.conf" > /dev/null <<CONF

# deploy/cluster.sh
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
max_connections = 200
wal_retrieve_retry_interval = 1s   # the standby reconnects within a second of a primary restart (commits wait for it)
CONF
    as_pg tee -a "$primary/pg_hba.conf" > /dev/null <<CONF
# deploy/cluster.sh: loopback only
host    replication     postgres        127.0.0.1/32            trust
host    all             all             127.0.0.1/32            trust
CONF
  fi
  say "starting PostgreSQL primary on 127.0.0.1:$p1"
  as_pg "$pgbin/pg_ctl" -D "$primary" -l "$run/pg/primary.log" -w -t 60 -o "-p $p1 -k $run/pg" start > /dev/null \
    || { tail -20 "$run/pg/primary.log"; die "primary did not start"; }
  head -1 "$primary/postmaster.pid" > "$run/pids/pg-primary.pid"
  psql_admin "$p1" -c "select 1 from pg_roles where rolname='hubapi'" | grep -q 1 || psql_admin "$p1" -c "create role hubapi login"
  psql_admin "$p1" -c "select 1 from pg_database where datname='hubapi'" | grep -q 1 || psql_admin "$p1" -c "create database hubapi owner hubapi"

  # --- Hot standby -------------------------------------------------------------------------------------------------
  if [ ! -f "$standby/PG_VERSION" ]; then
    say "pg_basebackup -R: standby"
    as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$standby" -R -X stream -c fast > "$run/logs/basebackup.log" 2>&1 \
      || { cat "$run/logs/basebackup.log"; die "pg_basebackup failed"; }
  fi
  say "starting PostgreSQL standby on 127.0.0.1:$p2"
  as_pg "$pgbin/pg_ctl" -D "$standby" -l "$run/pg/standby.log" -w -t 60 -o "-p $p2 -k $run/pg" start > /dev/null \
    || { tail -20 "$run/pg/standby.log"; die "standby did not start"; }
  head -1 "$standby/postmaster.pid" > "$run/pids/pg-standby.pid"

  # Synchronous from now on: a commit returns once the standby has its WAL on disk, so a write the service has
  # acknowledged survives the loss of the primary. Set after the base backup, so the standby's copy of the
  # configuration never waits for a standby of its own once promoted.
  psql_admin "$p1" -c "alter system set synchronous_standby_names = '*'" -c "select pg_reload_conf()" > /dev/null
  for ((i = 0; i < 120; i++)); do
    [ "$(psql_admin "$p1" -c "select count(*) from pg_stat_replication where sync_state = 'sync'")" = 1 ] && break
    sleep 0.25
  done
  [ "$(psql_admin "$p1" -c "select count(*) from pg_stat_replication where sync_state = 'sync'")" = 1 ] \
    || { tail -20 "$run/pg/standby.log"; die "the standby does not replicate synchronously"; }

  # --- HubApi replicas ---------------------------------------------------------------------------------------------
  [ -f "$run/admin-key" ] || { (umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/admin-key"); }
  # With several hosts, Npgsql takes any broken connection for its server being down and, for Host Recheck Seconds (10
  # by default), finds "no suitable host": 1 s brings a replica back that much sooner after a restart, a failover or
  # one ended backend.
  local conn="Host=127.0.0.1:$p1,127.0.0.1:$p2;Database=hubapi;Username=hubapi;Target Session Attributes=primary;Host Recheck Seconds=1"
  cat > "$run/state" <<STATE
N=$n
BASE=$base
NGINX_PORT=$nginx_port
PRIMARY_PORT=$p1
STANDBY_PORT=$p2
CONN=$(printf '%q' "$conn")
STATE
  . "$run/state"
  local servers=""
  for ((i = 1; i <= n; i++)); do
    say "starting HubApi replica $i on 127.0.0.1:$((base + 10 + i))"
    start_replica "$i"
    servers+="        server 127.0.0.1:$((base + 10 + i)) max_fails=1 fail_timeout=5s;"$'\n'
  done
  for ((i = 1; i <= n; i++)); do wait_replica "$i"; done

  # --- nginx -------------------------------------------------------------------------------------------------------
  local conf="$run/nginx/nginx.conf" nginx; nginx="$(nginx_bin)"
  awk -v run="$run" -v port="$nginx_port" -v servers="${servers%$'\n'}" '
    { gsub(/@RUN@/, run); gsub(/@LISTEN_PORT@/, port) }
    /^@UPSTREAM_SERVERS@$/ { print servers; next }
    { print }' "$here/nginx.conf.template" > "$conf"
  "$nginx" -p "$run/nginx/" -c "$conf" -e "$run/nginx/logs/error.log" -t -q || die "nginx configuration rejected"
  say "starting nginx on 127.0.0.1:$nginx_port"
  rm -f "$run/nginx/nginx.pid"
  "$nginx" -p "$run/nginx/" -c "$conf" -e "$run/nginx/logs/error.log"
  for ((i = 0; i < 40; i++)); do [ -s "$run/nginx/nginx.pid" ] && break; sleep 0.1; done
  cp "$run/nginx/nginx.pid" "$run/pids/nginx.pid"
  wait_http "http://127.0.0.1:$nginx_port/health/ready" 20 || die "nginx does not answer"

  echo
  echo "HubApi cluster up (run folder: $run)"
  echo "  nginx            http://127.0.0.1:$nginx_port/"
  for ((i = 1; i <= n; i++)); do echo "  replica $i        http://127.0.0.1:$((base + 10 + i))/"; done
  echo "  primary          postgresql://hubapi@127.0.0.1:$p1/hubapi"
  echo "  standby          postgresql://hubapi@127.0.0.1:$p2/hubapi (read-only, synchronous)"
  echo "  admin key        $(cat "$run/admin-key")   (header X-Api-Key; also in $run/admin-key)"
  echo "  connection       $conn"
}

status() {
  load_state
  local f name
  for f in "$run"/pids/*.pid; do
    [ -e "$f" ] || continue
    name="$(basename "$f" .pid)"
    local pat=HubApi; case "$name" in pg-*) pat=postgres ;; nginx) pat=nginx ;; esac
    if alive "$f" "$pat"; then printf '  %-12s pid %-8s running\n' "$name" "$(head -1 "$f")"; else printf '  %-12s pid %-8s not running\n' "$name" "$(head -1 "$f")"; fi
  done
  local p
  for p in "$PRIMARY_PORT" "$STANDBY_PORT"; do
    if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$p"; then
      printf '  port %-6s in recovery: %s\n' "$p" "$(psql_admin "$p" -c 'select pg_is_in_recovery()')"
      psql_admin "$p" -F ' ' -c \
        "select '    replica', client_addr, state, sync_state, 'replay lag', coalesce(replay_lag::text, '0'), 'bytes behind', pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) from pg_stat_replication" 2>/dev/null || true
    fi
  done
}

stop_pid() { # pidfile pattern signal
  local f="$1" pid i
  alive "$f" "$2" || { rm -f "$f"; return 0; }
  pid="$(head -1 "$f")"
  kill "-$3" "$pid"
  for ((i = 0; i < 120; i++)); do alive "$f" "$2" || break; sleep 0.25; done
  alive "$f" "$2" && { say "pid $pid still running after 30 s; sending SIGKILL"; kill -KILL "$pid"; }
  rm -f "$f"
}

stop() {
  load_state
  local f
  if alive "$run/pids/nginx.pid" nginx; then
    say "stopping nginx"
    "$(nginx_bin)" -p "$run/nginx/" -c "$run/nginx/nginx.conf" -e "$run/nginx/logs/error.log" -s quit || true
    stop_pid "$run/pids/nginx.pid" nginx QUIT
  fi
  rm -f "$run/pids/nginx.pid"
  for f in "$run"/pids/hubapi-*.pid; do
    [ -e "$f" ] || continue
    say "stopping $(basename "$f" .pid) (SIGTERM)"
    stop_pid "$f" HubApi TERM
  done
  for name in standby primary; do
    if alive "$run/pids/pg-$name.pid" postgres; then
      say "stopping PostgreSQL $name"
      as_pg "$pgbin/pg_ctl" -D "$run/pg/$name" -m fast -w -t 60 stop > /dev/null
    fi
    rm -f "$run/pids/pg-$name.pid"
  done
  say "stopped"
}

restart_replica() {
  load_state
  local i="${1:-}"
  [[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -ge 1 ] && [ "$i" -le "$N" ] || die "which replica? 1 to $N"
  if alive "$run/pids/hubapi-$i.pid" HubApi; then
    say "stopping replica $i (SIGTERM)"
    stop_pid "$run/pids/hubapi-$i.pid" HubApi TERM
  fi
  say "starting HubApi replica $i on 127.0.0.1:$((BASE + 10 + i))"
  start_replica "$i"
  wait_replica "$i"
}

restart_primary() {
  load_state
  [ -e "$run/promoted" ] && die "the standby was promoted: the primary is stale"
  say "restarting the primary (port $PRIMARY_PORT)"
  as_pg "$pgbin/pg_ctl" -D "$run/pg/primary" -l "$run/pg/primary.log" -m fast -w -t 60 restart > /dev/null \
    || { tail -20 "$run/pg/primary.log"; die "the primary did not restart"; }
  head -1 "$run/pg/primary/postmaster.pid" > "$run/pids/pg-primary.pid"
}

promote() {
  load_state
  # Fence the old primary first: with two primaries, Target Session Attributes=primary would take the first listed.
  if alive "$run/pids/pg-primary.pid" postgres; then
    say "stopping the primary (port $PRIMARY_PORT)"
    as_pg "$pgbin/pg_ctl" -D "$run/pg/primary" -m fast -w -t 60 stop > /dev/null
    rm -f "$run/pids/pg-primary.pid"
  fi
  say "promoting the standby (port $STANDBY_PORT)"
  as_pg "$pgbin/pg_ctl" -D "$run/pg/standby" -w -t 60 promote > /dev/null
  # The promoted server has no standby of its own: its commits are on one disk until one is attached again.
  psql_admin "$STANDBY_PORT" -c "alter system reset synchronous_standby_names" -c "select pg_reload_conf()" > /dev/null
  touch "$run/promoted"
  say "replicas reconnect to 127.0.0.1:$STANDBY_PORT through their connection string; the old primary is now stale:"
  say "rebuild it as a standby of the new one (pg_basebackup -R or pg_rewind) before starting it again"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  restart-replica) restart_replica "${2:-}" ;;
  restart-primary) restart_primary ;;
  promote) promote ;;
  *) echo "usage: $0 start [N] [BASE_PORT] | stop | status | restart-replica I | restart-primary | promote" >&2; exit 2 ;;
esac
