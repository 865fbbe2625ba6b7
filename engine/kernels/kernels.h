// The kernel interface: one function-pointer signature per operation family.
// The scalar reference variants (kernels/ref/) are always built and are the
// oracle; ISA variants (kernels/armv6/, next) must equal them bit for bit.
// The engine calls kernels only through a KernelSet picked at session start.
#ifndef AGM_KERNELS_H
#define AGM_KERNELS_H

#include <cstddef>
#include <cstdint>

namespace agm {

// Ternary matrix times int8 vector, integer result.
//   w:    [rows][row_stride] AGM_TYPE_T2_B128 rows (format.h), 32-byte aligned
//   q:    [n_blocks * 128] int8 activations in -127..127; entries past the
//         matrix's real column count are 0
//   acc:  [rows] out: sum_i w[r][i] * q[i], exact in int32
// Additions and subtractions only: no multiply per weight.
typedef void (*tmatvec_t2_i8_fn)(const uint8_t* w, size_t row_stride, uint32_t rows,
                                 uint32_t n_blocks, const int8_t* q, int32_t* acc);

// Float matrix times float vector with the reference's rounding: for each
// row, sum = 0; sum += w[r][i] * x[i] for i = 0..cols-1 in order, no FMA.
//   w: [rows][cols] f32, x: [cols], y: [rows]
typedef void (*matvec_f32_fn)(const float* w, uint32_t rows, uint32_t cols, const float* x,
                              float* y);

// Signed-sum tables for AGM_TYPE_TL5_R4 (format.h), built once per input
// vector and shared by every matrix that reads it:
//   q:     [n_groups * 5] int8 in -127..127 (0 past the real columns)
//   table: [n_groups][AGM_TL5_TABLE_STRIDE] out: table[g][code] =
//          sum_k (digit_k(code) - 1) * q[5g + k] for code < 243; entry 243 is 0
typedef void (*tl5_table_fn)(const int8_t* q, uint32_t n_groups, int16_t* table);

// Ternary matrix times int8 vector over AGM_TYPE_TL5_R4:
//   w:     [n_quads][n_groups][4] bytes, 4-byte aligned
//   q:     [n_groups * 5] the activations, table: their tl5 table (a variant
//          reads one or the other)
//   acc:   [n_quads * 4] out: sum_i w[r][i] * q[i], exact in int32
typedef void (*tmatvec_tl5_i8_fn)(const uint8_t* w, uint32_t n_quads, uint32_t n_groups,
                                  const int8_t* q, const int16_t* table, int32_t* acc);

// The same product for two input vectors at once (prompt processing):
//   qa, qb:  the two vectors (as for tmatvec_tl5_i8)
//   table2:  [n_groups][AGM_TL5_TABLE_STRIDE] their tables interleaved:
//            entry = table_a (low halfword) | table_b << 16
//   acc_a, acc_b: [n_quads * 4] out, each exactly tmatvec_tl5_i8's result
// A variant reads q or table2.
typedef void (*tl5_table_x2_fn)(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2);
typedef void (*tmatvec_tl5_i8x2_fn)(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                                    const int8_t* qb, const uint32_t* table2, int32_t* acc_a,
                                    int32_t* acc_b);

// tmatvec_tl5_i8 for n_mats >= 1 matrices of n_groups groups that read the
// same vector q (a layer's q, k and v; its gate and up): acc[m] gets
// matrix m's sums, exactly as tmatvec_tl5_i8 gives them. A variant that
// builds its tables per tile builds each once for all the matrices.
typedef void (*tmatvec_tl5_i8_shared_fn)(uint32_t n_mats, const uint8_t* const* w, const uint32_t* n_quads,
                                         uint32_t n_groups, const int8_t* q, int32_t* const* acc);

// AGM_TYPE_Q4_B32 rows (format.h) times an int8 vector, integer result:
//   w:      [rows][row_stride] q4_b32 rows
//   q:      [n_blocks * 32] int8 activations in -127..127 (0 past the real
//           columns)
//   pairs:  [n_blocks * kQ4PairWords + kQ4PairPad] q as q4_pairs() arranged
//           it (a variant may read the pad words; their values do not matter)
//   acc:    [rows] out: sum_b s[b] * sum_i (u_i - 8) * q_i, exact in int32
//           (the row's f32 d is applied by the caller)
// A variant reads q or pairs.
typedef void (*matvec_q4_i8_fn)(const uint8_t* w, size_t row_stride, uint32_t rows,
                                uint32_t n_blocks, const int8_t* q, const uint32_t* pairs,
                                int32_t* acc);

// The activations in the order the SMLAD variants read them, built once per
// vector, 17 words per block b: word 4j + k = q[32b + 8j + k] (low
// halfword) and q[32b + 8j + k + 4] (high halfword), both as int16; word
// 16 = 8 * the sum of the block's q (the codes' offset of 8, taken back) as
// int16 in its low halfword, and bit 16 set in the last block's.
constexpr uint32_t kQ4PairWords = 17;
constexpr uint32_t kQ4PairPad = 4;
void q4_pairs(const int8_t* q, uint32_t n_blocks, uint32_t* pairs);

// Attention scores over an f32 KV cache, in the reference's order:
//   att[t] = (sum_i q[i] * k[t * stride + i], i = 0..n-1 in order) / root
// for t < n_pos (no FMA: each product rounded, then added).
typedef void (*attn_scores_f32_fn)(const float* q, const float* k, size_t stride, uint32_t n_pos,
                                   uint32_t n, float root, float* att);

// The weighted sum of an f32 V cache, in the reference's order:
//   out[i] = sum_t att[t] * v[t * stride + i], t = 0..n_pos-1 in order,
// starting from 0 (each product rounded, then added).
typedef void (*attn_values_f32_fn)(const float* att, const float* v, size_t stride, uint32_t n_pos,
                                   uint32_t n, float* out);

struct KernelSet {
    const char* name;  // e.g. "ref"
    bool (*supported)();  // nullptr: every CPU this build targets runs it
    // The tl5_r4 products read the tables (tl5_table, tl5_table_x2: sessions
    // build them only then) or the activations; matvec_q4_i8 reads the pairs
    // (q4_pairs) or the activations. The two-vector product may differ from
    // the one-vector one (a variant that builds its tables per tile).
    bool tl5_reads_tables;
    bool q4_reads_pairs;
    bool tl5x2_reads_tables;
    tmatvec_t2_i8_fn tmatvec_t2_i8;
    matvec_f32_fn matvec_f32;
    tl5_table_fn tl5_table;
    tmatvec_tl5_i8_fn tmatvec_tl5_i8;
    matvec_q4_i8_fn matvec_q4_i8;
    attn_scores_f32_fn attn_scores_f32;
    attn_values_f32_fn attn_values_f32;
    tl5_table_x2_fn tl5_table_x2;
    tmatvec_tl5_i8x2_fn tmatvec_tl5_i8x2;
    // Optional (nullptr: the session calls tmatvec_tl5_i8 per matrix).
    tmatvec_tl5_i8_shared_fn tmatvec_tl5_i8_shared;
};

// Every variant this build has, reference first (for the conformance tests
// and benchmarks); a variant this CPU cannot run is listed with supported()
// false (kernel_set_runs).
const KernelSet* kernel_sets(size_t* count);
bool kernel_set_runs(const KernelSet& set);

// The best variant this CPU runs (the last one that runs).
const KernelSet& best_kernels();

// The variant called `name` if this build has it and this CPU runs it, else
// nullptr.
const KernelSet* find_kernels(const char* name);

// Reference kernels (kernels/ref/).
void tmatvec_t2_i8__ref(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                        const int8_t* q, int32_t* acc);
void matvec_f32__ref(const float* w, uint32_t rows, uint32_t cols, const float* x, float* y);
void tl5_table__ref(const int8_t* q, uint32_t n_groups, int16_t* table);
void tmatvec_tl5_i8__ref(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                         const int16_t* table, int32_t* acc);
void matvec_q4_i8__ref(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                       const int8_t* q, const uint32_t* pairs, int32_t* acc);
void tl5_table_x2__ref(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2);
void tmatvec_tl5_i8x2__ref(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                           const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b);
void attn_scores_f32__ref(const float* q, const float* k, size_t stride, uint32_t n_pos, uint32_t n,
                          float root, float* att);
void attn_values_f32__ref(const float* att, const float* v, size_t stride, uint32_t n_pos, uint32_t n,
                          float* out);

#if defined(__ARM_FEATURE_SIMD32)
// ARMv6 SIMD variants (kernels/armv6/).
void tmatvec_t2_i8__armv6(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                          const int8_t* q, int32_t* acc);
void matvec_q4_i8__armv6(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                         const int8_t* q, const uint32_t* pairs, int32_t* acc);
// Hand-scheduled ARM1176 assembly (ARM state; a Thumb build gets the portable
// kernels under these names). The table builder takes its fast path when
// `table` is 4-byte aligned (the session's arena is) and falls back to
// tl5_table__fast otherwise. The product builds each tile's table itself
// (from q, with the same assembly) and does not read `table`.
void tmatvec_tl5_i8__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                           const int16_t* table, int32_t* acc);
void tl5_table__armv6(const int8_t* q, uint32_t n_groups, int16_t* table);
// The two-vector product builds each tile's paired table itself (from qa and
// qb, with tl5_table_x2__armv6's assembly) and does not read table2.
void tl5_table_x2__armv6(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2);
void tmatvec_tl5_i8_shared__armv6(uint32_t n_mats, const uint8_t* const* w, const uint32_t* n_quads,
                                  uint32_t n_groups, const int8_t* q, int32_t* const* acc);
