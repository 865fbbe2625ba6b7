/*
 * agm_cycles.c: a QEMU TCG plugin that estimates ARM1176JZF-S (Raspberry Pi
 * Zero) core cycles for a program run under `qemu-arm -cpu arm1176`.
 *
 *   qemu-arm -cpu arm1176 -plugin libagm_cycles.so,out=FILE ./prog
 *
 * Model (qemu/plugin/README.md has the table and the TRM references): a
 * single-issue, in-order pipeline. Each instruction is decoded ONCE, when
 * QEMU translates its block, into issue cycles, memory (LSU) cycles, source
 * registers (normal, Early, Late, accumulator) and destination registers
 * with their result latencies (ARM1176 TRM, DDI 0301H, chapter 16). At run
 * time one callback per translated block walks those records over a
 * scoreboard: an instruction issues when its operands are ready, the
 * registers it writes are not locked by a store multiple, and the LSU is
 * free; the clock then advances by its issue cycles.
 *
 * Counting regions (agm_marker.h): the guest executes harmless NOPs that no
 * compiler emits, `orr rX, rX, #0` with a non-canonical rotation field:
 *   orr r11, r11, #0 (rot 1)  0xE38BB100  begin: count from here
 *   orr r11, r11, #0 (rot 2)  0xE38BB200  end:   stop counting
 *   orr r11, r11, #0 (rot 3)  0xE38BB300  step:  a step of the work ends here
 *   orr r12, r12, #0 (rot k)  0xE38CC000 | k << 8   charge to bucket k
 * Markers cost nothing and are not counted. Steps split the measured part
 * (a generated token each, say) so that the costliest one can be told.
 *
 * Output (key=value lines, to out=FILE or QEMU's plugin log):
 *   all.*       the whole run
 *   insns, cycles, stall_cycles, <class>   the measured part: the whole run
 *               if the program executed no begin marker, else everything
 *               between begin and end markers
 *   region.K.*  the measured part charged to bucket K (printed if non-empty)
 *   steps, region.K.max_step_cycles   with step markers: how many steps
 *               ended, and the most cycles bucket K took in one of them
 * Counts are exact and repeatable for a single-threaded guest.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "agm_memory.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* ---- instruction classes ------------------------------------------------ */
enum {
  C_ALU, C_MUL, C_SIMD, C_LOAD, C_STORE, C_LDM, C_STM, C_PLD, C_BRANCH,
  C_VFP, C_OTHER, C_THUMB, C_COUNT
};
static const char *const class_name[C_COUNT] = {
  "alu", "mul", "simd", "load", "store", "ldm", "stm", "pld", "branch",
  "vfp", "other", "thumb"
};

/* ---- decoded instruction record ---------------------------------------- */
/* Register numbers: 0-15 core, 16-47 VFP s0-s31 (d<k> = s<2k>, s<2k+1>). */
#define NREG 48
#define VFP_S(i) ((uint8_t)(16 + (i)))

/* Source kinds: when a source is needed relative to its producer's result. */
enum { S_NORMAL, S_EARLY, S_LATE, S_ACC, S_ACC_LATE };
/* Destination kinds. */
enum { D_NORMAL, D_MAC, D_AGU, D_LOCK };

enum { M_NONE, M_BEGIN, M_END, M_REGION, M_STEP };

#define MAX_SRC 20
#define MAX_DST 20

typedef struct {
  uint32_t word, pc;              /* the instruction and its address (memory model) */
  uint8_t cls, issue, mem, marker, marker_arg;
  uint8_t nsrc, ndst;
  uint8_t src[MAX_SRC], src_kind[MAX_SRC];
  uint8_t dst[MAX_DST], dst_lat[MAX_DST], dst_kind[MAX_DST];
} Insn;

typedef struct {
  size_t n;
  Insn ins[];
} Block;

/* ---- run-time state ------------------------------------------------------ */
typedef struct {
  uint64_t insns, cycles, stall;
  uint64_t cls[C_COUNT];
} Counts;

#define NBUCKET 16
static Counts all_counts, bucket[NBUCKET];
/* Step markers: each bucket's cycles when the last step ended, and the most
 * one step took. */
static uint64_t step_start[NBUCKET], step_max[NBUCKET], steps;
static bool enabled, any_begin;
static unsigned region;
static uint64_t markers_begin, markers_end;
/* The pipeline's scoreboard. Two run side by side: `core`, every access an
 * L1 hit (the TRM's issue and result timings alone), and `memp`, the same
 * with the memory model's misses, fills and write-buffer waits (memory=on). */
typedef struct {
  int64_t now;                    /* next free issue cycle */
  int64_t ready[NREG];            /* cycle a register's value is ready */
  int64_t wlock[NREG];            /* STM register lock: earliest writer issue */
  uint8_t rkind[NREG];            /* D_* kind of the last writer */
  int64_t lsu_free;               /* cycle the load/store unit is free */
} Pipe;
static Pipe core, memp;
static unsigned max_vcpu;
static char *out_path;

/* ---- decode helpers ------------------------------------------------------ */
static void add_src(Insn *p, unsigned r, int kind) {
  if (r == 15 || p->nsrc >= MAX_SRC) return; /* the PC is always ready */
  p->src[p->nsrc] = (uint8_t)r;
  p->src_kind[p->nsrc] = (uint8_t)kind;
  p->nsrc++;
}
static void add_dst(Insn *p, unsigned r, unsigned lat, int kind) {
  if (r == 15 || p->ndst >= MAX_DST) return;
  p->dst[p->ndst] = (uint8_t)r;
  p->dst_lat[p->ndst] = (uint8_t)lat;
  p->dst_kind[p->ndst] = (uint8_t)kind;
  p->ndst++;
}
static unsigned bits(uint32_t w, int hi, int lo) {
  return (w >> lo) & ((1u << (hi - lo + 1)) - 1u);
}
static void set(Insn *p, int cls, unsigned issue) {
  p->cls = (uint8_t)cls;
  p->issue = (uint8_t)issue;
}

/* A branch by writing the PC: TRM tables 16-5 (MOV pc, lr predicted by the
 * return stack: 4 cycles) and 16-19 (LDM ..., pc). Other PC writes are
 * unpredicted: the mispredicted-return figure, 7 (assumption). */
static void pc_write(Insn *p, bool is_return) {
  set(p, C_BRANCH, is_return ? 4 : 7);
}

/* Data processing, TRM 16.3 table 16-4: 1 cycle, result latency 1; an
 * immediate-shifted Rm is an Early Reg; a register-controlled shift takes 2
 * issue cycles, Rs Early, Rn Late, result latency 2. */
static void dec_dp(Insn *p, uint32_t w) {
  unsigned op = bits(w, 24, 21), rn = bits(w, 19, 16), rd = bits(w, 15, 12);
  bool imm = bits(w, 25, 25), regshift = !imm && bits(w, 4, 4);
  bool no_rn = (op == 0xD || op == 0xF);          /* MOV, MVN */
  bool no_rd = (op >= 0x8 && op <= 0xB);           /* TST TEQ CMP CMN */
  unsigned lat = 1;
  set(p, C_ALU, 1);
  if (imm) {
    if (!no_rn) add_src(p, rn, S_NORMAL);
  } else if (regshift) {
    set(p, C_ALU, 2);
    lat = 2;
    if (!no_rn) add_src(p, rn, S_LATE);
    add_src(p, bits(w, 3, 0), S_NORMAL);
    add_src(p, bits(w, 11, 8), S_EARLY);
  } else {
    bool shifted = bits(w, 11, 7) != 0 || bits(w, 6, 5) != 0;
    if (!no_rn) add_src(p, rn, S_NORMAL);
    add_src(p, bits(w, 3, 0), shifted ? S_EARLY : S_NORMAL);
  }
  if (!no_rd) {
    if (rd == 15) {
      bool ret = op == 0xD && !imm && !regshift && bits(w, 11, 0) == 14;
      pc_write(p, ret);
    } else {
      add_dst(p, rd, lat, D_NORMAL);
    }
  }
}

