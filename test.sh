#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, builds, tests, and ends with one
# line "N passed, N failed[, N skipped]" summing every part:
#   - the .NET tests (tests/HubApi.Tests on SQLite, without the PostgreSQL-only ones (Trait Provider=Postgres);
#     tests/HubApi.ClientTests: the NSwag and Kiota clients generated at their defaults on build, the README's C# quick
#     starts run as written, Swagger UI in Chromium), from their trx files;
#   - tests/HubApi.Tests a second time on PostgreSQL 15 (Database__Provider=Postgres), in a throwaway cluster started
#     here, without the tests about SQLite itself (Trait Provider=Sqlite);
#   - tests/HubApi.ClusterTests: two replicas behind nginx on a PostgreSQL primary and standby, started by
#     deploy/cluster.sh (Trait Provider=Cluster, left out of the runs above);
#   - the contract checks in tests/contract: Redocly and Spectral lint of openapi.yaml and the TypeScript clients'
#     generation (openapi-typescript, @hey-api/openapi-ts) and type-check, one test each;
#   - the TypeScript suite (node --test: the openapi-fetch and hey-api clients, the README's front-end quick starts)
#     against the live service through Prism's validation proxy, from its TAP.
# Debian's Prometheus runs beside the .NET tests, scraping every second the services they point it at (a target file
# it watches): PrometheusScrapeTests queries it for the requests and cache hits it caused.
set -euo pipefail
cd "$(dirname "$0")"
root="$PWD"
contract="$root/tests/contract"

results="$(mktemp -d)"
pgdata=""
pgpid=""
clusterrun=""
prompid=""
cleanup() {
  # The cluster tests stop their cluster themselves; if they were cut short, stop what deploy/cluster.sh recorded.
  if [ -n "$clusterrun" ] && [ -f "$clusterrun/state" ]; then CLUSTER_RUN="$clusterrun" "$root/deploy/cluster.sh" stop >/dev/null 2>&1 || true; fi
  if [ -n "$clusterrun" ]; then rm -rf "$clusterrun"; fi
  # Stop only the Prometheus this script started, by its pid.
  if [ -n "$prompid" ] && kill -0 "$prompid" 2>/dev/null; then
    kill -TERM "$prompid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$prompid" 2>/dev/null || break; sleep 0.1; done
  fi
  # Stop only the PostgreSQL this script started, by its postmaster's pid (SIGINT: a fast shutdown).
  if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then
    kill -INT "$pgpid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$pgdata" ]; then rm -rf "$pgdata"; fi
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1   # Swagger UI is tested in Debian's Chromium, never a downloaded browser
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

step() { printf '\n== %s\n' "$*"; }

