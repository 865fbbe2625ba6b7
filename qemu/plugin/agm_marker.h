/* agm_marker.h: bracket work for the ARM1176 cycle model
 * (qemu/plugin/agm_cycles.c, protocol in qemu/plugin/README.md).
 *
 *   agm_perf_begin();      count from here
 *   agm_perf_region(1);    charge what follows to bucket 1 (0..15)
 *   agm_perf_step();       a step ends (the plugin reports the costliest)
 *   ...
 *   agm_perf_end();        stop counting
 *
 * Each marker is one `orr rX, rX, #0` (X = r11 or r12) written with a
 * rotation field an assembler never produces for #0: a NOP on any ARM core
 * (1 cycle on a Pi; the plugin charges nothing for it). On anything but ARM
 * state the functions are empty. C and C++. */
#ifndef AGM_MARKER_H
#define AGM_MARKER_H

#if defined(__arm__) && !defined(__thumb__)
#define AGM_MARKER_INSN_(word) __asm__ __volatile__(".inst " #word ::: "memory")
static inline void agm_perf_begin(void) { AGM_MARKER_INSN_(0xe38bb100); }
static inline void agm_perf_end(void) { AGM_MARKER_INSN_(0xe38bb200); }
static inline void agm_perf_step(void) { AGM_MARKER_INSN_(0xe38bb300); }
/* k must be a compile-time constant 0..15 (it is encoded in the instruction). */
#define agm_perf_region(k)                                                     \
  __asm__ __volatile__(".inst 0xe38cc000 | ((%c0) << 8)" ::"i"((k) & 15) : "memory")
#else
static inline void agm_perf_begin(void) {}
static inline void agm_perf_end(void) {}
static inline void agm_perf_step(void) {}
#define agm_perf_region(k) ((void)(k))
#endif

#endif /* AGM_MARKER_H */
