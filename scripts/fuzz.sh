#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (see fuzz/README.md) and prints a table of target /
# executions / corpus size / result. Exits non-zero if any target crashed (or failed to run).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   default: 60 s, every target
#   scripts/fuzz.sh --smoke [TARGET...]                 CI: 5 s per target, unoptimised build
#
# Timed runs build optimised: cargo-fuzz builds `--release` unless told `--dev` (only the
# smoke test is), with debug assertions and overflow checks on.
# Works on stable Rust: without a sanitizer (`--sanitizer none`) cargo-fuzz passes rustc only
# stable flags (SanitizerCoverage through -Cpasses/-Cllvm-args, debug assertions); the
# harnesses check their invariants with assertions. Installs the pinned cargo-fuzz if missing.
# The committed seeds are read from fuzz/corpus/<target>/; what a run adds goes to
# fuzz/work/corpus/<target>/ (ignored by git; the smoke test uses a fresh temporary one, so
# it starts from the seeds alone); crashes go to fuzz/artifacts/<target>/, with the commands
# to reproduce and minimise them.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
SMOKE_SECONDS=5
ALL_TARGETS=(session_request offer frame record relay_client_frames relay_replies
  signaling_request channel_message pair_ops)

seconds=60
smoke=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --smoke) seconds=$SMOKE_SECONDS; smoke=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) seconds=$arg ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "unknown target: $t (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

FUZZ_FLAGS=(--sanitizer none)
# The smoke test builds without optimisation: half the cold build time of a release build,
# and a few seconds per target need no speed.
[ "$smoke" -eq 0 ] || FUZZ_FLAGS+=(--dev)
start=$(date +%s)
cd fuzz
echo "== building ${#targets[@]} fuzz targets"
for t in "${targets[@]}"; do
  cargo fuzz build "${FUZZ_FLAGS[@]}" "$t"
done
built=$(date +%s)

work=work/corpus
if [ "$smoke" -eq 1 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p work/logs
rows=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "artifacts/$t" "corpus/$t"
  log="work/logs/$t.log"
  echo "== $t: ${seconds}s"
  status=0
  cargo fuzz run "${FUZZ_FLAGS[@]}" "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(sed -n 's/.*DONE .* corp: \([0-9]*\)\/.*/\1/p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    failed=1
    artifact=$(grep -o "artifacts/$t/[a-z-]*-[0-9a-f]*" "$log" | tail -1 || true)
    result="CRASH ${artifact:-(exit $status, see fuzz/$log)}"
    echo "-- $t failed; last lines of fuzz/$log:"
    grep -v '^#' "$log" | tail -30
    if [ -n "$artifact" ]; then
      echo "-- reproduce: (cd fuzz && cargo fuzz run --sanitizer none $t $artifact)"
      echo "-- minimise:  (cd fuzz && cargo fuzz tmin --sanitizer none $t $artifact)"
    fi
  fi
  rows+=("$(printf '%-20s %12s %10s %8s  %s' "$t" "${execs:-?}" "${rate:-?}" "${corpus:-?}" "$result")")
done
end=$(date +%s)

echo
printf '%-20s %12s %10s %8s  %s\n' target executions execs/s corpus result
for row in "${rows[@]}"; do echo "$row"; done
echo "build $((built - start))s, fuzzing $((end - built))s, total $((end - start))s"
exit "$failed"
