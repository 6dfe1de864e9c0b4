#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls exactly this).
# 1. installs the ODBC driver packages the tests need (Debian), builds the reference
#    driver and writes the private ODBC config under target/odbc-test/ (setup.sh);
# 2. starts the local PostgreSQL / MariaDB servers if they are installed but stopped
#    (loopback only); tests that need a server that is still unreachable print a
#    "SKIPPED: ..." notice instead of failing silently;
# 3. runs every test of the workspace.
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
    sleep 3
fi
port_open 5432 || echo "test.sh: NOTICE: PostgreSQL unreachable on 127.0.0.1:5432: its tests will print SKIPPED" >&2
port_open 3306 || echo "test.sh: NOTICE: MariaDB unreachable on 127.0.0.1:3306: its tests will print SKIPPED" >&2

export ODBC_DM_REQUIRE_HEADERS=1
cargo test --workspace --no-fail-fast "$@"
