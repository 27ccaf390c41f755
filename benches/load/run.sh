#!/usr/bin/env bash
# Load comparison of POST /webhook: upkeep (SQLite, every delivery stored) and Probot 14 (a
# minimal app handling every event, storing nothing), one after the other on this machine, each
# under the same wrk load with the same real signed `push` payload and a unique delivery id per
# request. Loopback only; every run is bounded in time.
#
#   bash benches/load/run.sh            # both
#   ONLY=upkeep bash benches/load/run.sh
#
# Knobs: DURATION (s, default 20), THREADS (2), CONNECTIONS (16), WARMUP (s, 5), WORKERS (upkeep
# job workers, 4), PAYLOAD (a webhook body; default the shared push payload), LOG (both servers'
# log level; unset, each server's own default: info, and for Probot pretty-printed unless
# PROBOT_ENV=production, which switches it to JSON lines).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${UPKEEP_SHARED_DIR:-$root/../shared}"
export PAYLOAD="${PAYLOAD:-$shared/github-webhooks/push/payload.json}"
DURATION="${DURATION:-20}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-16}" WARMUP="${WARMUP:-5}"
ONLY="${ONLY:-}"
SECRET="load-test-webhook-secret-0123456789"
export SIGNATURE="sha256=$(openssl dgst -sha256 -hmac "$SECRET" -hex < "$PAYLOAD" | awk '{print $NF}')"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
openssl genrsa -traditional -out "$tmp/key.pem" 2048 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; return 1; }

# Samples the peak resident set of PID while wrk runs (VmHWM at the end covers the whole life).
peak_rss_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

load() { # name url pid
  RUNID="$1-warm" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$here/wrk-webhook.lua" "$2" > /dev/null
  RUNID="$1-main" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$here/wrk-webhook.lua" "$2" | tee "$tmp/$1.wrk" | grep RESULT
}

rows=()
if [ "$ONLY" != "probot" ]; then
  [ -x "$root/target/release/upkeep" ] || (cd "$root" && cargo build --release)
  port=$(free_port)
  UPKEEP_LISTEN="127.0.0.1:$port" UPKEEP_DATABASE_URL="sqlite://$tmp/upkeep.db" UPKEEP_DATA_DIR="$tmp" \
    UPKEEP_APP_ID=1 UPKEEP_PRIVATE_KEY_PATH="$tmp/key.pem" UPKEEP_WEBHOOK_SECRET="$SECRET" \
    UPKEEP_WORKERS="${WORKERS:-4}" UPKEEP_LOG_FORMAT=json RUST_LOG="${LOG:-info}" \
    "$root/target/release/upkeep" serve > "$tmp/upkeep.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  load upkeep "http://127.0.0.1:$port/webhook"
  rss=$(peak_rss_mib "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  stored=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"SELECT COUNT(*) FROM deliveries WHERE delivery_id LIKE 'upkeep-main-%'\").fetchone()[0])" "$tmp/upkeep.db")
  r=$(grep RESULT "$tmp/upkeep.wrk")
  ok=$(( $(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$r") - $(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$r") ))
  echo "upkeep: $ok deliveries answered 2xx in the main run, $stored of them found in the deliveries table"
  rows+=("upkeep|$(sed -E 's/.*rps=([0-9]+).*/\1/' <<<"$r")|$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$r")|$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$r")|$rss|$stored of $ok")
fi

if [ "$ONLY" != "upkeep" ]; then
  app="$here/probot-app"
  [ -d "$app/node_modules/probot" ] || (cd "$app" && npm install --no-audit --no-fund)
  port=$(free_port)
  (cd "$app" && APP_ID=1 PRIVATE_KEY_PATH="$tmp/key.pem" WEBHOOK_SECRET="$SECRET" PORT="$port" HOST=127.0.0.1 \
    ${LOG:+LOG_LEVEL="$LOG"} ${PROBOT_ENV:+NODE_ENV="$PROBOT_ENV"} exec env node node_modules/probot/bin/probot.js run ./index.js > "$tmp/probot.log" 2>&1) &
  pid=$!; pids+=("$pid")
  wait_http "http://127.0.0.1:$port/"
  node_pid=$(pgrep -P "$pid" node || echo "$pid")
  load probot "http://127.0.0.1:$port/api/github/webhooks"
  rss=$(peak_rss_mib "$node_pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  r=$(grep RESULT "$tmp/probot.wrk")
  rows+=("probot 14|$(sed -E 's/.*rps=([0-9]+).*/\1/' <<<"$r")|$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$r")|$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$r")|$rss|nothing stored")
fi

echo
echo "| server | deliveries/s | p50 ms | p99 ms | peak RSS MiB | stored |"
echo "|---|---|---|---|---|---|"
for row in "${rows[@]}"; do echo "| ${row//|/ | } |"; done
