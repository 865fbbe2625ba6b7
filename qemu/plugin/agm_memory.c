/*
 * agm_memory.c: the memory timing of the ARM1176 model (agm_memory.h).
 *
 *   L1 data cache  16 KB, 4 ways, 32-byte lines (128 sets), write-back,
 *                  read-allocate only (a store miss goes to the write
 *                  buffer), pseudo-random replacement (the ARM1176's reset
 *                  default; an invalid way is taken first), non-blocking:
 *                  a miss occupies a line-fill buffer and the pipeline runs
 *                  on until an instruction needs the data (hit under miss).
 *   data TLB       a main TLB of tlb_entries 4 KB pages (LRU); a miss walks
 *                  the page table: tlb_walk cycles plus the second-level
 *                  descriptor's read through the L2 (or DRAM).
 *   write buffer   wb_entries entries of up to one line; a store merges into
 *                  the youngest entry of its line; entries drain to DRAM when
 *                  it is idle (a line fill goes first); a store waits while
 *                  the buffer is full.
 *   L2             the BCM2835's 128 KB (4 ways, 32-byte lines, LRU:
 *                  assumed), in front of DRAM for the ARM's line fills.
 *   DRAM           one queue: a line read takes dram_latency from its start
 *                  to the line in L1 and keeps DRAM busy dram_read cycles
 *                  (that is its bandwidth); a write-buffer entry keeps it
 *                  busy dram_write cycles.
 */
#include "agm_memory.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define L1_SETS 128
#define L1_WAYS 4
#define L2_WAYS 4
#define MAX_FILL_BUFFERS 16
#define MAX_WB 32
#define MAX_TLB 256
#define MRU_PAGES 4

void mem_default_params(MemParams *p) {
  /* Fitted to the Pi Zero figures of NOTES-armv6.md with bench/pizero_membench.c
   * (qemu/plugin/README.md, "Calibration"). */
  p->dram_latency = 120;
  p->dram_read = 18;
  p->dram_write = 40;
  p->dram_turn = 32;
  p->l2_latency = 26;
  p->tlb_walk = 80;
  p->fill_buffers = 3;
  p->wb_entries = 8;
  p->tlb_entries = 64;
  p->l2_kb = 128;
}

bool mem_set_param(MemParams *p, const char *arg) {
  static const struct { const char *name; size_t off; } names[] = {
    {"dram_latency", offsetof(MemParams, dram_latency)},
    {"dram_read", offsetof(MemParams, dram_read)},
    {"dram_write", offsetof(MemParams, dram_write)},
    {"dram_turn", offsetof(MemParams, dram_turn)},
    {"l2_latency", offsetof(MemParams, l2_latency)},
    {"tlb_walk", offsetof(MemParams, tlb_walk)},
    {"fill_buffers", offsetof(MemParams, fill_buffers)},
    {"wb_entries", offsetof(MemParams, wb_entries)},
    {"tlb_entries", offsetof(MemParams, tlb_entries)},
    {"l2_kb", offsetof(MemParams, l2_kb)},
  };
  const char *eq = strchr(arg, '=');
  if (!eq) return false;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strlen(names[i].name) == (size_t)(eq - arg) && strncmp(arg, names[i].name, (size_t)(eq - arg)) == 0) {
      char *end;
      unsigned long v = strtoul(eq + 1, &end, 10);
      if (*end || end == eq + 1) return false;
      *(unsigned *)((char *)p + names[i].off) = (unsigned)v;
      return true;
    }
  }
  return false;
}

typedef struct {
  uint32_t line;   /* address >> 5 */
  bool valid, dirty;
  int64_t ready;   /* the cycle its fill completes (in flight while > now) */
} L1Line;

typedef struct {
  uint32_t line;
  int64_t enq;
} WbEntry;

static MemParams P;
static MemStats S;
static L1Line l1[L1_SETS][L1_WAYS];
static uint32_t *l2_tag;     /* [sets * ways], line + 1 (0: invalid) */
static uint64_t *l2_use;     /* LRU stamps */
static unsigned l2_sets;
static uint64_t l2_clock;
static int64_t fill_done[MAX_FILL_BUFFERS];
static WbEntry wb[MAX_WB];
static unsigned wb_head, wb_n;
static int64_t dram_free;
static bool dram_wrote;   /* the last DRAM transfer was a write */
static uint32_t tlb_page[MAX_TLB];
static uint64_t tlb_use[MAX_TLB];
static unsigned tlb_n;
static uint64_t tlb_clock;
static uint32_t mru[MRU_PAGES];
static unsigned mru_n;
static uint32_t lfsr = 0xACE1u;