/* Multiplies, TRM 16.7 table 16-10. Operand fields in the TRM's (pre-UAL)
 * names: Rm = bits 3:0 and Rs = bits 11:8 are Early Regs. A multiply's
 * result is available one cycle earlier to the accumulator of a following
 * multiply-accumulate (D_MAC / S_ACC). */
static void mul_srcs(Insn *p, uint32_t w) {
  add_src(p, bits(w, 3, 0), S_EARLY);
  add_src(p, bits(w, 11, 8), S_EARLY);
}

static void dec_mul(Insn *p, uint32_t w) {
  unsigned op = bits(w, 23, 21), s = bits(w, 20, 20);
  unsigned rd = bits(w, 19, 16), rn = bits(w, 15, 12); /* rn = RdLo for long */
  mul_srcs(p, w);
  switch (op) {
  case 0: /* MUL */
    set(p, C_MUL, s ? 5 : 2);
    add_dst(p, rd, 4, D_MAC);
    break;
  case 1: /* MLA */
    set(p, C_MUL, s ? 5 : 2);
    add_src(p, rn, S_ACC_LATE);
    add_dst(p, rd, 4, D_MAC);
    break;
  case 2: /* UMAAL */
    set(p, C_MUL, 3);
    add_src(p, rn, S_ACC_LATE);
    add_src(p, rd, S_ACC);
    add_dst(p, rn, 4, D_MAC);
    add_dst(p, rd, 5, D_MAC);
    break;
  case 4: case 6: /* UMULL SMULL */
    set(p, C_MUL, s ? 6 : 3);
    add_dst(p, rn, 4, D_MAC);
    add_dst(p, rd, 5, D_MAC);
    break;
  case 5: case 7: /* UMLAL SMLAL */
    set(p, C_MUL, s ? 6 : 3);
    add_src(p, rn, S_ACC_LATE);
    add_src(p, rd, S_ACC);
    add_dst(p, rn, 4, D_MAC);
    add_dst(p, rd, 5, D_MAC);
    break;
  default:
    set(p, C_OTHER, 1);
  }
}

/* Single load/store address operands (ARM1136/1176 TRM 16.9): base and
 * offset are Early Regs; 1 issue cycle unless the register offset is
 * subtracted or shifted other than LSL #2 (2 cycles). Write-back makes the
 * base available after 1 cycle, forwarded to a following load/store. */
static void ldst_addr(Insn *p, uint32_t w, bool regoff, bool shift_ok) {
  unsigned rn = bits(w, 19, 16);
  bool pre = bits(w, 24, 24), up = bits(w, 23, 23), wb = bits(w, 21, 21);
  unsigned issue = 1;
  add_src(p, rn, S_EARLY);
  if (regoff) {
    add_src(p, bits(w, 3, 0), S_EARLY);
    if (!up || !shift_ok) issue = 2;
  }
  p->issue = (uint8_t)issue;
  p->mem = 1;
  if (!pre || wb) add_dst(p, rn, 1, D_AGU);
}

static void dec_ldst(Insn *p, uint32_t w) {
  bool regoff = bits(w, 25, 25), load = bits(w, 20, 20);
  unsigned rt = bits(w, 15, 12), rn = bits(w, 19, 16);
  bool shift_ok = true;
  if (regoff) {
    unsigned amt = bits(w, 11, 7), type = bits(w, 6, 5);
    shift_ok = type == 0 && (amt == 0 || amt == 2);
  }
  p->cls = load ? C_LOAD : C_STORE;
  ldst_addr(p, w, regoff, shift_ok);
  if (load) {
    if (rt == 15) {
      /* pop {pc} as LDR pc, [sp], #4: a predicted return (TRM 16-19) */
      bool ret = rn == 13 && !bits(w, 24, 24);
      pc_write(p, ret);
      p->mem = 1;
    } else {
      add_dst(p, rt, 3, D_NORMAL);
    }
  } else {
    add_src(p, rt, S_LATE);
  }
}

/* LDRH/STRH/LDRSB/LDRSH/LDRD/STRD. LDRD: one 64-bit memory cycle, result
 * latency 3 for both (aligned address assumed); STRD locks Rt+1 for 2. */
static void dec_extra_ldst(Insn *p, uint32_t w) {
  unsigned op = bits(w, 6, 5);
  bool load = bits(w, 20, 20), immoff = bits(w, 22, 22);
  unsigned rt = bits(w, 15, 12);
  ldst_addr(p, w, !immoff, true);
  if (op == 1 || load) { /* LDRH/STRH, LDRSB, LDRSH */
    p->cls = load ? C_LOAD : C_STORE;
    if (load) add_dst(p, rt, 3, D_NORMAL);
    else add_src(p, rt, S_LATE);
  } else if (op == 2) { /* LDRD */
    p->cls = C_LOAD;
    add_dst(p, rt, 3, D_NORMAL);
    add_dst(p, rt + 1, 3, D_NORMAL);
  } else { /* STRD */
    p->cls = C_STORE;
    add_src(p, rt, S_LATE);
    add_src(p, rt + 1, S_LATE);
    add_dst(p, rt, 1, D_LOCK);
    add_dst(p, rt + 1, 2, D_LOCK);
  }
}

/* LDM/STM, TRM 16.12 tables 16-18/16-19: 1 issue cycle, then the 64-bit
 * datapath moves 2 registers per memory cycle (first address assumed
 * 64-bit aligned): the i-th register (0-based, ascending) of an LDM has
 * result latency 3 + i/2; the i-th of an STM locks writers for
 * 1 + (i+1)/2 cycles. An LDM loading the PC adds 1 to every latency and is
 * a 4-cycle predicted return when based on SP, else 8 cycles. */
static void dec_ldm(Insn *p, uint32_t w) {
  unsigned rn = bits(w, 19, 16), list = bits(w, 15, 0);
  bool load = bits(w, 20, 20), wb = bits(w, 21, 21);
  unsigned n = (unsigned)__builtin_popcount(list), i = 0;
  bool has_pc = load && (list & 0x8000u);
  set(p, load ? C_LDM : C_STM, 1);
  p->mem = (uint8_t)(n ? (n + 1) / 2 : 1);
  add_src(p, rn, S_EARLY);
  for (unsigned r = 0; r < 16; r++) {
    if (!(list & (1u << r))) continue;
    if (load) add_dst(p, r, 3 + i / 2 + (has_pc ? 1 : 0), D_NORMAL);
    else {
      add_src(p, r, S_NORMAL);
      add_dst(p, r, 1 + (i + 1) / 2, D_LOCK);
    }
    i++;
  }
  if (wb && !(load && (list & (1u << rn)))) add_dst(p, rn, 1, D_AGU);
  if (has_pc) {
    set(p, C_BRANCH, rn == 13 ? 4 : 8);
  }
}

/* ARMv6 media instructions (bits 27:25 = 011, bit 4 = 1). Parallel
 * add/subtract, SEL, REV, PKH and the extends are single-cycle: result
 * latency 1 for the modulo forms, 2 for saturating/halving ones and SSAT/
 * USAT (the saturation stage); rotated/shifted Rm is an Early Reg. TRM
 * section 16.5 could not be consulted: these are assumptions (README). The
 * dual 16-bit multiplies and USAD8 follow tables 16-10 and 16-8. */
