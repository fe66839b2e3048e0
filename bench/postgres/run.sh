# The PostgreSQL part of bench/run.sh (sourced by it, after the SQLite parts; uses its helpers and settings):
#   pg        HubApi on PostgreSQL, seeded database, cached reads against the limit replaying its own bytes;
#   pg-1m     uncached get-by-id on BENCH_PG_FIRMS (1,000,000) synthetic firms against pgbench running a select of one
#             firm by id on HubApi's own schema, with the same number of clients: the floor any PostgreSQL-backed read pays;
#   pg-nginx  one replica against two behind nginx (deploy/nginx.conf.template), on the same database.
# The server is a throwaway PostgreSQL 15 cluster in bench/.work/pg (kept: the generated database is cached there, keyed
# by the schema, the seed, the generator and the firm count), on a free loopback port, stopped when the run ends.

PGBIN=/usr/lib/postgresql/15/bin
PG_FIRMS=${BENCH_PG_FIRMS:-1000000}
PG_DATA=$WORK/pg
PG_PID=""
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_sql() { PGOPTIONS=--client-min-messages=warning "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }

bench_pg_stop() { # called by run.sh's cleanup: a fast shutdown of the server this script started, by its pid
  [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null || return 0
  kill -INT "$PG_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  PG_PID=""
}

if [ ! -x "$PGBIN/pgbench" ]; then
  log "installing postgresql-15"
  mkdir -p /etc/postgresql-common
  [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  [ "$APT_UPDATED" = 1 ] || { apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq -o Dpkg::Options::=--force-confold postgresql-15 > /dev/null
fi
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX_BIN" ] || need nginx nginx

# ---------------------------------------------------------------------------------------------- the server
if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  log "initdb $PG_DATA"
  mkdir -p "$PG_DATA"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DATA"
  as_pg "$PGBIN/initdb" -D "$PG_DATA" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 > "$RUN/pg-initdb.log" 2>&1 \
    || { cat "$RUN/pg-initdb.log" >&2; die "initdb failed"; }
fi
free_port; PG_PORT=$PORT
# Settings as a small dedicated server would have them; the same for HubApi and pgbench.
as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 120 \
  -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB" start > /dev/null \
  || { tail -20 "$PG_DATA/server.log" >&2; die "PostgreSQL did not start"; }
PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
PG_VERSION_TEXT=$(pg_sql -c "show server_version")
record "$(jq -nc --arg v "$PG_VERSION_TEXT" --argjson firms "$PG_FIRMS" '{kind:"pg",server_version:$v,firms:$firms}')"

pg_conn() { echo "Host=127.0.0.1;Port=$PG_PORT;Database=$1;Username=postgres"; }
start_hub_pg() { # database, log file, [VAR=value ...] → PID, PORT
  local db=$1 logfile=$2; shift 2
  free_port
  mkdir -p "$(dirname "$HUB_LINK")"
  ln -sfn "$HUB_BIN" "$HUB_LINK"
  (cd "$(dirname "$HUB_BIN")" && exec env ASPNETCORE_ENVIRONMENT=Production Database__Provider=Postgres ConnectionStrings__Hub="$(pg_conn "$db")" \
    Auth__AdminKey="$API_KEY" RateLimiting__AnonymousPermitsPerMinute=0 RateLimiting__KeyedPermitsPerMinute=0 "$@" \
    "$HUB_LINK" --urls "http://127.0.0.1:$PORT") > "$logfile" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

# nginx from deploy/nginx.conf.template in front of the given replica ports → PID (the master's), PORT
start_nginx() { # name, replica port...
  local name=$1 dir servers="" p conf i; shift
  dir=$RUN/$name
  for p in "$@"; do servers+="        server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"$'\n'; done
  mkdir -p "$dir/nginx/logs" "$dir/nginx/temp"
  free_port
  conf=$dir/nginx/nginx.conf
  awk -v run="$dir" -v port="$PORT" -v servers="${servers%$'\n'}" '
    { gsub(/@RUN@/, run); gsub(/@LISTEN_PORT@/, port) }
    /^@UPSTREAM_SERVERS@$/ { print servers; next }
    { print }' "$ROOT/deploy/nginx.conf.template" > "$conf"
  "$NGINX_BIN" -p "$dir/nginx/" -c "$conf" -e "$dir/nginx/logs/error.log" || die "nginx did not start ($dir)"
  for ((i = 0; i < 50; i++)); do [ -s "$dir/nginx/nginx.pid" ] && break; sleep 0.1; done
  PID=$(cat "$dir/nginx/nginx.pid")
  PIDS+=("$PID")
}

# ---------------------------------------------------------------------------------------------- seeded: cached reads
log "PostgreSQL $PG_VERSION_TEXT on port $PG_PORT: seeded database"
pg_sql -c "drop database if exists hubapi_bench_seeded" -c "create database hubapi_bench_seeded"
start=$(now_ms); start_hub_pg hubapi_bench_seeded "$RUN/hub-pg.log"; HUB_PID=$PID; HUB=http://127.0.0.1:$PORT
wait_for "$HUB/health/ready" "$PID" 120 "$RUN/hub-pg.log"
record "$(jq -nc --argjson ms $(($(now_ms) - start)) --argjson h "$(read_hwm "$PID")" '{kind:"startup",phase:"pg",mode:"cold",ms:$ms,rss_kb:$h}')"
PG_ENDPOINTS=(
  "get|/v1/firms/smic"
  "page|/v1/firms?zone=lingang&sort=name&limit=20"
  "page-industries|/v1/industries?strategic=false&sort=name&limit=20"
  "q|/v1/firms?q=wafer&limit=20"
)
CAP=$RUN/captures-pg; mkdir -p "$CAP"
for e in "${PG_ENDPOINTS[@]}"; do
  IFS='|' read -r name target <<< "$e"
  capture "$CAP" "$name" GET "$HUB" "$target"
  [ "$(status_of "$CAP/$name.headers")" = 200 ] || die "HubApi on PostgreSQL answered $(status_of "$CAP/$name.headers") to $target"
done
start_limit "$CAP" "$RUN/limit-pg.log"; LIMIT_PID=$PID; LIMIT=http://127.0.0.1:$PORT
wait_for "$LIMIT/v1/firms/smic" "$PID" 30 "$RUN/limit-pg.log"
quiet_wait "$([ "$QUICK" = 1 ] && echo 0 || echo 300)" "PostgreSQL"
log "PostgreSQL, seeded: cached reads against the limit"
for e in "${PG_ENDPOINTS[@]}"; do
  IFS='|' read -r name target <<< "$e"
  contender hubapi "$HUB_PID" "$HUB$target" get.lua
  contender limit "$LIMIT_PID" "$LIMIT$target" get.lua
  measure_endpoint pg "$name"
done
HUB_ETAG=$(header_of "$CAP/get.headers" etag)
contender hubapi "$HUB_PID" "$HUB/v1/firms/smic" revalidate.lua BENCH_ETAG="$HUB_ETAG"
contender limit "$LIMIT_PID" "$LIMIT/v1/firms/smic" revalidate.lua BENCH_ETAG="$HUB_ETAG"
measure_endpoint pg 304
stop "$LIMIT_PID"; stop "$HUB_PID"

# ---------------------------------------------------------------------------------------------- generated firms
PG_1M_DB=hubapi_bench_firms_$PG_FIRMS
PG_STAMP=$( (cat "$ROOT"/db/postgres/*.sql "$ROOT/db/seed/dataset.json" "$BENCH/postgres/generate.sql"; echo "$PG_FIRMS") | sha256sum | cut -c1-16)
PG_BIG_READY=1
if [ "$(cat "$WORK/$PG_1M_DB.stamp" 2>/dev/null)" = "$PG_STAMP" ] \
   && [ "$(pg_sql -c "select count(*) from pg_database where datname = '$PG_1M_DB'")" = 1 ]; then
  :
elif [ "$QUICK" = 1 ] && [ -z "${BENCH_PG_FIRMS:-}" ]; then
  PG_BIG_READY=0
  note "--quick: no cached PostgreSQL database of $PG_FIRMS firms, so its measurements were skipped (a full run generates it once into bench/.work/pg; BENCH_PG_FIRMS=20000 makes a small one)."
else
  log "generating $PG_FIRMS firms into PostgreSQL database $PG_1M_DB (once; cached in $PG_DATA)"
  start=$(now_ms)
  pg_sql -c "drop database if exists $PG_1M_DB" -c "create database $PG_1M_DB"
  # Schema and seed as the service makes them on first start, then the synthetic firms.
  start_hub_pg "$PG_1M_DB" "$RUN/hub-pg-migrate.log"; wait_for "http://127.0.0.1:$PORT/health/ready" "$PID" 120 "$RUN/hub-pg-migrate.log"; stop "$PID"
  pg_sql -d "$PG_1M_DB" -v firms="$PG_FIRMS" -f "$BENCH/postgres/generate.sql" > "$RUN/pg-generate.log" 2>&1 \
    || { tail -20 "$RUN/pg-generate.log" >&2; die "generating the PostgreSQL database failed"; }
  pg_sql -c "checkpoint"
  record "$(jq -nc --argjson ms $(($(now_ms) - start)) --arg size "$(pg_sql -c "select pg_size_pretty(pg_database_size('$PG_1M_DB'))")" '{kind:"generate",phase:"pg-1m",ms:$ms,size:$size}')"
  echo "$PG_STAMP" > "$WORK/$PG_1M_DB.stamp"
fi

# pgbench_round round: one round of pgbench (select-only, one firm by id, prepared) recorded as wrk's rounds are, with
# latency percentiles from its per-transaction log.
pgbench_round() {
  local round=$1 dir=$RUN/pgbench-$1 out b0 b1 t0 t1 tps failed lat others
  rm -rf "$dir"; mkdir -p "$dir"
  b0=$(busy_seconds); t0=$(now_ms)
  out=$(cd "$dir" && /usr/bin/time -f '%U %S' -o "$RUN/pgbench.cpu" "$PGBIN/pgbench" -n -M prepared -c "$CONNECTIONS" -j "$THREADS" \
    -T "$DURATION" -D firms="$PG_FIRMS" -f "$BENCH/postgres/select-firm.sql" ${2:+-l} -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_1M_DB" 2>&1) \
    || { echo "$out" >&2; die "pgbench failed"; }
  b1=$(busy_seconds); t1=$(now_ms)
  [ -n "${2:-}" ] || return 0 # warm-up
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<< "$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<< "$out")
  [ -n "$tps" ] || { echo "$out" >&2; die "no tps from pgbench"; }
  # Per-transaction log lines: client, transaction, latency (us), script, epoch s, epoch us.
  lat=$(cat "$dir"/pgbench_log.* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END {
    printf "%d %d %d %d %d", NR, v[int(NR * 0.5) + 1], v[int(NR * 0.9) + 1], v[int(NR * 0.99) + 1], v[NR] }')
  others=$(awk -v b0="$b0" -v b1="$b1" -v ms=$((t1 - t0)) -v n="$(nproc)" -v w="$(cat "$RUN/pgbench.cpu")" \
    'BEGIN { split(w, c, " "); o = (b1 - b0) - c[1] - c[2]; if (o < 0) o = 0; printf "%d", 100 * o / (ms / 1000 * n) }')
  read -r n p50 p90 p99 max <<< "$lat"
  record "$(jq -nc --argjson r "$round" --argjson n "$n" --argjson tps "$tps" --argjson p50 "$p50" --argjson p90 "$p90" --argjson p99 "$p99" \
    --argjson max "$max" --argjson failed "${failed:-0}" --argjson conn "$CONNECTIONS" --argjson o "$others" --argjson d "$DURATION" \
    '{kind:"wrk",phase:"pg-1m",endpoint:"get (random ids)",contender:"pgbench",url:"bench/postgres/select-firm.sql",round:$r,
      requests:$n,duration_us:($d * 1000000),rps:$tps,p50_us:$p50,p90_us:$p90,p99_us:$p99,max_us:$max,rss_kb:0,connections:$conn,
      others_pct:$o,errors:{connect:0,read:0,write:0,status:$failed,timeout:0}}')"
  log "pg-1m get (random ids) pgbench round $round: $(printf '%.0f' "$tps") tps, p50 $((p50 / 1000)) ms, p99 $((p99 / 1000)) ms, others ${others}% CPU"
}

# ---------------------------------------------------------------------------------------------- uncached get by id
if [ "$PG_BIG_READY" = 1 ]; then
quiet_wait "$([ "$QUICK" = 1 ] && echo 0 || echo 300)" "PostgreSQL $PG_FIRMS firms"
log "PostgreSQL, $PG_FIRMS firms: uncached get by id against pgbench select-only ($CONNECTIONS clients each)"
start_hub_pg "$PG_1M_DB" "$RUN/hub-pg-1m-uncached.log" ResponseCache__MaxEntries=0; UNCACHED_PID=$PID; UNCACHED=http://127.0.0.1:$PORT
wait_for "$UNCACHED/health/ready" "$PID" 120 "$RUN/hub-pg-1m-uncached.log"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$UNCACHED/v1/firms/bench-firm-$(printf '%07d' "$PG_FIRMS")")" = 200 ] || die "the generated firms are not served"
[ "$WARMUP" -gt 0 ] && (DURATION=$WARMUP; pgbench_round 0)
rounds=$ROUNDS; warmup=$WARMUP
for ((round = 1; round <= rounds; round++)); do
  ROUNDS=1
  contender hubapi "$UNCACHED_PID" "$UNCACHED/v1/firms/bench-firm-0000001" random-id.lua BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT="$PG_FIRMS"
  measure_endpoint pg-1m "get (random ids)"
  WARMUP=0
  pgbench_round "$round" log
done
ROUNDS=$rounds; WARMUP=$warmup
stop "$UNCACHED_PID"

# ---------------------------------------------------------------------------------------------- one replica or two
log "PostgreSQL, $PG_FIRMS firms: one replica against two behind nginx"
start_hub_pg "$PG_1M_DB" "$RUN/hub-pg-r1.log"; R1_PID=$PID; R1_PORT=$PORT
start_hub_pg "$PG_1M_DB" "$RUN/hub-pg-r2.log"; R2_PID=$PID; R2_PORT=$PORT
wait_for "http://127.0.0.1:$R1_PORT/health/ready" "$R1_PID" 120 "$RUN/hub-pg-r1.log"
wait_for "http://127.0.0.1:$R2_PORT/health/ready" "$R2_PID" 120 "$RUN/hub-pg-r2.log"
start_nginx nginx-1 "$R1_PORT"; N1_PID=$PID; N1=http://127.0.0.1:$PORT
start_nginx nginx-2 "$R1_PORT" "$R2_PORT"; N2_PID=$PID; N2=http://127.0.0.1:$PORT
wait_for "$N1/health/ready" "$R1_PID" 20 "$RUN/nginx-1/nginx/logs/error.log"
wait_for "$N2/health/ready" "$R2_PID" 20 "$RUN/nginx-2/nginx/logs/error.log"
R1=http://127.0.0.1:$R1_PORT
MIDDLE=bench-firm-$(printf '%07d' $((PG_FIRMS / 2)))
for e in "get|/v1/firms/$MIDDLE|get.lua" "get (random ids)|/v1/firms/bench-firm-0000001|random-id.lua"; do
  IFS='|' read -r name target script <<< "$e"
  contender "1 replica" "$R1_PID" "$R1$target" "$script" BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT="$PG_FIRMS"
  contender "1 replica behind nginx" "$N1_PID" "$N1$target" "$script" BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT="$PG_FIRMS"
  contender "2 replicas behind nginx" "$N2_PID" "$N2$target" "$script" BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT="$PG_FIRMS"
  measure_endpoint pg-nginx "$name"
done
stop "$N1_PID"; stop "$N2_PID"; stop "$R1_PID"; stop "$R2_PID"
fi # PG_BIG_READY
bench_pg_stop
