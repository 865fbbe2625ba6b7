#!/usr/bin/env bash
# purity-selftest.sh: tests of tools/armv6-purity-check.sh itself.
#
# Usage: purity-selftest.sh positive|negative CHECKER CC WORKDIR
#   CC       an ARM cross C compiler (arm-linux-gnueabihf-gcc or
#            arm-linux-gnueabi-gcc); the fixtures beside this script are
#            compiled with it at test time.
#   positive the ARMv6 fixtures (ARMv6 SIMD, PLD, LDRD, exclusives, VFPv2 in
#            C and assembly), alone and as an archive, must pass (exit 0).
#   negative each ARMv7 fixture must fail (exit 1, not 2) and the report must
#            name the offending instructions; an archive mixing good and bad
#            members must fail on the bad member only.
set -euo pipefail

mode=${1:?mode}; checker=${2:?checker}; cc=${3:?compiler}; work=${4:?workdir}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
ar=${cc%gcc}ar
case "$cc" in
  *gnueabihf*) abi=hard ;;
  *) abi=softfp ;;
esac
v6="-O2 -marm -march=armv6kz -mfpu=vfp -mfloat-abi=$abi"
fails=0

compile() {  # compile OUT SRC FLAGS...
  local out=$1 src=$2; shift 2
  "$cc" "$@" -c "$src" -o "$work/$out"
}
fail() { echo "SELFTEST FAIL: $*"; fails=$((fails + 1)); }

# expect_fail OBJ PATTERN...: the checker exits 1 and prints every pattern.
expect_fail() {
  local obj=$1; shift
  local out rc=0
  out=$("$checker" "$work/$obj" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed "s|^|  [$obj] |"
  [ $rc -eq 1 ] || fail "$obj: checker exited $rc, expected 1"
  local p
  for p in "$@"; do
    # A here-string, not a pipe: grep -q stops reading at its first match,
    # and under pipefail the writer's SIGPIPE would fail the pipeline.
    grep -qE -- "$p" <<<"$out" || fail "$obj: report does not mention /$p/"
  done
}

expect_pass() {
  local rc=0
  "$checker" "$@" || rc=$?
  [ $rc -eq 0 ] || fail "checker exited $rc on ARMv6 code: $*"
}

compile good_c.o "$here/purity_good.c" $v6 -Wall -Wextra
compile good_s.o "$here/purity_good.S" $v6
rm -f "$work/libgood.a"
"$ar" rcs "$work/libgood.a" "$work/good_c.o" "$work/good_s.o"

case "$mode" in
  positive)
    expect_pass "$work/good_c.o" "$work/good_s.o" "$work/libgood.a"
    ;;
  negative)
    compile bad_v7.o "$here/purity_bad_v7.c" -O2 -marm -march=armv7ve -mfpu=vfpv3-d16 -mfloat-abi=$abi
    compile bad_inst.o "$here/purity_bad_inst.S" $v6
    compile bad_thumb2.o "$here/purity_bad_thumb2.S" -mfloat-abi=$abi
    expect_fail bad_v7.o 'Tag_CPU_arch: v7' 'movw ' 'movt ' 'ubfx ' 'sdiv ' 'VFPv3 VMOV immediate'
    expect_fail bad_inst.o 'movw ' 'movt ' 'ubfx ' 'sdiv ' 'dmb ' 'vadd\.i8 .*NEON' \
      'vmov\.f32 .*VFPv3' 'vfma\.f32 .*VFPv4'
    # The attributes of bad_inst.o are clean: the instruction layer alone found
    # the above, and the legitimate SMLAD beside them is not reported.
    out=$("$checker" "$work/bad_inst.o" 2>&1) || true
    if grep -qE 'attributes:|smlad' <<<"$out"; then
      fail "bad_inst.o: attributes or smlad reported"
    fi
    expect_fail bad_thumb2.o 'Thumb-2 32-bit encoding' '\$t in '
    rm -f "$work/libmixed.a"
    "$ar" rcs "$work/libmixed.a" "$work/good_c.o" "$work/bad_inst.o" "$work/good_s.o"
    expect_fail libmixed.a 'libmixed\.a\(bad_inst\.o\)'
    out=$("$checker" "$work/libmixed.a" 2>&1) || true
    if grep -q 'libmixed\.a(good' <<<"$out"; then
      fail "libmixed.a: a good member was reported"
    fi
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac

if [ $fails -ne 0 ]; then
  echo "purity-selftest $mode: $fails failure(s)"
  exit 1
fi
echo "purity-selftest $mode: OK"
