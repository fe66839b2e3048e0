#!/usr/bin/env bash
# Batch writes and record history, on SQLite (the default engine):
#   1. 10,000 firms in one POST /v1/firms/batch (NDJSON), timed three times after a warm-up batch;
#   2. storage growth: 100,000 synthetic firms (bench/Generate), then each firm changed 10 times (its description),
#      sent as upsert batches of 10,000 rows; the database's bytes before and after, and the versions table's share.
# Prints a Markdown section for bench/RESULTS.md. Loopback only; every loop is bounded; the server it starts is
# stopped by its pid.   bench/batch.sh [firms, default 100000] [changes per firm, default 10]
set -euo pipefail
for tool in sqlite3 bc curl python3; do command -v "$tool" >/dev/null || { echo "bench/batch.sh needs $tool (apt-get install sqlite3 bc curl python3)" >&2; exit 2; }; done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIRMS=${1:-100000}
ROUNDS=${2:-10}
WORK=$ROOT/bench/.work/batch
PORT=${PORT:-5417}
KEY=batch-bench-admin-key-0123456789
URL=http://127.0.0.1:$PORT
mkdir -p "$WORK"
rm -f "$WORK"/*.db* "$WORK"/*.ndjson

dotnet build "$ROOT/src/HubApi" -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet build "$ROOT/bench/Generate" -c Release -nologo -clp:ErrorsOnly >/dev/null
DLL=$ROOT/src/HubApi/bin/Release/net10.0/HubApi.dll

SERVER=
start() {
  ConnectionStrings__Hub="Data Source=$1" Auth__AdminKey=$KEY RateLimiting__KeyedPermitsPerMinute=0 RateLimiting__AnonymousPermitsPerMinute=0 \
    dotnet "$DLL" --urls "$URL" >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do curl -sf "$URL/health/ready" >/dev/null && return 0; sleep 0.1; done
  echo "the service did not start" >&2; exit 1
}
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true; SERVER=; }
trap stop EXIT

post() { # file, query → "status seconds"
  curl -s -o "$WORK/answer.json" -w '%{http_code} %{time_total}\n' -X POST -H "X-Api-Key: $KEY" -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$1" "$URL/v1/firms/batch$2"
}

# 1. 10,000 rows in one request.
python3 - "$WORK" <<'EOF'
import json, sys
for name in ["warm", "a", "b", "c"]:
    with open(f"{sys.argv[1]}/{name}.ndjson", "w") as f:
        for i in range(10000):
            f.write(json.dumps({"id": f"{name}-{i}", "name": f"Batch firm {name} {i}", "zone": "lingang", "industries": ["integrated-circuits"],
                                "description": "A synthetic firm for the batch benchmark.",
                                "citations": [{"source": "shanghai-digital-hub", "quote": "Shanghai is now home to 45 national research labs and various industrial zones."}]}) + "\n")
EOF
start "$WORK/batch.db"
read -r status warm < <(post "$WORK/warm.ndjson" "")
[ "$status" = 200 ] || { echo "warm-up batch: $status $(cat "$WORK/answer.json")" >&2; exit 1; }
TIMES=()
for name in a b c; do
  read -r status seconds < <(post "$WORK/$name.ndjson" "")
  [ "$status" = 200 ] || { echo "batch $name: $status $(cat "$WORK/answer.json")" >&2; exit 1; }
  TIMES+=("$seconds")
done
stop
LOAD_BATCH=$(cut -d' ' -f1-3 /proc/loadavg)

# 2. Storage growth.
dotnet "$ROOT/bench/Generate/bin/Release/net10.0/Generate.dll" "$WORK/growth.db" "$FIRMS" >/dev/null
sqlite3 "$WORK/growth.db" "pragma wal_checkpoint(truncate);" >/dev/null
BEFORE=$(stat -c %s "$WORK/growth.db")
start "$WORK/growth.db"
curl -sf -H 'Accept: application/x-ndjson' "$URL/v1/firms" -o "$WORK/firms.ndjson"
CLOCK=$(date +%s.%N)
for round in $(seq 1 "$ROUNDS"); do
  python3 - "$WORK" "$round" <<'EOF'
import json, sys
work, round_ = sys.argv[1], sys.argv[2]
out, part, count = None, 0, 0
with open(f"{work}/firms.ndjson") as f:
    for line in f:
        record = json.loads(line)
        if not record["id"].startswith("bench-"):
            continue
        for owned in ("version", "createdAt", "updatedAt"):
            record.pop(owned, None)
        record["description"] = f"{record.get('description') or ''} (revision {round_})"[-500:]
        if count % 10000 == 0:
            if out: out.close()
            out = open(f"{work}/round-{part:03d}.ndjson", "w"); part += 1
        out.write(json.dumps(record) + "\n"); count += 1
if out: out.close()
EOF
  for file in "$WORK"/round-*.ndjson; do
    read -r status _ < <(post "$file" "?mode=upsert")
    [ "$status" = 200 ] || { echo "round $round, $file: $status $(head -c 300 "$WORK/answer.json")" >&2; exit 1; }
    rm "$file"
  done
done
ELAPSED=$(echo "$(date +%s.%N) - $CLOCK" | bc)
stop
sqlite3 "$WORK/growth.db" "pragma wal_checkpoint(truncate);" >/dev/null
AFTER=$(stat -c %s "$WORK/growth.db")
VERSIONS_BYTES=$(sqlite3 "$WORK/growth.db" "select sum(pgsize) from dbstat where name = 'versions';")
VERSIONS_ROWS=$(sqlite3 "$WORK/growth.db" "select count(*) from versions;")
SNAPSHOT_AVG=$(sqlite3 "$WORK/growth.db" "select avg(length(record)) from versions;")
CHANGES_BYTES=$(sqlite3 "$WORK/growth.db" "select sum(pgsize) from dbstat where name in ('changes', 'changes_by_resource', 'changes_by_record', 'changes_by_key');")
LOAD_GROWTH=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)

mb() { echo "scale=1; $1 / 1048576" | bc; }
cat <<EOF
## Batch writes and record history (bench/batch.sh)

Measured on $(date -u +%Y-%m-%dT%H:%M:%SZ), tree at \`$COMMIT\`, SQLite, on the shared 2-core machine **under load**
(load average $LOAD_BATCH during the batches, $LOAD_GROWTH at the end): read the figures as what a busy machine gives.

| measure | figure |
|---|---|
| 10,000 firms in one \`POST /v1/firms/batch\` (NDJSON, create, each with a link and a citation), after a warm-up batch | $(printf '%.2f s, %.2f s, %.2f s' "${TIMES[@]}") (first batch after start-up: $(printf '%.2f' "$warm") s) |
| database before: $(printf "%'d" "$FIRMS") synthetic firms (bench/Generate) | $(mb "$BEFORE") MB |
| after $ROUNDS changes to each firm (its description), as upsert batches of 10,000 rows, $(printf "%'d" $((FIRMS * ROUNDS))) versions in $(printf '%.0f' "$ELAPSED") s | $(mb "$AFTER") MB (+$(mb $((AFTER - BEFORE))) MB, $(( (AFTER - BEFORE) / (FIRMS * ROUNDS) )) bytes per version) |
| of which the versions table (one full snapshot per version, $(printf "%'d" "$VERSIONS_ROWS") rows, snapshot $(printf '%.0f' "$SNAPSHOT_AVG") bytes on average) | $(mb "$VERSIONS_BYTES") MB |
| the change feed with its indexes (one row per write) | $(mb "$CHANGES_BYTES") MB |
EOF