static unsigned clampu(unsigned v, unsigned lo, unsigned hi) { return v < lo ? lo : v > hi ? hi : v; }

void mem_init(const MemParams *p) {
  P = *p;
  P.fill_buffers = clampu(P.fill_buffers, 1, MAX_FILL_BUFFERS);
  P.wb_entries = clampu(P.wb_entries, 1, MAX_WB);
  P.tlb_entries = clampu(P.tlb_entries, 1, MAX_TLB);
  memset(&S, 0, sizeof S);
  memset(l1, 0, sizeof l1);
  free(l2_tag);
  free(l2_use);
  l2_tag = NULL;
  l2_use = NULL;
  l2_sets = P.l2_kb ? P.l2_kb * 1024u / 32u / L2_WAYS : 0;
  if (l2_sets) {
    l2_tag = calloc((size_t)l2_sets * L2_WAYS, sizeof *l2_tag);
    l2_use = calloc((size_t)l2_sets * L2_WAYS, sizeof *l2_use);
    if (!l2_tag || !l2_use) l2_sets = 0;
  }
  memset(fill_done, 0, sizeof fill_done);
  wb_head = wb_n = 0;
  dram_free = 0;
  dram_wrote = false;
  tlb_n = mru_n = 0;
}

const MemStats *mem_stats(void) { return &S; }

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ---- DRAM and the write buffer ------------------------------------------- */
/* Entries that could start draining before t (DRAM idle) have drained. */
static void wb_advance(int64_t t) {
  while (wb_n) {
    int64_t s = max64(wb[wb_head].enq, dram_free);
    if (s >= t) break;
    dram_free = s + P.dram_write;
    dram_wrote = true;
    wb_head = (wb_head + 1) % MAX_WB;
    wb_n--;
  }
}

/* A line leaves for DRAM through the write buffer: the cycle the store (or
 * the eviction) may proceed. */
static int64_t wb_put(uint32_t line, int64_t t, bool may_merge) {
  wb_advance(t);
  if (may_merge && wb_n) {
    WbEntry *tail = &wb[(wb_head + wb_n - 1) % MAX_WB];
    if (tail->line == line) {
      S.wb_merges++;
      return t;
    }
  }
  if (wb_n == P.wb_entries) { /* full: wait for the oldest to be written */
    int64_t s = max64(wb[wb_head].enq, dram_free);
    dram_free = s + P.dram_write;
    dram_wrote = true;
    wb_head = (wb_head + 1) % MAX_WB;
    wb_n--;
    S.wb_full_waits++;
    t = max64(t, dram_free);
  }
  wb[(wb_head + wb_n) % MAX_WB] = (WbEntry){line, t};
  wb_n++;
  return t;
}

static int64_t dram_read_line(int64_t t) {
  wb_advance(t);
  int64_t g = max64(t, dram_free);
  if (dram_wrote) g += P.dram_turn; /* the first read after writes */
  dram_wrote = false;
  dram_free = g + P.dram_read;
  S.dram_fills++;
  return g + P.dram_latency;
}

/* The level behind L1: the cycle a line requested at t is in L1. */
static int64_t next_level(uint32_t line, int64_t t) {
  if (!l2_sets) return dram_read_line(t);
  unsigned set = line % l2_sets;
  uint32_t *tag = &l2_tag[(size_t)set * L2_WAYS];
  uint64_t *use = &l2_use[(size_t)set * L2_WAYS];
  unsigned victim = 0;
  for (unsigned w = 0; w < L2_WAYS; w++) {
    if (tag[w] == line + 1) {
      use[w] = ++l2_clock;
      S.l2_hits++;
      return t + P.l2_latency;
    }
    if (use[w] < use[victim]) victim = w;
  }
  tag[victim] = line + 1;
  use[victim] = ++l2_clock;
  return dram_read_line(t + P.l2_latency);
}

