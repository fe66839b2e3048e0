#!/usr/bin/env bash
# Before and after: measures two builds or settings of HubApi side by side, in interleaved rounds on loopback, and
# prints each one's req/s, p99 and peak RSS per endpoint with the ratio B/A. This is how each optimization in
# bench/OPTIMIZATIONS.md was judged.
#
#   bench/ab.sh [--rounds N] [--seconds S] A B ENDPOINT...
#
# A and B name a contender: a git revision (built once into bench/.work/ab/), "." for the working tree, and either may
# carry settings after a colon, e.g. ".:DOTNET_gcServer=0" or "829ab90:". Endpoints:
#   get       GET /v1/firms/smic (seeded), repeated: the served (cached) path
#   304       the same with If-None-Match
#   list      GET /v1/industries?strategic=false&sort=name&limit=20 (seeded)
#   mixed     90% GETs and 10% PATCHes of the seeded records (bench/lua/mixed.lua)
#   random    GET of a random one of the 1,000,000 firms (needs bench/.work/firms-1m.db from bench/run.sh): uncached
#   export    a full CSV export of the 1,000,000 firms, one at a time: seconds and peak RSS
#
#   bench/ab.sh 829ab90 . get 304 mixed
#   bench/ab.sh .:DOTNET_gcServer=1 .:DOTNET_gcServer=0 get random
#   bench/ab.sh .:Telemetry__Metrics=false . get 304 mixed        metrics off (A) against on (B): B/A ≥ 0.95
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work/ab
ROUNDS=3 SECONDS_EACH=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] || { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
A=$1 B=$2; shift 2
ENDPOINTS=("$@")
API_KEY=bench-admin-key-0123456789abcdef
BIG=$BENCH/.work/firms-1m.db
mkdir -p "$WORK"
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

# Builds a contender's binary: the working tree, or a revision in a worktree of its own under bench/.work/ab/.
binary() { # revision → path of the HubApi executable
  local rev=$1 dir
  if [ "$rev" = . ]; then
    dotnet build -c Release -nologo -v q "$ROOT/src/HubApi" > "$WORK/build-worktree.log" 2>&1 || { tail -20 "$WORK/build-worktree.log" >&2; exit 1; }
    echo "$ROOT/src/HubApi/bin/Release/net10.0/HubApi"
    return
  fi
  dir=$WORK/$(git -C "$ROOT" rev-parse --short "$rev")
  if [ ! -x "$dir/src/HubApi/bin/Release/net10.0/HubApi" ]; then
    rm -rf "$dir"; git -C "$ROOT" worktree prune
    git -C "$ROOT" worktree add -q --detach "$dir" "$rev"
    dotnet build -c Release -nologo -v q "$dir/src/HubApi" > "$dir.build.log" 2>&1 || { tail -20 "$dir.build.log" >&2; exit 1; }
  fi
  echo "$dir/src/HubApi/bin/Release/net10.0/HubApi"
}

PORT=$(( $(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range) - 6000 + RANDOM % 500 ))
start() { # label binary settings db → PID, URL
  local label=$1 bin=$2 settings=$3 db=$4
  PORT=$((PORT + 1))
  mkdir -p "$WORK/bin" && ln -sfn "$bin" "$WORK/bin/hub-ab-$label"
  # shellcheck disable=SC2086 # settings are VAR=value words
  (cd "$(dirname "$bin")" && exec env $settings ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Hub="Data Source=$db" \
    Auth__AdminKey="$API_KEY" RateLimiting__AnonymousPermitsPerMinute=0 RateLimiting__KeyedPermitsPerMinute=0 \
    "$WORK/bin/hub-ab-$label" --urls "http://127.0.0.1:$PORT") > "$WORK/hub-$label.log" 2>&1 &
  PID=$!; PIDS+=("$PID"); URL=http://127.0.0.1:$PORT
  for _ in $(seq 600); do curl -fs -o /dev/null "$URL/health/ready" && return; sleep 0.05; done
  tail -5 "$WORK/hub-$label.log" >&2; exit 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
hwm() { awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$1/status"; }
etag() { curl -sS -D - -o /dev/null "$1" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }'; }

# One round of ENDPOINT against the server at URL: "req/s p99-ms".
round() { # endpoint url
  local endpoint=$1 url=$2 out
  export BENCH_LUA=$BENCH/lua
  case "$endpoint" in
    get) out=$(wrk -t2 -c32 -d"${SECONDS_EACH}s" -s "$BENCH/lua/get.lua" "$url/v1/firms/smic") ;;
    304) out=$(wrk -t2 -c32 -d"${SECONDS_EACH}s" -s "$BENCH/lua/get.lua" -H "If-None-Match: $(etag "$url/v1/firms/smic")" "$url/v1/firms/smic") ;;
    list) out=$(wrk -t2 -c32 -d"${SECONDS_EACH}s" -s "$BENCH/lua/get.lua" "$url/v1/industries?strategic=false&sort=name&limit=20") ;;
    mixed)
      local pool=$WORK/pool-$PORT.tsv
      : > "$pool"
      for path in /v1/firms/smic /v1/zones/lingang /v1/zones/zhangjiang /v1/industries/integrated-circuits \
                  /v1/industries/artificial-intelligence /v1/industries/biomedicine; do
        printf '%s\t\t\n' "$path" >> "$pool"
      done
      out=$(BENCH_POOL=$pool BENCH_API_KEY=$API_KEY wrk -t2 -c32 -d"${SECONDS_EACH}s" -s "$BENCH/lua/mixed.lua" "$url") ;;
    random) out=$(BENCH_PREFIX=/v1/firms/bench-firm- BENCH_COUNT=1000000 wrk -t2 -c32 -d"${SECONDS_EACH}s" -s "$BENCH/lua/random-id.lua" "$url") ;;
    *) echo "unknown endpoint $endpoint" >&2; exit 2 ;;
  esac
  local json; json=$(sed -n 's/^BENCH-RESULT //p' <<< "$out")
  local errors; errors=$(jq '.errors.status + .errors.connect + .errors.read + .errors.write + .errors.timeout' <<< "$json")
  [ "$errors" = 0 ] || echo "  ($errors errors)" >&2
  jq -r '"\(.rps) \(.p99_us / 1000)"' <<< "$json"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

