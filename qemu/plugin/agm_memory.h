/*
 * agm_memory.h: the memory side of the ARM1176 cycle model (agm_cycles.c):
 * the L1 data cache, the data TLB, the write buffer, the BCM2835's L2 and the
 * DRAM, as timing state. qemu/plugin/README.md ("The memory model") has the
 * geometry, the constants, where each comes from and what is assumed.
 *
 * Every call takes the cycle the access is presented (the issue cycle the
 * pipeline model computed for the instruction) and answers when the
 * instruction may issue (a full write buffer or no free line-fill buffer
 * holds it back) and, for loads, when the data is there. Calls come in
 * program order; their times do not decrease by more than the pipeline's
 * own reordering (none: the core is in order).
 */
#ifndef AGM_MEMORY_H
#define AGM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

/* The constants, in core cycles at 1 GHz (1 cycle = 1 ns). */
typedef struct {
  unsigned dram_latency;   /* line fill from DRAM: request to the whole line in L1 */
  unsigned dram_read;      /* DRAM busy per 32-byte line read (its bandwidth) */
  unsigned dram_write;     /* DRAM busy per write-buffer entry drained */
  unsigned dram_turn;      /* a read after writes waits this long (bus turnaround) */
  unsigned l2_latency;     /* line fill that hits the 128 KB L2 */
  unsigned tlb_walk;       /* main-TLB miss: the walk, beyond its descriptor read */
  unsigned fill_buffers;   /* line fills in flight at once (loads and PLDs) */
  unsigned wb_entries;     /* write-buffer entries (each up to one 32-byte line) */
  unsigned tlb_entries;    /* main TLB entries */
  unsigned l2_kb;          /* L2 size; 0: no L2 (every fill goes to DRAM) */
} MemParams;

/* The defaults (the calibrated values; README). */
void mem_default_params(MemParams *p);
/* Sets one constant from "name=value"; false if the name is not a constant. */
bool mem_set_param(MemParams *p, const char *arg);
void mem_init(const MemParams *p);

typedef struct {
  int64_t issue;  /* the earliest cycle the instruction may issue (>= the asked time) */
  int64_t data;   /* load: the cycle its data is in L1 (<= issue: an ordinary hit) */
} MemTime;

/* A load of size bytes at a virtual address, presented at cycle t. */
MemTime mem_load(uint32_t addr, unsigned size, int64_t t);
/* A store. */
MemTime mem_store(uint32_t addr, unsigned size, int64_t t);
/* A PLD: a line fill if the line is absent, nothing else. */
MemTime mem_pld(uint32_t addr, int64_t t);

typedef struct {
  uint64_t loads, stores, l1_misses, l1_inflight_hits, l2_hits, dram_fills;
  uint64_t plds, pld_fills, store_misses, wb_merges, wb_full_waits, dirty_evictions;
  uint64_t tlb_misses, fill_buffer_waits;
} MemStats;
const MemStats *mem_stats(void);

#endif
