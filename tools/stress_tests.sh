#!/usr/bin/env bash
# Run the README's test command N times on a clean clone, optionally with every core kept busy.
#
#   tools/stress_tests.sh [-n N] [--busy] [--ref REF] [--repo PATH] [--python PY] [--keep]
#
# Clones REF (default: main) of the repository PATH (default: the one holding this script)
# into a temporary folder, sets it up as the README says (a fresh virtual environment,
# pip install -e ".[test]"), then runs `python -m pytest` N times (default 5). With --busy, one
# busy process per core runs during the tests. Like CI, it also installs torch 2.13.0 and the
# browser extra when it can (the cross-checks and browser tests then run). Prints each run's
# counts and time, then the total; exits 1 if any run failed. The environment is passed on as it is (set GDLAB_MNIST_DIR
# for the tests that need the full MNIST). The clone is removed at the end unless --keep is
# given or a run failed (its logs are kept there).
set -euo pipefail

runs=5
busy=0
ref=main
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
keep=0

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs="$2"; shift 2 ;;
        --busy) busy=1; shift ;;
        --ref) ref="$2"; shift 2 ;;
        --repo) repo="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "stress_tests.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "stress_tests.sh: -n: expected a count >= 1" >&2; exit 2 ;; esac

sha="$(git -C "$repo" rev-parse --verify "$ref^{commit}")"
work="$(mktemp -d "${TMPDIR:-/tmp}/gdlab-stress.XXXXXX")"
busy_pids=()
stop_busy() {
    for pid in "${busy_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${busy_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    busy_pids=()
}
trap stop_busy EXIT

echo "clone: $repo at $ref ($sha) into $work/gdlab"
git clone --quiet "$repo" "$work/gdlab"
git -C "$work/gdlab" checkout --quiet --detach "$sha"
cd "$work/gdlab"

# set up (README: "Set up"), in a fresh virtual environment
"$python" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
start=$SECONDS
if ! pip install -e ".[test]" >"$work/setup.log" 2>&1; then  # the README's install command
    tail -20 "$work/setup.log" >&2
    echo "stress_tests.sh: the install failed (log: $work/setup.log)" >&2
    exit 1
fi
# as CI does (.ci/run): torch for the PyTorch cross-checks and the browser extra for the
# browser tests, when they can be installed (else those tests are skipped, with the reason)
pip install torch==2.13.0 >>"$work/setup.log" 2>&1 \
    || echo "stress_tests.sh: torch 2.13.0 not installed: the cross-checks are skipped" >&2
pip install -e ".[test,browser]" >>"$work/setup.log" 2>&1 \
    || echo "stress_tests.sh: the browser extra not installed: the browser tests are skipped" >&2
echo "set up: $(python --version), $((SECONDS - start)) s"

if [ "$busy" -eq 1 ]; then
    cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
    for _ in $(seq "$cores"); do
        ( while :; do :; done ) &
        busy_pids+=("$!")
    done
    echo "busy: $cores processes, one per core"
fi

failed_runs=0
total_passed=0
total_failed=0
for i in $(seq "$runs"); do
    log="$work/run-$i.log"
    start=$SECONDS
    status=0
    python -m pytest >"$log" 2>&1 || status=$?  # the README's test command
    seconds=$((SECONDS - start))
    summary="$(grep -E ' in [0-9.]+s' "$log" | tail -1 || true)"  # pytest's last line
    passed="$(echo "$summary" | grep -Eo '[0-9]+ passed' | cut -d' ' -f1 || true)"
    failed="$(echo "$summary" | { grep -Eo '[0-9]+ (failed|errors?)' || true; } | awk '{s += $1} END {print s + 0}')"
    passed="${passed:-0}"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    if [ "$status" -eq 0 ]; then
        verdict=pass
    else
        verdict="FAIL (exit $status)"
        failed_runs=$((failed_runs + 1))
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /' || true
    fi
    printf 'run %d/%d: %s, %d passed, %d failed, %d s\n' "$i" "$runs" "$verdict" "$passed" "$failed" "$seconds"
done
stop_busy

printf 'total: %d of %d runs passed (%d tests passed, %d failed)%s\n' \
    "$((runs - failed_runs))" "$runs" "$total_passed" "$total_failed" \
    "$([ "$busy" -eq 1 ] && echo ', busy cores' || true)"
cd /
if [ "$failed_runs" -gt 0 ] || [ "$keep" -eq 1 ]; then
    echo "logs: $work"
else
    rm -rf "$work"
fi
[ "$failed_runs" -eq 0 ]
