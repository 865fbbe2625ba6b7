// Kernel microbenchmarks: every registered variant of every kernel family
// (ternary products, the tl5 table, the classifier's q4_b32 and f32
// products, attention over an f32 cache) at the shapes of the reference
// models (3M, LITE, M300), from the kernel registry, so a new variant is
// benchmarked by registering it.
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
#include "agm/model_file.h"
#include "agm/quant.h"
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
    d.n_groups = agm::tl5_quad_words(AGM_TYPE_TL5_R4, sh.cols);
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

// Classifier shapes: vocab x dim.
struct ClassifierShape {
    const char* model;
    uint32_t rows, cols;
};
const ClassifierShape kClassifiers[] = {{"3M", 512, 256}, {"LITE", 32000, 512}, {"M300", 32000, 1024}};

// Attention: head_dim, KV row stride (kv_dim), positions (decode at 128).
struct AttentionShape {
    const char* model;
    uint32_t head_dim, kv_dim, positions;
};
const AttentionShape kAttention[] = {{"3M", 32, 256, 128}, {"LITE", 64, 512, 128}, {"M300", 64, 256, 128}};

void register_classifier(const agm::KernelSet* ks, const ClassifierShape& sh) {
    const std::string tag = std::string(ks->name) + "/" + sh.model + "/" + std::to_string(sh.rows) + "x" +
                            std::to_string(sh.cols);
    apply_iterations(benchmark::RegisterBenchmark(("matvec_q4_i8/" + tag).c_str(), [ks, sh](benchmark::State& st) {
        uint64_t s = 0x51ull ^ sh.rows;
        std::vector<float> x((size_t)sh.rows * sh.cols);
        for (auto& v : x) v = (float)((int)(next(&s) % 2001) - 1000) * 1e-4f;
        std::vector<uint8_t> w;
        agm::Error err;
        agm::quantize_q4_b32(x.data(), sh.rows, sh.cols, &w, &err);
        const uint32_t nb = (sh.cols + 31) / 32;
        const size_t stride = w.size() / sh.rows;
        std::vector<int8_t> q(nb * 32, 0);
        for (uint32_t i = 0; i < sh.cols; ++i) q[i] = (int8_t)((int)(next(&s) % 255) - 127);
        std::vector<uint32_t> pairs((size_t)nb * agm::kQ4PairWords + agm::kQ4PairPad);
        std::vector<int32_t> acc(sh.rows);
        for (auto _ : st) {
            agm::q4_pairs(q.data(), nb, pairs.data());
            ks->matvec_q4_i8(w.data(), stride, sh.rows, nb, q.data(), pairs.data(), acc.data());
            benchmark::DoNotOptimize(acc.data());
        }
        report(st, Shape{sh.model, "classifier", sh.rows, sh.cols});
    }));
    apply_iterations(benchmark::RegisterBenchmark(("matvec_f32/" + tag).c_str(), [ks, sh](benchmark::State& st) {
        uint64_t s = 0x52ull ^ sh.rows;
        std::vector<float> w((size_t)sh.rows * sh.cols), x(sh.cols), y(sh.rows);
        for (auto& v : w) v = (float)((int)(next(&s) % 2001) - 1000) * 1e-4f;
        for (auto& v : x) v = (float)((int)(next(&s) % 2001) - 1000) * 1e-3f;
        for (auto _ : st) {
            ks->matvec_f32(w.data(), sh.rows, sh.cols, x.data(), y.data());
            benchmark::DoNotOptimize(y.data());
        }
        report(st, Shape{sh.model, "classifier", sh.rows, sh.cols});
    }));
}

void register_attention(const agm::KernelSet* ks, const AttentionShape& sh) {
    const std::string tag = std::string(ks->name) + "/" + sh.model + "/hd" + std::to_string(sh.head_dim) + "/pos" +
                            std::to_string(sh.positions);
    apply_iterations(benchmark::RegisterBenchmark(("attention_f32/" + tag).c_str(), [ks, sh](benchmark::State& st) {
        uint64_t s = 0x53ull ^ sh.head_dim;
        std::vector<float> q(sh.head_dim), k((size_t)sh.kv_dim * sh.positions), v(k.size()), att(sh.positions),
            out(sh.head_dim);
        for (auto& x : q) x = (float)((int)(next(&s) % 2001) - 1000) * 1e-3f;
        for (auto& x : k) x = (float)((int)(next(&s) % 2001) - 1000) * 1e-3f;
        for (auto& x : v) x = (float)((int)(next(&s) % 2001) - 1000) * 1e-3f;
        const float root = 8.0f;
        for (auto _ : st) {  // one query head: scores, then the weighted sum (softmax is not a kernel)
            ks->attn_scores_f32(q.data(), k.data(), sh.kv_dim, sh.positions, sh.head_dim, root, att.data());
            ks->attn_values_f32(att.data(), v.data(), sh.kv_dim, sh.positions, sh.head_dim, out.data());
            benchmark::DoNotOptimize(out.data());
        }
    }));
}

}  // namespace

int main(int argc, char** argv) {
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 0; k < n_sets; ++k) {
        if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
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
            // two tokens at once (prompt processing): the counters count
            // both tokens' products
            apply_iterations(benchmark::RegisterBenchmark(("tmatvec_tl5_i8x2/" + tag).c_str(),
                [ks, sh](benchmark::State& st) {
                    Data d = make(sh);
                    std::vector<int8_t> qb(d.q.rbegin(), d.q.rend());  // a second input
                    for (size_t i = sh.cols; i < qb.size(); ++i) qb[i] = 0;
                    std::vector<uint32_t> table2((size_t)d.n_groups * AGM_TL5_TABLE_STRIDE);
                    std::vector<int32_t> acc_b(d.acc.size());
                    ks->tl5_table_x2(d.q.data(), qb.data(), d.n_groups, table2.data());
                    for (auto _ : st) {
                        ks->tmatvec_tl5_i8x2(d.tl5.data(), d.n_quads, d.n_groups, d.q.data(), qb.data(),
                                             table2.data(), d.acc.data(), acc_b.data());
                        benchmark::DoNotOptimize(d.acc.data());
                        benchmark::DoNotOptimize(acc_b.data());
                    }
                    report(st, Shape{sh.model, sh.what, 2 * sh.rows, sh.cols});
                }));
        }
        for (const ClassifierShape& sh : kClassifiers) register_classifier(ks, sh);
        for (const AttentionShape& sh : kAttention) register_attention(ks, sh);
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
