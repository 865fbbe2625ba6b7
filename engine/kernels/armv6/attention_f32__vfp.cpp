// Attention over an f32 KV cache with the ARM1176's VFP11, in hand-written
// assembly: must equal attn_scores_f32__ref / attn_values_f32__ref bit for
// bit. The reference's order is kept (every product rounded to float, then
// added in order), so the work is the same; what changes is how few
// instructions carry it and how the VFP's 8-cycle add latency is hidden:
//   scores: four positions at once (four independent sums), their keys and
//           the query read four floats per FLDMIAS: per 16 products, 5 loads,
//           16 FMULS, 16 FADDS, each sum's add 4 instructions after its last;
//   values: eight lanes of the output kept in registers s16-s23 over all
//           positions, two positions per pass: per position 8 FMULS,
//           8 FADDS, one FLDMIAS (8 values) and a pointer step, and per
//           pass one FLDMIAS for both weights and the loop's two (41
//           instructions for two positions, where one at a time took 46).
// The classifier's f32 product (matvec_f32) is the scores' loop with four
// rows of the matrix for four positions and no division.
// Shapes the assembly does not take (a head_dim not a multiple of 4 or 8,
// the last positions not filling a group of four) go through the reference
// loops.
#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32) && defined(__ARM_FP) && !defined(__SOFTFP__)

