#!/usr/bin/env bash
# A local fleet: N `voxtral-rt serve` replicas on free loopback ports behind HAProxy.
#
#   deploy/local/run.sh -m MODEL [-n N] [--port P] [--api-key K] [-t THREADS] [-- SERVE_ARGS...]
#   deploy/local/run.sh stop [--port P]
#
# Starts the replicas (each `serve --port 0`, so the OS picks free ports), writes an HAProxy
# configuration from deploy/haproxy/haproxy.cfg with one `server` line per replica and its bind
# on 127.0.0.1:P, starts HAProxy, and prints `ready http://127.0.0.1:P` once HAProxy sees every
# replica healthy. SIGINT/SIGTERM (or `run.sh stop --port P` from another shell) stop the fleet
# gracefully: replicas drain (their live sessions finish, up to serve's --drain-timeout-s),
# then HAProxy stops; a second signal stops everything at once. A replica that dies is left
# dead: the others carry on (HAProxy takes it out of rotation).
#
# State (logs, the generated haproxy.cfg, replicas.tsv: NAME PID PORT) lives in
# ${VRT_FLEET_DIR:-${TMPDIR:-/tmp}/voxtral-rt-fleet-P}. Environment: VRT_BIN (the voxtral-rt
# program; default build/bin/voxtral-rt of this checkout), HAPROXY (default haproxy).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
model="" n=3 port=8000 api_key="" threads="" serve_args=() cmd=run

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
if [[ "${1:-}" == stop ]]; then cmd=stop; shift; fi
while (($#)); do
  case "$1" in
    -m|--model) model=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --api-key) api_key=$2; shift 2 ;;
    -t|--threads) threads=$2; shift 2 ;;
    -h|--help) usage ;;
    --) shift; serve_args=("$@"); break ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || { echo "run.sh: --port must be a number" >&2; exit 2; }
state=${VRT_FLEET_DIR:-${TMPDIR:-/tmp}/voxtral-rt-fleet-$port}

if [[ $cmd == stop ]]; then
  [[ -f "$state/run.pid" ]] || { echo "run.sh: no fleet on port $port ($state/run.pid missing)" >&2; exit 1; }
  pid=$(cat "$state/run.pid")
  kill -TERM "$pid" 2>/dev/null || { echo "run.sh: the fleet on port $port is not running" >&2; exit 1; }
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  echo "stopped"
  exit 0
fi

[[ -n "$model" ]] || { echo "run.sh: -m MODEL is required" >&2; usage 2; }
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: -n must be a positive number" >&2; exit 2; }
bin=${VRT_BIN:-$repo/build/bin/voxtral-rt}
[[ -x "$bin" ]] || { echo "run.sh: $bin not found: build first (scripts/setup.sh)" >&2; exit 1; }
haproxy=${HAPROXY:-haproxy}
command -v "$haproxy" >/dev/null || { echo "run.sh: haproxy not found: apt-get install haproxy" >&2; exit 1; }
if [[ -z "$threads" ]]; then threads=$(( $(nproc) / n )); ((threads >= 1)) || threads=1; fi
if [[ -f "$state/run.pid" ]] && kill -0 "$(cat "$state/run.pid")" 2>/dev/null; then
  echo "run.sh: a fleet already runs on port $port (run.sh stop --port $port)" >&2; exit 1
fi
rm -rf "$state"
mkdir -p "$state"
echo $$ > "$state/run.pid"

pids=()
haproxy_pid=""
stopping=0
stop_all() {  # $1: the signal for the replicas (TERM drains, INT stops at once)
  local sig=$1
  for p in "${pids[@]}"; do kill -"$sig" "$p" 2>/dev/null || true; done
  # HAProxy keeps carrying the draining replicas' streams until the last replica has exited.
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
  [[ -n "$haproxy_pid" ]] && kill -TERM "$haproxy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$state/run.pid"
}
on_signal() {
  if ((stopping)); then  # a second signal: now
    for p in "${pids[@]}" $haproxy_pid; do kill -KILL "$p" 2>/dev/null || true; done
    rm -f "$state/run.pid"
    exit 130
  fi
  stopping=1
  echo "stopping: replicas drain, then haproxy" >&2
  stop_all TERM &
  wait $! 2>/dev/null || true
  exit 0
}
trap on_signal INT TERM
trap 'for p in "${pids[@]}" $haproxy_pid; do kill -KILL "$p" 2>/dev/null || true; done' EXIT

