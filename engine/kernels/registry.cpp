// The kernel registry: every variant compiled into this build. The engine
// takes the last entry the CPU supports (variants are listed from the most
// portable to the most specialised); tests and benchmarks iterate all.
#include "kernels/kernels.h"

namespace agm {
namespace {

const KernelSet kSets[] = {
    {"ref", tmatvec_t2_i8__ref, matvec_f32__ref, tl5_table__ref, tmatvec_tl5_i8__ref,
     matvec_q4_i8__ref, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__ref,
     tmatvec_tl5_i8x2__ref},
    {"lut", tmatvec_t2_i8__ref, matvec_f32__ref, tl5_table__fast, tmatvec_tl5_i8__lut,
     matvec_q4_i8__ref, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__fast,
     tmatvec_tl5_i8x2__lut},
#if defined(__ARM_FEATURE_SIMD32) && defined(__ARM_FP) && !defined(__SOFTFP__)
    {"armv6", tmatvec_t2_i8__armv6, matvec_f32__vfp, tl5_table__armv6, tmatvec_tl5_i8__armv6,
     matvec_q4_i8__armv6, attn_scores_f32__vfp, attn_values_f32__vfp, tl5_table_x2__fast,
     tmatvec_tl5_i8x2__armv6},
#elif defined(__ARM_FEATURE_SIMD32)
    {"armv6", tmatvec_t2_i8__armv6, matvec_f32__ref, tl5_table__armv6, tmatvec_tl5_i8__armv6,
     matvec_q4_i8__armv6, attn_scores_f32__ref, attn_values_f32__ref, tl5_table_x2__fast,
     tmatvec_tl5_i8x2__armv6},
#endif
};

}  // namespace

const KernelSet* kernel_sets(size_t* count) {
    *count = sizeof kSets / sizeof kSets[0];
    return kSets;
}

const KernelSet& best_kernels() { return kSets[sizeof kSets / sizeof kSets[0] - 1]; }

}  // namespace agm
