#!/usr/bin/env bash
# armv6-purity-check.sh: prove that compiled code runs on an ARM1176JZF-S
# (Raspberry Pi Zero / Pi 1: ARMv6KZ, ARM + Thumb-1, VFPv2, no NEON).
#
# Usage: tools/armv6-purity-check.sh [options] PATH...
#   PATH   an object (.o/.obj), a static archive (.a), or a directory; a
#          directory is searched for *.o, *.obj and *.a, skipping CMake's own
#          probe objects (CMakeFiles/<version>/, CMakeTmp, CMakeScratch).
# Options:
#   --allow-thumb1   accept 16-bit Thumb code (and Thumb BL/BLX pairs); by
#                    default any Thumb code fails, since the project builds
#                    with -marm.
#   --max-report N   list at most N violations per file (default 40; 0 = all).
#   -q               print only violations and the summary line.
# Environment: AGM_OBJDUMP, AGM_READELF select the binutils (default: the
# arm-linux-gnueabihf- ones, else the arm-linux-gnueabi- ones).
#
# Exit status: 0 every file is ARMv6KZ/VFPv2-clean; 1 a violation was found
# (each listed as "file: function: address: instruction -- reason"); 2 bad
# usage, missing binutils or nothing to check.
#
# Two independent layers are checked, because each can miss what the other
# sees: (1) the build attributes that `readelf -A` reports (what the compiler
# and assembler were told: Tag_CPU_arch, Tag_FP_arch, Tag_Advanced_SIMD_arch,
# Tag_THUMB_ISA_use, Tag_DIV_use, ...), and (2) every decoded instruction of
# `objdump -d` (what is really in the file: an `.inst`, a stray inline-asm
# `.arch armv7-a`, or a hand-written .S can put an ARMv7 encoding into an
# object whose attributes still say v6KZ).
#
# The instruction rules (what an ARM1176 lacks, from the ARMv6 and ARMv7
# architecture manuals):
#   core:  MOVW/MOVT, UBFX/SBFX/BFI/BFC, RBIT, MLS, SDIV/UDIV, DMB/DSB/ISB,
#          PLI/PLDW, LDRHT/STRHT/LDRSBT/LDRSHT, DBG, ERET/HVC, the ARMv8
#          acquire/release, CRC32, AES and SHA instructions, and MRC/MCR of
#          the ARMv7 performance monitors (p15, c9, c12..c14).
#   Thumb: any Thumb code (mapping symbol $t or 2/4-byte Thumb encodings);
#          with --allow-thumb1 only 32-bit encodings other than BL/BLX.
#   VFP/NEON: every v* instruction must be one of VFPv2's: arithmetic
#          (.f32 on s registers, .f64 on d0-d15), VCMP[E] (also with #0.0),
#          VCVT[R] between f32/f64 and s32/u32 or f32<->f64, VMOV between core
#          and VFP registers, VMOV.F32/.F64 register moves, VMOV.32 dN[x],
#          VLDR/VSTR, VLDM/VSTM/VPUSH/VPOP, VMRS/VMSR. Anything else is NEON,
#          VFPv3 (VMOV immediate, fixed-point VCVT, half-precision, d16-d31),
#          VFPv4 (VFMA/VFMS/VFNMA/VFNMS) or ARMv8.
#   ARMv6 SIMD (SMLAD, SADD16, SEL, SXTB16, USADA8, ...), PLD, LDRD/STRD,
#   LDREX*/STREX*/CLREX, REV, CLZ, SSAT/USAT, NOP/YIELD/WFI/WFE/SEV and UDF
#   are all fine.
set -euo pipefail

prog=${0##*/}
allow_thumb1=0
max_report=40
quiet=0
paths=()

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --allow-thumb1) allow_thumb1=1 ;;
    --max-report) shift; max_report=${1:?--max-report needs a number} ;;
    -q) quiet=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; paths+=("$@"); break ;;
    -*) echo "$prog: unknown option $1" >&2; exit 2 ;;
    *) paths+=("$1") ;;
  esac
  shift
