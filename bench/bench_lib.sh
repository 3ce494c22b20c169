# Shell functions shared by the benchmark scripts (sourced, not run).

# A free TCP port on loopback.
free_port() {
  /usr/bin/python3 -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# field NAME "result line": the value of NAME=... in a tw_http_load result line.
field() {
  tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

# wait_http URL PID NAME LOG: waits until URL answers HTTP at all (any status); fails, with
# LOG shown, when process PID exits first or after 30 s.
wait_http() {
  local url="$1" pid="$2" name="$3" log="$4"
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited during startup; log:" >&2
      cat "$log" >&2
      exit 1
    fi
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  echo "$name did not answer at $url within 30 s" >&2
  exit 1
}

# cpu_ticks PID: the process's CPU time so far (utime + stime, all its threads), in clock
# ticks (getconf CLK_TCK a second).
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# cpu_us_per_request TICKS REQUESTS: CPU microseconds per request, from clock ticks spent
# over REQUESTS requests; "n/a" without requests.
cpu_us_per_request() {
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "n/a" }'
}

# stop_server: stops the server whose PID is in $server_pid, if any, and waits for it.
stop_server() {
  if [[ -n "${server_pid:-}" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
