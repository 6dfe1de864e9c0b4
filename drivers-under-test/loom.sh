#!/usr/bin/env bash
# loom model of the parking word (src/parking.rs: the call gate's busy word and the lock of
# a driver serialized by `Threading` 2/3); docs/decisions.md #56.
# The model is behind the crate feature `loom-model` (not a `--cfg`): in the test command it
# reuses every dependency `cargo test --workspace` just built and recompiles only this
# crate's unit tests (a RUSTFLAGS cfg would rebuild every dependency in a second target
# dir, about a minute of the test command). Not `--cfg loom`: that switches tokio (a
# dev-dependency) to its own loom build, which does not compile.
# The model itself runs in about 1 s.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo test -p odbc-dm --lib --features loom-model parking::loom "$@"