namespace agm {

namespace {

// sums[j] = sum_i q[i] * k[j * stride + i], i = 0..n-1 in order, for the four
// rows j = 0..3; n a multiple of 4, at least 4. The rows stream from DRAM
// (the classifier's weights, a long context's keys): one PLD per row and
// 32-byte line, two lines ahead. The loop takes two chunks of four columns
// (a line of each row) per pass, the PLDs of rows 0 and 1 in the first and
// of rows 2 and 3 in the second; an odd chunk count runs one chunk first.

// One chunk: four columns of the query and of each row, 16 products added
// to the four sums in column order.
#define AGM_DOTS4_CHUNK(PLDS) \
        "fldmias %[qp]!, {s16-s19}\n\t" \
        PLDS \
        "fldmias %[k0]!, {s0-s3}\n\t" \
        "fldmias %[k1]!, {s4-s7}\n\t" \
        "fldmias %[k2]!, {s8-s11}\n\t" \
        "fldmias %[k3]!, {s12-s15}\n\t" \
        "fmuls   s0, s16, s0\n\t" \
        "fmuls   s4, s16, s4\n\t" \
        "fmuls   s8, s16, s8\n\t" \
        "fmuls   s12, s16, s12\n\t" \
        "fmuls   s1, s17, s1\n\t" \
        "fmuls   s5, s17, s5\n\t" \
        "fmuls   s9, s17, s9\n\t" \
        "fmuls   s13, s17, s13\n\t" \
        "fmuls   s2, s18, s2\n\t" \
        "fmuls   s6, s18, s6\n\t" \
        "fmuls   s10, s18, s10\n\t" \
        "fmuls   s14, s18, s14\n\t" \
        "fmuls   s3, s19, s3\n\t" \
        "fmuls   s7, s19, s7\n\t" \
        "fmuls   s11, s19, s11\n\t" \
        "fmuls   s15, s19, s15\n\t" \
        "fadds   s24, s24, s0\n\t" \
        "fadds   s25, s25, s4\n\t" \
        "fadds   s26, s26, s8\n\t" \
        "fadds   s27, s27, s12\n\t" \
        "fadds   s24, s24, s1\n\t" \
        "fadds   s25, s25, s5\n\t" \
        "fadds   s26, s26, s9\n\t" \
        "fadds   s27, s27, s13\n\t" \
        "fadds   s24, s24, s2\n\t" \
        "fadds   s25, s25, s6\n\t" \
        "fadds   s26, s26, s10\n\t" \
        "fadds   s27, s27, s14\n\t" \
        "fadds   s24, s24, s3\n\t" \
        "fadds   s25, s25, s7\n\t" \
        "fadds   s26, s26, s11\n\t" \
        "fadds   s27, s27, s15\n\t"

inline void dots4(const float* q, const float* k, size_t stride, uint32_t n, float* sums) {
    const float* k0 = k;
    const float* k1 = k0 + stride;
    const float* k2 = k1 + stride;
    const float* k3 = k2 + stride;
    const float* qp = q;
    uint32_t chunks = n / 4, zero = 0;
    __asm__ __volatile__(
        "fmsr    s24, %[zero]\n\t"
        "fcpys   s25, s24\n\t"
        "fcpys   s26, s24\n\t"
        "fcpys   s27, s24\n\t"
        "tst     %[chunks], #1\n\t"
        "beq     2f\n\t"
        AGM_DOTS4_CHUNK("pld     [%[k0], #64]\n\t" "pld     [%[k1], #64]\n\t"
                        "pld     [%[k2], #64]\n\t" "pld     [%[k3], #64]\n\t")
        "2:\n\t"
        "movs    %[chunks], %[chunks], lsr #1\n\t"
        "beq     3f\n\t"
        "1:\n\t"
        AGM_DOTS4_CHUNK("pld     [%[k0], #64]\n\t" "pld     [%[k1], #64]\n\t")
        AGM_DOTS4_CHUNK("pld     [%[k2], #48]\n\t" "pld     [%[k3], #48]\n\t")
        "subs    %[chunks], %[chunks], #1\n\t"
        "bne     1b\n\t"
        "3:\n\t"
        "fstmias %[out], {s24-s27}\n\t"
        : [qp] "+r"(qp), [k0] "+r"(k0), [k1] "+r"(k1), [k2] "+r"(k2), [k3] "+r"(k3), [chunks] "+r"(chunks)
        : [zero] "r"(zero), [out] "r"(sums)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14",
          "s15", "s16", "s17", "s18", "s19", "s24", "s25", "s26", "s27", "cc", "memory");
}
#undef AGM_DOTS4_CHUNK

}  // namespace

void attn_scores_f32__vfp(const float* q, const float* k, size_t stride, uint32_t n_pos, uint32_t n,
                          float root, float* att) {
    if (n == 0 || n % 4 != 0) {
        attn_scores_f32__ref(q, k, stride, n_pos, n, root, att);
        return;
    }
    uint32_t t = 0;
    for (; t + 4 <= n_pos; t += 4) {
        float sums[4];
        dots4(q, k + (size_t)t * stride, stride, n, sums);  // the keys stream like weights
        att[t] = sums[0] / root;
        att[t + 1] = sums[1] / root;
        att[t + 2] = sums[2] / root;
        att[t + 3] = sums[3] / root;
    }
    if (t < n_pos) attn_scores_f32__ref(q, k + (size_t)t * stride, stride, n_pos - t, n, root, att + t);
}

void matvec_f32__vfp(const float* w, uint32_t rows, uint32_t cols, const float* x, float* y) {
    if (cols == 0 || cols % 4 != 0) {
        matvec_f32__ref(w, rows, cols, x, y);
        return;
    }
    uint32_t r = 0;
    for (; r + 4 <= rows; r += 4) dots4(x, w + (size_t)r * cols, cols, cols, y + r);
    if (r < rows) matvec_f32__ref(w + (size_t)r * cols, rows - r, cols, x, y + r);
}

// The weighted sum's steps: eight values (registers a-h) times the weight
// w, in place; eight products added to the lanes s16-s23.
#define AGM_VALUES_FMULS(w, a, b, c, d, e, f, g, h) \
    "fmuls   " #a ", " #w ", " #a "\n\t" "fmuls   " #b ", " #w ", " #b "\n\t" \
    "fmuls   " #c ", " #w ", " #c "\n\t" "fmuls   " #d ", " #w ", " #d "\n\t" \
    "fmuls   " #e ", " #w ", " #e "\n\t" "fmuls   " #f ", " #w ", " #f "\n\t" \
    "fmuls   " #g ", " #w ", " #g "\n\t" "fmuls   " #h ", " #w ", " #h "\n\t"
#define AGM_VALUES_FADDS(a, b, c, d, e, f, g, h) \
    "fadds   s16, s16, " #a "\n\t" "fadds   s17, s17, " #b "\n\t" \
    "fadds   s18, s18, " #c "\n\t" "fadds   s19, s19, " #d "\n\t" \
    "fadds   s20, s20, " #e "\n\t" "fadds   s21, s21, " #f "\n\t" \
    "fadds   s22, s22, " #g "\n\t" "fadds   s23, s23, " #h "\n\t"

void attn_values_f32__vfp(const float* att, const float* v, size_t stride, uint32_t n_pos, uint32_t n,
                          float* out) {
    if (n == 0 || n % 8 != 0 || n_pos == 0) {
        attn_values_f32__ref(att, v, stride, n_pos, n, out);
        return;
    }
    const uint32_t row = (uint32_t)(stride * 4);  // bytes from one position's values to the next's
    // The rows stream from DRAM (a long context's cache is megabytes): a
    // PLD per position, kValueRowsAhead rows ahead (a hint: past the end it
    // does nothing).
    constexpr uint32_t kValueRowsAhead = 6;
    const uint32_t pf = row * kValueRowsAhead;
    for (uint32_t i0 = 0; i0 < n; i0 += 8) {
        const float* vp = v + i0;
        const float* ap = att;
        uint32_t count = n_pos, zero = 0;
        __asm__ __volatile__(
            "fmsr    s16, %[zero]\n\t"
            "fcpys   s17, s16\n\t"
            "fcpys   s18, s16\n\t"
            "fcpys   s19, s16\n\t"
            "fcpys   s20, s16\n\t"
            "fcpys   s21, s16\n\t"
            "fcpys   s22, s16\n\t"
            "fcpys   s23, s16\n\t"
            "tst     %[count], #1\n\t"
            "beq     2f\n\t"
            // an odd count: one position alone
            "fldmias %[ap]!, {s24}\n\t"
            "fldmias %[vp], {s0-s7}\n\t"
            "add     %[vp], %[vp], %[row]\n\t"
            "pld     [%[vp], %[pf]]\n\t"
            AGM_VALUES_FMULS(s24, s0, s1, s2, s3, s4, s5, s6, s7)
            AGM_VALUES_FADDS(s0, s1, s2, s3, s4, s5, s6, s7)
            "2:\n\t"
            "movs    %[count], %[count], lsr #1\n\t"
            "beq     3f\n\t"
            // two positions per pass, the second's adds after the first's
            "1:\n\t"
            "fldmias %[ap]!, {s24-s25}\n\t"
            "fldmias %[vp], {s0-s7}\n\t"
            "add     %[vp], %[vp], %[row]\n\t"
            "pld     [%[vp], %[pf]]\n\t"
            "fldmias %[vp], {s8-s15}\n\t"
            "add     %[vp], %[vp], %[row]\n\t"
            "pld     [%[vp], %[pf]]\n\t"
            AGM_VALUES_FMULS(s24, s0, s1, s2, s3, s4, s5, s6, s7)
            AGM_VALUES_FMULS(s25, s8, s9, s10, s11, s12, s13, s14, s15)
            AGM_VALUES_FADDS(s0, s1, s2, s3, s4, s5, s6, s7)
            AGM_VALUES_FADDS(s8, s9, s10, s11, s12, s13, s14, s15)
            "subs    %[count], %[count], #1\n\t"
            "bne     1b\n\t"
            "3:\n\t"
            "fstmias %[out], {s16-s23}\n\t"
            : [vp] "+r"(vp), [ap] "+r"(ap), [count] "+r"(count)
            : [zero] "r"(zero), [row] "r"(row), [pf] "r"(pf), [out] "r"(out + i0)
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14",
              "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "cc", "memory");
    }
}
#undef AGM_VALUES_FMULS
#undef AGM_VALUES_FADDS

}  // namespace agm

#endif
