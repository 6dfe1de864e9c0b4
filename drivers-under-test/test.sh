#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls exactly this).
# 1. installs the ODBC driver packages the tests need (Debian), builds the reference
#    driver and writes the private ODBC config under target/odbc-test/ (setup.sh);
# 2. starts the local PostgreSQL / MariaDB servers if they are installed but stopped
#    (loopback only) and FAILS if either is still unreachable: here every driver and
#    server is required (ODBC_DM_REQUIRE_SERVERS=1), so a test that cannot reach one
#    fails with the reason instead of passing without having run;
# 3. runs every test of the workspace, then the loom model of the parking lock
#    (drivers-under-test/loom.sh), and prints one summary line
#    `N passed, N failed, N skipped` (cargo's `test result:` lines; skipped = ignored +
#    the lines of target/odbc-test/skips.log); exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash drivers-under-test/setup.sh

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "test.sh: PostgreSQL not listening on 127.0.0.1:5432; trying to start it" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! port_open 3306 && [ -x /usr/sbin/mariadbd ]; then
    echo "test.sh: MariaDB not listening on 127.0.0.1:3306; trying to start it" >&2
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    for _ in $(seq 1 20); do port_open 3306 && break; sleep 0.5; done
fi
unreachable=()
port_open 5432 || unreachable+=("PostgreSQL on 127.0.0.1:5432")
port_open 3306 || unreachable+=("MariaDB on 127.0.0.1:3306")
if [ ${#unreachable[@]} -gt 0 ]; then
    printf 'test.sh: FAILED: unreachable: %s (the test command needs both servers; start them, or run `cargo test` directly, where their tests are counted skips)\n' "${unreachable[*]}" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

export ODBC_DM_REQUIRE_HEADERS=1
export ODBC_DM_REQUIRE_SERVERS=1
export ODBC_DM_SKIPS_LOG="$ROOT/target/odbc-test/skips.log"
: > "$ODBC_DM_SKIPS_LOG"
LOG="$ROOT/target/odbc-test/test-output.log"

status=0
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$LOG" || status=$?
loom_status=0
if [ $# -eq 0 ]; then
    bash drivers-under-test/loom.sh 2>&1 | tee -a "$LOG" || loom_status=$?
fi

# Sum every `test result: ok. 3 passed; 0 failed; 1 ignored; ...` line (unit, integration,
# doc tests of every crate, and the loom run).
read -r passed failed ignored < <(
    sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$LOG" |
        awk '{p+=$1; f+=$2; i+=$3} END {print p+0, f+0, i+0}'
)
skips=$(grep -c . "$ODBC_DM_SKIPS_LOG" || true)
if [ "$status" -ne 0 ] || [ "$loom_status" -ne 0 ]; then
    [ "$failed" -gt 0 ] || failed=1 # a build failure or crash has no `test result:` line
fi
echo
echo "$passed passed, $failed failed, $((ignored + skips)) skipped"
if [ "$failed" -ne 0 ]; then
    exit 1
fi
