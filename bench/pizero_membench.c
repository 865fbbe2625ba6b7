/* pizero_membench: tinymembench-style memory loops for calibrating the cycle
 * model's memory side (qemu/plugin/agm_memory.c) against the Pi Zero figures
 * of ../shared/NOTES-armv6.md. Run under the plugin:
 *
 *   qemu-arm -cpu arm1176 -plugin libagm_cycles.so,out=F,memory=on \
 *       build/pizero-armel/bench/agm_pizero_membench MODE
 *
 * MODE             loop (ARM code; 32 bytes = 8 registers per LDM/STM)
 *   read           LDM, no prefetch
 *   read-pld32     LDM and a PLD 256 bytes ahead every 32 bytes
 *   copy           LDM + STM, no prefetch
 *   copy-pld32     LDM + STM and a PLD every 32 bytes
 *   copy-pld64     LDM + STM and a PLD every 64 bytes
 *   random         a dependent chain of loads at random lines of a 64 MB block
 * It prints bytes= (bytes read or copied) or loads= (random) for the measured
 * part, which the begin/end markers bracket (the buffers are written before
 * it). The buffers are 8 MB (64 times the L2), each loop runs twice over them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agm_marker.h"

#define BUF_BYTES (8u << 20)
#define PASSES 2
#define RANDOM_BYTES (64u << 20)
#define RANDOM_LOADS 100000u

#if defined(__arm__) && !defined(__thumb__)
static void read_nopf(const uint32_t *src, size_t bytes) {
  __asm__ __volatile__(
      "1: ldmia %[s]!, {r2-r9}\n\t"
      "subs %[n], %[n], #32\n\t"
      "bgt 1b\n\t"
      : [s] "+r"(src), [n] "+r"(bytes)::"r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
}
static void read_pf32(const uint32_t *src, size_t bytes) {
  __asm__ __volatile__(
      "1: pld [%[s], #256]\n\t"
      "ldmia %[s]!, {r2-r9}\n\t"
      "subs %[n], %[n], #32\n\t"
      "bgt 1b\n\t"
      : [s] "+r"(src), [n] "+r"(bytes)::"r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
}
static void copy_nopf(uint32_t *dst, const uint32_t *src, size_t bytes) {
  __asm__ __volatile__(
      "1: ldmia %[s]!, {r2-r9}\n\t"
      "subs %[n], %[n], #32\n\t"
      "stmia %[d]!, {r2-r9}\n\t"
      "bgt 1b\n\t"
      : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(bytes)::"r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "cc",
        "memory");
}
static void copy_pf32(uint32_t *dst, const uint32_t *src, size_t bytes) {
  __asm__ __volatile__(
      "1: pld [%[s], #256]\n\t"
      "ldmia %[s]!, {r2-r9}\n\t"
      "subs %[n], %[n], #32\n\t"
      "stmia %[d]!, {r2-r9}\n\t"
      "bgt 1b\n\t"
      : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(bytes)::"r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "cc",
        "memory");
}
static void copy_pf64(uint32_t *dst, const uint32_t *src, size_t bytes) {
  __asm__ __volatile__(
      "1: pld [%[s], #256]\n\t"
      "ldmia %[s]!, {r2-r9}\n\t"
      "stmia %[d]!, {r2-r9}\n\t"
      "ldmia %[s]!, {r2-r9}\n\t"
      "subs %[n], %[n], #64\n\t"
      "stmia %[d]!, {r2-r9}\n\t"
      "bgt 1b\n\t"
      : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(bytes)::"r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "cc",
        "memory");
}
#else /* elsewhere (a host build compiles it): the same traffic in C */
static void read_nopf(const uint32_t *src, size_t bytes) {
  volatile uint32_t s = 0;
  for (size_t i = 0; i < bytes / 4; i++) s += src[i];
}
static void read_pf32(const uint32_t *src, size_t bytes) { read_nopf(src, bytes); }
static void copy_nopf(uint32_t *dst, const uint32_t *src, size_t bytes) { memcpy(dst, src, bytes); }
static void copy_pf32(uint32_t *dst, const uint32_t *src, size_t bytes) { memcpy(dst, src, bytes); }
static void copy_pf64(uint32_t *dst, const uint32_t *src, size_t bytes) { memcpy(dst, src, bytes); }
#endif

static uint32_t next_rand(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: agm_pizero_membench read|read-pld32|copy|copy-pld32|copy-pld64|random\n");
    return 2;
  }
  const char *mode = argv[1];
  if (strcmp(mode, "random") == 0) {
    /* one pointer per 32-byte line, the lines in one random cycle */
    size_t lines = RANDOM_BYTES / 32;
    uint32_t *buf = malloc(RANDOM_BYTES);
    uint32_t *order = malloc(lines * sizeof *order);
    if (!buf || !order) { fprintf(stderr, "agm_pizero_membench: out of memory\n"); return 1; }
    uint32_t seed = 12345;
    for (size_t i = 0; i < lines; i++) order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) {
      size_t j = next_rand(&seed) % (i + 1);
      uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (size_t i = 0; i < lines; i++) buf[order[i] * 8] = order[(i + 1) % lines] * 8;
    free(order);
    uint32_t at = 0;
    agm_perf_begin();
    for (unsigned i = 0; i < RANDOM_LOADS; i++) at = ((volatile uint32_t *)buf)[at];
    agm_perf_end();
    printf("mode=random\nloads=%u\nend=%u\n", RANDOM_LOADS, (unsigned)at);
    free(buf);
    return 0;
  }
  uint32_t *src = malloc(BUF_BYTES), *dst = malloc(BUF_BYTES);
  if (!src || !dst) { fprintf(stderr, "agm_pizero_membench: out of memory\n"); return 1; }
  for (size_t i = 0; i < BUF_BYTES / 4; i++) src[i] = (uint32_t)i, dst[i] = 0;
  int copy = strncmp(mode, "copy", 4) == 0;
  agm_perf_begin();
  for (int pass = 0; pass < PASSES; pass++) {
    if (strcmp(mode, "read") == 0) read_nopf(src, BUF_BYTES);
    else if (strcmp(mode, "read-pld32") == 0) read_pf32(src, BUF_BYTES);
    else if (strcmp(mode, "copy") == 0) copy_nopf(dst, src, BUF_BYTES);
    else if (strcmp(mode, "copy-pld32") == 0) copy_pf32(dst, src, BUF_BYTES);
    else if (strcmp(mode, "copy-pld64") == 0) copy_pf64(dst, src, BUF_BYTES);
    else { agm_perf_end(); fprintf(stderr, "agm_pizero_membench: unknown mode %s\n", mode); return 2; }
  }
  agm_perf_end();
  printf("mode=%s\nbytes=%u\ncheck=%u\n", mode, (unsigned)(PASSES * BUF_BYTES), (unsigned)(copy ? dst[12345] : 0));
  free(src);
  free(dst);
  return 0;
}
