#!/usr/bin/env bash
# The reliability suite: stale-build scenarios, fault injection, and mutation fuzzing of the guard and
# the manifest/stamp/.dockerignore readers (docs/RELIABILITY.md).
#
#   suites/reliability/run.sh            CI: 200 scenarios, every fault test, 60 s of fuzzing (< 15 min, 2 cores)
#   suites/reliability/run.sh --soak     1,000 longer scenarios and 10 min of fuzzing; counts in $RELIABILITY_STATS
#
# Binaries: $GIT_MTIME_BIN_DIR (default .build/debug). Seeds: $RELIABILITY_SEED (default: ci-1 in CI mode, random with --soak; printed;
# every failure prints the command that replays it). $RELIABILITY_SCENARIOS and $RELIABILITY_FUZZ_SECONDS
# override the sizes (for a quick local run). $RELIABILITY_CLASSES chooses the generated classes of the
# scenarios and the fault tests (suites/scenarios/classes.py; default: the classes whose fix is on main;
# `all`, or `+name,-name`). Needs root (tmpfs and loop mounts, an unprivileged user), git, make, cc, cargo,
# strace, setpriv, mkfs.ext4. Ends with `reliability: N passed, N failed`; non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

mode=ci
case "${1:-}" in
  "") ;;
  --soak) mode=soak ;;
  *) echo "usage: suites/reliability/run.sh [--soak]" >&2; exit 64 ;;
esac

export GIT_MTIME_BIN_DIR=${GIT_MTIME_BIN_DIR:-.build/debug}
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the checkout
# CI replays the same seed every run (a red build must mean a change broke something); the soak explores.
if [ "$mode" = soak ]; then default_seed=$(od -An -N4 -tx4 /dev/urandom | tr -d ' '); else default_seed=ci-1; fi
seed=${RELIABILITY_SEED:-$default_seed}
log_dir=$(mktemp -d /tmp/gm-reliability.XXXXXX)
trap 'rm -rf "$log_dir"' EXIT

if [ "$mode" = soak ]; then
  scenario_args=(--scenarios "${RELIABILITY_SCENARIOS:-1000}" --steps 8)
  fuzz_seconds=${RELIABILITY_FUZZ_SECONDS:-600}
else
  scenario_args=(--scenarios "${RELIABILITY_SCENARIOS:-200}")
  fuzz_seconds=${RELIABILITY_FUZZ_SECONDS:-60}
fi

passed=0
failed=0
# Runs one part, echoing its output, and adds the counts of its final `NAME: N passed, N failed` line.
part() {
  local name=$1; shift
  local log="$log_dir/$name.log"
  local started=$SECONDS
  echo "== $name: $*"
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local summary
  summary=$(tail -n 1 "$log")
  if [[ $summary =~ ^[a-z]+:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    if [ "$status" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then failed=$((failed + 1)); fi
  else
    echo "reliability: $name ended without a summary line (exit $status)"
    failed=$((failed + 1))
  fi
  echo "== $name: $((SECONDS - started)) s"
}

stats=()
if [ -n "${RELIABILITY_STATS:-}" ]; then stats=(--stats "$RELIABILITY_STATS"); fi
part scenarios python3 suites/scenarios/harness.py --seed "$seed" --jobs 2 "${scenario_args[@]}" "${stats[@]}"
part faults python3 suites/faults/faults.py --seed "$seed"
part fuzz python3 suites/faults/fuzz.py --seed "$seed" --seconds "$fuzz_seconds"

echo "reliability: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