BIN_A=$(binary "${A%%:*}"); SET_A=$([[ "$A" == *:* ]] && echo "${A#*:}" || true)
BIN_B=$(binary "${B%%:*}"); SET_B=$([[ "$B" == *:* ]] && echo "${B#*:}" || true)
printf '| endpoint | A: %s | B: %s | B/A |\n|---|---|---|---|\n' "$A" "$B"
for endpoint in "${ENDPOINTS[@]}"; do
  if [ "$endpoint" = export ]; then
    declare -A secs=() rss=()
    for label in a b; do
      bin=BIN_${label^^}; set=SET_${label^^}
      start "$label" "${!bin}" "${!set}" "$BIG"
      begin=$(date +%s%N)
      curl -sS -H 'Accept: text/csv' -o /dev/null "$URL/v1/firms"
      secs[$label]=$(awk -v n="$(($(date +%s%N) - begin))" 'BEGIN { printf "%.1f", n / 1e9 }')
      rss[$label]=$(hwm "$PID"); stop "$PID"
    done
    printf '| export | %s s, %s MB | %s s, %s MB | %s× time |\n' "${secs[a]}" "${rss[a]}" "${secs[b]}" "${rss[b]}" \
      "$(awk -v a="${secs[a]}" -v b="${secs[b]}" 'BEGIN { printf "%.2f", b / a }')"
    continue
  fi
  db=$WORK/seeded.db
  if [ "$endpoint" = random ]; then db=$BIG; else rm -f "$db"*; fi
  # Each contender gets its own copy of a fresh seeded database (mixed writes to it); the 1M database is only read.
  [ "$db" = "$BIG" ] && { DB_A=$BIG; DB_B=$BIG; } || { DB_A=$WORK/a.db; DB_B=$WORK/b.db; rm -f "$DB_A"* "$DB_B"*; }
  start a "$BIN_A" "$SET_A" "$DB_A"; PID_A=$PID; URL_A=$URL
  start b "$BIN_B" "$SET_B" "$DB_B"; PID_B=$PID; URL_B=$URL
  round "$endpoint" "$URL_A" > /dev/null; round "$endpoint" "$URL_B" > /dev/null # warm-up
  : > "$WORK/a.txt"; : > "$WORK/b.txt"
  for _ in $(seq "$ROUNDS"); do
    round "$endpoint" "$URL_A" >> "$WORK/a.txt"
    round "$endpoint" "$URL_B" >> "$WORK/b.txt"
  done
  ra=$(cut -d' ' -f1 "$WORK/a.txt" | median); rb=$(cut -d' ' -f1 "$WORK/b.txt" | median)
  pa=$(cut -d' ' -f2 "$WORK/a.txt" | median); pb=$(cut -d' ' -f2 "$WORK/b.txt" | median)
  printf '| %s | %.0f req/s, p99 %.2f ms, %s MB | %.0f req/s, p99 %.2f ms, %s MB | %.2f× |\n' \
    "$endpoint" "$ra" "$pa" "$(hwm "$PID_A")" "$rb" "$pb" "$(hwm "$PID_B")" "$(awk -v a="$ra" -v b="$rb" 'BEGIN { print b / a }')"
  stop "$PID_A"; stop "$PID_B"
done
