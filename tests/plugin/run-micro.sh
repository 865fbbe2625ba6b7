#!/usr/bin/env bash
# run-micro.sh: check the ARM1176 cycle model (qemu/plugin/agm_cycles.c) on
# micro-sequences whose cycle counts the ARM1176 TRM gives.
#
#   tests/plugin/run-micro.sh [tests/plugin/micro.S ...]
#
# Each .S is assembled into a static ARMv6KZ program (no C library), run once
# under `qemu-arm -cpu arm1176` with the plugin, and every `@ expect region=K
# insns=N cycles=C name=...` line in it is checked against the plugin's
# region.K.insns / region.K.cycles (and, where the line also says
# `steps=S max_step_cycles=M`, the step markers' steps and
# region.K.max_step_cycles). Exit status 0 only if all match.
#
# Environment: QEMU_ARM (default qemu-arm), AGM_ARM_CC (default
# arm-linux-gnueabi-gcc), AGM_CYCLES_PLUGIN (default: built by
# qemu/plugin/build.sh), AGM_MICRO_WORK (scratch dir; default a mktemp dir).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qemu=${QEMU_ARM:-qemu-arm}
cc=${AGM_ARM_CC:-arm-linux-gnueabi-gcc}
plugin=${AGM_CYCLES_PLUGIN:-}
if [ -z "$plugin" ]; then
  plugin=$("$root/qemu/plugin/build.sh")
fi
if [ $# -eq 0 ]; then
  set -- "$here"/micro*.S
fi
work=${AGM_MICRO_WORK:-}
cleanup=
if [ -z "$work" ]; then
  work=$(mktemp -d)
  cleanup=$work
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT
mkdir -p "$work"

pass=0
fail=0
for src in "$@"; do
  name=$(basename "$src" .S)
  exe=$work/$name
  out=$work/$name.cycles
  "$cc" -nostdlib -static -marm -march=armv6kz -mfpu=vfp -mfloat-abi=softfp "-Wa,-I$here" \
    -o "$exe" "$src"
  "$qemu" -cpu arm1176 -plugin "$plugin,out=$out" "$exe"
  while IFS= read -r line; do
    region=$(sed -E 's/.*region=([0-9]+).*/\1/' <<<"$line")
    want_i=$(sed -E 's/.*insns=([0-9]+).*/\1/' <<<"$line")
    want_c=$(sed -E 's/.* cycles=([0-9]+).*/\1/' <<<"$line")
    what=$(sed -E 's/.*name=([^ ]+).*/\1/' <<<"$line")
    got_i=$(sed -n "s/^region\.$region\.insns=//p" "$out")
    got_c=$(sed -n "s/^region\.$region\.cycles=//p" "$out")
    steps_ok=1
    if [[ $line == *" steps="* ]]; then
      want_s=$(sed -E 's/.* steps=([0-9]+).*/\1/' <<<"$line")
      want_m=$(sed -E 's/.*max_step_cycles=([0-9]+).*/\1/' <<<"$line")
      got_s=$(sed -n "s/^steps=//p" "$out")
      got_m=$(sed -n "s/^region\.$region\.max_step_cycles=//p" "$out")
      [ "${got_s:-none}" = "$want_s" ] && [ "${got_m:-none}" = "$want_m" ] || steps_ok=0
      what="$what(steps=${got_s:-none}/$want_s,max_step_cycles=${got_m:-none}/$want_m)"
    fi
    if [ "${got_i:-none}" = "$want_i" ] && [ "${got_c:-none}" = "$want_c" ] && [ $steps_ok -eq 1 ]; then
      printf 'PASS %-28s insns=%s cycles=%s\n' "$name:$what" "$got_i" "$got_c"
      pass=$((pass + 1))
    else
      printf 'FAIL %-28s insns=%s (want %s) cycles=%s (want %s)\n' "$name:$what" \
        "${got_i:-none}" "$want_i" "${got_c:-none}" "$want_c"
      fail=$((fail + 1))
    fi
  done < <(grep -E '^@ expect ' "$src")
done
echo "run-micro.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
