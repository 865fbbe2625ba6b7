#!/usr/bin/env bash
# The constrained example (engine/examples/telemetry.c) end to end: its
# report for the prompt "Report:" is byte for byte tests/data/
# telemetry-report.expected (the same file the raspi0 image must print),
# agmodel-run --grammar with the example's compiled-in grammar prints the
# same, and the report is one JSON object with the grammar's members.
#   telemetry_example.sh AGM_TELEMETRY AGMODEL_RUN MODEL EXPECTED [EMULATOR...]
set -uo pipefail
telemetry=$1 run=$2 model=$3 expected=$4
shift 4
emu=("$@")
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"${emu[@]}" "$telemetry" --grammar > "$work/telemetry.gbnf" || fail "--grammar: exit $?"
"${emu[@]}" "$telemetry" "$model" "Report:" > "$work/example.txt" || fail "agm-telemetry: exit $?"
"${emu[@]}" "$run" -m "$model" -p "Report:" --grammar "$work/telemetry.gbnf" > "$work/run.txt" ||
  fail "agmodel-run --grammar: exit $?"
cmp -s "$work/example.txt" "$expected" || fail "agm-telemetry's report differs from $expected: $(cat "$work/example.txt")"
cmp -s "$work/run.txt" "$expected" || fail "agmodel-run's report differs from $expected: $(cat "$work/run.txt")"
echo "report: $(cat "$work/example.txt")"
# The report after the prompt: one JSON object whose members are the grammar's.
python3 - "$work/example.txt" <<'PY' || fail "the report is not the JSON object the grammar describes"
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
assert text.startswith("Report:") and text.endswith("\n"), text
report = json.loads(text[len("Report:"):])
assert list(report) == ["station", "soil", "temp_c", "battery_pct", "action", "note"], report
assert 1 <= report["station"] <= 64 and report["soil"] in ("dry", "ok", "wet"), report
assert 0 <= report["battery_pct"] <= 100 and len(report["note"]) <= 32, report
print("valid:", report)
PY
echo "telemetry_example: $fails failure(s)"
[ "$fails" -eq 0 ]
