#!/usr/bin/env bash
# HubApi load benchmark: HubApi against the limit (bare Kestrel replaying HubApi's own bytes from memory) and
# against the peer (json-server serving an export of the same data), side by side on loopback, then HubApi alone
# on a 1,000,000-firm database. Writes bench/RESULTS.md.
#
#   bench/run.sh            full run: about 15 minutes of measuring, after waiting (at most 17 minutes in all) for other
#                           processes to leave the CPU mostly idle; the first run also generates the 1M database and
#                           walks it to page 10,000 (about 2 minutes, cached in bench/.work/)
#   bench/run.sh --quick    under two minutes: 1 s rounds, no waiting; the 1M part only if that database is cached
#   bench/run.sh --postgres the PostgreSQL part only (with --quick too); BENCH_PG_FIRMS=20000 for a small generated database
#
# The PostgreSQL part (bench/postgres/run.sh, after the SQLite parts): cached reads against the limit, uncached get-by-id
# on 1,000,000 firms against pgbench select-only, one replica against two behind nginx.
#
# Everything listens on 127.0.0.1 only; every run is bounded in time; every process started here is stopped on exit.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
QUICK=0
PG_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --postgres) PG_ONLY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work
RUN=$WORK/run
RESULTS=$RUN/results.jsonl
mkdir -p "$WORK"
rm -rf "$RUN"
mkdir -p "$RUN"
: > "$RESULTS"

# Load settings. The limit, the peer and HubApi get exactly the same load.
THREADS=2
CONNECTIONS=32
if [ "$QUICK" = 1 ]; then DURATION=1; ROUNDS=1; WARMUP=1; else DURATION=4; ROUNDS=5; WARMUP=2; fi
API_KEY=bench-admin-key-0123456789abcdef
JSON_SERVER_VERSION=$(sed -n 's/.*"json-server": *"\([^"]*\)".*/\1/p' "$BENCH/package.json")
FIRMS_1M=1000000

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------- processes
PIDS=()
cleanup() {
  local pid
  if declare -F bench_pg_stop > /dev/null; then bench_pg_stop; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
  local pid=$1 p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=()
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  PIDS=("${kept[@]+"${kept[@]}"}")
}

