#!/usr/bin/env bash
# HTTP benchmark: Tidewater (tidewaterd) against dynalite, the same load on both.
#
# In one run: installs dynalite (npm) into bench/.dynalite if needed, starts dynalite
# (on-disk LevelDB) and tidewaterd on free loopback ports, creates on each a table with a
# NEW_AND_OLD_IMAGES stream, measures PutItem and GetItem peak throughput (1 KB items,
# keep-alive connections, closed loop) on both, prints both figures and the ratio
# Tidewater/dynalite, then runs Tidewater open loop at half its measured peak and prints
# the latency there (p99 at a sustainable rate is the figure that matters to users).
# For each server it also prints the server's CPU per request: utime+stime of the server
# process over the measured run (/proc/PID/stat) divided by the requests answered, which
# does not depend on the load generator sharing the cores (not with --tidewater-endpoint).
#
# Usage: bench/run_http_bench.sh [options]
#   --tidewaterd PATH          server binary (default: build/server/tidewaterd)
#   --load PATH                load generator (default: build/bench/tw_http_load)
#   --tidewater-endpoint URL   use a running endpoint instead of starting tidewaterd
#   --duration SECONDS         measured seconds per run (default 10)
#   --connections N            keep-alive connections (default 32)
#   --keys N                   distinct keys (default 10000)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tidewaterd="$repo/build/server/tidewaterd"
load="$repo/build/bench/tw_http_load"
tidewater_endpoint=""
duration=10
connections=32
keys=10000