static void dec_media(Insn *p, uint32_t w) {
  unsigned op1 = bits(w, 24, 20), op2 = bits(w, 7, 5);
  unsigned rn = bits(w, 19, 16), rd = bits(w, 15, 12), rm = bits(w, 3, 0);
  unsigned ra = rd, rdm = rn; /* multiply field names */
  if ((op1 & 0x18) == 0x00) { /* parallel add/subtract */
    unsigned pre = op1 & 7;
    bool modulo = pre == 1 || pre == 5;
    set(p, C_SIMD, 1);
    add_src(p, rn, S_NORMAL);
    add_src(p, rm, S_NORMAL);
    add_dst(p, rd, modulo ? 1 : 2, D_NORMAL);
    return;
  }
  if ((op1 & 0x18) == 0x08) { /* pack, unpack, saturate, reverse, select */
    bool sat = (op1 & 0x2) && ((op2 & 1) == 0 || op2 == 1); /* [SU]SAT[16] */
    set(p, C_SIMD, 1);
    if (op1 == 0x08 && op2 == 5) { /* SEL */
      add_src(p, rn, S_NORMAL);
      add_src(p, rm, S_NORMAL);
      add_dst(p, rd, 1, D_NORMAL);
    } else if (op1 == 0x08 && (op2 & 1) == 0) { /* PKHBT/PKHTB */
      add_src(p, rn, S_NORMAL);
      add_src(p, rm, bits(w, 11, 7) ? S_EARLY : S_NORMAL);
      add_dst(p, rd, 1, D_NORMAL);
    } else if (op2 == 3) { /* [SU]XTA?(B16|B|H) */
      if (rn != 15) add_src(p, rn, S_NORMAL);
      add_src(p, rm, S_EARLY);
      add_dst(p, rd, 1, D_NORMAL);
    } else if (sat) {
      add_src(p, rm, S_EARLY);
      add_dst(p, rd, 2, D_NORMAL);
    } else { /* REV, REV16, REVSH */
      add_src(p, rm, S_NORMAL);
      add_dst(p, rd, 1, D_NORMAL);
    }
    return;
  }
  if ((op1 & 0x18) == 0x10) { /* signed multiplies (Rd = 19:16, Ra = 15:12) */
    unsigned kind = op1 & 7;
    set(p, C_MUL, 1);
    mul_srcs(p, w);
    if (kind == 0) { /* SMLAD/SMUAD/SMLSD/SMUSD: 1 cycle, latency 3 */
      if (ra != 15) add_src(p, ra, S_ACC);
      add_dst(p, rdm, 3, D_MAC);
    } else if (kind == 4) { /* SMLALD/SMLSLD: 2 cycles, latency 3/4 */
      p->issue = 2;
      add_src(p, ra, S_ACC);
      add_src(p, rdm, S_ACC_LATE);
      add_dst(p, ra, 3, D_MAC);
      add_dst(p, rdm, 4, D_MAC);
    } else { /* SMMUL/SMMLA/SMMLS: 2 cycles, latency 4 */
      p->issue = 2;
      if (ra != 15) add_src(p, ra, S_ACC_LATE);
      add_dst(p, rdm, 4, D_MAC);
    }
    return;
  }
  if (op1 == 0x18 && op2 == 0) { /* USAD8/USADA8: 1 cycle, latency 3 */
    set(p, C_SIMD, 1);
    mul_srcs(p, w);
    if (ra != 15) add_src(p, ra, S_ACC);
    add_dst(p, rdm, 3, D_MAC);
    return;
  }
  set(p, C_OTHER, 1);
}

/* Miscellaneous (op 000, bits 24:23 = 10, bit 20 = 0): BX/BLX, CLZ, MRS/MSR,
 * saturating add/subtract, 16-bit multiplies. */
static void dec_misc(Insn *p, uint32_t w) {
  unsigned op = bits(w, 22, 21), op2 = bits(w, 7, 4);
  unsigned rd = bits(w, 15, 12), rn = bits(w, 19, 16), rm = bits(w, 3, 0);
  if (bits(w, 7, 7) && !bits(w, 4, 4)) { /* SMLAxy SMLAWy SMULWy SMLALxy SMULxy */
    set(p, C_MUL, 1);
    mul_srcs(p, w);
    if (op == 0 || (op == 1 && !bits(w, 5, 5))) add_src(p, rd, S_ACC); /* acc Rn=15:12 */
    if (op == 2) { /* SMLALxy: 2 cycles, RdLo 15:12, RdHi 19:16, latency 3/4 */
      p->issue = 2;
      add_src(p, rd, S_ACC);
      add_src(p, rn, S_ACC_LATE);
      add_dst(p, rd, 3, D_MAC);
      add_dst(p, rn, 4, D_MAC);
    } else {
      add_dst(p, rn, 3, D_MAC);
    }
    return;
  }
  if (op2 == 1 && op == 1) { /* BX Rm */
    set(p, C_BRANCH, rm == 14 ? 4 : 7);
    add_src(p, rm, S_NORMAL);
    return;
  }
  if (op2 == 3 && op == 1) { /* BLX Rm */
    set(p, C_BRANCH, 7);
    add_src(p, rm, S_NORMAL);
    add_dst(p, 14, 1, D_NORMAL);
    return;
  }
  if (op2 == 1 && op == 3) { /* CLZ */
    set(p, C_ALU, 1);
    add_src(p, rm, S_NORMAL);
    add_dst(p, rd, 1, D_NORMAL);
    return;
  }
  if (op2 == 5) { /* QADD QSUB QDADD QDSUB: latency 2; QD*: Rn Early */
    set(p, C_SIMD, 1);
    add_src(p, rm, S_NORMAL);
    add_src(p, rn, (op & 2) ? S_EARLY : S_NORMAL);
    add_dst(p, rd, 2, D_NORMAL);
    return;
  }
  if (op2 == 0 && !(op & 1)) { /* MRS */
    set(p, C_OTHER, 1);
    add_dst(p, rd, 1, D_NORMAL);
    return;
  }
  set(p, C_OTHER, 1); /* MSR, BKPT, ... */
  if (op2 == 0) add_src(p, rm, S_NORMAL);
}

/* VFP11 (coprocessors 10/11). Approximate, see README: single-precision
 * arithmetic issues in 1 cycle with latency 8; FMULD/FMACD 2 cycles,
 * latency 9; divide/square root block for 15 (single) / 29 (double) cycles;
 * copies/compares latency 4; loads latency 4; transfers to the core 2. */
static void vfp_reg(Insn *p, unsigned r, bool dbl, bool dst, unsigned lat) {
  unsigned base = dbl ? 2 * r : r, n = dbl ? 2 : 1;
  for (unsigned i = 0; i < n && base + i < 32; i++) {
    if (dst) add_dst(p, VFP_S(base + i), lat, D_NORMAL);
    else add_src(p, VFP_S(base + i), S_NORMAL);
  }
}

