#!/usr/bin/env bash
# Load test: wrk against the example's guarded route GET /api/files with a
# key (in-process cache on, then off so that every request is an SQLite
# lookup) and against the same handlers with no keycap in front (the bare
# baseline, served by the same process on a second port), in one run.
# Prints req/s, p50 and p99 for each and the ratio to the bare handler.
#
#   scripts/loadtest.sh            # 10 s per run, 2 threads, 64 connections
#   DURATION=30s CONNECTIONS=128 scripts/loadtest.sh
#
# Needs wrk (apt-get install -y wrk) and curl. Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
PORT=${PORT:-18080}
BARE_PORT=${BARE_PORT:-18081}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/example" ./example

start() { # cache: on or off
  KEYCAP_DB="$work/keycap.db" KEYCAP_CACHE="$1" KEYCAP_BARE_ADDR="127.0.0.1:$BARE_PORT" \
    PORT="$PORT" "$work/example" >"$work/example-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && return 0; sleep 0.1; done
  echo "the example did not start; its log:" >&2; cat "$work/example-$1.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# run NAME URL [header]: prints "NAME req/s p50 p99"
run() {
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$3" "$2")
  else
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  fi
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: some answers were not 2xx:" >&2; echo "$out" >&2; exit 1; fi
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$1 $rps $p50 $p99"
}

start on
jar="$work/cookies"
curl -sf -c "$jar" -o /dev/null -d 'username=alice&password=alice' "http://127.0.0.1:$PORT/login"
key=$(curl -sf -b "$jar" -H 'Content-Type: application/json' \
  -d '{"name":"loadtest","permissions":{"files":["read"]}}' "http://127.0.0.1:$PORT/api-keys" |
  sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || { echo "could not create a key" >&2; exit 1; }

results=()
results+=("$(run bare "http://127.0.0.1:$BARE_PORT/api/files")")
results+=("$(run keycap-cached "http://127.0.0.1:$PORT/api/files" "Authorization: Bearer $key")")
stop
start off
results+=("$(run keycap-sqlite "http://127.0.0.1:$PORT/api/files" "Authorization: Bearer $key")")
results+=("$(run bare-again "http://127.0.0.1:$BARE_PORT/api/files")")
stop

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores, $(date -u +%Y-%m-%d), $(go version | awk '{print $3}')"
printf '%-15s %12s %10s %10s %10s %12s\n' target req/s p50 p99 "vs bare" "vs 1000/s"
bare=$(awk '{print $2}' <<<"${results[0]}")
for r in "${results[@]}"; do
  read -r name rps p50 p99 <<<"$r"
  printf '%-15s %12s %10s %10s %9.0f%% %11.0fx\n' "$name" "$rps" "$p50" "$p99" \
    "$(awk -v a="$rps" -v b="$bare" 'BEGIN{print 100*a/b}')" "$(awk -v a="$rps" 'BEGIN{print a/1000}')"
done
