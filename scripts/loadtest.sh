#!/usr/bin/env bash
# Load test: wrk against the example's guarded route GET /api/files with a
# key (in-process cache on, then off so that every request is an SQLite
# lookup, then refused keys: malformed and revoked, with the auditor on)
# and against the same handlers with no keycap in front (the bare
# baseline, served by the same process on a second port).
#
# Fair by construction: both servers are built by the same newServer
# (same timeouts, same error log), every request to either carries the
# same Authorization header, and each configuration is measured as bare,
# keycap, keycap, bare (half the duration each), ROUNDS times, so that both
# see the same load from whatever else runs on the machine and a drift
# weighs on both alike. A control pair measures bare against itself: its
# spread is the harness's own. The bare mux has the 3 demo API routes, the
# app's 12 (Go's ServeMux matches by a tree, not a scan: the count does not
# change the cost of a match). Prints, for each configuration, the ratio
# of keycap's requests to bare's in each round: min / median / max.
#
#   scripts/loadtest.sh            # 3 rounds of 10 s runs, 2 threads, 64 connections
#   ROUNDS=5 DURATION=30s CONNECTIONS=128 scripts/loadtest.sh
#   CACHED_ONLY=1 ROUNDS=7 scripts/loadtest.sh   # the cache-on configurations only
#
# With LOADTEST_DATABASE_URL set (a Postgres database the script may
# create tables in, prefixed keycap_loadtest_), it also runs the example
# on Postgres, as several instances would (no in-process cache: the key and
# its owner in one round trip per request), as keycap-postgres:
#
#   LOADTEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' scripts/loadtest.sh
#
# With the cache off (and on Postgres), a second configuration, -many,
# sends MANY_KEYS (64) keys in turn, from a wrk script that bare is sent
# too: every lookup is of a key no other request in flight asks for as
# often, so the Store's batching of concurrent lookups (sqlstore
# Options.MaxBatch) reads several distinct rows per statement, where the
# one-key configuration reads one row for many requests.
#
# Needs wrk (apt-get install -y wrk) and curl. Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
[[ $DURATION =~ ^[0-9]+s$ ]] || { echo "DURATION is in seconds, such as 10s" >&2; exit 1; }
HALF=$(( ${DURATION%s} / 2 ))s
[ "$HALF" != 0s ] || { echo "DURATION must be at least 2s: each pair runs in halves" >&2; exit 1; }
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
MANY_KEYS=${MANY_KEYS:-64}
PORT=${PORT:-18080}
BARE_PORT=${BARE_PORT:-18081}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/example" ./example

start() { # cache: on or off, or postgres
  if [ "$1" = postgres ]; then
    DATABASE_URL="$LOADTEST_DATABASE_URL" KEYCAP_TABLE_PREFIX=keycap_loadtest_ KEYCAP_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      KEYCAP_BARE_ADDR="127.0.0.1:$BARE_PORT" PORT="$PORT" "$work/example" >"$work/example-$1.log" 2>&1 &
  else
    KEYCAP_DB="$work/keycap.db" KEYCAP_CACHE="$1" KEYCAP_BARE_ADDR="127.0.0.1:$BARE_PORT" \
      PORT="$PORT" "$work/example" >"$work/example-$1.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && return 0; sleep 0.1; done
  echo "the example did not start; its log:" >&2; cat "$work/example-$1.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# run NAME URL [header] [refused]: prints "NAME req/s p50 p99". With
# $script set, wrk runs that Lua script too (it sets the header).
run() {
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${script:+-s "$script"} -H "$3" "$2")
  else
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${script:+-s "$script"} "$2")
  fi
  if [ "${4:-}" != refused ] && grep -q "Non-2xx" <<<"$out"; then echo "$1: some answers were not 2xx:" >&2; echo "$out" >&2; exit 1; fi
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$1 $rps $p50 $p99"
}

# newkey NAME: logs alice in (once) and prints a new key of hers
jar="$work/cookies"
newkey() {
  [ -s "$jar" ] || curl -sf -c "$jar" -o /dev/null -d 'username=alice&password=alice' "http://127.0.0.1:$PORT/login"
  curl -sf -b "$jar" -H 'Content-Type: application/json' \
    -d '{"name":"'"$1"'","permissions":{"files":["read"]}}' "http://127.0.0.1:$PORT/api-keys" |
    sed -n 's/.*"key":"\([^"]*\)".*/\1/p'
}
# manykeys NAME N: creates N keys of alice and writes a wrk script that
# sends them in turn (each connection its own order), as "$work/NAME.lua";
# their ids go to "$work/NAME.ids".
manykeys() {
  local k
  : >"$work/$1.ids"
  { echo 'local keys = {'
    for i in $(seq 1 "$2"); do
      k=$(newkey "$1-$i")
      [ -n "$k" ] || { echo "could not create key $i of $2" >&2; exit 1; }
      cut -d_ -f2 <<<"$k" >>"$work/$1.ids"
      echo "  \"$k\","
    done
    echo '}'
    echo 'local i = 0'
    echo 'function setup(thread) thread:set("offset", math.random(#keys)) end'
    echo 'function init() i = tonumber(wrk.thread:get("offset") or 0) end'
    echo 'function request()'
    echo '  i = i + 1'
    echo '  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. keys[(i % #keys) + 1] })'
    echo 'end'
  } >"$work/$1.lua"
}
start on
key=$(newkey loadtest)
[ -n "$key" ] || { echo "could not create a key" >&2; exit 1; }

