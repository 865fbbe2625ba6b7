// The kernel registry: every variant compiled into this build. The engine
// takes the last entry the CPU supports (variants are listed from the most
// portable to the most specialised); tests and benchmarks iterate all.
#include "kernels/kernels.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace agm {
namespace {

#if defined(__ARM_FEATURE_SIMD32)
// The ARMv6 set. Its tl5_r4 products are ARM-state assembly that builds
// each tile's tables itself; a Thumb-2 build (an ARMv7 compiler's default)
// gets the portable products under the same names, which read the
// session's tables and have no shared variant.
#if defined(__thumb__)
constexpr bool kArmv6Tl5ReadsTables = true;
constexpr tmatvec_tl5_i8_shared_fn kArmv6Tl5Shared = nullptr;
#else
constexpr bool kArmv6Tl5ReadsTables = false;
constexpr tmatvec_tl5_i8_shared_fn kArmv6Tl5Shared = tmatvec_tl5_i8_shared__armv6;
#endif
// The VFP11 kernels need hardware floating point (softfp or hard-float).
#if defined(__ARM_FP) && !defined(__SOFTFP__)
constexpr matvec_f32_fn kArmv6MatvecF32 = matvec_f32__vfp;
constexpr attn_scores_f32_fn kArmv6AttnScores = attn_scores_f32__vfp;
constexpr attn_values_f32_fn kArmv6AttnValues = attn_values_f32__vfp;
#else
constexpr matvec_f32_fn kArmv6MatvecF32 = matvec_f32__ref;
constexpr attn_scores_f32_fn kArmv6AttnScores = attn_scores_f32__ref;
constexpr attn_values_f32_fn kArmv6AttnValues = attn_values_f32__ref;
#endif
#endif

const KernelSet kSets[] = {
    {"ref", nullptr, false, false, false, tmatvec_t2_i8__ref, matvec_f32__ref, tl5_table__ref, tmatvec_tl5_i8__ref,
     matvec_q4_i8__ref, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__ref, tmatvec_tl5_i8x2__ref, nullptr},
    {"lut", nullptr, true, false, true, tmatvec_t2_i8__ref, matvec_f32__ref, tl5_table__fast, tmatvec_tl5_i8__lut,
     matvec_q4_i8__ref, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__fast, tmatvec_tl5_i8x2__lut, nullptr},
#if defined(__ARM_FEATURE_SIMD32)
    {"armv6", nullptr, kArmv6Tl5ReadsTables, true, kArmv6Tl5ReadsTables, tmatvec_t2_i8__armv6, kArmv6MatvecF32,
     tl5_table__armv6, tmatvec_tl5_i8__armv6, matvec_q4_i8__armv6, kArmv6AttnScores, kArmv6AttnValues,
     tl5_table_x2__armv6, tmatvec_tl5_i8x2__armv6, kArmv6Tl5Shared},
#endif
#if defined(__x86_64__) || defined(__i386__)
    {"ssse3", cpu_has_ssse3, false, false, false, tmatvec_t2_i8__ref, matvec_f32__ref, tl5_table__fast,
     tmatvec_tl5_i8__ssse3, matvec_q4_i8__ssse3, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__fast,
     tmatvec_tl5_i8x2__ssse3, nullptr},
    {"avx2", cpu_has_avx2, false, false, false, tmatvec_t2_i8__ref, matvec_f32__ref, tl5_table__fast,
     tmatvec_tl5_i8__avx2, matvec_q4_i8__avx2, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__fast,
     tmatvec_tl5_i8x2__avx2, nullptr},
#endif
};

constexpr size_t kCount = sizeof kSets / sizeof kSets[0];

}  // namespace

const KernelSet* kernel_sets(size_t* count) {
    *count = kCount;
    return kSets;
}

bool kernel_set_runs(const KernelSet& set) { return set.supported == nullptr || set.supported(); }

const KernelSet& best_kernels() {
    size_t i = kCount - 1;
    while (i > 0 && !kernel_set_runs(kSets[i])) --i;  // the reference runs everywhere
    return kSets[i];
}

const KernelSet* find_kernels(const char* name) {
    for (const KernelSet& k : kSets)
        if (std::strcmp(k.name, name) == 0) return kernel_set_runs(k) ? &k : nullptr;
    return nullptr;
}

#if defined(__x86_64__) || defined(__i386__)
// CPUID and XGETBV directly (no libgcc __cpu_model: the library stays free
// of runtime symbols, tools/check-undefined-symbols.sh).
bool cpu_has_ssse3() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    return (c >> 9) & 1;  // SSSE3 (XMM state: every x86-64 OS saves it)
}

// AVX2 in the CPU and the YMM state enabled by the OS.
bool cpu_has_avx2() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return false;
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return false;  // XMM and YMM state saved by the OS
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 5) & 1;  // AVX2
}
#endif

}  // namespace agm
