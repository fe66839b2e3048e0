#!/usr/bin/env bash
# Where HubApi spends a request's time: samples its thread stacks with dotnet-trace while wrk loads one URL, then
# prints the share of request time under each frame below HubApi's handlers.
#
#   bench/profile.sh [--db FILE] [--header 'Name: value'] URL-PATH [SECONDS]
#   bench/profile.sh /v1/firms/smic
#   bench/profile.sh --db bench/.work/firms-1m.db '/v1/firms?zone=lingang&sort=name&limit=20' 10
#
# Without --db it profiles a fresh seeded database. Output goes to bench/.work/profile/ (speedscope JSON too, for
# https://www.speedscope.app or any viewer). Loopback only; bounded in time; stops what it starts.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/.work/profile
TOOLS=$BENCH/.work/tools
DOTNET_TRACE_VERSION=10.0.750501
DB="" HEADER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) DB=$(realpath "$2"); shift 2 ;;
    --header) HEADER=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
URL_PATH=$1
SECONDS_TRACED=${2:-8}
mkdir -p "$OUT"

command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
command -v python3 > /dev/null || { apt-get update -qq && apt-get install -y -qq python3 > /dev/null; }
[ -x "$TOOLS/dotnet-trace" ] || dotnet tool install dotnet-trace --version "$DOTNET_TRACE_VERSION" --tool-path "$TOOLS" > /dev/null
dotnet build -c Release -nologo "$ROOT/src/HubApi" > "$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log" >&2; exit 1; }

if [ -z "$DB" ]; then DB=$OUT/seeded.db; rm -f "$DB" "$DB-wal" "$DB-shm"; fi
PORT=$(( $(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range) - 5000 + RANDOM % 500 ))
BIN=$ROOT/src/HubApi/bin/Release/net10.0/HubApi
mkdir -p "$BENCH/.work/bin" && ln -sfn "$BIN" "$BENCH/.work/bin/hub-under-test"
(cd "$(dirname "$BIN")" && exec env ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Hub="Data Source=$DB" \
  RateLimiting__AnonymousPermitsPerMinute=0 RateLimiting__KeyedPermitsPerMinute=0 \
  "$BENCH/.work/bin/hub-under-test" --urls "http://127.0.0.1:$PORT") > "$OUT/hub.log" 2>&1 &
PID=$!
WRK=""
trap 'kill $WRK $PID 2>/dev/null || true; wait $WRK $PID 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/health/ready" && break; sleep 0.05; done
URL="http://127.0.0.1:$PORT$URL_PATH"

echo "warming up: $(wrk -t2 -c32 -d5s ${HEADER:+-H "$HEADER"} "$URL" | awk '/Requests\/sec/ { print $2 }') req/s"
wrk -t2 -c32 -d$((SECONDS_TRACED + 4))s ${HEADER:+-H "$HEADER"} "$URL" > "$OUT/wrk.txt" &
WRK=$!
sleep 1
"$TOOLS/dotnet-trace" collect -p "$PID" --profile dotnet-sampled-thread-time --duration "00:00:00:$(printf %02d "$SECONDS_TRACED")" \
  --format Speedscope -o "$OUT/trace.nettrace" > "$OUT/trace.log" 2>&1
wait "$WRK"; WRK=""
echo "while tracing: $(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk.txt") req/s"

# Thread-time samples: each frame's share of the time threads spent under HubApi's handlers (native SQLite time
# shows as UNMANAGED_CODE_TIME under the managed frame that called it).
python3 - "$OUT/trace.speedscope.json" <<'EOF'
import collections, json, re, sys
d = json.load(open(sys.argv[1]))
frames = [f["name"] for f in d["shared"]["frames"]]
root = re.compile(r"HubApi\.Http\.ResourceEndpoints\.(Get|List)|HubApi!HubApi\.[A-Za-z]+\.[A-Za-z]+Api\.")
inclusive, children, total = collections.Counter(), collections.Counter(), 0.0
for profile in d["profiles"]:
    stack, last = [], None
    for event in profile["events"]:
        if last is not None and stack:
            names = [frames[i] for i in stack]
            start = next((k for k, n in enumerate(names) if root.search(n)), None)
            if start is not None:
                dt = event["at"] - last
                total += dt
                for n in set(names[start:]):
                    inclusive[n] += dt
                children[names[start + 1] if start + 1 < len(names) else "(self)"] += dt
        last = event["at"]
        if event["type"] == "O":
            stack.append(event["frame"])
        elif stack:
            stack.pop()
if total == 0:
    sys.exit("no samples under HubApi's handlers: is the URL right?")
short = lambda n: re.sub(r"\(.*", "", n.split("!", 1)[-1])[:110]
print(f"\n{total / 1000:.1f} thread-seconds under HubApi's handlers\n\ndirectly under the handler:")
for n, v in children.most_common(12):
    print(f"  {100 * v / total:5.1f}%  {short(n)}")
print("\nheaviest frames anywhere below it (inclusive):")
for n, v in inclusive.most_common(40):
    print(f"  {100 * v / total:5.1f}%  {short(n)}")
EOF
echo
echo "trace: $OUT/trace.speedscope.json"
