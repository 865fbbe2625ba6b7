#!/usr/bin/env bash
# agmodel-grammar end to end: from-schema writes a grammar that compiles (and
# writes -o files whole or not at all), check judges texts with grep's exit
# status, refused schemas and grammars exit 2 with one line saying why.
#   grammar_tool.sh TOOL DATA_DIR [EMULATOR...]
set -uo pipefail
tool=$1 data=$2
shift 2
run=("$@" "$tool")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect RC PATTERN CMD...: exit status RC, PATTERN in stdout+stderr.
expect() {
  local want=$1 pat=$2; shift 2
  local out rc=0
  out=$("${run[@]}" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /'
  [ "$rc" -eq "$want" ] || fail "$*: exit $rc, expected $want"
  grep -qE -- "$pat" <<<"$out" || fail "$*: output does not match /$pat/"
}

s=$data/telemetry.json
expect 0 '^root ::= ' from-schema "$s"
printf '{"zone":3,"soil_moisture":"low","temperature_c":21.5,"action":{"kind":"irrigate","minutes":20}}' >"$work/ok1.json"
printf '{"zone":12,"soil_moisture":"ok","action":{"kind":"wait"},"note":"all fine"}' >"$work/ok2.json"
printf '{"zone":13,"soil_moisture":"ok","action":{"kind":"wait"}}' >"$work/bad_zone.json"
printf '{"zone":3,"soil_moisture":"ok","action":{"kind":"irrigate"}}' >"$work/bad_action.json"
printf '{"zone":3,"soil_moisture":"ok"' >"$work/short.json"
printf '{"soil_moisture":"ok","zone":3,"action":{"kind":"wait"}}' >"$work/order.json"
expect 0 '^accept .*ok2.json' check --schema "$s" "$work/ok1.json" "$work/ok2.json"
expect 0 'reject .*bad_zone.json: refused at byte 9' check --schema "$s" "$work/ok1.json" "$work/bad_zone.json"
expect 0 'reject .*bad_action.json: refused at byte 58' check --schema "$s" "$work/bad_action.json"
expect 0 'reject .*short.json: incomplete' check --schema "$s" "$work/short.json"
expect 0 'reject .*order.json' check --schema "$s" "$work/order.json"
expect 0 'accept .*order.json' check --schema "$s" --canonical "$work/order.json"
expect 2 'cannot open|No such file' check --schema "$s" "$work/missing.json"
# A grammar written with -o is the one printed, and checks the same texts.
expect 0 '' from-schema "$s" -o "$work/t.gbnf"
"${run[@]}" from-schema "$s" >"$work/t2.gbnf" 2>/dev/null
cmp -s "$work/t.gbnf" "$work/t2.gbnf" || fail "-o wrote other bytes than stdout"
[ ! -e "$work/t.gbnf.tmp" ] || fail "-o left its temporary file"
expect 0 'accept' check "$work/t.gbnf" "$work/ok1.json"
# --json: any JSON value.
printf '[1,{"a":null}]' >"$work/any.json"
expect 0 'accept' check --json "$work/any.json"
expect 0 'reject' check --json "$work/short.json"
# Refusals: one line, the JSON pointer, exit 2, no output file.
printf '{"properties":{"a":{"multipleOf":2}}}' >"$work/mult.json"
expect 2 'schema: /properties/a/multipleOf: "multipleOf" is not implemented' from-schema "$work/mult.json" -o "$work/m.gbnf"
[ ! -e "$work/m.gbnf" ] || fail "a refused schema left an output file"
expect 0 'root ::=' from-schema "$work/mult.json" --ignore-unsupported
expect 0 'may accept values the schema does not' from-schema "$work/mult.json" --ignore-unsupported
printf '{"type":' >"$work/broken.json"
expect 2 'broken.json: schema: ' from-schema "$work/broken.json"
printf 'root ::= "a" (\n' >"$work/bad.gbnf"
expect 2 'bad.gbnf: grammar: line' check "$work/bad.gbnf" "$work/ok1.json"
expect 2 'unknown command' frobnicate
expect 2 'is not an option' from-schema "$s" --frob
# -o into a directory that does not exist: an error, nothing written.
expect 2 'cannot write' from-schema "$s" -o "$work/no/such/dir/t.gbnf"

if [ $fails -ne 0 ]; then
  echo "grammar_tool: $fails failure(s)"
  exit 1
fi
echo "grammar_tool: all passed"