static void dec_vfp_cdp(Insn *p, uint32_t w) {
  bool dbl = bits(w, 8, 8);
  unsigned d = dbl ? bits(w, 15, 12) : (bits(w, 15, 12) << 1 | bits(w, 22, 22));
  unsigned n = dbl ? bits(w, 19, 16) : (bits(w, 19, 16) << 1 | bits(w, 7, 7));
  unsigned m = dbl ? bits(w, 3, 0) : (bits(w, 3, 0) << 1 | bits(w, 5, 5));
  unsigned opc = bits(w, 23, 23) << 3 | bits(w, 21, 20) << 1 | bits(w, 6, 6);
  set(p, C_VFP, 1);
  if (opc == 0xF) { /* extension: copy/abs/neg/sqrt/compare/convert */
    unsigned ext = bits(w, 19, 16) << 1 | bits(w, 7, 7);
    bool to_single_from_dbl = ext == 0xF && dbl;   /* FCVTSD */
    bool cvt_dst_single = ext >= 0x18;               /* FTO[SU]I[Z]: int in s */
    bool cvt_src_single = ext == 0x10 || ext == 0x11; /* F[SU]ITO: int in s */
    unsigned lat = 8;
    if (ext <= 3) lat = 4;                            /* FCPY FABS FNEG */
    if (ext == 2 || ext == 3) { /* FNEG, FSQRT */
      if (ext == 3) { p->issue = dbl ? 29 : 15; lat = dbl ? 33 : 19; }
    }
    if (ext == 1) lat = 4;
    if (ext >= 8 && ext <= 0xB) { /* FCMP FCMPE FCMPZ FCMPEZ: only flags */
      vfp_reg(p, d, dbl, false, 0);
      if (ext <= 9) vfp_reg(p, m, dbl, false, 0);
      return;
    }
    vfp_reg(p, m, dbl && !cvt_src_single, false, 0);
    if (to_single_from_dbl || cvt_dst_single)
      vfp_reg(p, dbl ? (bits(w, 15, 12) << 1 | bits(w, 22, 22)) : d, false, true, lat);
    else if (ext == 0xF) /* FCVTDS: single -> double */
      vfp_reg(p, bits(w, 15, 12), true, true, lat);
    else
      vfp_reg(p, d, dbl, true, lat);
    return;
  }
  unsigned lat = 8;
  if (opc == 8) { /* FDIV */
    p->issue = dbl ? 29 : 15;
    lat = dbl ? 33 : 19;
  } else if (dbl && (opc <= 5)) { /* FMAC family, FMUL, FNMUL double */
    p->issue = 2;
    lat = 9;
  }
  vfp_reg(p, n, dbl, false, 0);
  vfp_reg(p, m, dbl, false, 0);
  if (opc <= 3) vfp_reg(p, d, dbl, false, 0); /* accumulate forms read Fd */
  vfp_reg(p, d, dbl, true, lat);
}

static void dec_vfp_ldst(Insn *p, uint32_t w) {
  bool dbl = bits(w, 8, 8), load = bits(w, 20, 20);
  bool pre = bits(w, 24, 24), wb = bits(w, 21, 21);
  unsigned rn = bits(w, 19, 16), imm = bits(w, 7, 0);
  unsigned d = dbl ? bits(w, 15, 12) : (bits(w, 15, 12) << 1 | bits(w, 22, 22));
  unsigned nregs = dbl ? imm / 2 : imm;          /* for FLDM/FSTM */
  bool single_xfer = pre && !wb;                  /* FLDS/FSTS/FLDD/FSTD */
  unsigned words = single_xfer ? (dbl ? 2 : 1) : imm;
  set(p, C_VFP, 1);
  p->mem = (uint8_t)(words > 2 ? (words + 1) / 2 : 1);
  add_src(p, rn, S_EARLY);
  if (single_xfer) nregs = 1;
  for (unsigned i = 0; i < nregs && i < 16; i++) {
    if (load) vfp_reg(p, d + i, dbl, true, 4 + i / (dbl ? 1 : 2));
    else vfp_reg(p, d + i, dbl, false, 0);
  }
  if (!single_xfer && wb) add_dst(p, rn, 1, D_AGU);
}

static void dec_coproc(Insn *p, uint32_t w) {
  unsigned cp = bits(w, 11, 8), op = bits(w, 27, 25);
  bool vfp = cp == 10 || cp == 11;
  set(p, C_OTHER, 1);
  if (!vfp) {
    if (op == 7 && bits(w, 4, 4) && bits(w, 20, 20)) /* MRC to a core reg */
      add_dst(p, bits(w, 15, 12), 1, D_NORMAL);
    return;
  }
  if (op == 6) {
    if (bits(w, 24, 21) == 2) { /* FMDRR/FMRRD (MCRR/MRRC) */
      unsigned rt = bits(w, 15, 12), rt2 = bits(w, 19, 16);
      bool dbl = bits(w, 8, 8);
      unsigned m = dbl ? bits(w, 3, 0) : (bits(w, 3, 0) << 1 | bits(w, 5, 5));
      set(p, C_VFP, 1);
      if (bits(w, 20, 20)) { /* to core */
        vfp_reg(p, m, dbl, false, 0);
        if (!dbl) vfp_reg(p, m + 1, false, false, 0);
        add_dst(p, rt, 2, D_NORMAL);
        add_dst(p, rt2, 2, D_NORMAL);
      } else {
        add_src(p, rt, S_NORMAL);
        add_src(p, rt2, S_NORMAL);
        vfp_reg(p, m, dbl, true, 4);
        if (!dbl) vfp_reg(p, m + 1, false, true, 4);
      }
      return;
    }
    dec_vfp_ldst(p, w);
    return;
  }
  if (!bits(w, 4, 4)) { dec_vfp_cdp(p, w); return; }
  /* register transfer: FMRS/FMSR (opc1 0), FMRX/FMXR/FMSTAT (opc1 7) */
  set(p, C_VFP, 1);
  {
    bool to_core = bits(w, 20, 20), sys = bits(w, 23, 21) == 7;
    unsigned rt = bits(w, 15, 12);
    unsigned s = bits(w, 19, 16) << 1 | bits(w, 7, 7);
    if (sys) {
      if (to_core) add_dst(p, rt, 2, D_NORMAL); /* FMSTAT when rt = 15 */
      else add_src(p, rt, S_NORMAL);
      return;
    }
    if (bits(w, 8, 8)) { /* FMDLR/FMRDL...: half of a d register */
      s = bits(w, 19, 16) * 2 + bits(w, 21, 21);
    }
    if (to_core) {
      add_src(p, VFP_S(s & 31), S_NORMAL);
      add_dst(p, rt, 2, D_NORMAL);
    } else {
      add_src(p, rt, S_NORMAL);
      add_dst(p, VFP_S(s & 31), 4, D_NORMAL);
    }
  }
}

