#!/bin/sh
# memleak_start.sh [N]: start `luatrace -m memleak` (kernel mode) N times
# (40) as bench/tools.lua does (runner on a pseudo-terminal, the trigger
# making events), and fail if any start took over a second to its first
# line. Before memleak's hashes were preallocated in kernel mode, a start
# stalled ~5 s about once in 7-40 starts: the BPF allocator's refill fed
# itself through memleak's own kmalloc program (docs/STARTUP.md,
# "memleak's start stall"). Timing is not a test assertion, so this loop
# is not part of `make test`; run it by hand after `make` and
# `make build/bench/runner build/bench/trigger`.
set -u
cd "$(dirname "$0")/../.."
N=${1:-40}
for b in build/luatrace build/bench/runner build/bench/trigger; do
	[ -x "$b" ] || { echo "memleak_start: $b missing (make; make build/bench/runner build/bench/trigger)" >&2; exit 2; }
done
build/bench/trigger >/dev/null 2>&1 &
TRIGGER=$!
trap 'kill $TRIGGER 2>/dev/null' EXIT INT TERM
slow=0
for i in $(seq "$N"); do
	ms=$(build/bench/runner -t -i -w 15 -- build/luatrace -m memleak | tr -d '\r' |
		sed -n 's/.*RUNNER first_ms=\([0-9-]*\).*/\1/p')
	printf '%s ' "$ms"
	if [ -z "$ms" ] || [ "$ms" -lt 0 ] || [ "$ms" -gt 1000 ]; then slow=$((slow + 1)); fi
done
echo
echo "memleak_start: $slow of $N starts over 1 s (or without a first line)"
[ "$slow" -eq 0 ]
