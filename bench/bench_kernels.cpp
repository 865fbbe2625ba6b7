// Kernel microbenchmarks: every registered variant of every ternary product
// at the shapes of the reference models (3M, LITE, M300), from the kernel
// registry, so a new variant is benchmarked by registering it.
//
//   agm_bench_kernels [--benchmark_filter=...]
//
// Counters: weights/s (rate) and ns per weight. For instruction counts under
// QEMU, fix iterations with AGM_BENCH_ITERATIONS at configure time.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agm/format.h"
#include "agm/ternary.h"
#include "kernels/kernels.h"

namespace {

struct Shape {
    const char* model;
    const char* what;
    uint32_t rows, cols;
};

// rows x cols of the matrices of each reference model (docs/performance.md).
const Shape kShapes[] = {
    {"3M", "attn_q/wo/ffn", 256, 256},   {"3M", "attn_k/v", 128, 256},
    {"LITE", "attn", 512, 512},          {"LITE", "ffn_gate/up", 1536, 512},
    {"LITE", "ffn_down", 512, 1536},     {"M300", "attn_q/wo", 1024, 1024},
    {"M300", "attn_k/v", 256, 1024},     {"M300", "ffn_gate/up", 2816, 1024},
    {"M300", "ffn_down", 1024, 2816},
};

uint64_t next(uint64_t* s) {  // xorshift64*
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

struct Data {
    std::vector<uint8_t> t2, tl5;
    std::vector<int8_t> q;
    std::vector<int16_t> table;
    std::vector<int32_t> acc;
    uint32_t n_blocks, n_groups, n_quads;
};

Data make(const Shape& sh) {
    Data d;
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (sh.rows * 131u + sh.cols);
    std::vector<int8_t> w((size_t)sh.rows * sh.cols);
    for (auto& v : w) v = (int8_t)((int)(next(&s) % 3) - 1);
    agm::Error err;
    agm::pack_ternary(AGM_TYPE_T2_B128, w.data(), sh.rows, sh.cols, &d.t2, &err);
    agm::pack_ternary(AGM_TYPE_TL5_R4, w.data(), sh.rows, sh.cols, &d.tl5, &err);
    d.n_blocks = (sh.cols + 127) / 128;
    d.n_groups = (sh.cols + 4) / 5;
    d.n_quads = (sh.rows + 3) / 4;
    const uint32_t padded = d.n_blocks * 128 > d.n_groups * 5 ? d.n_blocks * 128 : d.n_groups * 5;
    d.q.assign(padded, 0);
    for (uint32_t i = 0; i < sh.cols; ++i) d.q[i] = (int8_t)((int)(next(&s) % 255) - 127);
    d.table.assign((size_t)d.n_groups * AGM_TL5_TABLE_STRIDE, 0);
    d.acc.assign(d.n_quads * 4 + sh.rows, 0);
    return d;
}

void report(benchmark::State& st, const Shape& sh) {
    const double weights = (double)sh.rows * sh.cols;
    st.counters["weights/s"] = benchmark::Counter(weights, benchmark::Counter::kIsIterationInvariantRate);
    st.counters["ns/weight"] = benchmark::Counter(weights / 1e9, benchmark::Counter::kIsIterationInvariantRate |
                                                                  benchmark::Counter::kInvert);
}

void apply_iterations(benchmark::internal::Benchmark* b) {
#if defined(AGM_BENCH_ITERATIONS) && AGM_BENCH_ITERATIONS > 0
    b->Iterations(AGM_BENCH_ITERATIONS);
#else
    (void)b;
#endif
}

}  // namespace

int main(int argc, char** argv) {
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 0; k < n_sets; ++k) {
        const agm::KernelSet* ks = &sets[k];
        for (const Shape& sh : kShapes) {
            const std::string tag = std::string(ks->name) + "/" + sh.model + "/" + sh.what + "/" +
                                    std::to_string(sh.rows) + "x" + std::to_string(sh.cols);
            apply_iterations(benchmark::RegisterBenchmark(("tmatvec_t2_i8/" + tag).c_str(),
                [ks, sh](benchmark::State& st) {
                    Data d = make(sh);
                    const size_t stride = (size_t)d.n_blocks * 32;
                    for (auto _ : st) {
                        ks->tmatvec_t2_i8(d.t2.data(), stride, sh.rows, d.n_blocks, d.q.data(), d.acc.data());
                        benchmark::DoNotOptimize(d.acc.data());
                    }
                    report(st, sh);
                }));
            apply_iterations(benchmark::RegisterBenchmark(("tmatvec_tl5_i8/" + tag).c_str(),
                [ks, sh](benchmark::State& st) {
                    Data d = make(sh);
                    ks->tl5_table(d.q.data(), d.n_groups, d.table.data());
                    for (auto _ : st) {
                        ks->tmatvec_tl5_i8(d.tl5.data(), d.n_quads, d.n_groups, d.q.data(), d.table.data(),
                                           d.acc.data());
                        benchmark::DoNotOptimize(d.acc.data());
                    }
                    report(st, sh);
                }));
        }
        apply_iterations(benchmark::RegisterBenchmark((std::string("tl5_table/") + ks->name + "/1024").c_str(),
            [ks](benchmark::State& st) {
                Data d = make(kShapes[5]);
                for (auto _ : st) {
                    ks->tl5_table(d.q.data(), d.n_groups, d.table.data());
                    benchmark::DoNotOptimize(d.table.data());
                }
            }));
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
