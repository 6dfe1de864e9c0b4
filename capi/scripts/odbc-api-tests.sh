#!/usr/bin/env bash
# Runs odbc-api's own integration tests (tests/integration of the odbc-api 29.x crate
# package from crates.io) through a chosen libodbc.so.2 (issue 11), for SQLite (`sqlite_3`),
# PostgreSQL (`postgresql`) and MariaDB (`maria_db`), narrow and wide (odbc-api's `wide`
# feature), and prints the pass/fail counts per run.
#   capi/scripts/odbc-api-tests.sh [odbc-dm|unixodbc] [FILTER...]   (default: odbc-dm; sqlite_3 postgresql maria_db)
# Needs: network access to crates.io the first time; PostgreSQL on localhost:5432 where
# user postgres may connect without a password (the script creates the role `test`
# with password `test` that odbc-api's connection string uses, if missing); MariaDB on
# 127.0.0.1:3306 with root and an empty password (the copy of the package is given that
# password instead of odbc-api's `my-secret-pw`; the script creates its database
# `test_db`).
# Results: target/tmp/odbc-api-tests/<dm>-<width>-<filter>.log
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DM="${1:-odbc-dm}"
shift || true
FILTERS=("$@")
[ ${#FILTERS[@]} -gt 0 ] || FILTERS=(sqlite_3 postgresql maria_db)
OUT="$ROOT/target/tmp/odbc-api-tests"
mkdir -p "$OUT"

# The package source: fetched by cargo through a throw-away project that depends on it.
FETCH="$OUT/fetch"
mkdir -p "$FETCH/src"
printf '[package]\nname = "fetch-odbc-api"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n[workspace]\n[dependencies]\nodbc-api = "29"\n' > "$FETCH/Cargo.toml"
echo 'fn main() {}' > "$FETCH/src/main.rs"
(cd "$FETCH" && cargo fetch -q)
PKG="$(cd "$FETCH" && cargo metadata --format-version 1 | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="odbc-api").rsplit("/",1)[0])')"
SRC="$OUT/$(basename "$PKG")"
if [ ! -d "$SRC" ]; then
    cp -r "$PKG" "$SRC"
    # Keep it out of any enclosing cargo workspace (this repo's).
    grep -q '^\[workspace\]' "$SRC/Cargo.toml" || printf '\n[workspace]\n' >> "$SRC/Cargo.toml"
fi
# This machine's MariaDB: root without a password (odbc-api's CI uses `my-secret-pw`).
sed -i 's/UID=root;PWD=my-secret-pw;/UID=root;PWD=;/' "$SRC/tests/integration/connection_strings.rs"

# The ODBC configuration of the repo's tests, plus the driver names odbc-api expects.
bash "$ROOT/drivers-under-test/setup.sh" >/dev/null
CFG="$OUT/odbc"
mkdir -p "$CFG"
cp "$ROOT/target/odbc-test/odbcinst.ini" "$CFG/odbcinst.ini"
grep -q '^\[PostgreSQL UNICODE\]' "$CFG/odbcinst.ini" || printf '\n[PostgreSQL UNICODE]\nDriver = psqlodbcw.so\n' >> "$CFG/odbcinst.ini"
touch "$CFG/odbc.ini"
export ODBCSYSINI="$CFG" ODBCINI="$CFG/odbc.ini"

# PostgreSQL role test/test (odbc-api's POSTGRES_CONNECTION).
if command -v psql >/dev/null; then
    psql -h 127.0.0.1 -U postgres -d test -qtAc "SELECT 1 FROM pg_roles WHERE rolname='test'" | grep -q 1 ||
        psql -h 127.0.0.1 -U postgres -d test -qc "CREATE ROLE test LOGIN SUPERUSER PASSWORD 'test'"
fi

# MariaDB database `test_db` (odbc-api's MARIADB_CONNECTION).
if command -v mysql >/dev/null; then
    mysql -h 127.0.0.1 -u root -e 'CREATE DATABASE IF NOT EXISTS test_db' || true
fi

case "$DM" in
    odbc-dm) LIBDIR="$("$ROOT/capi/scripts/make-libdir.sh" --release)" ;;
    unixodbc) LIBDIR=/usr/lib/x86_64-linux-gnu ;;
    *) echo "usage: $0 [odbc-dm|unixodbc] [FILTER...]" >&2; exit 2 ;;
esac

export CARGO_TARGET_DIR="$OUT/target-$DM"
for width in narrow wide; do
    feats=()
    [ "$width" = wide ] && feats=(--features wide)
    for f in "${FILTERS[@]}"; do
        log="$OUT/$DM-$width-$f.log"
        (cd "$SRC" && LIBRARY_PATH="$LIBDIR" LD_LIBRARY_PATH="$LIBDIR" \
            cargo test -q --test integration "${feats[@]}" -- "$f" --test-threads=1 >"$log" 2>&1) || true
        echo "$DM $width $f: $(grep -E '^test result' "$log" | tail -1)"
    done
done
