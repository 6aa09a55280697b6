#!/usr/bin/env bash
# Runs the ingest decoders' libFuzzer targets, one after the other.
#
#   scripts/fuzz.sh BUILD_DIR [SECONDS]
#
# BUILD_DIR is a build configured with clang and -DVIGIL_FUZZ=ON (see
# `make fuzz`). Each target runs SECONDS (default 60) on a corpus seeded from
# ../shared/data/protocol-samples (or $VIGIL_SHARED_DATA) plus a few
# hand-written JSON documents. The corpus lives in a temporary directory that
# is deleted at exit; crash reproducers are kept in BUILD_DIR/fuzz-artifacts/.
# Prints, per target, the number of executions and whether it crashed; exits
# non-zero if any target crashed or is missing.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
run_seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
samples=${VIGIL_SHARED_DATA:-$root/../shared/data}/protocol-samples
if [[ ! -d $samples ]]; then
  echo "protocol samples not found at $samples (set VIGIL_SHARED_DATA)" >&2
  exit 2
fi

work=$(mktemp -d -t vigil-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts=$build_dir/fuzz-artifacts
mkdir -p "$artifacts"

# --- seed corpora -----------------------------------------------------------
seed() {  # seed TARGET NAME CONTENT
  mkdir -p "$work/corpus/$1"
  printf '%s' "$3" >"$work/corpus/$1/$2"
}

mkdir -p "$work/corpus/remote_write_fuzz"
cp "$samples"/prometheus-remote-write/*.snappy.bin "$samples"/prometheus-remote-write/*.pb \
  "$work/corpus/remote_write_fuzz/"
cp "$samples"/loki/*.bin "$samples"/loki/*.pb "$work/corpus/remote_write_fuzz/" 2>/dev/null || true

mkdir -p "$work/corpus/json_samples_fuzz" "$work/corpus/json_events_fuzz"
# Any real JSON is a useful shape to mutate from.
for f in "$samples"/*/*.json; do
  cp "$f" "$work/corpus/json_samples_fuzz/"
  cp "$f" "$work/corpus/json_events_fuzz/"
done
seed json_samples_fuzz contract.json '{"series": [
  {"labels": {"__name__": "checkout_latency_ms", "service": "checkout"},
   "samples": [[1700000000000, 12.5], ["2026-11-23T10:00:00Z", 13.0]]}
]}'
seed json_samples_fuzz array.json '[{"labels": {"__name__": "a", "job": "x"}, "samples": [[1700000000, "NaN"], [1700000000.5, "+Inf"], [1, "-Inf"], 4.5]}]'
seed json_samples_fuzz bad.json '{"series": [{"labels": {"job": 1}, "samples": [[true, "x"], [1, 2, 3]]}, {"samples": {}}, 7]}'
seed json_samples_fuzz escapes.json '[{"labels": {"__name__": "m", "p": "a\"b\\c\u00e4\ud83d\ude00"}, "samples": [["2026-11-23T10:00:00.123+02:00", "1e3"]]}]'
seed json_events_fuzz contract.json '{"time": "2026-11-23T10:00:00Z", "kind": "deploy", "labels": {"service": "checkout", "version": "1.4.2"}, "text": "deploy 1.4.2"}'
seed json_events_fuzz array.json '[{"kind": "config"}, {"kind": "deploy", "time": 1700000000, "labels": {"a": ""}}, {"kind": "x", "ts_ms": 1700000000123, "text": null}]'
seed json_events_fuzz bad.json '[{"kind": "two words"}, {"time": true}, {"kind": "a", "labels": {"bad-name": 1}}, 5]'

# Log decoders and the template miner.
mkdir -p "$work/corpus/loki_push_json_fuzz" "$work/corpus/loki_push_protobuf_fuzz" "$work/corpus/otlp_logs_json_fuzz" \
  "$work/corpus/otlp_logs_protobuf_fuzz" "$work/corpus/syslog_fuzz" "$work/corpus/json_logs_fuzz" \
  "$work/corpus/template_miner_fuzz"