/* ---- TLB ------------------------------------------------------------------ */
/* The cycle an access at t has its translation. */
static int64_t tlb(uint32_t addr, int64_t t) {
  uint32_t page = addr >> 12;
  for (unsigned i = 0; i < mru_n; i++)
    if (mru[i] == page) return t;
  unsigned slot = 0;
  bool hit = false;
  for (unsigned i = 0; i < tlb_n; i++) {
    if (tlb_page[i] == page) { slot = i; hit = true; break; }
    if (tlb_use[i] < tlb_use[slot]) slot = i;
  }
  if (!hit) {
    if (tlb_n < P.tlb_entries) slot = tlb_n++;
    tlb_page[slot] = page;
    S.tlb_misses++;
    /* the second-level descriptor: 4 bytes per page, in a table away from
     * the data (its own lines in the L2) */
    uint32_t desc_line = (0xF0000000u | (page << 2)) >> 5;
    t = next_level(desc_line, t + P.tlb_walk);
  }
  tlb_use[slot] = ++tlb_clock;
  memmove(mru + 1, mru, sizeof mru[0] * (MRU_PAGES - 1));
  mru[0] = page;
  if (mru_n < MRU_PAGES) mru_n++;
  return t;
}

/* ---- L1 ------------------------------------------------------------------- */
static L1Line *l1_find(uint32_t line) {
  L1Line *set = l1[line % L1_SETS];
  for (unsigned w = 0; w < L1_WAYS; w++)
    if (set[w].valid && set[w].line == line) return &set[w];
  return NULL;
}

static unsigned next_random(void) {
  /* 16-bit Fibonacci LFSR (taps 16 14 13 11): deterministic pseudo-random */
  unsigned bit = ((lfsr >> 0) ^ (lfsr >> 2) ^ (lfsr >> 3) ^ (lfsr >> 5)) & 1u;
  lfsr = (lfsr >> 1) | (bit << 15);
  return lfsr;
}

/* A line fill requested at t: *issue is when the instruction may go (a
 * free fill buffer, room for a dirty victim); returns the fill's end. */
static int64_t l1_fill(uint32_t line, int64_t t, int64_t *issue) {
  unsigned k = 0;
  for (unsigned i = 1; i < P.fill_buffers; i++)
    if (fill_done[i] < fill_done[k]) k = i;
  if (fill_done[k] > t) {
    S.fill_buffer_waits++;
    t = fill_done[k];
  }
  L1Line *set = l1[line % L1_SETS];
  unsigned way = L1_WAYS;
  for (unsigned w = 0; w < L1_WAYS; w++)
    if (!set[w].valid) { way = w; break; }
  if (way == L1_WAYS) way = next_random() % L1_WAYS;
  /* a line still filling is not evicted: take another way */
  if (set[way].valid && set[way].ready > t) {
    for (unsigned w = 0; w < L1_WAYS; w++)
      if (set[w].ready <= t) { way = w; break; }
  }
  L1Line *v = &set[way];
  if (v->valid && v->dirty) {
    S.dirty_evictions++;
    t = wb_put(v->line, t, false);
  }
  *issue = t;
  int64_t done = next_level(line, t);
  fill_done[k] = done;
  *v = (L1Line){line, true, false, done};
  return done;
}

MemTime mem_load(uint32_t addr, unsigned size, int64_t t) {
  (void)size;
  S.loads++;
  t = tlb(addr, t);
  uint32_t line = addr >> 5;
  L1Line *l = l1_find(line);
  if (l) {
    if (l->ready > t) S.l1_inflight_hits++;
    return (MemTime){t, l->ready > t ? l->ready : t};
  }
  S.l1_misses++;
  int64_t issue;
  int64_t done = l1_fill(line, t, &issue);
  return (MemTime){issue, done};
}

MemTime mem_store(uint32_t addr, unsigned size, int64_t t) {
  (void)size;
  S.stores++;
  t = tlb(addr, t);
  uint32_t line = addr >> 5;
  L1Line *l = l1_find(line);
  if (l) {
    l->dirty = true;
    return (MemTime){t, t};
  }
  S.store_misses++;
  int64_t issue = wb_put(line, t, true);
  return (MemTime){issue, issue};
}

MemTime mem_pld(uint32_t addr, int64_t t) {
  S.plds++;
  t = tlb(addr, t);
  uint32_t line = addr >> 5;
  if (l1_find(line)) return (MemTime){t, t};
  S.pld_fills++;
  int64_t issue;
  (void)l1_fill(line, t, &issue);
  return (MemTime){issue, issue};
}