static void decode_arm(Insn *p, uint32_t w) {
  unsigned cond = bits(w, 31, 28), op = bits(w, 27, 25);
  memset(p, 0, sizeof *p);
  /* markers: orr r11|r12, same, #0 with a rotation field */
  if ((w & 0xFFFFF0FFu) == 0xE38BB000u) {
    unsigned rot = bits(w, 11, 8);
    if (rot == 1) { p->marker = M_BEGIN; return; }
    if (rot == 2) { p->marker = M_END; return; }
    if (rot == 3) { p->marker = M_STEP; return; }
  }
  if ((w & 0xFFFFF0FFu) == 0xE38CC000u) {
    p->marker = M_REGION;
    p->marker_arg = (uint8_t)bits(w, 11, 8);
    return;
  }
  set(p, C_OTHER, 1);
  if (cond == 0xF) {
    if ((w & 0x0D70F000u) == 0x0550F000u) { /* PLD */
      set(p, C_PLD, 1);
      p->mem = 1;
      add_src(p, bits(w, 19, 16), S_EARLY);
      if (!bits(w, 25, 25)) return;
      add_src(p, bits(w, 3, 0), S_EARLY);
      if (!bits(w, 23, 23) || bits(w, 6, 5) || (bits(w, 11, 7) && bits(w, 11, 7) != 2))
        p->issue = 2;
    } else if (op == 5) { /* BLX imm: switches to Thumb */
      set(p, C_BRANCH, 1);
      add_dst(p, 14, 1, D_NORMAL);
    }
    return;
  }
  switch (op) {
  case 0:
    if (bits(w, 7, 7) && bits(w, 4, 4)) {
      if (bits(w, 6, 5) == 0) {
        if (!bits(w, 24, 24)) dec_mul(p, w);
        else { /* SWP, LDREX/STREX */
          set(p, bits(w, 20, 20) ? C_LOAD : C_STORE, 1);
          p->mem = 1;
          add_src(p, bits(w, 19, 16), S_EARLY);
          if (!bits(w, 20, 20) || !bits(w, 23, 23)) add_src(p, bits(w, 3, 0), S_LATE);
          add_dst(p, bits(w, 15, 12), 3, D_NORMAL);
        }
      } else {
        dec_extra_ldst(p, w);
      }
    } else if (bits(w, 24, 23) == 2 && !bits(w, 20, 20)) {
      dec_misc(p, w);
    } else {
      dec_dp(p, w);
    }
    break;
  case 1:
    if (bits(w, 24, 23) == 2 && !bits(w, 20, 20)) set(p, C_OTHER, 1); /* MSR imm */
    else dec_dp(p, w);
    break;
  case 2:
    dec_ldst(p, w);
    break;
  case 3:
    if (bits(w, 4, 4)) dec_media(p, w);
    else dec_ldst(p, w);
    break;
  case 4:
    dec_ldm(p, w);
    break;
  case 5: /* B, BL: 1 cycle, prediction assumed correct */
    set(p, C_BRANCH, 1);
    if (bits(w, 24, 24)) add_dst(p, 14, 1, D_NORMAL);
    break;
  case 6:
    dec_coproc(p, w);
    break;
  case 7:
    if (bits(w, 24, 24)) set(p, C_OTHER, 1); /* SVC */
    else dec_coproc(p, w);
    break;
  }
}

/* ---- the memory model's inputs: accesses and register values --------------- */
/* With memory=on, QEMU reports every load and store of an instruction after
 * the instruction's access (qemu_plugin_register_vcpu_mem_cb); a block's
 * records are walked when the NEXT block starts (or at exit), once all of
 * its accesses are known. PLD makes no access QEMU reports and a plugin of
 * this QEMU (7.2) cannot read registers, so a PLD's address comes from the
 * registers' values as far as they can be followed: a base register's value
 * from the addresses of the accesses made through it, loaded words read from
 * guest memory as they are loaded (user mode), and the unconditional
 * moves/adds/logic of ARM data processing on known values. A PLD whose base
 * stays unknown is counted (mem.pld_unresolved) and does nothing. */
typedef struct {
  uint32_t addr;
  uint32_t value;     /* loads of at most 4 bytes, user mode: what was loaded */
  uint16_t insn;      /* index in the block */
  uint8_t size, store;
  uint8_t has_value;
  uint32_t value_hi;  /* 8-byte loads: the upper word */
} Access;

static bool memory_on;
static Access *acc;
static size_t acc_n, acc_cap;
static const Block *pending;
static intptr_t g2h;            /* host address - guest address (user mode) */
static bool g2h_ok, system_mode;
static uint32_t rv[16];         /* tracked core register values */
static uint16_t rk;             /* bit r: rv[r] is known */
static uint64_t pld_unresolved, pld_resolved;
static Counts all_mem, bucket_mem[NBUCKET];
static uint64_t step_start_mem[NBUCKET], step_max_mem[NBUCKET];
/* Per bucket: L1 misses of loads (demand fills), PLD line fills, waits for a
 * fill buffer, store misses (measured part only). */
static uint64_t b_l1_misses[NBUCKET], b_pld_fills[NBUCKET], b_fill_waits[NBUCKET], b_store_misses[NBUCKET];
static MemParams mem_params;

static void mem_cb(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata) {
  (void)vcpu_index;
  if (acc_n == acc_cap) {
    size_t cap = acc_cap ? 2 * acc_cap : 4096;
    Access *n = realloc(acc, cap * sizeof *n);
    if (!n) return;
    acc = n;
    acc_cap = cap;
  }
  Access *a = &acc[acc_n++];
  unsigned size = 1u << qemu_plugin_mem_size_shift(info);
  a->addr = (uint32_t)vaddr;
  a->insn = (uint16_t)(uintptr_t)udata;
  a->size = (uint8_t)size;
  a->store = qemu_plugin_mem_is_store(info);
  a->has_value = 0;
  if (!a->store && g2h_ok && size <= 8) {
    /* the access has just succeeded: the guest page is mapped */
    const uint8_t *h = (const uint8_t *)(uintptr_t)((intptr_t)vaddr + g2h);
    uint32_t lo = 0, hi = 0;
    memcpy(&lo, h, size < 4 ? size : 4);
    if (size == 8) memcpy(&hi, h + 4, 4);
    a->value = lo;
    a->value_hi = hi;
    a->has_value = 1;
  }
}

static uint32_t ror32(uint32_t v, unsigned n) { n &= 31; return n ? (v >> n) | (v << (32 - n)) : v; }
static bool known(unsigned r) { return r < 16 && (rk >> r & 1u); }
static uint32_t rval(const Insn *p, unsigned r) { return r == 15 ? p->pc + 8 : rv[r]; }
static bool rknown(unsigned r) { return r == 15 || known(r); }
static void rset(unsigned r, uint32_t v, uint16_t *set_mask) {
  if (r >= 15) return;
  rv[r] = v;
  rk |= (uint16_t)(1u << r);
  *set_mask |= (uint16_t)(1u << r);
}

/* An immediate-shifted register operand (no RRX: it needs the carry). */
static bool shifted_reg(const Insn *p, uint32_t w, uint32_t *out) {
  unsigned rm = bits(w, 3, 0), type = bits(w, 6, 5), amt;
  if (!rknown(rm)) return false;
  uint32_t v = rval(p, rm);
  if (bits(w, 4, 4)) { /* by register */
    unsigned rs = bits(w, 11, 8);
    if (!rknown(rs)) return false;
    amt = rval(p, rs) & 0xFF;
    if (amt == 0) { *out = v; return true; }
    switch (type) {
    case 0: *out = amt >= 32 ? 0 : v << amt; return true;
    case 1: *out = amt >= 32 ? 0 : v >> amt; return true;
    case 2: *out = (uint32_t)((int32_t)v >> (amt >= 32 ? 31 : amt)); return true;
    default: *out = ror32(v, amt); return true;
    }
  }
  amt = bits(w, 11, 7);
  switch (type) {
  case 0: *out = v << amt; return true;
  case 1: *out = amt ? v >> amt : 0; return true;
  case 2: *out = (uint32_t)((int32_t)v >> (amt ? amt : 31)); return true;
  default: if (!amt) return false; *out = ror32(v, amt); return true;
  }
}

/* The offset of a single load/store (op 010/011, or the extra forms). */
static bool ldst_offset(const Insn *p, uint32_t w, uint32_t *off) {
  unsigned op = bits(w, 27, 25);
  if (op == 2) { *off = bits(w, 11, 0); return true; }
  if (op == 3) return shifted_reg(p, w & ~0x10u, off);
  if (bits(w, 22, 22)) { *off = bits(w, 11, 8) << 4 | bits(w, 3, 0); return true; }
  unsigned rm = bits(w, 3, 0);
  if (!rknown(rm)) return false;
  *off = rval(p, rm);
  return true;
}