cp "$samples"/loki/*.json "$work/corpus/loki_push_json_fuzz/"
cp "$samples"/loki/*.bin "$samples"/loki/*.pb "$work/corpus/loki_push_protobuf_fuzz/"
cp "$samples"/otlp/*logs*.json "$work/corpus/otlp_logs_json_fuzz/"
cp "$samples"/otlp/*.bin "$work/corpus/otlp_logs_protobuf_fuzz/"
cp "$samples"/syslog/* "$work/corpus/syslog_fuzz/"
seed json_logs_fuzz lines.json '{"line":"a","ts":1700000000000,"labels":{"pod":"p1"},"level":"error"}
{"msg":"b","time":"2026-11-23T10:00:00Z"}
plain text line'
data=${VIGIL_SHARED_DATA:-$root/../shared/data}
for s in HDFS OpenSSH Mac Android Windows; do
  [[ -f $data/loghub-2k/$s/${s}_2k.log ]] && head -c 3000 "$data/loghub-2k/$s/${s}_2k.log" >"$work/corpus/template_miner_fuzz/$s"
done

cat >"$work/json.dict" <<'DICT'
"{"
"}"
"["
"]"
":"
","
"\""
"\\u"
"\\ud83d\\ude00"
"true"
"false"
"null"
"\"series\""
"\"labels\""
"\"samples\""
"\"__name__\""
"\"kind\""
"\"time\""
"\"ts_ms\""
"\"text\""
"\"NaN\""
"\"+Inf\""
"\"-Inf\""
"1e11"
"1700000000000"
"-0.5e-3"
"18446744073709551616"
"\"2026-11-23T10:00:00Z\""
"+01:00"
DICT

# --- run ----------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
summary=()
for target in remote_write_fuzz json_samples_fuzz json_events_fuzz loki_push_json_fuzz loki_push_protobuf_fuzz \
  otlp_logs_json_fuzz otlp_logs_protobuf_fuzz syslog_fuzz json_logs_fuzz template_miner_fuzz; do
  bin=$(find "$build_dir" -type f -name "$target" -perm -u+x -print -quit)
  if [[ -z $bin ]]; then
    summary+=("$(printf '%-20s MISSING (build it: ninja -C %s %s)' "$target" "$build_dir" "$target")")
    failed=1
    continue
  fi
  # JSON targets get a dictionary; remote_write gets a length cap (the 70 KB
  # batch500.pb seed would otherwise slow every execution tenfold; larger
  # seeds are used truncated, which exercises truncation too).
  extra=()
  [[ $target == json_* || $target == *_json_fuzz ]] && extra=(-dict="$work/json.dict")
  [[ $target == template_miner_fuzz ]] && extra=(-max_len=8192)
  [[ $target == remote_write_fuzz ]] && extra=(-max_len=16384)
  mkdir -p "$artifacts/$target"
  log=$work/$target.log
  touch "$log.start"
  echo "== $target: ${run_seconds}s, corpus $(ls "$work/corpus/$target" | wc -l) seeds" >&2
  set +e
  "$bin" "$work/corpus/$target" "${extra[@]}" -max_total_time="$run_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  execs=${execs:-?}
  corpus=$(ls "$work/corpus/$target" | wc -l)
  found=$(find "$artifacts/$target" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) -newer "$log.start" 2>/dev/null || true)
  if [[ $rc -ne 0 ]]; then
    failed=1
    summary+=("$(printf '%-20s %12s execs  CRASH (exit %d) %s' "$target" "$execs" "$rc" "$(echo $found)")")
    echo "--- last lines of the $target log:" >&2
    grep -vE '^#[0-9]+' "$log" | tail -40 >&2
    for f in $found; do echo "reproduce: $bin $f" >&2; done
  else
    summary+=("$(printf '%-20s %12s execs  no crash (corpus %d inputs)' "$target" "$execs" "$corpus")")
  fi
done

echo
echo "fuzz summary (${run_seconds}s per target; reproducers in $artifacts):"
printf '  %s\n' "${summary[@]}"
exit $failed
