#!/usr/bin/env bash
# Soak test of cancel, free, re-allocate and reconnect (issue 9; docs/decisions.md #29–#31).
#
# Runs the test `soak` of tests/cancel_stress.rs (built with `--features soak`): per driver (libsqlite3odbc,
# psqlODBC, the reference driver), THREADS threads for SECONDS seconds — two thirds own a
# connection and run queries with known results (every value checked: right, or the call
# failed with HY008 / PostgreSQL's 57014), free and re-allocate their statements and now
# and then disconnect with a statement still allocated; one third call SQLCancel,
# SQLCancelHandle(STMT) and SQLCancelHandle(DBC) on whatever handles the owners published
# last (live, being freed or freed). It prints, per driver, the queries, values checked,
# cancelled queries, frees, reconnects and cancels by return code.
#
# Usage: drivers-under-test/soak.sh [SECONDS] [THREADS] [--valgrind] [--drivers LIST]
#   SECONDS   per driver (default 120)
#   THREADS   in all, per driver (default 48)
#   --valgrind  run the test binary under `valgrind --error-exitcode=1` (memcheck; slow:
#               use a short SECONDS and fewer THREADS, e.g. `soak.sh 20 8 --valgrind`);
#               drivers-under-test/valgrind.supp suppresses the drivers' own defects
#   --drivers   comma-separated subset of sqlite,pg,ref (default all three)
# Exit status: 0 when every driver's run ended cleanly (and valgrind found no error).
# Needs what the test command needs (setup.sh is run first; PostgreSQL on 127.0.0.1:5432).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECS=120
THREADS=48
VALGRIND=0
DRIVERS="sqlite,pg,ref"
pos=0
while [ $# -gt 0 ]; do
    case "$1" in
        --valgrind) VALGRIND=1 ;;
        --drivers) shift; DRIVERS="${1:?--drivers needs a list}" ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *)
            case "$1" in ''|*[!0-9.]*) echo "soak.sh: not a number: $1" >&2; exit 2 ;; esac
            if [ $pos -eq 0 ]; then SECS="$1"; else THREADS="$1"; fi
            pos=$((pos + 1)) ;;
    esac
    shift
done

bash drivers-under-test/setup.sh >/dev/null
# The test binary (dev profile, like the test command), found through cargo's JSON output.
BIN="$(cargo test --features soak --test cancel_stress --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*cancel_stress[^"]*\)".*/\1/p' | tail -n1)"
[ -x "$BIN" ] || { echo "soak.sh: could not build tests/cancel_stress.rs" >&2; exit 1; }

export SOAK_SECS="$SECS" SOAK_THREADS="$THREADS" SOAK_DRIVERS="$DRIVERS"
echo "soak.sh: $DRIVERS, $SECS s per driver, $THREADS threads, valgrind: $([ $VALGRIND = 1 ] && echo yes || echo no)"
if [ $VALGRIND = 1 ]; then
    # drivers-under-test/valgrind.supp: the drivers' own defects (psqlODBC's setlocale race
    # between concurrent connects), each explained there.
    exec valgrind --error-exitcode=1 --quiet --num-callers=30 --suppressions=drivers-under-test/valgrind.supp \
        "$BIN" soak --exact --nocapture --test-threads=1
else
    exec "$BIN" soak --exact --nocapture --test-threads=1
fi
