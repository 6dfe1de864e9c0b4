#!/usr/bin/env bash
# The README recipe, as a script: builds a small odbc-api application (odbc-sys links
# `-lodbc`) against odbc-dm's libodbc.so.2 instead of unixODBC's, runs it on the test DSNs,
# and shows that odbc-dm served it (ODBC_DM_TRACE). Needs network access to crates.io the
# first time (cargo downloads odbc-api).
#   capi/scripts/odbc-api-app.sh [DSN...]     (default: sqlite-test pg-test)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIBDIR="$("$ROOT/capi/scripts/make-libdir.sh")"
APP="$ROOT/target/tmp/odbc-api-app"
mkdir -p "$APP/src"
cat > "$APP/Cargo.toml" <<'TOML'
[package]
name = "odbc-api-app"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
odbc-api = "29"
TOML
cat > "$APP/src/main.rs" <<'RS'
use odbc_api::{buffers::TextRowSet, ConnectionOptions, Cursor, Environment};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = Environment::new()?;
    for dsn in std::env::args().skip(1) {
        let conn = env.connect(&dsn, "", "", ConnectionOptions::default())?;
        let mut cursor = conn.execute("SELECT 'Grüße ☃' AS greeting, 42 AS answer", (), None)?.expect("a result set");
        let mut buffers = TextRowSet::for_cursor(10, &mut cursor, Some(64))?;
        let mut rows = cursor.bind_buffer(&mut buffers)?;
        while let Some(batch) = rows.fetch()? {
            for r in 0..batch.num_rows() {
                let g = String::from_utf8_lossy(batch.at(0, r).unwrap_or(b""));
                let a = String::from_utf8_lossy(batch.at(1, r).unwrap_or(b""));
                println!("{dsn}: {g} {a}");
            }
        }
    }
    Ok(())
}
RS
# Link time: `-L native=` puts our directory before the system's library directories, so
# the linker takes our libodbc.so (the development link) even where unixodbc-dev installed
# /usr/lib/x86_64-linux-gnu/libodbc.so (LIBRARY_PATH would not: cc searches it after them).
export RUSTFLAGS="-L native=$LIBDIR"
(cd "$APP" && cargo build -q)
# Proof: relink the binary only, recording the linker's input files.
touch "$APP/src/main.rs"
(cd "$APP" && cargo rustc -q -- -C link-arg=-Wl,--dependency-file="$APP/link.d")
if ! grep -q "$LIBDIR/libodbc.so" "$APP/link.d"; then
    echo "odbc-api-app.sh: the linker did not take $LIBDIR/libodbc.so:" >&2
    grep -o '[^ ]*libodbc\.so[^ ]*' "$APP/link.d" >&2 || true
    exit 1
fi
echo "linked with: $LIBDIR/libodbc.so; NEEDED: $(readelf -d "$APP/target/debug/odbc-api-app" | grep -o 'libodbc[^]]*')"
# Run time: our libodbc.so.2 first on LD_LIBRARY_PATH.
source "$ROOT/target/odbc-test/env.sh"
trace="$APP/trace.log"
rm -f "$trace"
if [ $# -eq 0 ]; then set -- sqlite-test pg-test; fi
LD_LIBRARY_PATH="$LIBDIR" ODBC_DM_TRACE="$trace" "$APP/target/debug/odbc-api-app" "$@"
echo "odbc-dm trace lines: $(grep -c 'Entry SQL' "$trace")"