# A port no socket uses (other engineers' servers share this machine), below the ephemeral range, where wrk's and
# curl's own connections could hold it.
EPHEMERAL_LOW=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
NEXT_PORT=$((EPHEMERAL_LOW - 4000 + RANDOM % 2000))
port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  command -v ss > /dev/null && [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}
free_port() {
  while port_busy "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  PORT=$NEXT_PORT
  NEXT_PORT=$((NEXT_PORT + 1))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Waits until URL answers 2xx, or fails if the process dies or TIMEOUT seconds pass.
wait_for() {
  local url=$1 pid=$2 timeout=$3 logfile=$4 start
  start=$(now_ms)
  until curl -fs -o /dev/null "$url"; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logfile" >&2; die "the server behind $url exited"; }
    [ $(($(now_ms) - start)) -lt $((timeout * 1000)) ] || { tail -20 "$logfile" >&2; die "$url not ready after ${timeout}s"; }
    sleep 0.01
  done
}

HUB_BIN=$ROOT/src/HubApi/bin/Release/net10.0/HubApi
# Started from its output folder, as `dotnet run` (project folder) or a deployment (app folder) would: the content
# root is the working folder, and from anywhere else appsettings.json is not found, so every request is logged.
# Started through a link named hub-under-test, so that someone else's `pkill HubApi` on this shared machine does
# not end a benchmark run half way (it has happened).
HUB_LINK=$WORK/bin/hub-under-test
start_hub() { # db file, log file, [VAR=value ...] → PID, PORT
  local db=$1 logfile=$2; shift 2
  free_port
  mkdir -p "$(dirname "$HUB_LINK")"
  ln -sfn "$HUB_BIN" "$HUB_LINK"
  (cd "$(dirname "$HUB_BIN")" && exec env "$@" ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Hub="Data Source=$db" Auth__AdminKey="$API_KEY" \
    RateLimiting__AnonymousPermitsPerMinute=0 RateLimiting__KeyedPermitsPerMinute=0 \
    "$HUB_LINK" --urls "http://127.0.0.1:$PORT") > "$logfile" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

start_limit() { # capture folder, log file → PID, PORT
  free_port
  env ASPNETCORE_ENVIRONMENT=Production "$BENCH/Limit/bin/Release/net10.0/Limit" --captures "$1" --urls "http://127.0.0.1:$PORT" > "$2" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

start_peer() { # db.json, log file → PID, PORT
  free_port
  node "$BENCH/node_modules/json-server/lib/cli/bin.js" --host 127.0.0.1 --port "$PORT" --quiet "$1" > "$2" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

# Peak resident memory: VmHWM, reset before each measurement (clear_refs 5) so each row has its own peak.
reset_hwm() { echo 5 > "/proc/$1/clear_refs" 2>/dev/null || true; }
read_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

record() { printf '%s\n' "$1" >> "$RESULTS"; }
na() { # phase, endpoint, contender, note
  record "$(jq -nc --arg p "$1" --arg e "$2" --arg c "$3" --arg n "$4" '{kind:"na",phase:$p,endpoint:$e,contender:$c,note:$n}')"
}
note() { record "$(jq -nc --arg t "$1" '{kind:"note",text:$t}')"; log "$1"; }

# ---------------------------------------------------------------------------------------------- tools and build
APT_UPDATED=0
need() { # command, Debian package
  command -v "$1" > /dev/null && return
  log "installing $2"
  [ "$APT_UPDATED" = 1 ] || { apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" > /dev/null
}
need curl curl
need jq jq
need wrk wrk
[ -x /usr/bin/time ] || need /usr/bin/time time
need node nodejs
need npm npm
command -v dotnet > /dev/null || die "the .NET SDK is required (dotnet on PATH)"

if [ "$(node -p "try { require('$BENCH/node_modules/json-server/package.json').version } catch { '' }")" != "$JSON_SERVER_VERSION" ]; then
  log "npm ci (json-server $JSON_SERVER_VERSION)"
  (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error > "$RUN/npm.log" 2>&1) || { cat "$RUN/npm.log" >&2; die "npm ci failed"; }
fi

log "building Release"
for project in "$BENCH/Generate" "$BENCH/Limit" "$BENCH/Report"; do
  dotnet build -c Release -nologo "$project" > "$RUN/build.log" 2>&1 || { tail -30 "$RUN/build.log" >&2; die "build of $project failed"; }
done
[ -x "$HUB_BIN" ] || die "$HUB_BIN was not built"

# ---------------------------------------------------------------------------------------------- measuring
# wrk_json script url [connections threads] — runs wrk with the script and prints its BENCH-RESULT line.
wrk_json() {
  local script=$1 url=$2 c=${3:-$CONNECTIONS} t=${4:-$THREADS} d=${5:-$DURATION} out
  out=$(BENCH_LUA="$BENCH/lua" BENCH_THREADS=$t /usr/bin/time -f '%U %S' -o "$RUN/wrk.cpu" \
    wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s -s "$BENCH/lua/$script" "$url" 2>&1) || { echo "$out" >&2; die "wrk failed on $url"; }
  grep '^BENCH-RESULT ' <<< "$out" | cut -d' ' -f2- || { echo "$out" >&2; die "no result from wrk on $url"; }
}

with_env() { local kv; for kv in "$@"; do export "${kv?}"; done; }

# Contenders of one endpoint, declared with contender() and measured together by measure_endpoint().
C_NAME=(); C_PID=(); C_URL=(); C_SCRIPT=(); C_ENV=()
contender() { # name pid url script [VAR=value ...]
  C_NAME+=("$1"); C_PID+=("$2"); C_URL+=("$3"); C_SCRIPT+=("$4"); shift 4
  if [ $# -gt 0 ]; then C_ENV+=("$(printf '%q ' "$@")"); else C_ENV+=(""); fi
}

# measure_endpoint phase endpoint [connections threads]: every contender ROUNDS times, interleaved (the order
# rotates each round), after one unrecorded warm-up per contender.
measure_endpoint() {
  local phase=$1 endpoint=$2 c=${3:-$CONNECTIONS} t=${4:-$THREADS} n=${#C_NAME[@]} round k i line hwm b0 b1 s0 s1 t0 t1 others
  local -a envs
  for ((round = 1; round <= ROUNDS; round++)); do
    for ((k = 0; k < n; k++)); do
      i=$(((k + round - 1) % n))
      eval "envs=(${C_ENV[$i]})"
      kill -0 "${C_PID[$i]}" 2>/dev/null || die "${C_NAME[$i]} (pid ${C_PID[$i]}) is gone before $phase $endpoint: killed from outside? Its log is in $RUN"
      if [ "$round" = 1 ] && [ "$WARMUP" -gt 0 ]; then
        (with_env "${envs[@]+"${envs[@]}"}"; wrk_json "${C_SCRIPT[$i]}" "${C_URL[$i]}" "$c" "$t" "$WARMUP") > /dev/null
      fi
      reset_hwm "${C_PID[$i]}"
      b0=$(busy_seconds); s0=$(proc_cpu "${C_PID[$i]}"); t0=$(now_ms)
      line=$(with_env "${envs[@]+"${envs[@]}"}"; wrk_json "${C_SCRIPT[$i]}" "${C_URL[$i]}" "$c" "$t")
      b1=$(busy_seconds); s1=$(proc_cpu "${C_PID[$i]}"); t1=$(now_ms)
      hwm=$(read_hwm "${C_PID[$i]}")
      # The share of the machine's CPU that other processes took during the round: all busy time less the server's
      # and wrk's own.
      others=$(awk -v b0="$b0" -v b1="$b1" -v s0="$s0" -v s1="$s1" -v ms=$((t1 - t0)) -v n="$(nproc)" -v w="$(cat "$RUN/wrk.cpu" 2>/dev/null)" \
        'BEGIN { split(w, c, " "); o = (b1 - b0) - (s1 - s0) - c[1] - c[2]; if (o < 0) o = 0; printf "%d", 100 * o / (ms / 1000 * n) }')
      record "$(jq -c --arg p "$phase" --arg e "$endpoint" --arg c "${C_NAME[$i]}" --arg u "${C_URL[$i]}" \
        --argjson r "$round" --argjson h "${hwm:-0}" --argjson conn "$c" --argjson o "$others" \
        --argjson scpu "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')" \
        '. + {kind:"wrk",phase:$p,endpoint:$e,contender:$c,url:$u,round:$r,rss_kb:$h,connections:$conn,others_pct:$o,server_cpu_s:$scpu}' <<< "$line")"
      log "$phase $endpoint ${C_NAME[$i]} round $round: $(jq -r '"\(.rps|floor) req/s, p50 \(.p50_us/1000) ms, p99 \(.p99_us/1000) ms, \(.errors|add) errors"' <<< "$line"), others ${others}% CPU"
    done
  done
  C_NAME=(); C_PID=(); C_URL=(); C_SCRIPT=(); C_ENV=()
}

# capture folder name method base target [curl args...]: the response as HubApi sent it, for the limit to replay.
capture() {
  local folder=$1 name=$2 method=$3 base=$4 target=$5
  shift 5
  curl -sS -X "$method" -D "$folder/$name.headers" -o "$folder/$name.body" "$@" "$base$target"
  printf '%s\t%s\t%s\n' "$method" "$target" "$name" >> "$folder/index.tsv"
}
header_of() { tr -d '\r' < "$1" | awk -v h="$(echo "$2" | tr '[:upper:]' '[:lower:]')" -F': ' 'tolower($1) == h { v = $2 } END { print v }'; }
status_of() { tr -d '\r' < "$1" | awk '/^HTTP\// { s = $2 } END { print s }'; }

# ---------------------------------------------------------------------------------------------- machine
# The five busiest processes over half a second (top's second frame), and the machine's busy CPU time so far.
cpu_busy() { top -b -n2 -d0.5 -w 200 | awk '/^top -/ { f++ } f == 2 && $1 ~ /^[0-9]+$/ && n < 5 { printf "%s%s %s%%", (n ? ", " : ""), $12, $9; n++ }'; }
# user + nice + system only: interrupt time (loopback traffic's softirqs) belongs to no process and would be charged to others.
busy_seconds() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4) / hz }' /proc/stat; }

jq -n \
  --arg mode "$([ "$QUICK" = 1 ] && echo quick || echo full)" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --arg dirty "$(git -C "$ROOT" status --porcelain -- . ':!bench/RESULTS.md' 2>/dev/null | grep -qv '^??' && echo yes || echo no)" \
  --arg nproc "$(nproc)" \
  --arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  --arg memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
  --arg kernel "$(uname -sr)" \
  --arg os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
  --arg dotnet "$(dotnet --version)" \
  --arg runtime "$(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ { v = $2 } END { print v }')" \
  --arg node "$(node --version)" \
  --arg wrk "$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')" \
  --arg jsonserver "$JSON_SERVER_VERSION" \
  --arg sqlite "$(sqlite3 --version 2>/dev/null | awk '{ print $1 }' || true)" \
  --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg busy "$(cpu_busy)" \
  --argjson threads "$THREADS" --argjson connections "$CONNECTIONS" --argjson duration "$DURATION" \
  --argjson rounds "$ROUNDS" --argjson warmup "$WARMUP" --argjson firms "$FIRMS_1M" \
  '{mode:$mode,date:$date,commit:$commit,dirty:$dirty,nproc:$nproc,cpu:$cpu,memory:$memory,kernel:$kernel,os:$os,
    dotnet:$dotnet,aspnetcore:$runtime,node:$node,wrk:$wrk,json_server:$jsonserver,sqlite_cli:$sqlite,
    load_start:$load,busy_start:$busy,threads:$threads,connections:$connections,duration:$duration,rounds:$rounds,
    warmup:$warmup,firms:$firms}' > "$RUN/machine.json"

# On this shared machine, wait (bounded) until other processes leave the CPU mostly idle: share of all cores they
# used over 5 s below QUIET_PERCENT. Called when none of this benchmark's servers is busy.
QUIET_PERCENT=25
quiet_wait() { # budget seconds, phase label → waited, others
  local budget=$1 label=$2 b0 b1
  waited=0
  while :; do
    b0=$(busy_seconds); sleep 5; b1=$(busy_seconds)
    others=$(awk -v a="$b0" -v b="$b1" -v n="$(nproc)" 'BEGIN { printf "%d", 100 * (b - a) / (5 * n) }')
    [ "$others" -ge "$QUIET_PERCENT" ] || break
    if [ "$waited" -ge "$budget" ]; then
      [ "$QUICK" = 1 ] || note "The machine stayed busy: other processes used ${others}% of its CPU when the $label measurements started, after ${waited} s of waiting for under ${QUIET_PERCENT}%."
      break
    fi
    log "other processes use ${others}% of the CPU; waiting for under ${QUIET_PERCENT}% (${waited}/${budget} s)"
    sleep 10; waited=$((waited + 15))
  done
}
quiet_wait "$([ "$QUICK" = 1 ] && echo 0 || echo 600)" seeded
jq --argjson w "$waited" --argjson o "$others" '. + {quiet_waited_s:$w,others_percent_at_start:$o}' "$RUN/machine.json" > "$RUN/machine.tmp" && mv "$RUN/machine.tmp" "$RUN/machine.json"
times > "$RUN/times.txt" # CPU of this shell's children so far (the build), left out of the accounting below
CHILDREN_START=$(tail -1 "$RUN/times.txt" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
BUSY_START=$(busy_seconds); WALL_START=$(now_ms)

if [ "$PG_ONLY" = 0 ]; then
# ============================================================================================== seeded database
log "seeded database: start-up"
SEEDED=$RUN/seeded.db
# Cold: an empty file is created, migrated and seeded. Warm: the same file, started again.
start=$(now_ms); start_hub "$SEEDED" "$RUN/hub-cold.log"
wait_for "http://127.0.0.1:$PORT/health/ready" "$PID" 60 "$RUN/hub-cold.log"
record "$(jq -nc --argjson ms $(($(now_ms) - start)) --argjson h "$(read_hwm "$PID")" '{kind:"startup",phase:"seeded",mode:"cold",ms:$ms,rss_kb:$h}')"
stop "$PID"
for ((i = 1; i <= (QUICK ? 1 : 3); i++)); do
  start=$(now_ms); start_hub "$SEEDED" "$RUN/hub-seeded.log"
  wait_for "http://127.0.0.1:$PORT/health/ready" "$PID" 60 "$RUN/hub-seeded.log"
  record "$(jq -nc --argjson ms $(($(now_ms) - start)) --argjson h "$(read_hwm "$PID")" '{kind:"startup",phase:"seeded",mode:"warm",ms:$ms,rss_kb:$h}')"
  [ "$i" = $((QUICK ? 1 : 3)) ] || stop "$PID"
done
HUB_PID=$PID; HUB=http://127.0.0.1:$PORT

# The peer's data: every resource exported through HubApi's own API, plus json-server's xxxId names for to-one
# relations (its _expand follows zoneId to zones).
log "exporting the seeded dataset for json-server"
RESOURCES=(sources zones industries firms targets projects facilities services indicators)
export_resource() {
  local resource=$1 url="$HUB/v1/$1?limit=100" items='[]' page next
  while [ -n "$url" ]; do
    page=$(curl -fsS "$url")
    items=$(jq -c --argjson page "$page" '. + $page.items' <<< "$items")
    next=$(jq -r '.next // empty' <<< "$page")
    url=${next:+$HUB/v1/$resource?limit=100&cursor=$next}
  done
  echo "$items"
}
for r in "${RESOURCES[@]}"; do export_resource "$r" > "$RUN/export-$r.json"; done
files=(); for r in "${RESOURCES[@]}"; do files+=("$RUN/export-$r.json"); done
jq -s --arg names "${RESOURCES[*]}" '($names | split(" ")) as $n | [range(0; length) as $i | {key: $n[$i], value: .[$i]}] | from_entries
  | map_values(map(. as $r | reduce ("zone", "firm", "industry") as $k ($r; if ($r[$k] | type) == "string" then . + {($k + "Id"): $r[$k]} else . end)))' \
  "${files[@]}" > "$RUN/peer-db.json"

# The seeded endpoints: name, HubApi target, json-server target ("" when json-server has no equivalent).
SEEDED_ENDPOINTS=(
  "get|/v1/firms/smic|/firms/smic"
  "page|/v1/firms?zone=lingang&sort=name&limit=20|/firms?zone=lingang&_sort=name&_limit=20"
  "page-industries|/v1/industries?strategic=false&sort=name&limit=20|/industries?strategic=false&_sort=name&_limit=20"
  "include|/v1/firms?zone=lingang&sort=name&limit=20&include=zone,industries|/firms?zone=lingang&_sort=name&_limit=20&_expand=zone"
  "q|/v1/firms?q=wafer&limit=20|/firms?q=wafer&_limit=20"
)

log "capturing HubApi's responses for the limit"
CAP=$RUN/captures-seeded; mkdir -p "$CAP"
for e in "${SEEDED_ENDPOINTS[@]}"; do
  IFS='|' read -r name target _ <<< "$e"
  capture "$CAP" "$name" GET "$HUB" "$target"
  [ "$(status_of "$CAP/$name.headers")" = 200 ] || die "HubApi answered $(status_of "$CAP/$name.headers") to $target"
done
capture "$CAP" csv GET "$HUB" "/v1/firms" -H "Accept: text/csv"
CSV_TYPE=$(header_of "$CAP/csv.headers" content-type); CSV_STATUS=$(status_of "$CAP/csv.headers")

# The mixed load's records: every record whose id is unique across resources, by id.
jq -r 'to_entries[] | select(.key != "sources") | .key as $r | .value[] | select(has("description")) | "\($r)\t\(.id)"' "$RUN/peer-db.json" \
  | sort -t$'\t' -k2,2 | awk -F'\t' '{ n[$2]++; r[$2] = $1 } END { for (id in n) if (n[id] == 1) print r[id] "\t" id }' | sort > "$RUN/pool.tsv"
i=0
while IFS=$'\t' read -r resource id; do
  capture "$CAP" "pool-$i" GET "$HUB" "/v1/$resource/$id"
  i=$((i + 1))
done < "$RUN/pool.tsv"

# PATCH answers come from a throwaway HubApi on its own fresh database, so the measured database is untouched.
log "probing PATCH on a throwaway HubApi"
start_hub "$RUN/patch.db" "$RUN/hub-patch.log"; PATCH_PID=$PID
wait_for "http://127.0.0.1:$PORT/health/ready" "$PID" 60 "$RUN/hub-patch.log"
PATCH_OK=1; PATCH_NOTE=""; i=0
while IFS=$'\t' read -r resource id; do
  etag=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$PORT/v1/$resource/$id" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
  capture "$CAP" "patch-$i" PATCH "http://127.0.0.1:$PORT" "/v1/$resource/$id" \
    -H "If-Match: $etag" -H "X-Api-Key: $API_KEY" -H "Content-Type: application/merge-patch+json" \
    --data '{"description":"Updated by the load benchmark."}'
  status=$(status_of "$CAP/patch-$i.headers")
  if [ "${status:0:1}" != 2 ]; then PATCH_OK=0; PATCH_NOTE="PATCH /v1/$resource/$id answered $status"; break; fi
  i=$((i + 1))
done < "$RUN/pool.tsv"
stop "$PATCH_PID"

log "starting the limit and json-server"
start_limit "$CAP" "$RUN/limit-seeded.log"; LIMIT_PID=$PID; LIMIT=http://127.0.0.1:$PORT
wait_for "$LIMIT/v1/firms/smic" "$PID" 30 "$RUN/limit-seeded.log"
cp "$RUN/peer-db.json" "$RUN/peer-served.json"
start_peer "$RUN/peer-served.json" "$RUN/peer.log"; PEER_PID=$PID; PEER=http://127.0.0.1:$PORT
wait_for "$PEER/firms/smic" "$PID" 30 "$RUN/peer.log"
PEER_ETAG=$(curl -sS -D - -o /dev/null "$PEER/firms/smic" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
HUB_ETAG=$(header_of "$CAP/get.headers" etag)

log "seeded database: measuring ($ROUNDS x ${DURATION}s per contender, $THREADS threads, $CONNECTIONS connections)"
for e in "${SEEDED_ENDPOINTS[@]}"; do
  IFS='|' read -r name target peer_target <<< "$e"
  contender hubapi "$HUB_PID" "$HUB$target" get.lua
  contender limit "$LIMIT_PID" "$LIMIT$target" get.lua
  if [ -n "$peer_target" ]; then contender json-server "$PEER_PID" "$PEER$peer_target" get.lua; fi
  measure_endpoint seeded "$name"
done

contender hubapi "$HUB_PID" "$HUB/v1/firms/smic" revalidate.lua BENCH_ETAG="$HUB_ETAG"
contender limit "$LIMIT_PID" "$LIMIT/v1/firms/smic" revalidate.lua BENCH_ETAG="$HUB_ETAG"
contender json-server "$PEER_PID" "$PEER/firms/smic" revalidate.lua BENCH_ETAG="$PEER_ETAG"
measure_endpoint seeded 304

if [ "$CSV_STATUS" = 200 ] && [[ "$CSV_TYPE" == text/csv* ]]; then
  contender hubapi "$HUB_PID" "$HUB/v1/firms" csv.lua
  contender limit "$LIMIT_PID" "$LIMIT/v1/firms" csv.lua
  measure_endpoint seeded csv
else
  na seeded csv hubapi "not implemented: Accept: text/csv on /v1/firms answered $CSV_STATUS ${CSV_TYPE:-no content type}"
  na seeded csv limit "no HubApi CSV to replay"
fi
na seeded csv json-server "json-server $JSON_SERVER_VERSION has no CSV output"

# Mixed: 90% GETs of the pool's records by id, 10% PATCHes of them (If-Match, X-Api-Key, merge patch). Last,
# since it changes the data the captures were taken from.
if [ "$PATCH_OK" = 1 ]; then
  : > "$RUN/pool-hub.tsv"; : > "$RUN/pool-limit.tsv"; : > "$RUN/pool-peer.tsv"
  i=0
  while IFS=$'\t' read -r resource id; do
    h=$(curl -sS -D "$RUN/etag.headers" "$HUB/v1/$resource/$id")
    printf '/v1/%s/%s\t%s\t%s\n' "$resource" "$id" "$(header_of "$RUN/etag.headers" etag)" "$(jq -r '.version // ""' <<< "$h")" >> "$RUN/pool-hub.tsv"
    printf '/v1/%s/%s\t%s\t%s\n' "$resource" "$id" "$(header_of "$CAP/pool-$i.headers" etag)" "$(jq -r '.version // ""' "$CAP/pool-$i.body")" >> "$RUN/pool-limit.tsv"
    printf '/%s/%s\t\t\n' "$resource" "$id" >> "$RUN/pool-peer.tsv"
    i=$((i + 1))
  done < "$RUN/pool.tsv"
  contender hubapi "$HUB_PID" "$HUB" mixed.lua BENCH_POOL="$RUN/pool-hub.tsv" BENCH_API_KEY="$API_KEY"
  contender limit "$LIMIT_PID" "$LIMIT" mixed.lua BENCH_POOL="$RUN/pool-limit.tsv" BENCH_TRACK_VERSION=0
  contender json-server "$PEER_PID" "$PEER" mixed.lua BENCH_POOL="$RUN/pool-peer.tsv" BENCH_TRACK_VERSION=0 BENCH_PATCH_TYPE=application/json
  measure_endpoint seeded mixed
else
  na seeded mixed hubapi "not implemented: $PATCH_NOTE"
  na seeded mixed limit "no HubApi PATCH answer to replay"
  na seeded mixed json-server "not run without HubApi's PATCH"
fi
stop "$LIMIT_PID"; stop "$PEER_PID"; stop "$HUB_PID"

# ============================================================================================== 1,000,000 firms
BIG=$WORK/firms-1m.db
STAMP=$( (cat "$BENCH/Generate/Program.cs" "$ROOT"/db/migrations/*.sql "$ROOT/db/seed/dataset.json"; echo "$FIRMS_1M") | sha256sum | cut -c1-16)
BIG_READY=0
if [ -f "$BIG" ] && [ "$(cat "$BIG.stamp" 2>/dev/null)" = "$STAMP" ]; then
  BIG_READY=1
elif [ "$QUICK" = 1 ]; then
  if [ -f "$BIG" ]; then
    BIG_READY=1
    note "--quick: the cached 1M database was generated by another version of the generator, schema or seed; used as is (a full run regenerates it)."
  else
    note "--quick: no cached 1M database, so the 1,000,000-firm measurements were skipped (a full run generates it once into bench/.work/)."
  fi
else
  log "generating $FIRMS_1M firms into $BIG (once; cached)"
  rm -f "$BIG" "$BIG-wal" "$BIG-shm" "$BIG.stamp" "$WORK/page10000.url"
  start=$(now_ms)
  "$BENCH/Generate/bin/Release/net10.0/Generate" "$BIG" "$FIRMS_1M" > "$RUN/generate.log" 2>&1 || { tail -20 "$RUN/generate.log" >&2; die "generation failed"; }
  record "$(jq -nc --argjson ms $(($(now_ms) - start)) --arg size "$(du -h "$BIG" | cut -f1)" '{kind:"generate",ms:$ms,size:$size}')"
  echo "$STAMP" > "$BIG.stamp"
  BIG_READY=1
fi

if [ "$BIG_READY" = 1 ]; then
  quiet_wait "$([ "$QUICK" = 1 ] && echo 0 || echo 300)" "1M"
  jq --argjson w "$waited" --argjson o "$others" '. + {quiet_waited_1m_s:$w,others_percent_at_1m:$o}' "$RUN/machine.json" > "$RUN/machine.tmp" && mv "$RUN/machine.tmp" "$RUN/machine.json"
  log "1M database: start-up"
  start=$(now_ms); start_hub "$BIG" "$RUN/hub-1m.log"; HUB_PID=$PID; HUB=http://127.0.0.1:$PORT
  wait_for "$HUB/health/ready" "$PID" 120 "$RUN/hub-1m.log"
  record "$(jq -nc --argjson ms $(($(now_ms) - start)) --argjson h "$(read_hwm "$PID")" '{kind:"startup",phase:"1m",mode:"warm",ms:$ms,rss_kb:$h}')"

  PAGE="/v1/firms?zone=lingang&sort=name&limit=20"
  BIG_ENDPOINTS=(
    "get|/v1/firms/bench-firm-0500000"
    "page|$PAGE"
    "include|$PAGE&include=zone,industries"
    "q|/v1/firms?q=aurora%20bridge&limit=20"
  )
  CAP=$RUN/captures-1m; mkdir -p "$CAP"
  for e in "${BIG_ENDPOINTS[@]}"; do
    IFS='|' read -r name target <<< "$e"
    capture "$CAP" "$name" GET "$HUB" "$target"
    [ "$(status_of "$CAP/$name.headers")" = 200 ] || die "HubApi answered $(status_of "$CAP/$name.headers") to $target"
  done
  start_limit "$CAP" "$RUN/limit-1m.log"; LIMIT_PID=$PID; LIMIT=http://127.0.0.1:$PORT
  wait_for "$LIMIT/v1/firms/bench-firm-0500000" "$PID" 30 "$RUN/limit-1m.log"

  log "1M database: measuring throughput against the limit"
  for e in "${BIG_ENDPOINTS[@]}"; do
    IFS='|' read -r name target <<< "$e"
    contender hubapi "$HUB_PID" "$HUB$target" get.lua
    contender limit "$LIMIT_PID" "$LIMIT$target" get.lua
    measure_endpoint 1m "$name"
  done
  # The same record again and again favours every cache on the way; random records show the cost of a cold read.
  contender hubapi "$HUB_PID" "$HUB/v1/firms/bench-firm-0500000" random-id.lua BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT="$FIRMS_1M"
  measure_endpoint 1m "get (random ids)"
  HUB_ETAG=$(header_of "$CAP/get.headers" etag)
  contender hubapi "$HUB_PID" "$HUB/v1/firms/bench-firm-0500000" revalidate.lua BENCH_ETAG="$HUB_ETAG"
  contender limit "$LIMIT_PID" "$LIMIT/v1/firms/bench-firm-0500000" revalidate.lua BENCH_ETAG="$HUB_ETAG"
  measure_endpoint 1m 304
  stop "$LIMIT_PID"

  # Page 10,000 of the walk: the cursor after row 199,980 (cursors carry the last row's sort keys, signed with the
  # database's key, so the URL is cached with the database). Walked 100 rows a page, then 20 a page.
  if [ -f "$WORK/page10000.url" ] && [ "$(head -1 "$WORK/page10000.url")" = "$STAMP" ]; then
    PAGE10000=$(sed -n 2p "$WORK/page10000.url")
  else
    log "walking $PAGE to page 10,000 with curl"
    start=$(now_ms); cursor=""; rows=0; pages=0
    while [ "$rows" -lt 199980 ]; do
      size=$((199980 - rows >= 100 ? 100 : 20))
      body=$(curl -fsS "$HUB/v1/firms?zone=lingang&sort=name&limit=$size${cursor:+&cursor=$cursor}")
      cursor=$(jq -r '.next // empty' <<< "$body")
      [ -n "$cursor" ] || die "the walk ended after $rows rows: fewer than 200,000 firms in lingang?"
      rows=$((rows + size)); pages=$((pages + 1))
    done
    PAGE10000="$PAGE&cursor=$cursor"
    printf '%s\n%s\n' "$STAMP" "$PAGE10000" > "$WORK/page10000.url"
    record "$(jq -nc --argjson ms $(($(now_ms) - start)) --argjson pages "$pages" '{kind:"walk",ms:$ms,requests:$pages,rows:199980}')"
  fi
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$HUB$PAGE10000")" = 200 ] || die "page 10,000 does not answer 200"

  # Latency, one request at a time, so it is the service time and not the queue: page 1 against page 10,000,
  # searches, facets.
  quiet_wait "$([ "$QUICK" = 1 ] && echo 0 || echo 120)" "1M latency"
  log "1M database: latency with one connection"
  facets=/v1/firms/facets?by=zone
  facets_status=$(curl -s -o /dev/null -w '%{http_code}' "$HUB$facets")
  # Page 1 against page 10,000, and a selective and a broad search, one request at a time.
  walk_and_search() { # phase pid url
    contender "page 1" "$2" "$3$PAGE" get.lua
    contender "page 10,000" "$2" "$3$PAGE10000" get.lua
    measure_endpoint "$1" walk 1 1
    contender "q=aurora bridge" "$2" "$3/v1/firms?q=aurora%20bridge&limit=20" get.lua
    contender "q=lidar" "$2" "$3/v1/firms?q=lidar&limit=20" get.lua
    measure_endpoint "$1" search 1 1
  }
  walk_and_search 1m-latency "$HUB_PID" "$HUB"
  if [ "${facets_status:0:1}" = 2 ]; then
    contender "facets by zone" "$HUB_PID" "$HUB$facets" get.lua
    measure_endpoint 1m-latency facets 1 1
  else
    na 1m-latency facets "facets by zone" "not implemented: GET $facets answered $facets_status"
  fi

  # The same latencies with the response cache off: what a read costs the first time, or after a write retired it.
  stop "$HUB_PID"
  start_hub "$BIG" "$RUN/hub-1m-uncached.log" ResponseCache__MaxEntries=0; UNCACHED_PID=$PID; UNCACHED=http://127.0.0.1:$PORT
  wait_for "$UNCACHED/health/ready" "$PID" 120 "$RUN/hub-1m-uncached.log"
  log "1M database: latency with one connection, response cache off"
  walk_and_search 1m-uncached "$UNCACHED_PID" "$UNCACHED"
  contender "get (random ids)" "$UNCACHED_PID" "$UNCACHED/v1/firms/bench-firm-0500000" random-id.lua BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT="$FIRMS_1M"
  measure_endpoint 1m-uncached get 1 1
  stop "$UNCACHED_PID"
  start_hub "$BIG" "$RUN/hub-1m-export.log"; HUB_PID=$PID; HUB=http://127.0.0.1:$PORT
  wait_for "$HUB/health/ready" "$PID" 120 "$RUN/hub-1m-export.log"

  # The whole table as CSV: its duration, size and the server's peak memory.
  if [ "$CSV_STATUS" = 200 ] && [[ "$CSV_TYPE" == text/csv* ]] && [ "$QUICK" = 0 ]; then
    log "1M database: full CSV export"
    reset_hwm "$HUB_PID"
    out=$(curl -sS -H "Accept: text/csv" --max-time 600 -o "$RUN/export.csv" -w '%{http_code} %{size_download} %{time_total} %{time_starttransfer}' "$HUB/v1/firms")
    read -r status size total first <<< "$out"
    rows=$(wc -l < "$RUN/export.csv"); rm -f "$RUN/export.csv"
    record "$(jq -nc --argjson status "$status" --argjson bytes "$size" --argjson s "$total" --argjson first "$first" \
      --argjson rows "$rows" --argjson h "$(read_hwm "$HUB_PID")" \
      '{kind:"export",phase:"1m",endpoint:"csv all firms",status:$status,bytes:$bytes,seconds:$s,first_byte_s:$first,lines:$rows,rss_kb:$h}')"
  elif [ "$CSV_STATUS" = 200 ] && [[ "$CSV_TYPE" == text/csv* ]]; then
    na 1m "csv all firms" hubapi "skipped in --quick"
  else
    na 1m "csv all firms" hubapi "not implemented: Accept: text/csv on /v1/firms answered $CSV_STATUS ${CSV_TYPE:-no content type}"
  fi
  stop "$HUB_PID"
fi

fi # PG_ONLY

# ============================================================================================== PostgreSQL
. "$BENCH/postgres/run.sh"

# HubApi's log output: a few lines per start, unless something logs per request.
record "$(jq -nc --argjson kb "$(cat "$RUN"/hub-*.log | wc -c | awk '{ printf "%d", $1 / 1024 }')" '{kind:"logs",kb:$kb}')"

# CPU the rest of the machine used meanwhile: all busy time less what this script's children (servers, wrk, curl,
# builds) used, as bash's times reports it for reaped children.
times > "$RUN/times.txt" # in this shell: in $(...) it would report a subshell's children
ours=$(tail -1 "$RUN/times.txt" | awk -v start="$CHILDREN_START" '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] - start }')
jq -n --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg busy "$(cpu_busy)" --argjson all "$(busy_seconds)" --argjson start "$BUSY_START" \
  --argjson ours "$ours" --argjson wall $((($(now_ms) - WALL_START) / 1000)) --argjson cores "$(nproc)" \
  '{load_end:$load,busy_end:$busy,wall_s:$wall,cpu_ours_s:$ours,cpu_others_s:([$all - $start - $ours, 0] | max | floor),cpu_available_s:($wall * $cores)}' > "$RUN/machine-end.json"
jq -s '.[0] + .[1]' "$RUN/machine.json" "$RUN/machine-end.json" > "$RUN/machine-all.json"
"$BENCH/Report/bin/Release/net10.0/Report" "$RUN/results.jsonl" "$RUN/machine-all.json" "$BENCH/RESULTS.md"
log "wrote $BENCH/RESULTS.md"