# --- What a fresh machine lacks --------------------------------------------------------------------------------
# Debian packages, installed together (one apt-get update): Chromium for the Swagger UI test, PostgreSQL 15 for the
# PostgreSQL run and the cluster tests, nginx and curl for the cluster tests (deploy/cluster.sh).
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
pgbin=/usr/lib/postgresql/15/bin
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x "$pgbin/initdb" ] || missing+=(postgresql-15)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian's ${missing[*]}"
  # No default PostgreSQL cluster: the tests start throwaway ones of their own. Keep any configuration file already
  # there (--force-confold), so an install never stops on a prompt.
  as_root mkdir -p /etc/postgresql-common
  [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  [ -x "$pgbin/initdb" ] || { echo "test.sh: PostgreSQL 15 was not installed in $pgbin (this suite expects Debian 12's postgresql-15)" >&2; exit 1; }
fi
if [ ! -x /usr/bin/prometheus ]; then
  step "installing Debian's prometheus (for the scrape test; its own system service is kept off)"
  # Only the binary is wanted: no service started now (policy-rc.d refuses it for the install) or at the next boot.
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null && as_root chmod +x /usr/sbin/policy-rc.d && added_policy=1
  fi
  installed=0
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    && installed=1
  if [ -n "$added_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
  [ "$installed" = 1 ] || { echo "test.sh: installing prometheus failed" >&2; exit 1; }
  if command -v systemctl >/dev/null; then as_root systemctl disable prometheus.service >/dev/null 2>&1 || true; fi
fi
if ! command -v curl >/dev/null; then
  step "installing Debian's curl (the README's quick starts fetch the served document with it)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "test.sh: Node.js 20.19 or later is needed for tests/contract (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
step "npm ci (tests/contract), in the background while .NET builds"
(cd "$contract" && npm ci --no-audit --no-fund --loglevel=error) > "$results/npm-ci.log" 2>&1 &
npm_ci=$!

# --- Prometheus, for PrometheusScrapeTests --------------------------------------------------------------------
# Our own instance on a free loopback port, its data in the temp folder; the tests write its targets file.
step "Prometheus: scraping every second the services the tests name in a targets file"
promdir="$results/prometheus"
mkdir -p "$promdir"
echo '[]' > "$promdir/targets.json"
cat > "$promdir/prometheus.yml" <<YAML
global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: hubapi
    file_sd_configs: [ { files: [ "$promdir/targets.json" ], refresh_interval: 1s } ]
YAML
promport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
/usr/bin/prometheus --config.file="$promdir/prometheus.yml" --storage.tsdb.path="$promdir/data" \
  --web.listen-address="127.0.0.1:$promport" --log.level=warn > "$promdir/prometheus.log" 2>&1 &
prompid=$!
python3 - "$promport" <<'PY' || { cat "$promdir/prometheus.log"; echo "test.sh: Prometheus did not start" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/-/ready", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
export HUBAPI_TEST_PROMETHEUS="http://127.0.0.1:$promport" HUBAPI_TEST_PROMETHEUS_TARGETS="$promdir/targets.json"

# --- .NET: build, then every test project ----------------------------------------------------------------------
step "dotnet tool restore (Kiota, pinned in .config/dotnet-tools.json)"
dotnet tool restore
step "dotnet build"
dotnet build HubApi.sln --configuration Release -nologo -clp:ErrorsOnly
status=0
step "dotnet test"
dotnet test HubApi.sln --configuration Release --no-build --filter "Provider!=Postgres&Provider!=Cluster" --logger "trx;LogFilePrefix=results" --results-directory "$results/trx" || status=$?

# --- The same tests on PostgreSQL ------------------------------------------------------------------------------
# A throwaway cluster in a temp folder, on a free loopback port. initdb refuses to run as root: as root, the cluster
# belongs to the postgres user. fsync is off: this run checks behaviour (the durability tests are SQLite's, above),
# and each test's CREATE DATABASE ... TEMPLATE would otherwise flush every file it copies.
step "PostgreSQL 15: a throwaway cluster"
pgdata="$(mktemp -d)"
pgport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdata"; fi
as_pg "$pgbin/initdb" -D "$pgdata/data" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 > "$results/initdb.log" 2>&1 \
  || { cat "$results/initdb.log"; echo "test.sh: initdb failed" >&2; exit 1; }
as_pg "$pgbin/pg_ctl" -D "$pgdata/data" -l "$pgdata/data/server.log" -w -t 60 \
  -o "-p $pgport -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
  || { cat "$pgdata/data/server.log"; echo "test.sh: PostgreSQL did not start" >&2; exit 1; }
pgpid="$(head -1 "$pgdata/data/postmaster.pid")"
step "dotnet test tests/HubApi.Tests on PostgreSQL (port $pgport)"
HUBAPI_TEST_PROVIDER=Postgres HUBAPI_TEST_POSTGRES="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres" \
  dotnet test tests/HubApi.Tests --configuration Release --no-build --filter "Provider!=Sqlite" \
  --logger "trx;LogFilePrefix=postgres" --results-directory "$results/trx" || status=$?

# --- Many replicas behind nginx ---------------------------------------------------------------------------------
# tests/HubApi.ClusterTests start, through deploy/cluster.sh, a PostgreSQL primary with a synchronous standby, two
# replicas of the build above and nginx on loopback, break them in turn and stop them (about a minute).
step "dotnet test tests/HubApi.ClusterTests (PostgreSQL primary + standby, 2 replicas, nginx)"
clusterrun="$(mktemp -d)"
chmod 755 "$clusterrun"   # as root, PostgreSQL runs as the postgres user and must reach its data directories in here
HUBAPI_CLUSTER_TESTS=1 HUBAPI_CLUSTER_RUN="$clusterrun" CLUSTER_BUILD=0 dotnet test tests/HubApi.ClusterTests --configuration Release --no-build \
  --logger "trx;LogFilePrefix=cluster" --results-directory "$results/trx" || status=$?

# --- The contract as front-end teams meet it ---------------------------------------------------------------------
checks_passed=0
checks_failed=0
check() {   # check NAME COMMAND...: one test that passes when the command does
  local name="$1"; shift
  step "$name"
  if "$@"; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); echo "FAILED: $name"; status=1; fi
}
if ! wait "$npm_ci"; then cat "$results/npm-ci.log"; echo "test.sh: npm ci failed" >&2; exit 1; fi
cd "$contract"
check "lint openapi.yaml with Redocly (recommended-strict)" npm run --silent lint:redocly
check "lint openapi.yaml with Spectral (OAS + OWASP)" npm run --silent lint:spectral
check "generate the TypeScript clients (openapi-typescript, @hey-api/openapi-ts) and type-check them (tsc --strict)" npm run --silent build
step "TypeScript clients and the README's front-end quick starts against the live service through Prism (node --test)"
node scripts/live.mjs 2>&1 | tee "$results/node.tap" || status=1
cd "$root"

python3 - "$results" "$checks_passed" "$checks_failed" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
results, passed, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
skipped = 0
for path in glob.glob(results + "/trx/**/*.trx", recursive=True):
    counters = ET.parse(path).getroot().find("{*}ResultSummary/{*}Counters")
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0))
    # xunit's skipped tests count in total but not in executed (notExecuted stays 0).
    skipped += int(counters.get("total", 0)) - int(counters.get("executed", 0))
tap = open(results + "/node.tap", encoding="utf-8", errors="replace").read()
counts = {k: int(v) for k, v in re.findall(r"^# (pass|fail|cancelled|skipped|todo) (\d+)$", tap, re.M)}
if "pass" in counts:
    passed += counts["pass"]
    failed += counts.get("fail", 0) + counts.get("cancelled", 0)
    skipped += counts.get("skipped", 0) + counts.get("todo", 0)
else:
    failed += 1  # the live suite did not run at all
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
