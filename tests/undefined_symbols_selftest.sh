#!/usr/bin/env bash
# undefined_symbols_selftest.sh: tools/check-undefined-symbols.sh rejects a
# C++ runtime dependency (operator new) and accepts it when it is passed as
# an extra allowed pattern.
#   undefined_symbols_selftest.sh CHECKER CXX AR NM WORKDIR
set -euo pipefail
checker=$1 cxx=$2 ar=$3 nm=$4 work=$5
rm -rf "$work"
mkdir -p "$work/engine" "$work/formats"
printf 'struct A { int x; };\nA* make_a() { return new A(); }\n' > "$work/a.cpp"
printf 'int agm_plain(int x) { return x + 1; }\n' > "$work/b.cpp"
"$cxx" -O2 -c "$work/a.cpp" -o "$work/a.o"
"$cxx" -O2 -c "$work/b.cpp" -o "$work/b.o"
"$ar" rcs "$work/engine/libagm_engine.a" "$work/a.o"
"$ar" rcs "$work/formats/libagm_formats.a" "$work/b.o"
if bash "$checker" --nm "$nm" "$work" > "$work/out1.txt"; then
  echo "FAIL: operator new was accepted"; cat "$work/out1.txt"; exit 1
fi
grep -q '_Znw.*NOT ALLOWED' "$work/out1.txt" || { echo "FAIL: no NOT ALLOWED line"; cat "$work/out1.txt"; exit 1; }
bash "$checker" --nm "$nm" "$work" '_Znw*' > "$work/out2.txt" || { echo "FAIL: extra pattern ignored"; cat "$work/out2.txt"; exit 1; }
echo "undefined_symbols_selftest: rejected operator new, accepted it as an extra pattern"
