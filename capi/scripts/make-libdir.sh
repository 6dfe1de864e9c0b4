#!/usr/bin/env bash
# Builds odbc-dm's drop-in libodbc.so.2 and puts it in a directory of its own, with the
# development link libodbc.so, ready to go first on LD_LIBRARY_PATH (run time) and
# LIBRARY_PATH / -L (link time).
#   capi/scripts/make-libdir.sh [--release] [DEST]     (default DEST: target/<profile>/odbc-dm-lib)
# Prints the directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
profile=debug
args=()
if [ "${1:-}" = "--release" ]; then profile=release; args=(--release); shift; fi
dest="${1:-$ROOT/target/$profile/odbc-dm-lib}"
(cd "$ROOT" && cargo build -q -p odbc-dm-capi "${args[@]}")
mkdir -p "$dest"
# A copy, not a link: the directory stays valid when target/ is rebuilt or cleaned.
install -m 0755 "$ROOT/target/$profile/libodbc.so" "$dest/libodbc.so.2.tmp"
mv -f "$dest/libodbc.so.2.tmp" "$dest/libodbc.so.2"
ln -sfn libodbc.so.2 "$dest/libodbc.so"
echo "$dest"