while [[ $# -gt 0 ]]; do
  case "$1" in
    --tidewaterd) tidewaterd="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --tidewater-endpoint) tidewater_endpoint="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

[[ -x "$load" ]] || { echo "load generator not found: $load (ninja tw_http_load)" >&2; exit 1; }
if [[ -z "$tidewater_endpoint" && ! -x "$tidewaterd" ]]; then
  echo "tidewaterd not found: $tidewaterd (use --tidewaterd or --tidewater-endpoint)" >&2
  exit 1
fi

work="$(mktemp -d -t tw-http-bench-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

. "$repo/bench/bench_lib.sh"

dynalite="$repo/bench/.dynalite/node_modules/.bin/dynalite"
if [[ ! -x "$dynalite" ]]; then
  echo "== installing dynalite into bench/.dynalite"
  npm install --silent --no-audit --no-fund --prefix "$repo/bench/.dynalite" dynalite >/dev/null
fi

dynalite_port="$(free_port)"
mkdir -p "$work/dynalite"
"$dynalite" --port "$dynalite_port" --path "$work/dynalite" >"$work/dynalite.log" 2>&1 &
pids+=("$!")
declare -A server_pid
server_pid[dynalite]="$!"
wait_http "http://127.0.0.1:$dynalite_port/" "$!" dynalite "$work/dynalite.log"
declare -A endpoints
endpoints[dynalite]="http://127.0.0.1:$dynalite_port"

if [[ -z "$tidewater_endpoint" ]]; then
  tidewater_port="$(free_port)"
  # No throttling: the peak is the server's, not DynamoDB's limits (4,000 write units/s for
  # a new on-demand table); dynalite does not throttle either.
  "$tidewaterd" --data-dir "$work/tidewater" --listen "127.0.0.1:$tidewater_port" \
    --region us-east-1 --throttling off >"$work/tidewaterd.log" 2>&1 &
  pids+=("$!")
  server_pid[tidewater]="$!"
  wait_http "http://127.0.0.1:$tidewater_port/healthz" "$!" tidewaterd "$work/tidewaterd.log"
  tidewater_endpoint="http://127.0.0.1:$tidewater_port"
fi
endpoints[tidewater]="$tidewater_endpoint"

table="tw_http_bench"
common=(--table "$table" --connections "$connections" --keys "$keys" --item-size 1024)
measured=(--duration "$duration" --warmup 0)

# run_load ENDPOINT ARGS... -> prints the generator's "result ..." line
run_load() {
  local endpoint="$1"
  shift
  local output
  if ! output="$("$load" --endpoint "$endpoint" "${common[@]}" "${measured[@]}" "$@")"; then
    echo "load generator failed against $endpoint: $output" >&2
    exit 1
  fi
  echo "$output"
}


# measure TARGET OP ARGS... -> result[TARGET.OP] (the generator's line) and
# cpu_us[TARGET.OP] (server CPU µs per request, "n/a" without the server's PID)
declare -A result cpu_us
measure() {
  local target="$1" op="$2"
  shift 2
  local pid="${server_pid[$target]:-}" before=0 after=0
  [[ -n "$pid" ]] && before="$(cpu_ticks "$pid")"
  result[$target.$op]="$(run_load "${endpoints[$target]}" --op "$op" "$@")"
  cpu_us[$target.$op]="n/a"
  if [[ -n "$pid" ]]; then
    after="$(cpu_ticks "$pid")"
    cpu_us[$target.$op]="$(cpu_us_per_request $((after - before)) \
      "$(field ok "${result[$target.$op]}")")"
  fi
  echo "${result[$target.$op]} server_cpu_us_per_request=${cpu_us[$target.$op]}"
}

for target in dynalite tidewater; do
  endpoint="${endpoints[$target]}"
  # The table, every key written once and a second of each operation to warm up, outside
  # the measured runs and their CPU.
  measured=(--duration 1 --warmup 0)
  run_load "$endpoint" --op put --create-table --stream-view-type NEW_AND_OLD_IMAGES >/dev/null
  run_load "$endpoint" --op get --populate >/dev/null
  measured=(--duration "$duration" --warmup 0)
  echo "== $target at $endpoint: PutItem peak"
  measure "$target" put
  echo "== $target at $endpoint: GetItem peak"
  measure "$target" get
done

echo
echo "== Peak throughput: $connections connections, 1 KB items, stream NEW_AND_OLD_IMAGES"
printf '%-8s %14s %10s %10s %14s %10s %10s %10s %12s %12s %10s\n' op dynalite_ops/s p50_us \
  p99_us tidewater_ops/s p50_us p99_us ratio dyn_cpu_us tw_cpu_us cpu_ratio
declare -A peak
for op in put get; do
  d="${result[dynalite.$op]}"
  t="${result[tidewater.$op]}"
  peak[$op]="$(field ops_per_s "$t")"
  ratio="$(awk -v t="$(field ops_per_s "$t")" -v d="$(field ops_per_s "$d")" \
    'BEGIN { if (d > 0) printf "%.2f", t / d; else print "n/a" }')"
  name=$([[ $op == put ]] && echo PutItem || echo GetItem)
  cpu_ratio="$(awk -v t="${cpu_us[tidewater.$op]}" -v d="${cpu_us[dynalite.$op]}" \
    'BEGIN { if (t + 0 > 0 && d + 0 > 0) printf "%.3f", t / d; else print "n/a" }')"
  printf '%-8s %14s %10s %10s %14s %10s %10s %10s %12s %12s %10s\n' "$name" \
    "$(field ops_per_s "$d")" "$(field p50_us "$d")" "$(field p99_us "$d")" \
    "$(field ops_per_s "$t")" "$(field p50_us "$t")" "$(field p99_us "$t")" "${ratio}x" \
    "${cpu_us[dynalite.$op]}" "${cpu_us[tidewater.$op]}" "${cpu_ratio}x"
done

echo
echo "== Tidewater at half its peak rate (open loop, latency from each request's due time)"
printf '%-8s %12s %14s %10s %10s %10s\n' op target_ops/s achieved_ops/s p50_us p99_us p999_us
for op in put get; do
  rate="$(awk -v p="${peak[$op]}" 'BEGIN { printf "%d", p / 2 }')"
  if [[ "$rate" -lt 1 ]]; then
    echo "peak $op rate too low to halve" >&2
    exit 1
  fi
  r="$(run_load "$tidewater_endpoint" --op "$op" --rate "$rate")"
  name=$([[ $op == put ]] && echo PutItem || echo GetItem)
  printf '%-8s %12s %14s %10s %10s %10s\n' "$name" "$rate" "$(field ops_per_s "$r")" \
    "$(field p50_us "$r")" "$(field p99_us "$r")" "$(field p999_us "$r")"
done
