#!/usr/bin/env bash
# run-memory.sh: check the cycle model's memory side (qemu/plugin/agm_memory.c)
# against the Pi Zero figures it was calibrated on (NOTES-armv6.md,
# tinymembench on a Pi Zero W), with bench/pizero_membench.c's loops.
#
#   tests/plugin/run-memory.sh
#
# Each loop runs under `qemu-arm -cpu arm1176` with the plugin and
# memory=on; its figure must lie within 8% of the published one (the read
# stream with a PLD every 32 bytes: inside the 430-800 MB/s estimate).
# Also: the L1-hit model's counts are the same with memory=on as with
# memory=off (the memory model only adds its own keys), and every PLD of the
# loops has its address resolved.
#
# Environment: QEMU_ARM, AGM_ARM_CC, AGM_CYCLES_PLUGIN, AGM_MEMORY_WORK
# (as tests/plugin/run-micro.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qemu=${QEMU_ARM:-qemu-arm}
cc=${AGM_ARM_CC:-arm-linux-gnueabi-gcc}
plugin=${AGM_CYCLES_PLUGIN:-}
if [ -z "$plugin" ]; then
  plugin=$("$root/qemu/plugin/build.sh")
fi
work=${AGM_MEMORY_WORK:-}
cleanup=
if [ -z "$work" ]; then
  work=$(mktemp -d)
  cleanup=$work
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT
mkdir -p "$work"

exe=$work/membench
"$cc" -std=c11 -O2 -static -marm -march=armv6kz -mfpu=vfp -mfloat-abi=softfp -I"$root/qemu/plugin" \
  -o "$exe" "$root/bench/pizero_membench.c"

pass=0
fail=0
check() { # name ok message
  if [ "$2" = 1 ]; then pass=$((pass + 1)); echo "PASS $1 $3"; else fail=$((fail + 1)); echo "FAIL $1 $3"; fi
}
for c in read:225 copy:158 copy-pld32:426 copy-pld64:259 read-pld32:430-800 random:284; do
  mode=${c%%:*}; want=${c#*:}
  "$qemu" -cpu arm1176 -plugin "$plugin,out=$work/$mode.on,memory=on" "$exe" "$mode" > "$work/$mode.out"
  "$qemu" -cpu arm1176 -plugin "$plugin,out=$work/$mode.off" "$exe" "$mode" > "$work/$mode.out-off"
  res=$(cat "$work/$mode.out" "$work/$mode.on" | awk -F= -v want="$want" '
    { v[$1] = $2 }
    END {
      if (v["markers_begin"] != 1 || v["markers_end"] != 1 || v["mem.cycles"] == "") { print "0 markers or memory keys missing"; exit }
      if (v["mode"] == "random") { got = v["mem.cycles"] / v["loads"]; unit = "ns/load" }
      else { got = v["bytes"] / (v["mem.cycles"] / 1e9) / 1e6; unit = "MB/s" }
      if (want ~ /-/) { split(want, r, "-"); ok = got >= r[1] && got <= r[2] }
      else ok = got >= 0.92 * want && got <= 1.08 * want
      printf "%d %.1f %s (published %s)\n", ok, got, unit, want
    }')
  check "$mode" "${res%% *}" "${res#* }"
  same=1
  for k in insns cycles stall_cycles all.insns all.cycles; do
    [ "$(grep "^$k=" "$work/$mode.on")" = "$(grep "^$k=" "$work/$mode.off")" ] || same=0
  done
  grep -q '^mem\.' "$work/$mode.off" && same=0
  check "$mode:l1-model-unchanged" "$same" "$(grep '^cycles=' "$work/$mode.off")"
  unresolved=$(sed -n 's/^mem.pld_unresolved=//p' "$work/$mode.on")
  plds=$(sed -n 's/^mem.plds=//p' "$work/$mode.on")
  [ "$unresolved" = 0 ] && ok=1 || ok=0
  check "$mode:pld-addresses" "$ok" "plds=$plds unresolved=$unresolved"
done
echo "run-memory.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