enum { AM_NONE, AM_SINGLE, AM_MULTI, AM_VFP };
/* Which addressing an instruction with memory accesses uses. */
static int addr_kind(const Insn *p) {
  uint32_t w = p->word;
  unsigned op = bits(w, 27, 25);
  if (p->cls == C_PLD || !p->mem) return AM_NONE;
  if (op == 0 && bits(w, 7, 4) == 9) return AM_NONE; /* SWP, LDREX, STREX */
  if (op == 4) return AM_MULTI;
  if (op == 6) return AM_VFP;
  return AM_SINGLE;
}

/* The base register's value before the instruction, from its accesses;
 * and after it (write-back). */
static bool base_from_access(const Insn *p, const Access *a, unsigned na, uint32_t *before, uint32_t *after) {
  uint32_t w = p->word;
  if (!na) return false;
  uint32_t lo = a[0].addr;
  for (unsigned i = 1; i < na; i++)
    if (a[i].addr < lo) lo = a[i].addr;
  bool pre = bits(w, 24, 24), up = bits(w, 23, 23), wb = bits(w, 21, 21);
  switch (addr_kind(p)) {
  case AM_SINGLE: {
    uint32_t off;
    bool have = ldst_offset(p, w, &off);
    if (pre) {
      if (!have) return false;
      *before = up ? a[0].addr - off : a[0].addr + off;
      *after = wb ? a[0].addr : *before;
    } else {
      *before = a[0].addr;
      if (!have) return false;
      *after = up ? a[0].addr + off : a[0].addr - off;
    }
    return true;
  }
  case AM_MULTI: {
    uint32_t n = 4u * (uint32_t)__builtin_popcount(bits(w, 15, 0));
    if (up) *before = pre ? lo - 4 : lo;
    else *before = pre ? lo + n : lo + n - 4;
    *after = wb ? (up ? *before + n : *before - n) : *before;
    return true;
  }
  case AM_VFP: {
    uint32_t n = 4u * bits(w, 7, 0);
    if (pre && !wb) { /* FLDS/FSTS/FLDD/FSTD [rn, #+-imm*4] */
      *before = up ? lo - n : lo + n;
      *after = *before;
    } else { /* FLDM/FSTM IA (write-back optional) or DB! */
      *before = up ? lo : lo + n;
      *after = wb ? (up ? *before + n : *before - n) : *before;
    }
    return true;
  }
  default:
    return false;
  }
}

/* The registers an instruction writes: its scoreboard destinations (core). */
static uint16_t core_writes(const Insn *p) {
  uint16_t m = 0;
  for (unsigned d = 0; d < p->ndst; d++)
    if (p->dst[d] < 15 && p->dst_kind[d] != D_LOCK) m |= (uint16_t)(1u << p->dst[d]);
  return m;
}

/* Follows the values through one instruction (after its timing). */
static void track(const Insn *p, const Access *a, unsigned na) {
  uint32_t w = p->word;
  uint16_t set_mask = 0;
  int kind = addr_kind(p);
  if (kind != AM_NONE) {
    if (!na) return; /* a load/store whose condition failed: nothing happened */
    unsigned rn = bits(w, 19, 16);
    uint32_t before, after;
    if (base_from_access(p, a, na, &before, &after)) {
      rset(rn, after, &set_mask);
    }
    bool load = bits(w, 20, 20);
    if (load && kind == AM_SINGLE && p->cls == C_LOAD && a[0].has_value) {
      unsigned rt = bits(w, 15, 12), op = bits(w, 27, 25);
      uint32_t v = a[0].value;
      if (op == 0) { /* LDRH LDRSB LDRSH LDRD */
        unsigned sh = bits(w, 6, 5);
        if (sh == 1) v &= 0xFFFF;
        else if (sh == 2) v = (uint32_t)(int32_t)(int8_t)v;
        else if (sh == 3) v = (uint32_t)(int32_t)(int16_t)v;
        rset(rt, v, &set_mask);
      } else {
        if (bits(w, 22, 22)) v &= 0xFF;
        rset(rt, v, &set_mask);
      }
    } else if (!load && kind == AM_SINGLE && bits(w, 27, 25) == 0 && bits(w, 6, 5) == 2 && a[0].has_value) {
      /* LDRD (L = 0, op2 10) */
      unsigned rt = bits(w, 15, 12);
      rset(rt, a[0].value, &set_mask);
      if (na >= 2 && a[1].has_value) rset(rt + 1, a[1].value, &set_mask);
      else if (a[0].size == 8) rset(rt + 1, a[0].value_hi, &set_mask);
    } else if (load && kind == AM_MULTI) {
      unsigned list = bits(w, 15, 0), i = 0;
      for (unsigned r = 0; r < 16; r++) {
        if (!(list & (1u << r))) continue;
        if (i < na && a[i].has_value && a[i].size == 4) rset(r, a[i].value, &set_mask);
        i++;
      }
    }
  } else if (bits(w, 31, 28) == 0xE && bits(w, 27, 26) == 0 && p->cls == C_ALU &&
             !(bits(w, 25, 25) == 0 && bits(w, 7, 7) && bits(w, 4, 4))) {
    /* unconditional data processing */
    unsigned opc = bits(w, 24, 21), rn = bits(w, 19, 16), rd = bits(w, 15, 12);
    uint32_t b;
    bool have_b;
    if (bits(w, 25, 25)) { b = ror32(bits(w, 7, 0), 2 * bits(w, 11, 8)); have_b = true; }
    else have_b = shifted_reg(p, w, &b);
    bool uses_rn = opc != 0xD && opc != 0xF;
    if (have_b && (!uses_rn || rknown(rn))) {
      uint32_t x = uses_rn ? rval(p, rn) : 0, r = 0;
      bool ok = true;
      switch (opc) {
      case 0x0: r = x & b; break;
      case 0x1: r = x ^ b; break;
      case 0x2: r = x - b; break;
      case 0x3: r = b - x; break;
      case 0x4: r = x + b; break;
      case 0xC: r = x | b; break;
      case 0xD: r = b; break;
      case 0xE: r = x & ~b; break;
      case 0xF: r = ~b; break;
      default: ok = false; /* ADC SBC RSC need the carry; TST..CMN write no register */
      }
      if (ok) rset(rd, r, &set_mask);
    }
  } else if (bits(w, 27, 24) == 0xB && bits(w, 31, 28) != 0xF) { /* BL */
    if (bits(w, 31, 28) == 0xE) rset(14, p->pc + 4, &set_mask);
  }
  rk &= (uint16_t)~(core_writes(p) & ~set_mask);
}

/* A PLD's address: the base from the tracked values, or from the next
 * access through the same base register in this block (not written in
 * between). */
static bool pld_address(const Block *b, size_t i, const size_t *first, uint32_t *addr) {
  const Insn *p = &b->ins[i];
  uint32_t w = p->word;
  unsigned rn = bits(w, 19, 16);
  uint32_t base, off;
  bool have = false;
  if (rknown(rn)) {
    base = rval(p, rn);
    have = true;
  } else {
    for (size_t j = i + 1; j < b->n; j++) {
      const Insn *q = &b->ins[j];
      unsigned nq = (unsigned)(first[j + 1] - first[j]);
      if (addr_kind(q) != AM_NONE && nq && bits(q->word, 19, 16) == rn) {
        uint32_t after;
        have = base_from_access(q, &acc[first[j]], nq, &base, &after);
        break;
      }
      if (core_writes(q) & (1u << rn)) break;
    }
  }
  if (!have) return false;
  if (bits(w, 25, 25)) {
    if (!shifted_reg(p, w & ~0x10u, &off)) return false;
  } else {
    off = bits(w, 11, 0);
  }
  *addr = bits(w, 23, 23) ? base + off : base - off;
  return true;
}

