#!/usr/bin/env bash
# agmodel-run --prompt-cache end to end on the bundled model (llama.cpp's
# semantics): the first run computes the prompt and saves the cache; a second
# run with the same prompt prints the same text and restores every prompt
# token but the last; a prompt that extends it restores the common prefix
# only; a damaged cache, one of another KV type and an unwritable path are
# reported in one line and the output stays the same; -f reads the prompt
# from a file and from standard input. Each KV type.
#   prompt_cache.sh AGMODEL_RUN MODEL [EMULATOR...]
set -uo pipefail
prog=$1 model=$2
shift 2
run=("$@" "$prog" -m "$model")
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
prompt="Once upon a time, there was a little girl named Lily. She loved to play outside in the park."

stat_of() { sed -n 's/^stats: prompt cache: \([0-9]*\) of \([0-9]*\) prompt tokens restored.*/\1 \2/p' "$1"; }

for kv in f32 f16 q8; do
  cache="$dir/cache-$kv.bin"
  first=$("${run[@]}" --kv "$kv" -n 80 -p "$prompt" --prompt-cache "$cache" --stats 2>"$dir/err1") || fail "$kv: first run: exit $?"
  read -r r1 n1 <<<"$(stat_of "$dir/err1")"
  [ "${r1:-x}" = 0 ] || fail "$kv: the first run restored ${r1:-?} tokens"
  [ -s "$cache" ] || fail "$kv: no cache written"
  second=$("${run[@]}" --kv "$kv" -n 80 -p "$prompt" --prompt-cache "$cache" --stats 2>"$dir/err2") || fail "$kv: second run: exit $?"
  read -r r2 n2 <<<"$(stat_of "$dir/err2")"
  [ "$second" = "$first" ] || fail "$kv: the second run printed another text"
  [ "${r2:-x}" = $((n2 - 1)) ] || fail "$kv: the second run restored ${r2:-?} of ${n2:-?} (want all but the last)"
  echo "$kv: second run restored $r2 of $n2 prompt tokens, same text"
  # A longer prompt: the common prefix only.
  longer=$("${run[@]}" --kv "$kv" -n 80 -p "$prompt They" --prompt-cache "$cache" --stats 2>"$dir/err3") || fail "$kv: longer prompt: exit $?"
  plain=$("${run[@]}" --kv "$kv" -n 80 -p "$prompt They") || fail "$kv: plain run: exit $?"
  read -r r3 n3 <<<"$(stat_of "$dir/err3")"
  [ "$longer" = "$plain" ] || fail "$kv: the extended prompt's output differs from a run without a cache"
  [ "${r3:-x}" = "$n2" ] || fail "$kv: the extended prompt restored ${r3:-?} (want the cached $n2)"
  [ "${n3:-0}" -gt "${n2:-0}" ] || fail "$kv: the extended prompt is not longer"
  echo "$kv: extended prompt restored $r3 of $n3, same text as without a cache"
done

# Bad caches: reported in one line, recomputed, the same text.
want=$("${run[@]}" -n 60 -p "$prompt")
cp "$dir/cache-f32.bin" "$dir/bad.bin"
printf '\x55' | dd of="$dir/bad.bin" bs=1 seek=4000 conv=notrunc 2>/dev/null
out=$("${run[@]}" -n 60 -p "$prompt" --prompt-cache "$dir/bad.bin" 2>"$dir/e") || fail "damaged cache: exit $?"
[ "$out" = "$want" ] || fail "damaged cache: another text"
grep -q 'checksum mismatch' "$dir/e" && [ "$(wc -l <"$dir/e")" = 1 ] || fail "damaged cache: $(cat "$dir/e")"
cp "$dir/cache-q8.bin" "$dir/other.bin"
out=$("${run[@]}" -n 60 -p "$prompt" --prompt-cache "$dir/other.bin" 2>"$dir/e") || fail "q8 cache, f32 session: exit $?"
[ "$out" = "$want" ] || fail "q8 cache, f32 session: another text"
grep -q 'KV cache type q8' "$dir/e" || fail "q8 cache, f32 session: $(cat "$dir/e")"
head -c 100 "$dir/cache-f32.bin" >"$dir/short.bin"
out=$("${run[@]}" -n 60 -p "$prompt" --prompt-cache "$dir/short.bin" 2>"$dir/e") || fail "truncated cache: exit $?"
[ "$out" = "$want" ] || fail "truncated cache: another text"
grep -q 'truncated' "$dir/e" || fail "truncated cache: $(cat "$dir/e")"
out=$("${run[@]}" -n 60 -p "$prompt" --prompt-cache "$dir/no/such/dir/c.bin" 2>"$dir/e") || fail "unwritable cache: exit $?"
[ "$out" = "$want" ] || fail "unwritable cache: another text"
grep -q 'nothing was written\|cannot create' "$dir/e" || fail "unwritable cache: $(cat "$dir/e")"
ls "$dir"/*.tmp-* >/dev/null 2>&1 && fail "a temporary file was left behind"
echo "damaged, other-KV, truncated and unwritable caches: reported, same text"

# -f: a file and standard input give what -p gives.
printf '%s' "$prompt" >"$dir/prompt.txt"
out=$("${run[@]}" -n 60 -f "$dir/prompt.txt") || fail "-f FILE: exit $?"
[ "$out" = "$want" ] || fail "-f FILE: another text"
out=$(printf '%s' "$prompt" | "${run[@]}" -n 60 -f -) || fail "-f -: exit $?"
[ "$out" = "$want" ] || fail "-f -: another text"
"${run[@]}" -n 60 -f "$dir/none.txt" >/dev/null 2>"$dir/e"
[ $? -ne 0 ] && grep -q 'none.txt' "$dir/e" || fail "-f of a missing file: $(cat "$dir/e")"
echo "-f FILE and -f - match -p"

[ "$fails" = 0 ] && echo "prompt_cache: all passed"
exit $((fails > 0))
