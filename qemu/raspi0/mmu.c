// A flat (identity) MMU map with the caches on, so that a real ARM1176 runs
// the engine from its L1 caches instead of going to DRAM for every access
// (with the MMU off every data access is Strongly-ordered and uncached).
// Under QEMU it changes nothing but must not break anything.
//
// Translation table: 4096 first-level section descriptors (1 MB each,
// ARMv6 format, SCTLR.XP = 1) at 0x4000-0x7FFF, below the image at 0x8000
// (where Linux keeps its table on a Pi too):
//   0x000-0x1BF  ARM RAM: Normal, inner/outer write-back write-allocate
//                (TEX=001 C=1 B=1), not shared (the ARM1176 does not cache
//                Shared Normal memory), full access
//   0x1C0-0x1FF  GPU RAM: Strongly-ordered, execute never
//   0x200-0x20F  peripherals: Shared Device (TEX=000 C=0 B=1), execute never
//   others       fault
#include <stdint.h>

#define AGM_SECT 0x2u           // bits [1:0] = 0b10: section
#define AGM_SECT_B (1u << 2)
#define AGM_SECT_C (1u << 3)
#define AGM_SECT_XN (1u << 4)
#define AGM_SECT_AP_RW (3u << 10)  // AP[1:0] = 11, APX = 0: read/write at any level
#define AGM_SECT_TEX(x) ((uint32_t)(x) << 12)
#define AGM_SECT_S (1u << 16)

void agm_fw_mmu_on(void) {
    volatile uint32_t* const table = (volatile uint32_t*)0x4000;
    for (uint32_t mb = 0; mb < 4096; ++mb) {
        uint32_t d = 0;  // fault
        if (mb < 0x1c0)
            d = AGM_SECT | AGM_SECT_AP_RW | AGM_SECT_TEX(1) | AGM_SECT_C | AGM_SECT_B;
        else if (mb < 0x200)
            d = AGM_SECT | AGM_SECT_AP_RW | AGM_SECT_XN;
        else if (mb < 0x210)
            d = AGM_SECT | AGM_SECT_AP_RW | AGM_SECT_XN | AGM_SECT_B | AGM_SECT_S;
        if (d != 0) d |= mb << 20;
        table[mb] = d;
    }
    const uint32_t zero = 0;
    __asm__ volatile(
        "mcr p15, 0, %0, c7, c7, 0\n\t"   // invalidate both caches
        "mcr p15, 0, %0, c8, c7, 0\n\t"   // invalidate the TLBs
        "mcr p15, 0, %0, c7, c10, 4\n\t"  // data synchronisation barrier
        "mcr p15, 0, %0, c2, c0, 2\n\t"   // TTBCR = 0: TTBR0 for everything
        "mcr p15, 0, %1, c2, c0, 0\n\t"   // TTBR0 = the table (walks uncached)
        "mcr p15, 0, %2, c3, c0, 0\n\t"   // DACR: every domain client (AP checked)
        :
        : "r"(zero), "r"(0x4000u), "r"(0x55555555u)
        : "memory");
    uint32_t sctlr;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
    // M (MMU), C (data cache), Z (branch prediction), I (instruction cache),
    // XP (ARMv6 table format); U stays on, A off (start.S).
    sctlr |= (1u << 0) | (1u << 2) | (1u << 11) | (1u << 12) | (1u << 23);
    __asm__ volatile(
        "mcr p15, 0, %0, c1, c0, 0\n\t"
        "mcr p15, 0, %1, c7, c5, 4\n\t"  // flush the prefetch buffer (ISB)
        :
        : "r"(sctlr), "r"(zero)
        : "memory");
}
