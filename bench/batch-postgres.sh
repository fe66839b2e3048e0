#!/usr/bin/env bash
# bench/batch.sh's figures on PostgreSQL: 10,000-row batches timed, and the storage one version of a firm takes.
#   bench/batch-postgres.sh 'Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres' [firms, default 10000] [changes, default 10]
# The connection string names a server and a role that may create databases; the benchmark makes its own database
# (hubapi_batch_bench), loads the firms through POST /v1/firms/batch, changes each firm as upsert batches of up to
# 10,000 rows, and prints a Markdown section with the database's size before and after. Loopback only.
set -euo pipefail
for tool in psql bc curl python3; do command -v "$tool" >/dev/null || { echo "bench/batch-postgres.sh needs $tool (apt-get install postgresql-client bc curl python3)" >&2; exit 2; }; done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADMIN=${1:?usage: bench/batch-postgres.sh CONNECTION-STRING [firms] [changes]}
FIRMS=${2:-10000}
ROUNDS=${3:-10}
WORK=$ROOT/bench/.work/batch-postgres
PORT=${PORT:-5418}
KEY=batch-bench-admin-key-0123456789
URL=http://127.0.0.1:$PORT
DB=hubapi_batch_bench
mkdir -p "$WORK"
rm -f "$WORK"/*.ndjson

field() { tr ';' '\n' <<<"$ADMIN" | sed -n "s/^$1=//Ip" | head -1; }
export PGHOST=$(field Host) PGPORT=$(field Port) PGUSER=$(field Username)
psql -qX -d "$(field Database)" -c "drop database if exists $DB" -c "create database $DB" >/dev/null
HUB="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Database=$DB"
size() { psql -qXAt -d "$DB" -c "select $1"; }

dotnet build "$ROOT/src/HubApi" -c Release -nologo -clp:ErrorsOnly >/dev/null
SERVER=
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true; SERVER=; }
trap stop EXIT
Database__Provider=Postgres ConnectionStrings__Hub="$HUB" Auth__AdminKey=$KEY RateLimiting__KeyedPermitsPerMinute=0 \
  RateLimiting__AnonymousPermitsPerMinute=0 dotnet "$ROOT/src/HubApi/bin/Release/net10.0/HubApi.dll" --urls "$URL" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do curl -sf "$URL/health/ready" >/dev/null && break; sleep 0.1; done

post() { # file, query → "status seconds"
  curl -s -o "$WORK/answer.json" -w '%{http_code} %{time_total}\n' --max-time 600 -X POST -H "X-Api-Key: $KEY" \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$1" "$URL/v1/firms/batch$2"
}
rows() { # round → batch files of up to 10,000 firms, each firm's description marking the round
  python3 - "$WORK" "$FIRMS" "$1" <<'EOF'
import json, sys
work, firms, round_ = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for part in range(0, firms, 10000):
    with open(f"{work}/round-{part // 10000:03d}.ndjson", "w") as f:
        for i in range(part, min(part + 10000, firms)):
            f.write(json.dumps({"id": f"pg-bench-{i}", "name": f"Batch firm {i}", "zone": "lingang", "industries": ["integrated-circuits"],
                                "description": f"A synthetic firm for the batch benchmark (revision {round_}).",
                                "citations": [{"source": "shanghai-digital-hub",
                                               "quote": "Shanghai is now home to 45 national research labs and various industrial zones."}]}) + "\n")
EOF
}
send() { # round, query → seconds of each batch
  local times=()
  rows "$1"
  for file in "$WORK"/round-*.ndjson; do
    read -r status seconds < <(post "$file" "$2")
    [ "$status" = 200 ] || { echo "round $1, $file: $status $(head -c 300 "$WORK/answer.json")" >&2; exit 1; }
    times+=("$(printf '%.2f' "$seconds")"); rm "$file"
  done
  echo "${times[*]}"
}

psql -qXAt -d "$DB" -c "vacuum analyze" >/dev/null
BEFORE=$(size "pg_database_size(current_database())")
CREATE_TIMES=$(send 0 "")
psql -qXAt -d "$DB" -c "vacuum analyze" >/dev/null
LOADED=$(size "pg_database_size(current_database())")
VERSIONS_LOADED=$(size "pg_total_relation_size('versions')")
CLOCK=$(date +%s.%N)
UPSERT_TIMES=
for round in $(seq 1 "$ROUNDS"); do UPSERT_TIMES="$UPSERT_TIMES $(send "$round" "?mode=upsert")"; done
ELAPSED=$(echo "$(date +%s.%N) - $CLOCK" | bc)
stop
psql -qXAt -d "$DB" -c "vacuum analyze" >/dev/null
AFTER=$(size "pg_database_size(current_database())")
VERSIONS=$(size "pg_total_relation_size('versions')")
CHANGES=$(size "pg_total_relation_size('changes')")
FIRMS_TABLE=$(size "pg_total_relation_size('firms')")
SNAPSHOT_AVG=$(size "round(avg(octet_length(record)))::text from versions")
mb() { echo "scale=1; $1 / 1048576" | bc; }
cat <<EOF
## Batch writes and record history on PostgreSQL (bench/batch-postgres.sh)

Measured on $(date -u +%Y-%m-%dT%H:%M:%SZ), tree at \`$(git -C "$ROOT" rev-parse --short HEAD)\`, PostgreSQL $(psql -qXAt -d "$DB" -c "show server_version" | cut -d' ' -f1)
on the same loopback, on the shared 2-core machine **under load** (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end).

| measure | figure |
|---|---|
| $(printf "%s" "$FIRMS") firms created in batches of 10,000 (NDJSON, each with a link and a citation) | ${CREATE_TIMES// / s, } s per batch |
| then $ROUNDS changes to each firm as upsert batches, $(printf "%'d" $((FIRMS * ROUNDS))) versions in $(printf '%.0f' "$ELAPSED") s | ${UPSERT_TIMES# } (s per batch) |
| database: empty (migrated and seeded) / after the creates / after the changes | $(mb "$BEFORE") / $(mb "$LOADED") / $(mb "$AFTER") MB |
| growth from the changes | +$(mb $((AFTER - LOADED))) MB, $(( (AFTER - LOADED) / (FIRMS * ROUNDS) )) bytes per version (the firms table itself: $(mb "$FIRMS_TABLE") MB after vacuum) |
| versions table with its index, snapshot $SNAPSHOT_AVG bytes on average | $(mb "$VERSIONS_LOADED") MB after the creates, $(mb "$VERSIONS") MB after the changes |
| the change feed with its indexes | $(mb "$CHANGES") MB |
EOF