key_args=()
[[ -n "$api_key" ]] && key_args=(--api-key "$api_key")
: > "$state/replicas.tsv"
for i in $(seq 1 "$n"); do
  "$bin" serve -m "$model" --host 127.0.0.1 --port 0 -t "$threads" "${key_args[@]}" "${serve_args[@]}" \
    > "$state/replica$i.out" 2> "$state/replica$i.log" &
  pids+=($!)
done
# Each replica prints "listening on 127.0.0.1:PORT" once its model is loaded and it is bound.
servers=""
for i in $(seq 1 "$n"); do
  pid=${pids[$((i - 1))]}
  for _ in $(seq 1 3000); do
    grep -q '^listening on ' "$state/replica$i.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "run.sh: replica $i failed:" >&2; tail -5 "$state/replica$i.log" >&2; exit 1; }
    sleep 0.1
  done
  rport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$state/replica$i.out")
  [[ -n "$rport" ]] || { echo "run.sh: replica $i did not start in 300 s" >&2; exit 1; }
  printf 'replica%d\t%d\t%d\n' "$i" "$pid" "$rport" >> "$state/replicas.tsv"
  servers+="    server replica$i 127.0.0.1:$rport check"$'\n'
done

# deploy/haproxy/haproxy.cfg with this fleet's bind address and servers, a stats socket, and
# maxconn within this shell's file descriptor limit (HAProxy refuses to start above it: two
# descriptors per connection, plus its own).
fds=$(ulimit -Hn)
[[ "$fds" == unlimited ]] && fds=1048576
maxconn=$(( (fds - 200) / 2 ))
((maxconn > 4096)) && maxconn=4096
((maxconn >= 64)) || { echo "run.sh: the file descriptor limit ($fds) is too low for haproxy" >&2; exit 1; }
awk -v bind="    bind 127.0.0.1:$port" -v servers="$servers" -v sock="$state/haproxy.sock" -v maxconn="$maxconn" '
  /^ *maxconn / { print "    maxconn " maxconn; next }
  /^ *bind / { print bind; next }
  /^ *server replica/ { if (!done) { printf "%s", servers; done = 1 } next }
  { print }
  /^global/ { print "    stats socket " sock " mode 600 level admin" }
' "$repo/deploy/haproxy/haproxy.cfg" > "$state/haproxy.cfg"
"$haproxy" -c -q -f "$state/haproxy.cfg"
"$haproxy" -db -f "$state/haproxy.cfg" 2> "$state/haproxy.log" &
haproxy_pid=$!
echo "haproxy	$haproxy_pid	$port" >> "$state/replicas.tsv"

# Ready when HAProxy itself reports every replica UP (its health checks passed).
up() {
  echo "show stat" | timeout 2 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
data = b""
while (b := s.recv(65536)): data += b
sys.stdout.write(data.decode())' "$state/haproxy.sock" 2>/dev/null |
    awk -F, '$1 == "replicas" && $2 ~ /^replica/ && $18 == "UP" { n++ } END { print n + 0 }'
}
for _ in $(seq 1 600); do
  kill -0 "$haproxy_pid" 2>/dev/null || { echo "run.sh: haproxy failed:" >&2; tail -5 "$state/haproxy.log" >&2; exit 1; }
  [[ "$(up)" == "$n" ]] && break
  sleep 0.1
done
[[ "$(up)" == "$n" ]] || { echo "run.sh: replicas not healthy in HAProxy after 60 s" >&2; exit 1; }
echo "ready http://127.0.0.1:$port ($n replicas, $threads threads each; state in $state)"

# Serve until a signal; a replica that dies does not end the fleet.
while kill -0 "$haproxy_pid" 2>/dev/null; do sleep 1 & wait $! || true; done
echo "run.sh: haproxy exited" >&2
exit 1
