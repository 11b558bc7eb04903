#!/usr/bin/env bash
# Soak/load run of the relay flow (issue 8). Not part of CI: it runs for minutes.
#
# Builds the release relay and the soak driver (wallet/examples/soak.rs), starts redis-server
# on a free loopback port when --broker redis, and runs the driver, which starts the relay
# (so it can kill and restart it and read its RSS), puts a fault-injecting TCP proxy in front
# of it and pairs thousands of sessions that exchange counted messages. Exit status: 0 when
# nothing was lost, duplicated or reordered; 1 otherwise; 2 on a setup error.
#
# Usage: scripts/soak.sh [--broker memory|redis] [soak options] [-- extra relay arguments]
#   --sessions N          paired sessions (default 2000)
#   --minutes M           minutes of traffic after pairing (default 5)
#   --links L             WebSocket links per side (default 200)
#   --interval-ms MS      mean time between messages a side starts, per session (default 5000)
#   --restart-every S     kill and restart the relay every S seconds (default never)
#   --no-faults           no cuts, stalls, pauses or restarts
#   (all options: target/release/examples/soak --help, after a first run or a build)
# The relay gets --ping-interval 5s (the clients' ping watchdog then fires after about 7 s,
# well within the 12 s stalls) unless the relay arguments after `--` set it.
#
# Examples:
#   scripts/soak.sh --sessions 200 --minutes 1
#   scripts/soak.sh --sessions 2000 --minutes 5
#   scripts/soak.sh --broker redis --sessions 2000 --minutes 5 --restart-every 100
set -euo pipefail
cd "$(dirname "$0")/.."

broker=memory
soak_args=()
relay_args=()
while (($#)); do
  case "$1" in
    --broker) broker="${2:?--broker needs a value}"; shift 2 ;;
    --broker=*) broker="${1#--broker=}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; relay_args+=("$@"); break ;;
    *) soak_args+=("$1"); shift ;;
  esac
done
case "$broker" in
  memory | redis) ;;
  *) echo "soak.sh: --broker must be memory or redis" >&2; exit 2 ;;
esac

target_dir="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d "${TMPDIR:-/tmp}/walletwire-soak.XXXXXX")"
redis_pid=""
cleanup() {
  if [[ -n "$redis_pid" ]]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# One build for both (separate builds may resolve features differently and rebuild).
cargo build --release -p walletwire-server -p walletwire-wallet \
  --bin walletwire-server --example soak

# 2 x links client sockets, as many proxied pairs: raise the descriptor limit if allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Every soak socket comes from 127.0.0.1: lift the per-address limits unless given. The soak
# reads the relay's counters from /metrics on its main listener.
relay_defaults=(--public-metrics)
for flag_value in --ping-interval:5s --max-connections-per-address:0 --address-command-rate:0; do
  flag="${flag_value%%:*}"
  given=no
  for arg in ${relay_args[@]+"${relay_args[@]}"}; do
    if [[ "$arg" == "$flag" || "$arg" == "$flag="* ]]; then given=yes; fi
  done
  if [[ "$given" == no ]]; then relay_defaults+=("$flag" "${flag_value#*:}"); fi
done
if [[ "$broker" == redis ]]; then
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "soak.sh: redis-server/redis-cli not found (scripts/setup.sh installs them)" >&2
    exit 2
  fi
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    # Skip ports someone already listens on.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --logfile "$work/redis.log" &
    redis_pid=$!
    for _ in $(seq 50); do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
      sleep 0.1
    done
    if kill -0 "$redis_pid" 2>/dev/null && redis-cli -p "$port" ping >/dev/null 2>&1; then
      break
    fi
    kill "$redis_pid" 2>/dev/null || true
    redis_pid=""
  done
  if [[ -z "$redis_pid" ]]; then
    echo "soak.sh: could not start redis-server (see $work/redis.log)" >&2
    exit 2
  fi
  echo "soak.sh: redis-server pid $redis_pid on 127.0.0.1:$port"
  soak_args+=(--watch "redis-server=$redis_pid")
  relay_defaults+=(--broker redis --redis-url "redis://127.0.0.1:$port" --redis-prefix "soak$$")
fi

echo "soak.sh: logs in $work"
status=0
"$target_dir/release/examples/soak" \
  --relay-bin "$target_dir/release/walletwire-server" --relay-log "$work/relay.log" \
  ${soak_args[@]+"${soak_args[@]}"} \
  -- ${relay_defaults[@]+"${relay_defaults[@]}"} ${relay_args[@]+"${relay_args[@]}"} || status=$?
echo "soak.sh: exit $status (relay log: $work/relay.log)"
exit "$status"
