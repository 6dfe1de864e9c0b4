#!/usr/bin/env bash
# loom model of the parking word (src/parking.rs: the call gate's busy word and the lock of
# a driver serialized by `Threading` 2/3); docs/decisions.md #56.
# Its own target dir (target/loom), so the main build is not invalidated by the RUSTFLAGS.
# The cfg is `odbc_dm_loom`, not `loom`: `--cfg loom` switches tokio (a dev-dependency) to
# its own loom build, which does not compile.
# Timing (2 cores, shared): first build about 3 min wall (about 1 min CPU), later builds
# seconds to a minute; the model itself runs in about 1 s.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CARGO_TARGET_DIR="$ROOT/target/loom" RUSTFLAGS="${RUSTFLAGS:-} --cfg odbc_dm_loom" cargo test --lib parking::loom "$@"
