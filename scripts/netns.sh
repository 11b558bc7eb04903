#!/usr/bin/env bash
# Sourced by tests/direct/run.sh and bench/direct/run.sh: `netns_up NAME` makes a private
# network namespace NAME for WebRTC (Chromium gathers no loopback candidates, so the namespace
# gives it a veth pair with addresses and a default route that lead nowhere outside) and
# removes it when the calling script exits. `netns_exec CMD...` runs CMD inside it with PATH
# and HOME kept. Needs root (or CAP_NET_ADMIN) for `ip netns`; uses sudo when not root.
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

netns_up() {
  ns="$1"
  trap '$SUDO ip netns del "$ns" 2>/dev/null || true' EXIT
  $SUDO ip netns add "$ns"
  $SUDO ip -n "$ns" link set lo up
  $SUDO ip -n "$ns" link add veth0 type veth peer name veth1
  $SUDO ip -n "$ns" addr add 10.77.0.1/24 dev veth0
  $SUDO ip -n "$ns" addr add 10.77.0.2/24 dev veth1
  $SUDO ip -n "$ns" link set veth0 up
  $SUDO ip -n "$ns" link set veth1 up
  $SUDO ip -n "$ns" route add default dev veth0
}

netns_exec() {
  $SUDO ip netns exec "$ns" env "PATH=$PATH" "HOME=${HOME:-/root}" "$@"
}
