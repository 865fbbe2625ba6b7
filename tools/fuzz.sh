#!/usr/bin/env bash
# fuzz.sh [SECONDS]: runs every libFuzzer target (tests/fuzz/fuzz_<name>.cpp)
# for SECONDS each (default 60) over its kept corpus tests/fuzz/corpus/<name>/,
# then merges the new inputs that add coverage back into that corpus
# (libFuzzer -merge=1: only inputs that reach new code are kept, so the
# corpus stays small). Fails on any crash, sanitizer report, leak, timeout or
# out-of-memory; the input is left in build/fuzz/artifacts/<name>/. Commit
# the grown corpus: the ordinary build replays it as the ctest
# fuzz_replay_<name>.
#
# Separate from tools/setup.sh on purpose: it needs clang and compiler-rt's
# libFuzzer (Debian 12: clang, libclang-rt-14-dev), checked and, as root or
# with sudo, installed here. AGM_FUZZ_NO_INSTALL=1 only reports what is
# missing. AGM_FUZZ_TARGETS="gguf ..." picks targets; AGM_FUZZ_MAX_LEN sets
# libFuzzer's -max_len (default 4096).
#
# Builds with at most 2 jobs and runs one fuzzing process at a time (the
# machine is shared).
set -euo pipefail

seconds=${1:-60}
case "$seconds" in
  ''|*[!0-9]*) echo "usage: tools/fuzz.sh [seconds-per-target]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/fuzz"
max_len=${AGM_FUZZ_MAX_LEN:-4096}

# ---- tools -------------------------------------------------------------------
packages=(clang libclang-rt-14-dev cmake make doctest-dev)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" in
      ii*) ;;
      *) missing+=("$p") ;;
    esac
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz.sh: missing: ${missing[*]}"
  if [ -n "${AGM_FUZZ_NO_INSTALL:-}" ]; then exit 1; fi
  if [ "$(id -u)" -eq 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
    echo "fuzz.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
# libFuzzer really links (the package names differ between clang versions).
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
  > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2> "$probe/err"; then
  echo "fuzz.sh: clang++ -fsanitize=fuzzer does not link:" >&2
  cat "$probe/err" >&2
  exit 1
fi

# ---- build -------------------------------------------------------------------
if [ -n "${AGM_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<< "$AGM_FUZZ_TARGETS"
else
  targets=()
  for f in "$root"/tests/fuzz/fuzz_*.cpp; do
    n=$(basename "$f" .cpp)
    targets+=("${n#fuzz_}")
  done
fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGM_FUZZ=ON \
  -DAGM_BUILD_BENCH=OFF > "$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
for t in "${targets[@]}"; do
  cmake --build "$build" --target "agm_fuzz_$t" -j2
done

# ---- fuzz --------------------------------------------------------------------
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/agm_fuzz_$t"
  corpus="$root/tests/fuzz/corpus/$t"
  new="$build/new/$t"
  artifacts="$build/artifacts/$t"
  rm -rf "$new"
  mkdir -p "$corpus" "$new" "$artifacts"
  dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=("-dict=$root/tests/fuzz/$t.dict")
  before=$(find "$corpus" -type f | wc -l)
  echo "fuzz.sh: $t for ${seconds}s over $corpus ($before files)"
  # New inputs go to the first directory; the kept corpus is only read.
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$new" "$corpus" \
      > "$build/$t.log" 2>&1; then
    tail -n 60 "$build/$t.log" >&2
    echo "fuzz.sh: $t FAILED: see $build/$t.log and $artifacts/" >&2
    failed+=("$t")
    continue
  fi
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
    "$build/$t.log" || true
  # Merged by edge coverage only (-use_counters=0): hit-count features would
  # keep hundreds of near-duplicates.
  "$bin" -merge=1 -use_counters=0 -max_len="$max_len" "$corpus" "$new" > "$build/$t.merge.log" 2>&1 || {
    cat "$build/$t.merge.log" >&2; failed+=("$t"); continue; }
  after=$(find "$corpus" -type f | wc -l)
  echo "fuzz.sh: $t: corpus $before -> $after files, $(du -sk "$corpus" | cut -f1) KiB"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s), ${seconds}s each, no failure"
