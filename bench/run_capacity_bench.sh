#!/usr/bin/env bash
# Capacity accounting cost: tidewaterd's CPU per request with throttling on (units counted,
# token buckets per table and per shard, on-demand scaling) against --throttling off, the
# same open-loop load on both, in one run.
#
# For each mode a fresh tidewaterd (no fsync) gets a PAY_PER_REQUEST table with a stream,
# then PutItem and GetItem (1 KB items, 2,000 keys, all written by the PutItem phase) at --rate requests/s, below
# DynamoDB's limits so that nothing is throttled (a new table serves 4,000 write units/s;
# four shards 1,000 each). The server's CPU time (utime + stime from /proc) over each
# measured phase, divided by the requests answered, is its cost per request; the script
# prints both modes and the overhead of accounting (on / off - 1; the issue's target is
# under 3%).
#
# Usage: bench/run_capacity_bench.sh [--rate N] [--duration SECONDS]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tidewaterd="$repo/build/server/tidewaterd"
load="$repo/build/bench/tw_http_load"
rate=3000
duration=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[[ -x "$load" && -x "$tidewaterd" ]] || { echo "build tidewaterd and tw_http_load first" >&2; exit 1; }

work="$(mktemp -d -t tw-capacity-bench-XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

. "$repo/bench/bench_lib.sh"
declare -A cost
ticks_per_s="$(getconf CLK_TCK)"
for mode in off on; do
  port="$(free_port)"
  rm -rf "$work/data"
  "$tidewaterd" --data-dir "$work/data" --listen "127.0.0.1:$port" --region us-east-1 \
    --throttling "$mode" >"$work/tidewaterd.log" 2>&1 &
  server_pid="$!"
  wait_http "http://127.0.0.1:$port/healthz" "$server_pid" tidewaterd "$work/tidewaterd.log"
  common=(--endpoint "http://127.0.0.1:$port" --table capacity_bench --connections 16
          --keys 2000 --item-size 1024 --warmup 1 --rate "$rate")
  "$load" "${common[@]}" --op put --create-table --stream-view-type NEW_AND_OLD_IMAGES \
    --duration 1 >/dev/null
  for op in put get; do
    before="$(cpu_ticks "$server_pid")"
    result="$("$load" "${common[@]}" --duration "$duration" --op "$op")"
    after="$(cpu_ticks "$server_pid")"
    requests="$(awk -v r="$(field ops_per_s "$result")" -v d="$duration" 'BEGIN { printf "%d", r * d }')"
    cost[$mode.$op]="$(awk -v t=$((after - before)) -v hz="$ticks_per_s" -v n="$requests" \
      'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
    echo "throttling $mode, $op: $result cpu_us_per_request=${cost[$mode.$op]}"
  done
  if grep -q "Throttl" "$work/tidewaterd.log"; then echo "warning: requests were throttled" >&2; fi
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done

echo
printf '%-8s %16s %16s %10s\n' op off_cpu_us/req on_cpu_us/req overhead
for op in put get; do
  name=$([[ $op == put ]] && echo PutItem || echo GetItem)
  printf '%-8s %16s %16s %9s%%\n' "$name" "${cost[off.$op]}" "${cost[on.$op]}" \
    "$(awk -v a="${cost[on.$op]}" -v b="${cost[off.$op]}" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }')"
done
