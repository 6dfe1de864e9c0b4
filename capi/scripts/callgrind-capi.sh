#!/usr/bin/env bash
# Issue 12's forwarding figures in ONE run: examples/scan_callgrind under callgrind for each
# mode (scan, interleaved, getinfo) and each way (direct, dm, dm-threading0, unixodbc,
# capi), at N and 2N; per unit = (Collected(2N) - Collected(N)) / N, and the difference
# over direct.
#
# Ways: direct (the driver called directly: the floor), dm (odbc-dm in-process, Rust),
# dm-threading0 (the same with Threading=0), unixodbc (the system's libodbc.so.2), capi
# (odbc-dm's libodbc.so.2, release build from capi/scripts/make-libdir.sh, dlopened by the
# example exactly as unixODBC's library: ODBC_DM_CAPI_LIB, see benches/common).
#
#   capi/scripts/callgrind-capi.sh [N] [WAYS] [MODES]
#     N      default 100000 (2N is run too)
#     WAYS   comma-separated, default direct,dm,capi,unixodbc
#     MODES  comma-separated, default scan,interleaved,getinfo
#   Environment: CALLGRIND_JOBS=k runs k valgrind processes at once (default 1);
#   CALLGRIND_OUT=dir keeps the raw outputs there (default target/tmp/callgrind-capi);
#   CALLGRIND_NO_BUILD=1 measures the binaries as they are (target/release/examples/
#   scan_callgrind, target/release/odbc-dm-lib/libodbc.so.2) without building them first.
# The counts are deterministic, so a small N gives the same per-unit differences as a
# large one (N = 20,000 and 100,000 agree within a few instructions per row) in a fifth of
# the time.
#
# Prints one line per run, then a Markdown table (mode × way) ready for docs/performance.md,
# headed by the commit and the command.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${1:-100000}"
WAYS="${2:-direct,dm,capi,unixodbc}"
MODES="${3:-scan,interleaved,getinfo}"
JOBS="${CALLGRIND_JOBS:-1}"
N2=$((2 * N))
cd "$ROOT"
IFS=, read -r -a ways <<<"$WAYS"
IFS=, read -r -a modes <<<"$MODES"
for w in "${ways[@]}"; do
    case $w in direct | dm | dm-threading0 | unixodbc | capi) ;; *) echo "unknown way: $w" >&2; exit 2 ;; esac
done
for m in "${modes[@]}"; do
    case $m in scan | interleaved | getinfo) ;; *) echo "unknown mode: $m" >&2; exit 2 ;; esac
done
LIBDIR="$ROOT/target/release/odbc-dm-lib"
if [ -z "${CALLGRIND_NO_BUILD:-}" ]; then
    if [[ ",$WAYS," == *,capi,* ]]; then
        LIBDIR="$(capi/scripts/make-libdir.sh --release)"
    fi
    cargo build -q --release --example scan_callgrind
fi
OUT="${CALLGRIND_OUT:-$ROOT/target/tmp/callgrind-capi}"
mkdir -p "$OUT"
# The example builds its 1M-row database on first use; do that once, outside valgrind.
target/release/examples/scan_callgrind direct scan 1 >/dev/null

run() { # way mode n -> writes $OUT/cg.<way>.<mode>.<n>.out and .err
    local way=$1 mode=$2 n=$3 loop
    case $mode in scan) loop='*fetch_loop*' ;; interleaved) loop='*interleaved_loop*' ;; getinfo) loop='*getinfo_loop*' ;; esac
    local cmd="valgrind --tool=callgrind --toggle-collect=$loop --callgrind-out-file=$OUT/cg.$way.$mode.$n.out target/release/examples/scan_callgrind"
    ODBC_DM_CAPI_LIB="$LIBDIR/libodbc.so.2" sh -c "$cmd $way $mode $n" 2>"$OUT/$way.$mode.$n.err" >/dev/null
}
collected() { grep -o 'Collected : [0-9]*' "$OUT/$1.$2.$3.err" | awk '{print $3}'; }

# All runs, k at a time.
jobs_list=()
for mode in "${modes[@]}"; do
    for way in "${ways[@]}"; do
        jobs_list+=("$way $mode $N" "$way $mode $N2")
    done
done
running=0
for j in "${jobs_list[@]}"; do
    # shellcheck disable=SC2086
    run $j &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

declare -A per
for mode in "${modes[@]}"; do
    for way in "${ways[@]}"; do
        a=$(collected "$way" "$mode" "$N")
        b=$(collected "$way" "$mode" "$N2")
        if [ -z "$a" ] || [ -z "$b" ]; then
            echo "$mode $way: no result (see $OUT/$way.$mode.*.err)" >&2
            exit 1
        fi
        per[$mode,$way]=$(python3 -c "print(($b - $a) / $N)")
        echo "$mode $way N=$N: $a  2N=$N2: $b  per unit: ${per[$mode,$way]}"
    done
done

# The table: per unit, and the difference over direct (when direct was run).
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo '+dirty')"
echo
echo "commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), \`capi/scripts/callgrind-capi.sh $N $WAYS $MODES\`"
echo
header="| way |"
sep="|---|"
for mode in "${modes[@]}"; do
    case $mode in
        scan) header+=" scan, instr/row |" ;;
        interleaved) header+=" interleaved, instr/row |" ;;
        getinfo) header+=" SQLGetInfo, instr/call |" ;;
    esac
    sep+="---|"
done
echo "$header"
echo "$sep"
for way in "${ways[@]}"; do
    line="| $way |"
    for mode in "${modes[@]}"; do
        v=${per[$mode,$way]}
        d=${per[$mode,direct]:-}
        line+=" $(python3 - "$v" "$d" "$mode" "$way" <<'EOF'
import sys
v, d, mode, way = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
fmt = (lambda x: f"{x:,.2f}".rstrip("0").rstrip(".")) if mode != "getinfo" else (lambda x: f"{x:,.1f}".rstrip("0").rstrip("."))
if d == "" or way == "direct":
    print(fmt(v))
else:
    d = float(d)
    if mode == "getinfo":
        print(f"{fmt(v)} ({v - d:+.1f})")
    else:
        print(f"{fmt(v)} ({v - d:+,.2f}, {100 * (v - d) / d:+.2f} %)")
EOF
) |"
    done
    echo "$line"
done