/* ---- translation and execution ------------------------------------------- */
static void charge(Counts *c, const Insn *p, int64_t cycles, int64_t stall) {
  c->insns++;
  c->cycles += (uint64_t)cycles;
  c->stall += (uint64_t)stall;
  c->cls[p->cls]++;
}

/* The memory model's part of an instruction's issue: its accesses (or its
 * PLD) presented at `start`; returns the cycle it issues, and per 4-byte
 * unit loaded the cycle its data is in L1. */
#define MAX_UNITS 40
static int64_t mem_part(const Insn *p, const Access *a, unsigned na, bool have_pld, uint32_t pld_addr,
                        int64_t start, int64_t *unit_data, unsigned *n_units) {
  int64_t t = start;
  *n_units = 0;
  if (p->cls == C_PLD) {
    if (have_pld) {
      MemTime m = mem_pld(pld_addr, t);
      if (m.issue > t) t = m.issue;
    }
    return t;
  }
  for (unsigned i = 0; i < na; i++) {
    MemTime m = a[i].store ? mem_store(a[i].addr, a[i].size, t) : mem_load(a[i].addr, a[i].size, t);
    if (m.issue > t) t = m.issue;
    if (!a[i].store)
      for (unsigned u = 0; u < (a[i].size + 3u) / 4u && *n_units < MAX_UNITS; u++) unit_data[(*n_units)++] = m.data;
  }
  return t;
}

/* Issues one instruction on a scoreboard; with the memory model, its
 * accesses' timing. Returns its cycles (stall + issue) and its stall. */
static int64_t pipe_issue(Pipe *s, const Insn *p, bool with_memory, const Access *a, unsigned na, bool have_pld,
                          uint32_t pld_addr, int64_t *stall_out) {
  int64_t start = s->now;
  for (unsigned i = 0; i < p->nsrc; i++) {
    unsigned r = p->src[i];
    int64_t need = s->ready[r];
    switch (p->src_kind[i]) {
    case S_EARLY: if (s->rkind[r] != D_AGU) need += 1; break;
    case S_LATE: case S_ACC_LATE: need -= 1; break;
    case S_ACC: if (s->rkind[r] == D_MAC) need -= 1; break;
    default: break;
    }
    if (need > start) start = need;
  }
  for (unsigned d = 0; d < p->ndst; d++) {
    unsigned r = p->dst[d];
    if (p->dst_kind[d] == D_LOCK) continue;
    if (s->wlock[r] > start) start = s->wlock[r];
    /* write-after-write: a result must not land before an older one */
    if (s->ready[r] - p->dst_lat[d] > start) start = s->ready[r] - p->dst_lat[d];
  }
  if (p->mem && s->lsu_free > start) start = s->lsu_free;
  int64_t unit_data[MAX_UNITS];
  unsigned n_units = 0;
  if (with_memory && p->mem) start = mem_part(p, a, na, have_pld, pld_addr, start, unit_data, &n_units);
  int64_t stall = start - s->now;
  s->now = start + p->issue;
  unsigned k = 0;
  for (unsigned d = 0; d < p->ndst; d++) {
    unsigned r = p->dst[d];
    if (p->dst_kind[d] == D_LOCK) {
      s->wlock[r] = start + p->dst_lat[d];
      continue;
    }
    int64_t t = start + p->dst_lat[d];
    if (p->dst_kind[d] == D_NORMAL && n_units) {
      /* a missed word reaches the register the cycle after its fill */
      int64_t data = unit_data[k < n_units ? k : n_units - 1] + 1;
      if (data > t) t = data;
      k++;
    }
    s->ready[r] = t;
    s->rkind[r] = p->dst_kind[d];
  }
  if (p->mem) s->lsu_free = start + p->mem;
  *stall_out = stall;
  return stall + p->issue;
}

static void step_end(void) {
  steps++;
  for (int k = 0; k < NBUCKET; k++) {
    uint64_t d = bucket[k].cycles - step_start[k];
    if (d > step_max[k]) step_max[k] = d;
    step_start[k] = bucket[k].cycles;
    d = bucket_mem[k].cycles - step_start_mem[k];
    if (d > step_max_mem[k]) step_max_mem[k] = d;
    step_start_mem[k] = bucket_mem[k].cycles;
  }
}

static size_t *first_buf;
static size_t first_cap;

/* Walks a block's records: both scoreboards, the markers, the values. */
static void run_block(const Block *b) {
  size_t *first = NULL;
  if (memory_on) {
    if (first_cap < b->n + 1) {
      size_t cap = b->n + 64;
      size_t *nf = realloc(first_buf, cap * sizeof *nf);
      if (!nf) return;
      first_buf = nf;
      first_cap = cap;
    }
    first = first_buf;
    size_t j = 0;
    for (size_t i = 0; i <= b->n; i++) {
      while (j < acc_n && acc[j].insn < i) j++;
      first[i] = j;
    }
    first[b->n] = acc_n;
  }
  for (size_t i = 0; i < b->n; i++) {
    const Insn *p = &b->ins[i];
    if (p->marker) {
      if (p->marker == M_BEGIN) { enabled = any_begin = true; markers_begin++; }
      else if (p->marker == M_END) { enabled = false; markers_end++; }
      else if (p->marker == M_STEP) { if (enabled) step_end(); }
      else region = p->marker_arg;
      continue;
    }
    int64_t stall, cycles = pipe_issue(&core, p, false, NULL, 0, false, 0, &stall);
    charge(&all_counts, p, cycles, stall);
    if (enabled) charge(&bucket[region], p, cycles, stall);
    if (memory_on) {
      const Access *a = &acc[first[i]];
      unsigned na = (unsigned)(first[i + 1] - first[i]);
      uint32_t pld = 0;
      bool have_pld = false;
      if (p->cls == C_PLD) {
        have_pld = pld_address(b, i, first, &pld);
        if (have_pld) pld_resolved++;
        else pld_unresolved++;
      }
      const MemStats *ms = mem_stats();
      uint64_t m0 = ms->l1_misses, f0 = ms->pld_fills, w0 = ms->fill_buffer_waits, s0 = ms->store_misses;
      int64_t mstall, mcycles = pipe_issue(&memp, p, true, a, na, have_pld, pld, &mstall);
      if (enabled) {
        b_l1_misses[region] += ms->l1_misses - m0;
        b_pld_fills[region] += ms->pld_fills - f0;
        b_fill_waits[region] += ms->fill_buffer_waits - w0;
        b_store_misses[region] += ms->store_misses - s0;
      }
      charge(&all_mem, p, mcycles, mstall);
      if (enabled) charge(&bucket_mem[region], p, mcycles, mstall);
      track(p, a, na);
    }
  }
}

