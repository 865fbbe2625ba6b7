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

struct KernelSet {
    const char* name;  // e.g. "ref"
    tmatvec_t2_i8_fn tmatvec_t2_i8;
    matvec_f32_fn matvec_f32;
};

// Every variant this build has, reference first (for the conformance tests
// and benchmarks).
const KernelSet* kernel_sets(size_t* count);

// The best variant this target runs.
const KernelSet& best_kernels();

// Reference kernels (kernels/ref/).
void tmatvec_t2_i8__ref(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                        const int8_t* q, int32_t* acc);
void matvec_f32__ref(const float* w, uint32_t rows, uint32_t cols, const float* x, float* y);

}  // namespace agm

#endif