void tmatvec_tl5_i8x2__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                             const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b);
#endif
#if defined(__ARM_FEATURE_SIMD32) && defined(__ARM_FP) && !defined(__SOFTFP__)
// VFP variants (kernels/armv6/attention_f32__vfp.cpp).
void attn_scores_f32__vfp(const float* q, const float* k, size_t stride, uint32_t n_pos, uint32_t n,
                          float root, float* att);
void matvec_f32__vfp(const float* w, uint32_t rows, uint32_t cols, const float* x, float* y);
void attn_values_f32__vfp(const float* att, const float* v, size_t stride, uint32_t n_pos, uint32_t n,
                          float* out);
#endif

#if defined(__x86_64__) || defined(__i386__)
// SSSE3 and AVX2 variants (kernels/x86/; compiled for their instruction set
// whatever the build's flags, run only when the CPU has it).
bool cpu_has_ssse3();
void matvec_q4_i8__ssse3(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                         const int8_t* q, const uint32_t* pairs, int32_t* acc);
void tmatvec_tl5_i8__ssse3(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                           const int16_t* table, int32_t* acc);
void tmatvec_tl5_i8x2__ssse3(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                             const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b);
bool cpu_has_avx2();
void matvec_q4_i8__avx2(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                        const int8_t* q, const uint32_t* pairs, int32_t* acc);
void tmatvec_tl5_i8__avx2(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                          const int16_t* table, int32_t* acc);
void tmatvec_tl5_i8x2__avx2(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                            const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b);
#endif

// Portable lookup-table variants (kernels/portable/): what the ARM11 runs.
void tl5_table_x2__fast(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2);
void tmatvec_tl5_i8x2__lut(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                           const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b);
void tl5_table__fast(const int8_t* q, uint32_t n_groups, int16_t* table);
void tmatvec_tl5_i8__lut(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                         const int16_t* table, int32_t* acc);

}  // namespace agm

#endif