static void vcpu_tb_exec(unsigned int vcpu_index, void *udata) {
  const Block *b = udata;
  if (vcpu_index > max_vcpu) max_vcpu = vcpu_index;
  if (!memory_on) {
    run_block(b);
    return;
  }
  if (pending) run_block(pending);
  acc_n = 0;
  pending = b;
}

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  Block *b = calloc(1, sizeof(Block) + n * sizeof(Insn));
  if (!b) return;
  b->n = n;
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    size_t size = qemu_plugin_insn_size(insn);
    uint32_t w = 0;
    memcpy(&w, qemu_plugin_insn_data(insn), size < 4 ? size : 4);
    if (size == 4) {
      decode_arm(&b->ins[i], w); /* host and guest are little-endian */
    } else {
      memset(&b->ins[i], 0, sizeof(Insn));
      set(&b->ins[i], C_THUMB, 1);
    }
    b->ins[i].word = w;
    b->ins[i].pc = (uint32_t)qemu_plugin_insn_vaddr(insn);
    if (memory_on) {
      if (!g2h_ok && !system_mode) {
        /* user mode: guest memory is one mapping at a fixed offset */
        const void *h = qemu_plugin_insn_haddr(insn);
        if (h && memcmp(h, qemu_plugin_insn_data(insn), size) == 0) {
          g2h = (intptr_t)h - (intptr_t)qemu_plugin_insn_vaddr(insn);
          g2h_ok = true;
        }
      }
      qemu_plugin_register_vcpu_mem_cb(insn, mem_cb, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                       (void *)(uintptr_t)i);
    }
  }
  /* Blocks are never freed: QEMU user mode retranslates rarely. */
  qemu_plugin_register_vcpu_tb_exec_cb(tb, vcpu_tb_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void put_counts(FILE *f, const char *prefix, const Counts *c) {
  fprintf(f, "%sinsns=%" PRIu64 "\n", prefix, c->insns);
  fprintf(f, "%scycles=%" PRIu64 "\n", prefix, c->cycles);
  fprintf(f, "%sstall_cycles=%" PRIu64 "\n", prefix, c->stall);
  for (int k = 0; k < C_COUNT; k++)
    fprintf(f, "%s%s=%" PRIu64 "\n", prefix, class_name[k], c->cls[k]);
}

static void plugin_exit(qemu_plugin_id_t id, void *p) {
  (void)id; (void)p;
  if (memory_on && pending) { /* the last block's accesses are all in */
    run_block(pending);
    pending = NULL;
    acc_n = 0;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return;
  Counts measured = {0};
  if (any_begin) {
    for (int k = 0; k < NBUCKET; k++) {
      measured.insns += bucket[k].insns;
      measured.cycles += bucket[k].cycles;
      measured.stall += bucket[k].stall;
      for (int c = 0; c < C_COUNT; c++) measured.cls[c] += bucket[k].cls[c];
    }
  } else {
    measured = all_counts;
  }
  fprintf(f, "model=arm1176-trm-ch16 v1\n");
  fprintf(f, "markers_begin=%" PRIu64 "\nmarkers_end=%" PRIu64 "\n", markers_begin, markers_end);
  fprintf(f, "vcpus=%u\n", max_vcpu + 1);
  put_counts(f, "", &measured);
  put_counts(f, "all.", &all_counts);
  for (int k = 0; k < NBUCKET; k++) {
    if (!bucket[k].insns) continue;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "region.%d.", k);
    put_counts(f, prefix, &bucket[k]);
    if (steps) fprintf(f, "%smax_step_cycles=%" PRIu64 "\n", prefix, step_max[k]);
  }
  if (steps) fprintf(f, "steps=%" PRIu64 "\n", steps);
  if (memory_on) {
    Counts mm = {0};
    if (any_begin) {
      for (int k = 0; k < NBUCKET; k++) mm.cycles += bucket_mem[k].cycles, mm.stall += bucket_mem[k].stall;
    } else {
      mm = all_mem;
    }
    const MemStats *ms = mem_stats();
    fprintf(f, "memory_model=arm1176-l1-l2-dram v1\n");
    fprintf(f, "mem.cycles=%" PRIu64 "\nmem.stall_cycles=%" PRIu64 "\n", mm.cycles, mm.stall);
    fprintf(f, "all.mem.cycles=%" PRIu64 "\n", all_mem.cycles);
    for (int k = 0; k < NBUCKET; k++) {
      if (!bucket[k].insns) continue;
      fprintf(f, "region.%d.mem_cycles=%" PRIu64 "\n", k, bucket_mem[k].cycles);
      if (steps) fprintf(f, "region.%d.max_step_mem_cycles=%" PRIu64 "\n", k, step_max_mem[k]);
      fprintf(f, "region.%d.l1_misses=%" PRIu64 "\nregion.%d.pld_fills=%" PRIu64 "\nregion.%d.fill_waits=%" PRIu64
                 "\nregion.%d.store_misses=%" PRIu64 "\n",
              k, b_l1_misses[k], k, b_pld_fills[k], k, b_fill_waits[k], k, b_store_misses[k]);
    }
    fprintf(f, "mem.loads=%" PRIu64 "\nmem.stores=%" PRIu64 "\nmem.l1_misses=%" PRIu64 "\n"
               "mem.l1_inflight_hits=%" PRIu64 "\nmem.l2_hits=%" PRIu64 "\nmem.dram_fills=%" PRIu64 "\n"
               "mem.plds=%" PRIu64 "\nmem.pld_fills=%" PRIu64 "\nmem.pld_resolved=%" PRIu64 "\n"
               "mem.pld_unresolved=%" PRIu64 "\nmem.store_misses=%" PRIu64 "\nmem.wb_merges=%" PRIu64 "\n"
               "mem.wb_full_waits=%" PRIu64 "\nmem.dirty_evictions=%" PRIu64 "\nmem.tlb_misses=%" PRIu64 "\n"
               "mem.fill_buffer_waits=%" PRIu64 "\n",
            ms->loads, ms->stores, ms->l1_misses, ms->l1_inflight_hits, ms->l2_hits, ms->dram_fills, ms->plds,
            ms->pld_fills, pld_resolved, pld_unresolved, ms->store_misses, ms->wb_merges, ms->wb_full_waits,
            ms->dirty_evictions, ms->tlb_misses, ms->fill_buffer_waits);
    fprintf(f, "mem.param.dram_latency=%u\nmem.param.dram_read=%u\nmem.param.dram_write=%u\n"
               "mem.param.l2_latency=%u\nmem.param.tlb_walk=%u\nmem.param.fill_buffers=%u\n"
               "mem.param.wb_entries=%u\nmem.param.tlb_entries=%u\nmem.param.l2_kb=%u\n",
            mem_params.dram_latency, mem_params.dram_read, mem_params.dram_write, mem_params.l2_latency,
            mem_params.tlb_walk, mem_params.fill_buffers, mem_params.wb_entries, mem_params.tlb_entries,
            mem_params.l2_kb);
  }
  fclose(f);
  if (out_path) {
    FILE *o = fopen(out_path, "w");
    if (o) {
      fwrite(buf, 1, len, o);
      fclose(o);
    } else {
      qemu_plugin_outs("agm_cycles: cannot open the out= file\n");
      qemu_plugin_outs(buf);
    }
  } else {
    qemu_plugin_outs(buf);
  }
  free(buf);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv) {
  if (strcmp(info->target_name, "arm") != 0) {
    fprintf(stderr, "agm_cycles: target %s is not arm\n", info->target_name);
    return -1;
  }
  mem_default_params(&mem_params);
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "out=", 4) == 0) {
      out_path = strdup(argv[i] + 4);
    } else if (strcmp(argv[i], "memory=on") == 0) {
      memory_on = true;
    } else if (strcmp(argv[i], "memory=off") == 0) {
      memory_on = false;
    } else if (strncmp(argv[i], "mem.", 4) == 0 && mem_set_param(&mem_params, argv[i] + 4)) {
      /* a memory constant (calibration runs) */
    } else {
      fprintf(stderr, "agm_cycles: unknown argument %s (known: out=FILE, memory=on|off, mem.NAME=N)\n", argv[i]);
      return -1;
    }
  }
  system_mode = info->system_emulation;
  mem_init(&mem_params);
  qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
  qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
  return 0;
}