done
if [ ${#paths[@]} -eq 0 ]; then
  usage >&2
  exit 2
fi

pick_tool() {  # pick_tool ENVVALUE name: first usable binutils program
  local want=$1 name=$2 p
  if [ -n "$want" ]; then
    command -v "$want" >/dev/null 2>&1 && { command -v "$want"; return 0; }
    echo "$prog: $want not found" >&2
    return 1
  fi
  for p in "arm-linux-gnueabihf-$name" "arm-linux-gnueabi-$name"; do
    command -v "$p" >/dev/null 2>&1 && { command -v "$p"; return 0; }
  done
  echo "$prog: no arm-linux-gnueabihf-$name or arm-linux-gnueabi-$name" \
       "(install binutils-arm-linux-gnueabihf, or run tools/setup.sh)" >&2
  return 1
}
objdump=$(pick_tool "${AGM_OBJDUMP:-}" objdump) || exit 2
readelf=$(pick_tool "${AGM_READELF:-}" readelf) || exit 2

# Collect the files to check, in a stable order.
files=()
for p in "${paths[@]}"; do
  if [ -d "$p" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done < <(
      # host-tools: the host build of agmodel-run that a bare-metal build
      # makes for its images' snapshots (qemu/raspi0/CMakeLists.txt), not ARM code.
      find "$p" \( -path '*/CMakeFiles/[0-9]*' -o -name CMakeTmp -o -name CMakeScratch -o -name host-tools \) -prune \
        -o -type f \( -name '*.o' -o -name '*.obj' -o -name '*.a' \) -print0 | sort -z)
  elif [ -f "$p" ]; then
    files+=("$p")
  else
    echo "$prog: $p: no such file or directory" >&2
    exit 2
  fi
done
if [ ${#files[@]} -eq 0 ]; then
  echo "$prog: no object files or archives found in: ${paths[*]}" >&2
  exit 2
fi

# Layer 1: build attributes. readelf -A prints "File: lib.a(member.o)" before
# each archive member; a plain object gets no such line, so we name it.
attr_awk='
function flush() {
  if (member == "") return
  if (!seen_attr) { bad(member, "no ARM build attributes (not an ARM object?)") }
  else {
    if (arch == "") bad(member, "no Tag_CPU_arch")
    else if (arch !~ /^v(4|4T|5T|5TE|5TEJ|6|6K|6KZ)$/) bad(member, "Tag_CPU_arch: " arch " (need v6KZ or older)")
  }
  member = ""
}
function bad(m, why) { print m ": attributes: " why; nbad++ }
BEGIN { member = deffile; seen_attr = 0; arch = ""; nbad = 0 }
/^File: / { if (member == deffile && !seen_attr) member = ""; flush(); member = substr($0, 7); seen_attr = 0; arch = ""; next }
/^Attribute Section: aeabi/ { seen_attr = 1; next }
/^  Tag_CPU_arch:/ { arch = $2; next }
/^  Tag_THUMB_ISA_use:/ { if ($0 ~ /Thumb-2/) bad(member, "Tag_THUMB_ISA_use: Thumb-2"); next }
/^  Tag_FP_arch:/ {
  v = $0; sub(/^  Tag_FP_arch: */, "", v)
  if (v !~ /^VFPv[12]$/) bad(member, "Tag_FP_arch: " v " (the ARM1176 has VFPv2)")
  next
}
/^  Tag_Advanced_SIMD_arch:/ {
  v = $0; sub(/^  Tag_Advanced_SIMD_arch: */, "", v)
  if (v != "No") bad(member, "Tag_Advanced_SIMD_arch: " v " (no NEON on the ARM1176)")
  next
}
/^  Tag_DIV_use:/ { if ($0 ~ /integer division extension/) bad(member, "Tag_DIV_use: hardware divide"); next }
/^  Tag_MPextension_use:/ { if ($0 ~ /Allowed/) bad(member, "Tag_MPextension_use: Allowed (ARMv7 MP)"); next }
/^  Tag_Virtualization_use:/ { v = $0; sub(/^  Tag_Virtualization_use: */, "", v); if (v ~ /Virtuali[sz]ation/) bad(member, "Tag_Virtualization_use: virtualization extensions"); next }
END { flush(); exit(nbad > 0 ? 1 : 0) }
'

# Layer 2: the instructions. objdump -d -t prints the symbol table (for the
# $t mapping symbols) and then the disassembly; for an archive each member
# starts with "member.o:     file format elf32-littlearm".
insn_awk='
function report(fn, addr, hex, text, why) {
  nbad++
  if (maxrep > 0 && nbad > maxrep) return
  print where() ": " fn ": " addr ": " hex "  " text "  -- " why
}
function where() { return (archive != "" ? archive "(" member ")" : member) }
# is_core: a core register name as objdump prints it.
function is_core(r) { return r ~ /^(r[0-9]+|sb|sl|fp|ip|sp|lr|pc)!?$/ }
# Operand kinds of a comma-separated operand list: "r" core, "s" single,
# "d" double (d0-d15), "D" d16-d31, "x" dN[i] scalar, "q" quad, "i" immediate,
# "m" memory or register list, "?" other. Braces and brackets are one operand.
function kinds(ops,    n, i, c, depth, cur, out, t) {
  out = ""; cur = ""; depth = 0
  n = length(ops)
  for (i = 1; i <= n + 1; i++) {
    c = (i <= n) ? substr(ops, i, 1) : ","
    if (c == "[" || c == "{") depth++
    if (c == "]" || c == "}") depth--
    if (c == "," && depth <= 0) {
      t = cur; gsub(/^ +| +$/, "", t)
      if (t != "") out = out kind(t)
      cur = ""
    } else cur = cur c
  }
  return out
}
function kind(t,   num) {
  if (t ~ /^[\[{]/) return "m"
  if (t ~ /^#/) return "i"
  if (is_core(t)) return "r"
  if (t ~ /^s[0-9]+$/) return "s"
  if (t ~ /^d[0-9]+\[[0-9]+\]$/) { num = substr(t, 2) + 0; return (num < 16) ? "x" : "D" }
  if (t ~ /^d[0-9]+$/) { num = substr(t, 2) + 0; return (num < 16) ? "d" : "D" }
  if (t ~ /^q[0-9]+$/) return "q"
  return "?"
}
# high_d: true if the operands name d16-d31 anywhere (also inside lists).
function high_d(ops,   s, num) {
  s = ops
  while (match(s, /d[0-9]+/)) {
    if (RSTART == 1 || substr(s, RSTART - 1, 1) !~ /[a-z0-9_]/) {
      num = substr(s, RSTART + 1, RLENGTH - 1) + 0
      if (num >= 16) return 1
    }
    s = substr(s, RSTART + RLENGTH)
  }
  return 0
}
function strip_cond(op, known,    base) {
  if (op in known) return op
  base = substr(op, 1, length(op) - 2)
  if (length(op) > 2 && (substr(op, length(op) - 1) in conds) && (base in known)) return base
  return ""
}
# vfp_check: "" if the v* instruction is VFPv2, else the reason it is not.
function vfp_check(mn, ops,    dot, op, types, k, t1, t2, want) {
  dot = index(mn, ".")
  op = (dot > 0) ? substr(mn, 1, dot - 1) : mn
  types = (dot > 0) ? substr(mn, dot + 1) : ""
  k = kinds(ops)
  if (k ~ /q/) return "NEON (quad register)"
  if (high_d(ops)) return "VFPv3-D32 register d16-d31"
  if (strip_cond(op, vfp_arith) != "") {
    if (op ~ /^vcmpe?/ && k ~ /i$/ && ops !~ /#0\.0$/) return "VFPv3 compare with a non-zero immediate"
    if (k ~ /i/ && op !~ /^vcmpe?/) return "VFPv3 immediate operand"
    if (types == "f32") { if (k ~ /^s+i?$/) return ""; return (k ~ /d/) ? "NEON (vector .f32 on d registers)" : "not a VFPv2 form" }
    if (types == "f64") { if (k ~ /^d+i?$/) return ""; return "not a VFPv2 form" }
    if (types == "f16") return "half-precision arithmetic (ARMv8.2)"
    return "NEON (." types ")"
  }
  if (strip_cond(op, vfp_cvt) != "") {
    if (k ~ /i/) return "VFPv3 fixed-point conversion"
    if (types ~ /f16/) return "VFPv3 half-precision conversion"
    if (types ~ /(s|u)16/) return "VFPv3 fixed-point conversion"
    if (split(types, tt, ".") != 2) return "NEON (." types ")"
    t1 = tt[1]; t2 = tt[2]
    if (!((t1 "." t2) in cvt_ok)) return "not a VFPv2 conversion (." types ")"
    want = (t1 == "f64" ? "d" : "s") (t2 == "f64" ? "d" : "s")
    if (k != want) return "NEON (vector conversion)"
    return ""
  }
  if (strip_cond(op, vfp_mov) != "") {
    if (k ~ /i/) return "VFPv3 VMOV immediate"
    if (types == "") {
      if (k == "rs" || k == "sr" || k == "rrd" || k == "drr" || k == "ssrr" || k == "rrss") return ""
      return "NEON (vmov " k ")"
    }
    if (types == "f32") return (k == "ss") ? "" : "not a VFPv2 vmov.f32"
    if (types == "f64") return (k == "dd") ? "" : "not a VFPv2 vmov.f64"
    if (types == "32") return (k == "xr" || k == "rx") ? "" : "not a VFPv2 vmov.32"
    return "NEON (vmov." types " scalar)"
  }
  if (strip_cond(op, vfp_mem) != "") {
    if (types != "" && types != "32" && types != "64") return "NEON (." types ")"
    return ""
  }
  if (strip_cond(op, vfp_sys) != "") return ""
  if (op ~ /^vf(n)?m[as]$/) return "VFPv4 fused multiply-add"
  if (op ~ /^vcvt[bt]$/) return "VFPv3 half-precision conversion"
  if (op ~ /^v(sel|maxnm|minnm|rint|cvt[anpm]|jcvt|sdot|udot|cmla|cadd|fmal|fmsl|ins|movx|mmla|usmmla|smmla|ummla)/) return "ARMv8 FP/SIMD"
  return "NEON (" op ")"
}
BEGIN {
  split("eq ne cs hs cc lo mi pl vs vc hi ls ge lt gt le al", a, " "); for (i in a) conds[a[i]] = 1
  split("vadd vsub vmul vnmul vdiv vmla vmls vnmla vnmls vabs vneg vsqrt vcmp vcmpe", a, " "); for (i in a) vfp_arith[a[i]] = 1
  split("vcvt vcvtr", a, " "); for (i in a) vfp_cvt[a[i]] = 1
  split("vmov", a, " "); for (i in a) vfp_mov[a[i]] = 1
  split("vldr vstr vldm vstm vldmia vldmdb vstmia vstmdb vpush vpop", a, " "); for (i in a) vfp_mem[a[i]] = 1
  split("vmrs vmsr", a, " "); for (i in a) vfp_sys[a[i]] = 1
  split("f32.s32 f32.u32 s32.f32 u32.f32 f64.s32 f64.u32 s32.f64 u32.f64 f64.f32 f32.f64", a, " "); for (i in a) cvt_ok[a[i]] = 1
  # ARMv6T2/v7/v8 core instructions (base mnemonics; a condition may follow).
  split("movw movt ubfx sbfx bfi bfc rbit mls sdiv udiv dmb dsb isb pli pldw " \
        "ldrht strht ldrsbt ldrsht dbg eret hvc sevl hlt " \
        "lda ldab ldah ldaex ldaexb ldaexh ldaexd stl stlb stlh stlex stlexb stlexh stlexd " \
        "crc32b crc32h crc32w crc32cb crc32ch crc32cw " \
        "aese aesd aesmc aesimc sha1c sha1p sha1m sha1h sha1su0 sha1su1 " \
        "sha256h sha256h2 sha256su0 sha256su1 csdb ssbb pssbb", a, " ")
  for (i in a) v7core[a[i]] = 1
  split("mrc mcr", a, " "); for (i in a) cp15[a[i]] = 1
  archive = ""; member = deffile; fn = "?"; nbad = 0
}
/^In archive / { archive = substr($0, 12); sub(/:$/, "", archive); next }
/^[^ \t].*:[ \t]+file format / {
  member = $0; sub(/:[ \t]+file format .*$/, "", member)
  if ($NF != "elf32-littlearm") report("-", "-", "", "", "not a little-endian ARM ELF object (" $NF ")")
  fn = "?"; next
}
# Symbol table line ending in a $t mapping symbol: Thumb code in this member.
/^[0-9a-f]+ .*[ \t]\$t(\.[^ \t]*)?$/ {
  if (!allow_t1) report("(symbol table)", $1, "", $NF " in " $(NF-2), "Thumb mapping symbol (the project builds ARM code: -marm)")
  next
}
/^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
/^ *[0-9a-f]+:\t/ {
  nf = split($0, f, "\t")
  if (nf < 3) next
  addr = f[1]; gsub(/[ :]/, "", addr)
  hex = f[2]; sub(/ +$/, "", hex)
  mn = tolower(f[3]); ops = (nf >= 4) ? f[4] : ""
  # Drop the trailing comment objdump adds after "@" or ";".
  sub(/[ \t]*[@;].*$/, "", ops)
  if (mn ~ /^\./) next                                   # literal pool data
  text = mn (ops != "" ? " " ops : "")
  if (mn ~ /undefined|illegal/ || f[3] ~ /UNDEFINED/) { report(fn, addr, hex, f[3] " " (nf >= 4 ? f[4] : ""), "undecodable instruction"); next }
  if (hex ~ / / || length(hex) == 4) {                   # Thumb encodings
    if (hex ~ / / && !(mn ~ /^blx?$/)) {
      why = (mn ~ /^v/) ? vfp_check(mn, ops) : ""
      base = mn; sub(/\.[wn]$/, "", base)
      if (why == "" && strip_cond(base, v7core) != "") why = "ARMv6T2/ARMv7/ARMv8 instruction"
      report(fn, addr, hex, text, "Thumb-2 32-bit encoding" (why != "" ? "; " why : ""))
      next
    }
    if (!allow_t1) report(fn, addr, hex, text, "Thumb code (the project builds ARM code: -marm)")
    next
  }
  if (mn ~ /^v/) {
    why = vfp_check(mn, ops)
    if (why != "") report(fn, addr, hex, text, why)
    next
  }
  base = mn; sub(/\.[wn]$/, "", base)
  if (strip_cond(base, v7core) != "") { report(fn, addr, hex, text, "ARMv6T2/ARMv7/ARMv8 instruction"); next }
  if (strip_cond(base, cp15) != "" && ops ~ /^p?15, *[0-7], *[^,]+, *c(r)?9, *c(r)?1[234]/) {
    report(fn, addr, hex, text, "ARMv7 performance-monitor register (p15 c9); the ARM1176 counters are in c15")
  }
}
END {
  if (maxrep > 0 && nbad > maxrep) print where() ": ... and " (nbad - maxrep) " more violations"
  exit(nbad > 0 ? 1 : 0)
}
'

nfail=0
nobj=0
for f in "${files[@]}"; do
  nobj=$((nobj + 1))
  out=""
  rc=0
  out=$("$readelf" -A "$f" 2>&1 | awk -v deffile="$f" "$attr_awk") || rc=1
  rc2=0
  out2=$("$objdump" -d -t --special-syms -C "$f" 2>&1 | awk -v deffile="$f" -v allow_t1="$allow_thumb1" \
           -v maxrep="$max_report" "$insn_awk") || rc2=1
  if [ $rc -ne 0 ] || [ $rc2 -ne 0 ]; then
    nfail=$((nfail + 1))
    [ -n "$out" ] && printf '%s\n' "$out"
    [ -n "$out2" ] && printf '%s\n' "$out2"
  elif [ $quiet -eq 0 ]; then
    echo "ok   $f"
  fi
done

if [ $nfail -gt 0 ]; then
  echo "$prog: FAIL: $nfail of $nobj files contain code an ARM1176 (ARMv6KZ, VFPv2) cannot run"
  exit 1
fi
echo "$prog: OK: $nobj files are ARMv6KZ + VFPv2 clean"
exit 0
