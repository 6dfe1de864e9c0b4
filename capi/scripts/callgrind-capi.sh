#!/usr/bin/env bash
# examples/scan_callgrind through odbc-dm's libodbc.so.2 (issue 11: record what the C ABI
# costs; issue 12 sets the targets). The example's `unixodbc` way dlopens
# /usr/lib/x86_64-linux-gnu/libodbc.so.2; in a private mount namespace (unshare -m, root)
# that file is bind-mounted with odbc-dm's build, so the same code runs through our
# shared library. Ways: direct, dm (in-process), unixodbc, capi (= unixodbc way on ours).
#   capi/scripts/callgrind-capi.sh [N]      (default 100000; also runs 2N)
# Prints "Collected" per run and the per-unit difference (X(2N) - X(N)) / N.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${1:-100000}"
N2=$((2 * N))
cd "$ROOT"
LIBDIR="$(capi/scripts/make-libdir.sh --release)"
cargo build -q --release --example scan_callgrind
OUT="$ROOT/target/tmp/callgrind-capi"
mkdir -p "$OUT"
UNIX_REAL="$(readlink -f /usr/lib/x86_64-linux-gnu/libodbc.so.2)"
run() { # way mode n
    local way=$1 mode=$2 n=$3 ex_way=$1 loop
    [ "$mode" = scan ] && loop='*fetch_loop*' || loop='*getinfo_loop*'
    local cmd="valgrind --tool=callgrind --toggle-collect=$loop --callgrind-out-file=$OUT/cg.$way.$mode.$n.out target/release/examples/scan_callgrind"
    if [ "$way" = capi ]; then
        unshare -m sh -c "mount --bind '$LIBDIR/libodbc.so.2' '$UNIX_REAL' && $cmd unixodbc $mode $n" 2>"$OUT/$way.$mode.$n.err" >/dev/null
    else
        sh -c "$cmd $ex_way $mode $n" 2>"$OUT/$way.$mode.$n.err" >/dev/null
    fi
    grep -o 'Collected : [0-9]*' "$OUT/$way.$mode.$n.err" | awk '{print $3}'
}
for mode in getinfo scan; do
    for way in direct dm unixodbc capi; do
        a=$(run $way $mode $N)
        b=$(run $way $mode $N2)
        echo "$mode $way N=$N: $a  2N=$N2: $b  per unit: $(python3 -c "print(round(($b - $a) / $N, 2))")"
    done
done
