#!/usr/bin/env bash
# Runs the demo's services from what scripts/build-demo.sh built, on 127.0.0.1 only, and stops
# them all on Ctrl-C / SIGTERM. scripts/demo.sh runs it after building; the end-to-end tests
# run it too (with PORT=0), so they exercise the same startup.
#
#   PORT=8080            port of the server (pages, package, relay); 0 picks a free one
#   SIGNALING_PORT=9100  port of the signaling server (direct flow); 0 with PORT=0
#   DAEMON_PORT=9000     port of the reference wallet daemon's JSON-RPC; 0 with PORT=0
#
# Prints `dApp page: <url>` and `wallet page: <url>` once everything answers.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8080}"
if [ "$PORT" = 0 ]; then default_side_port=0; else default_side_port=""; fi
SIGNALING_PORT="${SIGNALING_PORT:-${default_side_port:-9100}}"
DAEMON_PORT="${DAEMON_PORT:-${default_side_port:-9000}}"
HOST=127.0.0.1
BIN=target/release
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/walletwire-demo.XXXXXX")
pids=()

stop() {
  trap - INT TERM EXIT
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$run_dir"
}
trap 'echo; echo "stopping the demo"; stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# start NAME PATTERN COMMAND...: starts COMMAND in the background (stdout kept in
# $run_dir/NAME.out, stderr to ours) and waits until a stdout line matches PATTERN, which it
# leaves in $ready.
ready=""
start() {
  local name=$1 pattern=$2
  shift 2
  "$@" >"$run_dir/$name.out" &
  pids+=("$!")
  for _ in $(seq 300); do
    if ready=$(grep -m1 -E "$pattern" "$run_dir/$name.out"); then
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start" >&2
  return 1
}

for binary in walletwire-server walletwire-wallet; do
  [ -x "$BIN/$binary" ] || { echo "$BIN/$binary is missing: run scripts/build-demo.sh" >&2; exit 1; }
done
[ -f pkg/walletwire.js ] || { echo "pkg/ is missing: run scripts/build-demo.sh" >&2; exit 1; }

# The server: relay (memory broker), the demo pages and the package, on one origin.
# The signaling server of the direct flow runs in the same process, on its own port.
start server '^pages at ' "$BIN/walletwire-server" --listen "$HOST:$PORT" --www www --pkg pkg \
  --signaling-listen "$HOST:$SIGNALING_PORT"
base=${ready#pages at }
base=${base%/}
relay=$(grep -m1 '^relay listening on ' "$run_dir/server.out")
relay=${relay#relay listening on }
for _ in $(seq 50); do
  signaling=$(grep -m1 '^signaling listening on ' "$run_dir/server.out" || true)
  [ -n "$signaling" ] && break
  sleep 0.1
done
signaling=${signaling#signaling listening on }

# The reference wallet daemon of the direct flow (its own data directory, gone on exit).
start daemon '^ADMIN_TOKEN ' "$BIN/walletwire-wallet" daemon --data-dir "$run_dir/wallet" \
  --listen "$HOST:$DAEMON_PORT" --signaling-url "$signaling"
admin_token=${ready#ADMIN_TOKEN }
daemon=$(grep -m1 '^DAEMON_LISTENING ' "$run_dir/daemon.out")
daemon=${daemon#DAEMON_LISTENING }

cat <<EOT

  walletwire demo is running (Ctrl-C stops it)

  dApp page:    $base/
  wallet page:  $base/wallet.html
  relay:        $relay

  direct flow (WebRTC to the wallet daemon):
  dApp page:    $base/direct.html?signaling=$signaling
  wallet UI:    $base/direct.html?daemon=$daemon#wallet
  admin token:  $admin_token

  Open the dApp page, press "Connect wallet", then paste the link into the wallet page
  (another browser or a private window) or pair the native reference wallet:
    $BIN/walletwire-wallet pair '<walletwire:connect?r=... link>'

EOT

# Stay up until a service exits (or a signal arrives: the traps stop the rest).
status=0
wait -n "${pids[@]}" || status=$?
echo "a demo service exited (status $status); stopping" >&2
exit "$status"
