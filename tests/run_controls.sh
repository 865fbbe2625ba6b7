#!/usr/bin/env bash
# agmodel-run's sampling controls end to end on the bundled model: --stop cuts
# the generated text before the first stop string (also one that spans
# tokens) and never prints it; penalties change greedy output reproducibly;
# the sparse classifier changes no output; out-of-range values exit 2 with
# one line naming the flag.
#   run_controls.sh AGMODEL_RUN MODEL [EMULATOR...]
set -uo pipefail
prog=$1 model=$2
shift 2
run=("$@" "$prog" -m "$model")
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
prompt="Once upon a time"

plain=$("${run[@]}" -n 80 -p "$prompt") || fail "plain run: exit $?"
gen=${plain#"$prompt"}
[ "$gen" != "$plain" ] || fail "the output does not start with the prompt"
echo "plain: $plain"

# --stop S: the prompt, then the generated text up to the first S.
for s in "Lily" "was" "e w" "named L" ", " "play outside"; do
  out=$("${run[@]}" -n 80 -p "$prompt" --stop "$s") || fail "--stop '$s': exit $?"
  want="$prompt${gen%%"$s"*}"
  [ "$gen" != "${gen%%"$s"*}" ] || fail "stop '$s' does not occur in the plain output: a test that cannot fail"
  if [ "$out" != "$want" ]; then fail "--stop '$s': got '$out', want '$want'"; else echo "stop '$s': ok ('${out: -20}')"; fi
done
# Two stops: the first to complete wins; one that never occurs changes nothing.
out=$("${run[@]}" -n 80 -p "$prompt" --stop "zzzz" --stop "Lily" --stop "little")
[ "$out" = "$prompt${gen%%little*}" ] || fail "three stops: got '$out'"
out=$("${run[@]}" -n 80 -p "$prompt" --stop "no such text")
[ "$out" = "$plain" ] || fail "a stop that never occurs changed the output"
# The prompt itself is not cut: the stop applies to what is generated.
[ "$gen" = "${gen%%upon*}" ] || fail "'upon' occurs in the generated text: pick another word"
out=$("${run[@]}" -n 80 -p "$prompt" --stop "upon")
[ "$out" = "$plain" ] || fail "--stop cut the prompt"

# --logit-bias T=100 makes greedy pick T every time: the same piece 6 times
# (-n counts the positions, the 5 of the prompt included).
out=$("${run[@]}" -n 10 -p "$prompt" --logit-bias 300=100)
rest=${out#"$prompt"}
piece=${rest:0:$((${#rest} / 6))}
[ -n "$piece" ] && [ "$rest" = "$piece$piece$piece$piece$piece$piece" ] || fail "--logit-bias 300=100: got '$rest'"
echo "logit bias 300=100: '$rest'"

# Penalties: reproducible, and they do change a long greedy run.
long=$("${run[@]}" -n 200 -p "$prompt")
p1=$("${run[@]}" -n 200 -p "$prompt" --repeat-penalty 1.3 --frequency-penalty 0.2 --presence-penalty 0.2)
p2=$("${run[@]}" -n 200 -p "$prompt" --repeat-penalty 1.3 --frequency-penalty 0.2 --presence-penalty 0.2)
[ "$p1" = "$p2" ] || fail "penalised greedy runs differ"
[ "$p1" != "$long" ] || fail "the penalties did not change 200 greedy tokens"
# Off values are the plain run.
off=$("${run[@]}" -n 200 -p "$prompt" --repeat-penalty 1 --presence-penalty 0 --frequency-penalty 0 --min-p 0)
[ "$off" = "$long" ] || fail "controls at their off values changed the output"
s1=$("${run[@]}" -n 60 -p "$prompt" --temp 0.8 --min-p 0.1 --seed 5)
s2=$("${run[@]}" -n 60 -p "$prompt" --temp 0.8 --min-p 0.1 --seed 5)
[ "$s1" = "$s2" ] || fail "seeded min-p runs differ"

# The sparse classifier computes the same logits: the same constrained
# output with and without it, sampled and greedy, with and without
# jump-forward; and --stats says which was used.
schema=$(dirname "$0")/data/schema/gen/01-telemetry.json
for jf in "" --no-jump-forward; do
  for args in "--temp 0" "--temp 0.9 --seed 3" "--temp 1.5 --seed 8"; do
    # shellcheck disable=SC2086  # word lists by design
    a=$("${run[@]}" -n 200 -p "Report:" --json-schema "$schema" $args $jf) || fail "sparse $args $jf: exit $?"
    # shellcheck disable=SC2086
    b=$("${run[@]}" -n 200 -p "Report:" --json-schema "$schema" $args $jf --no-sparse-classifier) ||
      fail "full $args $jf: exit $?"
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "--no-sparse-classifier changed the output ($args $jf): '$a' vs '$b'"
  done
done
echo "sparse classifier: same outputs as the full product (6 runs): '$a'"
st=$("${run[@]}" -n 200 -p "Report:" --json-schema "$schema" --no-sparse-classifier --stats 2>&1 >/dev/null)
grep -q "sparse classifier off" <<<"$st" || fail "--stats does not say the sparse classifier was off: $st"

# expect_bad PATTERN ARGS...: exit 2, one line matching PATTERN on stderr.
expect_bad() {
  local pat=$1; shift
  local err rc=0
  err=$("${run[@]}" -n 4 "$@" 2>&1 >/dev/null) || rc=$?
  echo "  $* -> exit $rc: $err"
  [ "$rc" -eq 2 ] || fail "$*: exit $rc, expected 2"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$*: not one line"
  grep -qE -- "$pat" <<<"$err" || fail "$*: stderr does not match /$pat/"
}
expect_bad '--min-p' --min-p 1.5
expect_bad '--repeat-penalty' --repeat-penalty 0
expect_bad '--repeat-last-n' --repeat-last-n 257
expect_bad '--logit-bias' --logit-bias 100000=1
expect_bad '--logit-bias' --logit-bias 5
expect_bad '--logit-bias' --logit-bias 5=nan
expect_bad '--stop' --stop ""
expect_bad '--stop' --stop "$(printf 'x%.0s' {1..65})"
expect_bad '--stop' --stop a --stop b --stop c --stop d --stop e --stop f --stop g --stop h --stop i
bias=()
for t in $(seq 10 26); do bias+=(--logit-bias "$t=1"); done
expect_bad '--logit-bias' "${bias[@]}"

echo "run_controls: $fails failure(s)"
[ "$fails" -eq 0 ]
