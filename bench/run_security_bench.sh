#!/usr/bin/env bash
# Security cost: tidewaterd's CPU per PutItem and GetItem with authentication, TLS and access
# policies on against all off, the same closed-loop load in each mode, in one run (issue:
# benchmarks; the target is SigV4 + policy check under 10% of a request's server CPU).
#
# Modes, each on a fresh tidewaterd (new data directory, free loopback port, --throttling
# off):
#   a  --auth off, plain HTTP (the baseline)
#   b  --auth required with a credentials file (SigV4 verified on every request)
#   c  b + --tls-cert/--tls-key (HTTPS; a certificate made here with the openssl command)
#   d  c + --authorization policies --policy-file (the benchmark's principal allowed on its
#      table's items by a dynamodb:LeadingKeys condition); skipped, saying so, while
#      tidewaterd has no --authorization flag
# tw_http_load signs every request in every mode (with the credentials file's key), so the
# client's work is the same everywhere; over TLS each keep-alive connection handshakes once.
#
# In each mode: a PAY_PER_REQUEST table with a NEW_AND_OLD_IMAGES stream, PutItem warm-up
# (unmeasured), PutItem for --duration s, GetItem warm-up (after writing every key once),
# GetItem for --duration s; 1 KB items. A run's cost is the server's CPU time (utime + stime
# from /proc) over the measured load, divided by the requests answered. The table gives per
# mode: requests/s, CPU us per request, the difference to mode a (us) and that difference as
# a share of the mode's own CPU per request (the part spent on auth, TLS and policies), and
# the step from the previous mode (b-a: SigV4; c-b: TLS; d-c: policy evaluation).
#
# Usage: bench/run_security_bench.sh [options]
#   --tidewaterd PATH     server binary (default: build/server/tidewaterd)
#   --load PATH           load generator (default: build/bench/tw_http_load)
#   --duration SECONDS    measured seconds per operation and mode (default 10)
#   --warmup SECONDS      unmeasured seconds before each (default 1)
#   --connections N       keep-alive connections (default 32)
#   --keys N              distinct keys (default 10000)
#   --rate R              measured load open loop at R requests/s in every mode (default 0:
#                         closed loop). At one fixed rate every mode's server does the same
#                         work per second; closed loop lets a mode that answers faster batch
#                         more per wake-up, which moves CPU per request by more than SigV4
#                         costs on a 2-core machine shared with the load generator.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tidewaterd="$repo/build/server/tidewaterd"
load="$repo/build/bench/tw_http_load"
duration=10
warmup=1
connections=32
keys=10000
rate=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --tidewaterd) tidewaterd="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

[[ -x "$load" ]] || { echo "load generator not found: $load (ninja tw_http_load)" >&2; exit 1; }
[[ -x "$tidewaterd" ]] || { echo "tidewaterd not found: $tidewaterd (ninja tidewaterd)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "the openssl command is needed (certificates)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed (waits for tidewaterd)" >&2; exit 1; }

. "$repo/bench/bench_lib.sh"

work="$(mktemp -d -t tw-security-bench-XXXXXX)"
server_pid=""
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Certificates, credentials, policies ----
region="us-east-1"
table="tw_security_bench"
principal="bench"

# A test CA and a server certificate for 127.0.0.1 (ECDSA P-256), as the TLS tests make them.
make_certificates() {
  local key=(req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  (
    cd "$work"
    openssl "${key[@]}" -x509 -days 2 -subj /CN=tidewater-bench-ca -keyout ca.key \
      -out ca.pem
    openssl "${key[@]}" -subj /CN=localhost -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem
  ) >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; exit 1; }
}
make_certificates

# The load generator signs with these (the environment's keys win over any AWS profile).
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CA_BUNDLE
export AWS_ACCESS_KEY_ID="TWBENCH0000000000001"
AWS_SECRET_ACCESS_KEY="$(openssl rand -base64 30)"
export AWS_SECRET_ACCESS_KEY
(
  umask 077
  cat >"$work/credentials.yaml" <<EOF
credentials:
  - access_key_id: $AWS_ACCESS_KEY_ID
    secret_access_key: "$AWS_SECRET_ACCESS_KEY"
    principal: $principal
EOF
)

# The principal may create and describe its table and read and write the items whose
# partition key starts with "k" (all of tw_http_load's keys), so every item request is
# evaluated against a LeadingKeys condition.
table_arn="arn:aws:dynamodb:$region:*:table/$table"
cat >"$work/policies.json" <<EOF
{"principals": {"$principal": {"SecurityBench": {
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "TableSetup", "Effect": "Allow",
     "Action": ["dynamodb:CreateTable", "dynamodb:DescribeTable"],
     "Resource": "$table_arn"},
    {"Sid": "OwnItems", "Effect": "Allow",
     "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchWriteItem"],
     "Resource": "$table_arn",
     "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["k*"]}}}]}}}}
EOF

# ---- Modes ----
modes=(a b c)
if "$tidewaterd" --help | grep -q -- '--authorization'; then
  modes+=(d)
else
  echo "note: $tidewaterd has no --authorization flag yet: mode d (policies) skipped" >&2
fi
declare -A mode_name=([a]="auth off, http" [b]="SigV4, http" [c]="SigV4 + TLS"
                      [d]="SigV4 + TLS + policy")

# start_server MODE: a fresh tidewaterd in MODE; sets server_pid and endpoint.
start_server() {
  local mode="$1" port scheme=https args
  local auth=(--auth required --credentials-file "$work/credentials.yaml")
  local tls=(--tls-cert "$work/server.pem" --tls-key "$work/server.key")
  case "$mode" in
    a) args=(--auth off); scheme=http ;;
    b) args=("${auth[@]}"); scheme=http ;;
    c) args=("${auth[@]}" "${tls[@]}") ;;
    d) args=("${auth[@]}" "${tls[@]}" --authorization policies
             --policy-file "$work/policies.json") ;;
  esac
  port="$(free_port)"
  rm -rf "$work/data"
  "$tidewaterd" --data-dir "$work/data" --listen "127.0.0.1:$port" --region "$region" \
    --throttling off "${args[@]}" >"$work/tidewaterd.$mode.log" 2>&1 &
  server_pid="$!"
  endpoint="$scheme://127.0.0.1:$port"
  CURL_CA_BUNDLE="$work/ca.pem" wait_http "$endpoint/healthz" "$server_pid" tidewaterd \
    "$work/tidewaterd.$mode.log"
}

