#!/usr/bin/env bash
# Read cache benchmark (issue 21): GetItem on tidewaterd without the cache (--cache-mb 0) and
# with it (the default --cache-mb), the same load on both, one server at a time.
#
# For each server: a table of --keys 1 KB items (written once, --populate), a warm-up run
# (which also fills the cache), then two measured closed-loop GetItem runs (eventually
# consistent, as the SDKs send by default): keys uniformly random over the whole key set
# (which fits the cache), and every request on one key (a hot key). Prints per run the
# throughput, p50/p99 latency at the client and the server's CPU per request (utime+stime of
# the server process over the run, from /proc/PID/stat, divided by the requests answered),
# the cache's hit count, and the ratios cached/uncached.
#
# Usage: bench/run_cache_bench.sh [options]
#   --tidewaterd PATH    server binary (default: build/server/tidewaterd)
#   --load PATH          load generator (default: build/bench/tw_http_load)
#   --duration SECONDS   measured seconds per run (default 10)
#   --connections N      keep-alive connections (default 32)
#   --keys N             distinct keys of the uniform run (default 10000: about 10 MB)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tidewaterd="$repo/build/server/tidewaterd"
load="$repo/build/bench/tw_http_load"
duration=10
connections=32
keys=10000

while [[ $# -gt 0 ]]; do
  case "$1" in
    --tidewaterd) tidewaterd="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

[[ -x "$load" ]] || { echo "load generator not found: $load (ninja tw_http_load)" >&2; exit 1; }
[[ -x "$tidewaterd" ]] || { echo "tidewaterd not found: $tidewaterd" >&2; exit 1; }

. "$repo/bench/bench_lib.sh"

work="$(mktemp -d -t tw-cache-bench-XXXXXX)"
server_pid=""
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

table="tw_cache_bench"

# cache_hits ENDPOINT: the item hits counted so far (0 without a cache).
cache_hits() {
  curl -s "$1/metrics" |
    awk '/^tidewater_cache_hits_total\{kind="item"\}/ { printf "%d", $2; found = 1 }
         END { if (!found) print 0 }'
}

# getitem_buckets ENDPOINT: "<requests <= 50 us> <requests <= 100 us> <all requests>" of
# GetItem so far, from the server's own latency histogram (request parsed to answer ready).
getitem_buckets() {
  curl -s "$1/metrics" |
    awk '/^tidewater_api_request_duration_seconds_bucket\{.*operation="GetItem"/ {
           if ($0 ~ /le="5e-05"/) a = $2; if ($0 ~ /le="0.0001"/) b = $2 }
         /^tidewater_api_request_duration_seconds_count\{operation="GetItem"\}/ { n = $2 }
         END { printf "%d %d %d", a, b, n }'
}

# measure NAME ENDPOINT ARGS...: one measured GetItem run; records
# result[NAME]="<generator's result line> cpu_us_per_req=X hits=Y server_le50us=P
# server_le100us=Q" (P, Q: the share of the run's GetItems the server answered within 50 and
# 100 µs; over 50% within 100 µs means a server-side p50 under 100 µs).
declare -A result
measure() {
  local name="$1" endpoint="$2"
  shift 2
  local hits_before ticks_before output ticks_after hits_after
  local le50_before le100_before all_before le50_after le100_after all_after
  hits_before="$(cache_hits "$endpoint")"
  read -r le50_before le100_before all_before <<<"$(getitem_buckets "$endpoint")"
  ticks_before="$(cpu_ticks "$server_pid")"
  if ! output="$("$load" --endpoint "$endpoint" --table "$table" --op get --item-size 1024 \
      --connections "$connections" --duration "$duration" --warmup 0 "$@")"; then
    echo "load generator failed: $output" >&2
    exit 1
  fi
  ticks_after="$(cpu_ticks "$server_pid")"
  hits_after="$(cache_hits "$endpoint")"
  read -r le50_after le100_after all_after <<<"$(getitem_buckets "$endpoint")"
  local n=$((all_after - all_before))
  local shares
  shares="$(awk -v a=$((le50_after - le50_before)) -v b=$((le100_after - le100_before)) -v n="$n" \
    'BEGIN { if (n > 0) printf "server_le50us=%.1f%% server_le100us=%.1f%%", 100 * a / n, 100 * b / n }')"
  local cpu_us
  cpu_us="$(cpu_us_per_request $((ticks_after - ticks_before)) "$(field ok "$output")")"
  result[$name]="$output cpu_us_per_req=$cpu_us hits=$((hits_after - hits_before)) $shares"
  echo "${result[$name]}"
}

for mode in off on; do
  port="$(free_port)"
  cache_args=()
  [[ "$mode" == off ]] && cache_args=(--cache-mb 0)
  # No throttling: the figures are the server's, not DynamoDB's limits.
  "$tidewaterd" --data-dir "$work/data-$mode" --listen "127.0.0.1:$port" --region us-east-1 \
    --throttling off "${cache_args[@]}" >"$work/tidewaterd-$mode.log" 2>&1 &
  server_pid="$!"
  endpoint="http://127.0.0.1:$port"
  wait_http "$endpoint/healthz" "$server_pid" tidewaterd "$work/tidewaterd-$mode.log"
  echo "== cache $mode (${cache_args[*]:-default --cache-mb}): populate $keys keys, warm up"
  "$load" --endpoint "$endpoint" --table "$table" --op get --item-size 1024 \
    --connections "$connections" --keys "$keys" --duration 2 --warmup 0 --create-table \
    --populate >/dev/null
  echo "== cache $mode: GetItem, $keys keys uniformly"
  measure "$mode.uniform" "$endpoint" --keys "$keys"
  echo "== cache $mode: GetItem, one hot key"
  measure "$mode.hot" "$endpoint" --keys 1
  stop_server
done

echo
echo "== GetItem, $connections connections, closed loop, 1 KB items, ${duration}s per run"
printf '%-16s %12s %9s %9s %14s %10s %15s %16s\n' run ops/s p50_us p99_us server_cpu_us hits \
  server_le50us server_le100us
for workload in uniform hot; do
  for mode in off on; do
    r="${result[$mode.$workload]}"
    printf '%-16s %12s %9s %9s %14s %10s %15s %16s\n' "$workload/cache-$mode" \
      "$(field ops_per_s "$r")" "$(field p50_us "$r")" "$(field p99_us "$r")" \
      "$(field cpu_us_per_req "$r")" "$(field hits "$r")" "$(field server_le50us "$r")" \
      "$(field server_le100us "$r")"
  done
done
echo
printf '%-10s %22s %22s\n' workload "throughput on/off" "cpu per request on/off"
for workload in uniform hot; do
  on="${result[on.$workload]}"
  off="${result[off.$workload]}"
  printf '%-10s %22s %22s\n' "$workload" \
    "$(awk -v a="$(field ops_per_s "$on")" -v b="$(field ops_per_s "$off")" \
      'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')" \
    "$(awk -v a="$(field cpu_us_per_req "$on")" -v b="$(field cpu_us_per_req "$off")" \
      'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')"
done
