#!/bin/sh
# Run onionmesh's libFuzzer targets one after another (the machine has two
# cores, shared): `make fuzz` and `make fuzz-long` call this after
# building them.
#
#   tests/fuzz/run.sh BUILD_DIR time SECONDS NAME...   each for SECONDS
#   tests/fuzz/run.sh BUILD_DIR runs N NAME...         each for N inputs
#
# Each target works on BUILD_DIR/corpus/NAME, seeded with a copy of
# tests/fuzz/corpus/NAME (the tree is never written); its log is
# BUILD_DIR/logs/NAME.log and a crashing input BUILD_DIR/artifacts/NAME-*.
# tests/fuzz/fuzz_NAME.options, when present, holds extra libFuzzer flags
# (one line); tests/fuzz/fuzz_NAME.dict (or fuzz_PREFIX.dict, PREFIX
# being NAME up to its first '_') is passed as -dict.
# Prints one line per target (executions, speed, coverage, result) and
# exits 1 if any target crashed, leaked, timed out or failed to start.
set -u

b=$1 mode=$2 n=$3
shift 3
case $mode in
time) limit="-max_total_time=$n" ;;
runs) limit="-runs=$n" ;;
*) echo "run.sh: mode must be time or runs, not '$mode'" >&2; exit 2 ;;
esac
here=$(dirname "$0")
mkdir -p "$b/corpus" "$b/logs" "$b/artifacts"
summary=$b/fuzz-summary.txt
: > "$summary"
failed=0

printf '%-12s %12s %8s %10s %7s  %s\n' target execs secs exec/s cov result |
    tee -a "$summary"
for name in "$@"; do
	bin=$b/fuzz_$name
	corpus=$b/corpus/$name
	log=$b/logs/$name.log
	mkdir -p "$corpus"
	if [ -d "$here/corpus/$name" ]; then
		cp -p "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
	fi
	opts=
	[ -f "$here/fuzz_$name.options" ] &&
	    opts=$(cat "$here/fuzz_$name.options")
	dict=$here/fuzz_$name.dict
	[ -f "$dict" ] || dict=$here/fuzz_${name%%_*}.dict
	[ -f "$dict" ] && opts="$opts -dict=$dict"
	start=$(date +%s)
	# shellcheck disable=SC2086 # opts is a list of flags
	"$bin" $limit $opts -print_final_stats=1 -timeout=25 \
	    -rss_limit_mb=2048 -artifact_prefix="$b/artifacts/$name-" \
	    "$corpus" > "$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc, see $log)"
		failed=1
	fi
	printf '%-12s %12s %8s %10s %7s  %s\n' "$name" "${execs:-?}" "$secs" \
	    "${speed:-?}" "${cov:-?}" "$result" | tee -a "$summary"
	if [ $rc -ne 0 ]; then
		pat='ERROR: (libFuzzer|[A-Za-z]*Sanitizer)|runtime error'
		pat="$pat|fuzz check failed"
		grep -m1 -E "$pat" "$log" | sed 's/^/    /'
		ls "$b/artifacts/$name-"* 2>/dev/null | sed 's/^/    input: /'
	fi
done
if [ $failed -ne 0 ]; then
	echo "fuzz: FAILED (summary in $summary)"
	exit 1
fi
echo "fuzz: every target ran without a crash (summary in $summary)"