# run_load ARGS...: tw_http_load against $endpoint; prints its result line, fails the script
# (with the server's log tail) on any error.
run_load() {
  local output
  if ! output="$("$load" --endpoint "$endpoint" --ca-bundle "$work/ca.pem" --region "$region" \
      --table "$table" --connections "$connections" --keys "$keys" --item-size 1024 \
      --warmup 0 "$@")"; then
    echo "load generator failed against $endpoint ($*): $output" >&2
    tail -n 20 "$work/tidewaterd.$mode.log" >&2
    exit 1
  fi
  echo "$output"
}

declare -A ops cost
for mode in "${modes[@]}"; do
  start_server "$mode"
  echo "== mode $mode (${mode_name[$mode]}) at $endpoint"
  run_load --op put --create-table --stream-view-type NEW_AND_OLD_IMAGES \
    --duration "$warmup" >/dev/null
  for op in put get; do
    if [[ "$op" == get ]]; then run_load --op get --populate --duration "$warmup" >/dev/null; fi
    before="$(cpu_ticks "$server_pid")"
    result="$(run_load --op "$op" --duration "$duration" --rate "$rate")"
    after="$(cpu_ticks "$server_pid")"
    ops[$mode.$op]="$(field ops_per_s "$result")"
    cost[$mode.$op]="$(cpu_us_per_request $((after - before)) "$(field ok "$result")")"
    echo "$result cpu_us_per_request=${cost[$mode.$op]}"
  done
  stop_server
done

echo
loop="closed loop"
[[ "$rate" != 0 ]] && loop="open loop at $rate requests/s"
echo "== Server CPU per request: $connections connections, $loop, 1 KB items," \
  "stream NEW_AND_OLD_IMAGES, ${duration} s each"
echo "   vs_a: CPU us over mode a's; share: vs_a / the mode's CPU per request;" \
  "step: over the previous mode"
printf '%-8s %-24s %10s %12s %8s %8s %8s\n' op mode ops/s cpu_us/req vs_a_us share step_us
for op in put get; do
  name=$([[ $op == put ]] && echo PutItem || echo GetItem)
  previous=""
  for mode in "${modes[@]}"; do
    c="${cost[$mode.$op]}"
    if [[ "$mode" == a ]]; then
      vs_a="-" share="-" step="-"
    else
      read -r vs_a share step < <(awk -v c="$c" -v a="${cost[a.$op]}" \
        -v p="${cost[$previous.$op]}" \
        'BEGIN { printf "%.1f %.1f%% %.1f\n", c - a, (c - a) / c * 100, c - p }')
    fi
    printf '%-8s %-24s %10s %12s %8s %8s %8s\n' "$name" "$mode: ${mode_name[$mode]}" \
      "${ops[$mode.$op]}" "$c" "$vs_a" "$share" "$step"
    previous="$mode"
  done
done