auth="Authorization: Bearer $key"
# A revoked key, and a malformed one (its checksum broken).
revoked=$(newkey revoked)
revoked_id=$(cut -d_ -f2 <<<"$revoked")
curl -sf -b "$jar" -X DELETE -o /dev/null "http://127.0.0.1:$PORT/api-keys/$revoked_id" ||
  { echo "could not revoke a key" >&2; exit 1; }
malformed="${key%?}$( [ "${key: -1}" = A ] && echo B || echo A )"

ratios=() # "config ratio bare-rps keycap-rps"
# pair NAME URL HEADER [refused]: bare, keycap, keycap, bare (each half
# of DURATION), so that a drift over the pair (the machine warming up or
# slowing down, the garbage of one run collected in the next) weighs on
# both alike; the ratio is keycap's requests over bare's.
pair() {
  local b1 k1 k2 b2
  b1=$(DURATION=$HALF run bare "http://127.0.0.1:$BARE_PORT/api/files" "$3")
  k1=$(DURATION=$HALF run "$1" "$2" "$3" "${4:-}")
  k2=$(DURATION=$HALF run "$1" "$2" "$3" "${4:-}")
  b2=$(DURATION=$HALF run bare "http://127.0.0.1:$BARE_PORT/api/files" "$3")
  echo "  $b1 | $k1 | $k2 | $b2" >&2
  ratios+=("$1 $(awk -v k1="$(awk '{print $2}' <<<"$k1")" -v k2="$(awk '{print $2}' <<<"$k2")" \
    -v b1="$(awk '{print $2}' <<<"$b1")" -v b2="$(awk '{print $2}' <<<"$b2")" \
    'BEGIN{printf "%.1f %.0f %.0f", 100*(k1+k2)/(b1+b2), (b1+b2)/2, (k1+k2)/2}')")
}
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round, cache on" >&2
  # The control: bare against itself, run as the others are. Its spread
  # is what the harness itself gives; a ratio within it is no difference.
  pair bare-vs-bare "http://127.0.0.1:$BARE_PORT/api/files" "$auth"
  pair keycap-cached "http://127.0.0.1:$PORT/api/files" "$auth"
  pair refused-malformed "http://127.0.0.1:$PORT/api/files" "Authorization: Bearer $malformed" refused
  pair refused-revoked "http://127.0.0.1:$PORT/api/files" "Authorization: Bearer $revoked" refused
done
lines=$(wc -l <"$work/example-on.log")
stop
configs="bare-vs-bare keycap-cached refused-malformed refused-revoked"
if [ -z "${CACHED_ONLY:-}" ]; then
  start off
  rm -f "$jar" # sessions do not outlive the process: log in again
  manykeys sqlite "$MANY_KEYS"
  for round in $(seq 1 "$ROUNDS"); do
    echo "round $round, cache off" >&2
    pair keycap-sqlite "http://127.0.0.1:$PORT/api/files" "$auth"
    script="$work/sqlite.lua" pair keycap-sqlite-many "http://127.0.0.1:$PORT/api/files" ""
  done
  stop
  configs="$configs keycap-sqlite keycap-sqlite-many"
fi
if [ -n "${LOADTEST_DATABASE_URL:-}" ] && [ -z "${CACHED_ONLY:-}" ]; then
  rm -f "$jar"
  start postgres
  pgkey=$(newkey loadtest)
  [ -n "$pgkey" ] || { echo "could not create a key on Postgres; the example's log:" >&2; cat "$work/example-postgres.log" >&2; exit 1; }
  manykeys postgres "$MANY_KEYS"
  for round in $(seq 1 "$ROUNDS"); do
    echo "round $round, postgres" >&2
    pair keycap-postgres "http://127.0.0.1:$PORT/api/files" "Authorization: Bearer $pgkey"
    script="$work/postgres.lua" pair keycap-postgres-many "http://127.0.0.1:$PORT/api/files" ""
  done
  # Revoked, they no longer count against alice's key limit in the tables kept.
  for id in $(cut -d_ -f2 <<<"$pgkey") $(cat "$work/postgres.ids"); do
    curl -sf -b "$jar" -X DELETE -o /dev/null "http://127.0.0.1:$PORT/api-keys/$id" || true
  done
  stop
  configs="$configs keycap-postgres keycap-postgres-many"
fi

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS alternating rounds, on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d), $(go version | awk '{print $3}')"
printf '%-18s %22s %22s\n' configuration "vs bare min/med/max" "req/s at median"
for c in $configs; do
  printf '%s\n' "${ratios[@]}" | awk -v c="$c" '$1 == c {print $2, $4}' | sort -n |
    awk -v c="$c" '{r[NR]=$1; q[NR]=$2} END {m=int((NR+1)/2); printf "%-18s %7.1f/%.1f/%.1f%% %22s\n", c, r[1], r[m], r[NR], q[m]}'
done
echo "log lines written by the example with the cache on (refused keys included): $lines"
